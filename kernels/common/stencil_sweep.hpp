// One stencil sweep over a grid, cache-blocked: each thread takes a range of z planes (or of
// y rows for 2D and thin grids) and walks it in blocks of rows tall enough to fill L2 with
// the 2r+1 planes the stencil reads, so every input row comes from memory once.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "internal/parallel.hpp"
#include "kernels/common/stencil_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Rows per block such that the 2r+1 input planes of a block take about `cache_bytes`.
inline std::int64_t block_rows(std::int64_t ny, std::int64_t row_bytes, int radius, std::int64_t cache_bytes) {
  const std::int64_t rows = cache_bytes / std::max<std::int64_t>(1, row_bytes * (2 * radius + 1));
  return std::clamp<std::int64_t>(rows, 4, std::max<std::int64_t>(ny, 1));
}

/// Gathers the pointers of the input rows, f row and coefficient rows of output row (y, z).
template <class S>
struct row_pointers {
  const detail::stencil_args& a;
  const row_plan& plan;
  std::vector<const S*> in, coeff;

  row_pointers(const detail::stencil_args& args, const row_plan& p)
      : a(args), plan(p), in(p.rows()), coeff(args.coeff_grids ? args.npoints : 0) {}

  void at(std::int64_t y, std::int64_t z) {
    const S* u = static_cast<const S*>(a.u);
    for (int k = 0; k < plan.rows(); ++k) in[k] = u + (y + plan.dy[k]) * a.usy + (z + plan.dz[k]) * a.usz;
    for (std::size_t p = 0; p < coeff.size(); ++p)
      coeff[p] = static_cast<const S*>(a.coeff_grids[p]) + y * a.csy + z * a.csz;
  }
  const S* f(std::int64_t y, std::int64_t z) const {
    return a.f ? static_cast<const S*>(a.f) + y * a.fsy + z * a.fsz : nullptr;
  }
  S* out(std::int64_t y, std::int64_t z) const { return static_cast<S*>(a.out) + y * a.osy + z * a.osz; }
};

/// Non-temporal output stores pay when the output is far larger than the caches (and is not
/// also an input: f aliasing out must be read through the cache).
template <class S>
bool streams_output(const detail::stencil_args& a) {
  const double bytes = double(a.nx) * double(a.ny) * double(a.nz) * double(sizeof(S));
  return bytes >= double(32 << 20) && a.f != a.out;
}

template <class S, class Rows, bool Parallel>
void stencil_sweep(const detail::exec_args& ex, const detail::stencil_args& a) {
  if (a.nx == 0 || a.ny == 0 || a.nz == 0) return;
  const row_plan plan(a);
  const std::int64_t points = a.nx * a.ny * a.nz;
  const int chunks = Parallel ? detail::chunk_count(points, ex.threads, 1 << 14) : 1;
  const bool split_z = a.nz >= chunks * 4;
  // Plane-sized blocks: measured faster than L2-sized ones on 256^2 planes (the hardware
  // prefetchers follow long row runs; L3 holds the 2r+1 planes).
  const std::int64_t by = block_rows(a.ny, a.nx * std::int64_t(sizeof(S)), a.radius, std::int64_t(4) << 20);
  const bool stream = streams_output<S>(a);
  detail::parallel_chunks(chunks, [&](int c) {
    stencil_row_kernel<S, Rows> kernel(a, plan);
    row_pointers<S> ptr(a, plan);
    auto one = [&](std::int64_t y, std::int64_t z) {
      ptr.at(y, z);
      kernel.row(ptr.in.data(), ptr.f(y, z), ptr.out(y, z), ptr.coeff.data(), stream);
    };
    if (split_z) {
      std::int64_t z0, z1;
      detail::chunk_range(a.nz, chunks, c, 1, &z0, &z1);
      for (std::int64_t yb = 0; yb < a.ny; yb += by)
        for (std::int64_t z = z0; z < z1; ++z)
          for (std::int64_t y = yb; y < std::min(a.ny, yb + by); ++y) one(y, z);
    } else {
      std::int64_t y0, y1;
      detail::chunk_range(a.ny, chunks, c, 1, &y0, &y1);
      for (std::int64_t yb = y0; yb < y1; yb += by)
        for (std::int64_t z = 0; z < a.nz; ++z)
          for (std::int64_t y = yb; y < std::min(y1, yb + by); ++y) one(y, z);
    }
    if (stream) Rows::stream_fence();
  });
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
