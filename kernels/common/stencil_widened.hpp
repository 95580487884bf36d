// The input planes of a block of rows, widened once from f16/bf16 storage to f32, for a
// sweep that walks the block plane by plane. Without it every output row widened each of
// the rows it reads (five for a 7-point stencil), so every input point was converted five
// times and the f16 sweep ran slower than the f32 one that moves twice the bytes.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "kernels/common/scalar.hpp"
#include "kernels/common/stencil_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// 2rz+1 plane slots of rows [y0 - r, y1 + r) and points [x0 - r, x1 + r) of a block in the
/// compute type, rows line-aligned at x0; rz is r in 3D, 0 in 2D (one plane, no z halo).
/// Plane z lives in slot z mod (2rz+1), as in a ring.
template <class S, class Rows>
class widened_planes {
 public:
  using C = compute_t<S>;

  /// Room for blocks of up to `max_width` points and `max_rows` rows.
  widened_planes(std::int64_t max_width, std::int64_t max_rows, int radius, int z_radius)
      : r_(radius),
        rz_(z_radius),
        x0_(round_up(radius)),
        sy_(round_up(x0_ + max_width + radius)),
        plane_(sy_ * (max_rows + 2 * std::int64_t(radius)) + 5 * lane),  // odd lines apart: no 4K aliasing
        buf_(std::size_t(plane_ * (2 * z_radius + 1) + lane)) {}

  /// Starts a block: points [x0, x1) of rows [y0, y1).
  void block(std::int64_t x0, std::int64_t x1, std::int64_t y0, std::int64_t y1) {
    bx0_ = x0;
    width_ = x1 - x0;
    y0_ = y0;
    y1_ = y1;
  }

  /// Widens plane z of the block (its rows and r rows and points either side) from the grid
  /// `u`, and prefetches the same rows of plane z + 1, which the sweep loads next: the rows
  /// of a block are a short run per plane, too short for the hardware prefetchers to reach
  /// ahead.
  void load(const S* u, std::int64_t usy, std::int64_t usz, std::int64_t z) {
    const std::int64_t n = width_ + 2 * r_;
    for (std::int64_t y = y0_ - r_; y < y1_ + r_; ++y) {
      const S* src = u + bx0_ - r_ + y * usy + z * usz;
      prefetch_row(src, usz, n);
      Rows::load(src, row(y, z) - r_, n);
    }
  }

  /// x0 of row y of plane z (within the block and its rim).
  C* row(std::int64_t y, std::int64_t z) {
    const std::int64_t P = 2 * rz_ + 1, slot = ((z % P) + P) % P;
    return base() + slot * plane_ + (y - y0_ + r_) * sy_ + x0_;
  }
  std::int64_t row_stride() const { return sy_; }
  /// The planes a block starts with, [z0 - rz, z0 + rz): load them, then plane z + rz before
  /// each plane z.
  int z_radius() const { return rz_; }

 private:
  static constexpr std::int64_t lane = std::int64_t(64 / sizeof(C));
  static std::int64_t round_up(std::int64_t n) { return (n + lane - 1) / lane * lane; }
  /// The buffer from its first line boundary.
  C* base() {
    const auto p = reinterpret_cast<std::uintptr_t>(buf_.data());
    return reinterpret_cast<C*>((p + 63) / 64 * 64);
  }

  const std::int64_t r_, rz_, x0_, sy_, plane_;
  local_vector<C> buf_;
  std::int64_t bx0_ = 0, width_ = 0, y0_ = 0, y1_ = 0;
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
