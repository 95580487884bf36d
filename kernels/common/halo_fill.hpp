// Halo fill: writes a grid's halo from its interior and the boundary conditions, axis by
// axis (x, then y over the full x extent, then z over the full x and y extents), as
// mixprec/grid.hpp states. Only copies and stores of one value: exact in every dtype.
// ghost_source and ghost_value are the per-point bodies the CUDA kernel runs too.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"
#include "mixprec/grid.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// The interior index a periodic or neumann ghost `ghost` (outside [0, n)) copies.
MIXPREC_KI std::int64_t ghost_source(std::int64_t n, std::int64_t ghost, std::uint8_t kind) {
  if (boundary(kind) == boundary::periodic) return ghost < 0 ? ghost + n : ghost - n;
  return ghost < 0 ? -1 - ghost : 2 * n - 1 - ghost;  // neumann: mirrored at the face
}

/// Value of ghost point `ghost` (outside [0, n)) along one axis, from the points of its line
/// `line[i * stride]`; `kind` and `value` of the face it lies beyond.
template <class T>
MIXPREC_KI T ghost_value(const T* line, std::int64_t stride, std::int64_t n, std::int64_t ghost, std::uint8_t kind,
                         T value) {
  if (boundary(kind) == boundary::dirichlet) return value;
  return line[ghost_source(n, ghost, kind) * stride];
}

/// Row `ghost` (outside [0, n)) along an axis whose rows are `stride` apart, `width` points
/// from `row0` (the row at index 0): ghost_value for every point of it.
template <class T>
inline void ghost_row(T* row0, std::int64_t stride, std::int64_t n, std::int64_t ghost, std::uint8_t kind, T value,
                      std::int64_t width) {
  T* dst = row0 + ghost * stride;
  if (boundary(kind) == boundary::dirichlet) {
    std::fill(dst, dst + width, value);
    return;
  }
  const T* src = row0 + ghost_source(n, ghost, kind) * stride;
  std::copy(src, src + width, dst);
}

template <bool Parallel>
struct halo_filler {
  template <class T>
  static void run(const detail::exec_args& ex, const detail::grid_args& g, const detail::halo_args& bc) {
    T* o = static_cast<T*>(g.origin);
    const std::int64_t n[3] = {g.nx, g.ny, g.nz};
    const std::int64_t s[3] = {1, g.sy, g.sz};
    const std::int64_t h = g.halo;
    for (int a = 0; a < g.dims; ++a) {
      // The two other axes: those before `a` over their full extent, those after over the
      // interior; a 2D grid's z is the single plane 0.
      const int b = a == 0 ? 1 : 0, c = a == 2 ? 1 : 2;
      auto span_lo = [&](int axis) { return axis < a && axis < g.dims ? -h : 0; };
      auto span_hi = [&](int axis) { return axis < a && axis < g.dims ? n[axis] + h : n[axis]; };
      const std::int64_t b0 = span_lo(b), b1 = span_hi(b), c0 = span_lo(c), c1 = span_hi(c);
      const T lo_value = from_f64<T>(bc.value[a][0]), hi_value = from_f64<T>(bc.value[a][1]);
      if (a > 0) {
        // Along y and z the ghosts are whole x rows (x's halo included, as x came first):
        // copied or filled a row at a time, not a point at a time through the switch. The
        // halo of a 256^3 f64 grid, 2 threads: 1.2-1.4 -> 1.0-1.1 ms; the rest is the x
        // faces, a point in each of 2 x 65536 rows and so a cache line each from memory.
        const std::int64_t width = n[0] + 2 * h;  // x from -h (b is x, over its full extent)
        const std::int64_t o0 = c0, o1 = c1;      // c: the axis neither x nor a
        const int chunks = Parallel ? detail::chunk_count((o1 - o0) * h * width, ex.threads, 1 << 15) : 1;
        detail::parallel_chunks(chunks, [&](int chunk) {
          std::int64_t l0, l1;
          detail::chunk_range(o1 - o0, chunks, chunk, 1, &l0, &l1);
          for (std::int64_t l = o0 + l0; l < o0 + l1; ++l) {
            T* row0 = o + l * s[c] - h;  // x = -h of the row at index 0 along a
            for (std::int64_t d = 1; d <= h; ++d) {
              ghost_row(row0, s[a], n[a], -d, bc.kind[a][0], lo_value, width);
              ghost_row(row0, s[a], n[a], n[a] - 1 + d, bc.kind[a][1], hi_value, width);
            }
          }
        });
        continue;
      }
      const std::int64_t lines = (b1 - b0) * (c1 - c0);
      const int chunks = Parallel ? detail::chunk_count(lines * h, ex.threads, 1 << 14) : 1;
      detail::parallel_chunks(chunks, [&](int chunk) {
        std::int64_t l0, l1;
        detail::chunk_range(lines, chunks, chunk, 1, &l0, &l1);
        for (std::int64_t l = l0; l < l1; ++l) {
          const std::int64_t ib = b0 + l % (b1 - b0), ic = c0 + l / (b1 - b0);
          T* line = o + ib * s[b] + ic * s[c];
          for (std::int64_t d = 1; d <= h; ++d) {
            line[-d * s[a]] = ghost_value(line, s[a], n[a], -d, bc.kind[a][0], lo_value);
            line[(n[a] - 1 + d) * s[a]] = ghost_value(line, s[a], n[a], n[a] - 1 + d, bc.kind[a][1], hi_value);
          }
        }
      });
    }
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
