// One stencil sweep over a grid, cache-blocked: each thread takes a range of z planes (or of
// y rows for 2D and thin grids) and walks it in blocks of rows short enough that the 2r+1
// planes the stencil reads fit in half of L2, so every input row comes from memory once,
// and the one new row of each output row (the plan's lead) is prefetched a few KiB ahead.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "internal/cache_info.hpp"
#include "internal/parallel.hpp"
#include "kernels/common/stencil_rows.hpp"
#include "kernels/common/stencil_widened.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Rows per block such that the 2r+1 input planes of a block and its output plane take
/// about `cache_bytes`.
inline std::int64_t block_rows(std::int64_t ny, std::int64_t row_bytes, int radius, std::int64_t cache_bytes) {
  const std::int64_t rows = cache_bytes / std::max<std::int64_t>(1, row_bytes * (2 * radius + 2));
  return std::clamp<std::int64_t>(rows, 4, std::max<std::int64_t>(ny, 1));
}

/// Gathers the pointers of the input rows, f row and coefficient rows of output row (y, z).
template <class S>
struct row_pointers {
  const detail::stencil_args& a;
  const row_plan& plan;
  local_vector<const S*> in, coeff;

  row_pointers(const detail::stencil_args& args, const row_plan& p)
      : a(args), plan(p), in(p.rows()), coeff(args.coeff_grids ? args.npoints : 0) {}

  void at(std::int64_t y, std::int64_t z) {
    const S* u = static_cast<const S*>(a.u);
    for (int k = 0; k < plan.rows(); ++k) in[k] = u + (y + plan.dy[k]) * a.usy + (z + plan.dz[k]) * a.usz;
    for (std::size_t p = 0; p < coeff.size(); ++p)
      coeff[p] = static_cast<const S*>(a.coeff_grids[p]) + y * a.csy + z * a.csz;
  }
  /// The leading input row of output row (y, z): what a sweep walking y, then z, needs next.
  const S* lead(std::int64_t y, std::int64_t z) const {
    return static_cast<const S*>(a.u) + (y + plan.dy[plan.lead]) * a.usy + (z + plan.dz[plan.lead]) * a.usz;
  }
  const S* f(std::int64_t y, std::int64_t z) const {
    return a.f ? static_cast<const S*>(a.f) + y * a.fsy + z * a.fsz : nullptr;
  }
  S* out(std::int64_t y, std::int64_t z) const { return static_cast<S*>(a.out) + y * a.osy + z * a.osz; }
};

/// Rows a sweep prefetches ahead: about 8 KiB of input, enough to cover memory latency at
/// full bandwidth (2 and 8 rows of 2 KiB measured slower than 4), at most a block.
inline std::int64_t prefetch_rows(std::int64_t row_bytes, std::int64_t block) {
  return std::clamp<std::int64_t>(8192 / std::max<std::int64_t>(1, row_bytes), 1, std::max<std::int64_t>(1, block));
}

/// `rows` rows after `row` within a block of `height` rows of a plane, or into the next plane
/// past the block's end: the input the sweep reaches next. Integer arithmetic, as the address
/// may lie past the grid (a prefetch of it is harmless, forming the pointer is not).
template <class S>
const S* rows_ahead(const S* row, std::int64_t y, std::int64_t y_end, std::int64_t height, std::int64_t rows,
                    std::int64_t sy, std::int64_t sz) {
  const std::int64_t elems = y + rows < y_end ? rows * sy : (rows - height) * sy + sz;
  return reinterpret_cast<const S*>(reinterpret_cast<std::uintptr_t>(row) + elems * std::int64_t(sizeof(S)));
}

/// Non-temporal output stores pay when the output is far larger than the caches (and is not
/// also an input: f aliasing out must be read through the cache), on CPUs where they pay at
/// all (detail::streaming_stores_pay).
template <class S>
bool streams_output(const detail::stencil_args& a) {
  const double bytes = double(a.nx) * double(a.ny) * double(a.nz) * double(sizeof(S));
  return bytes >= double(32 << 20) && a.f != a.out && detail::streaming_stores_pay();
}

/// Rows [y0, y1) x planes [z0, z1) of a constant stencil on f16/bf16 storage, in
/// blocks of `by` rows: each input plane of a block widened once, the output rows computed in
/// f32 from those planes and rounded to storage (the same arithmetic as widening per row).
template <class S, class Rows>
void widened_blocks(const detail::stencil_args& a, const row_plan& plan, std::int64_t by, bool stream, std::int64_t y0,
                    std::int64_t y1, std::int64_t z0, std::int64_t z1) {
  using C = compute_t<S>;
  stencil_row_kernel<C, Rows> kernel(a, plan);
  widened_planes<S, Rows> planes(a.nx, by, a.radius, a.dims == 3 ? a.radius : 0);
  const int rz = planes.z_radius();
  local_vector<const C*> in(plan.rows());
  local_vector<S> scratch(std::size_t(a.nx));
  local_vector<C> f_wide(a.f ? std::size_t(a.nx) : 0);
  const S* u = static_cast<const S*>(a.u);
  for (std::int64_t yb = y0; yb < y1; yb += by) {
    const std::int64_t ye = std::min(y1, yb + by);
    planes.block(0, a.nx, yb, ye);
    for (std::int64_t z = z0 - rz; z < z0 + rz; ++z) planes.load(u, a.usy, a.usz, z);
    for (std::int64_t z = z0; z < z1; ++z) {
      planes.load(u, a.usy, a.usz, z + rz);
      for (int q = 0; q < plan.rows(); ++q) in[q] = planes.row(yb + plan.dy[q], z + plan.dz[q]);
      const S* f = a.f ? static_cast<const S*>(a.f) + yb * a.fsy + z * a.fsz : nullptr;
      kernel.rows_narrowed(in.data(), planes.row_stride(), static_cast<S*>(a.out) + yb * a.osy + z * a.osz, a.osy,
                           ye - yb, false, stream, scratch.data(), f, a.fsy, f_wide.data(), a.fsz);
    }
  }
}

template <class S, class Rows, bool Parallel>
void stencil_sweep(const detail::exec_args& ex, const detail::stencil_args& a) {
  if (a.nx == 0 || a.ny == 0 || a.nz == 0) return;
  const row_plan plan(a);
  const std::int64_t points = a.nx * a.ny * a.nz;
  const int chunks = Parallel ? detail::chunk_count(points, ex.threads, 1 << 14) : 1;
  const bool split_z = a.nz >= chunks * 4;
  // f16/bf16 rows of constant stencils are widened a plane at a time into f32 planes that
  // the f32 engine reads in place (stencil_widened.hpp); blocks are sized for those.
  using C = compute_t<S>;
  const bool widen_planes = !std::is_same_v<S, C> && !a.coeff_grids;
  const std::int64_t row_bytes = a.nx * std::int64_t(widen_planes ? sizeof(C) : sizeof(S));
  // A quarter of L2: at 256^3 with 2 threads, blocks of 32 (f64) and 48-64 (f32) rows ran
  // 1.1-1.2x faster than blocks twice as tall; the output lines pass through L2 too.
  const std::int64_t by = block_rows(a.ny, row_bytes, a.radius, detail::l2_cache_bytes() / 4);
  const std::int64_t ahead = prefetch_rows(row_bytes, by);
  const bool stream = streams_output<S>(a);
  detail::parallel_chunks(chunks, [&](int c) {
    stencil_row_kernel<S, Rows> kernel(a, plan);
    row_pointers<S> ptr(a, plan);
    const bool runs = kernel.runs_rows();
    // Rows [y0, y1) x planes [z0, z1) in blocks of `by` rows, planes inside a block.
    auto blocks = [&](std::int64_t y0, std::int64_t y1, std::int64_t z0, std::int64_t z1) {
      if constexpr (!std::is_same_v<S, C>) {
        if (widen_planes) {
          widened_blocks<S, Rows>(a, plan, by, stream, y0, y1, z0, z1);
          return;
        }
      }
      for (std::int64_t yb = y0; yb < y1; yb += by) {
        const std::int64_t ye = std::min(y1, yb + by);
        for (std::int64_t z = z0; z < z1; ++z) {
          if (runs) {
            // Two runs: rows whose prefetch target is in this plane, then the last `ahead`
            // rows, which prefetch the next plane's first rows of the block.
            const std::int64_t split = std::max(yb, ye - ahead);
            for (auto [y, y_end] : {std::pair{yb, split}, std::pair{split, ye}}) {
              if (y == y_end) continue;
              ptr.at(y, z);
              const S* next = rows_ahead(ptr.lead(y, z), y, ye, ye - yb, ahead, a.usy, a.usz);
              kernel.rows(ptr.in.data(), a.usy, ptr.out(y, z), a.osy, y_end - y, stream, next, ptr.f(y, z), a.fsy,
                          a.fsz);
            }
            continue;
          }
          for (std::int64_t y = yb; y < ye; ++y) {  // variable coefficients: a row at a time
            ptr.at(y, z);
            kernel.row(ptr.in.data(), ptr.f(y, z), ptr.out(y, z), ptr.coeff.data(), stream);
          }
        }
      }
    };
    std::int64_t lo, hi;
    if (split_z) {
      detail::chunk_range(a.nz, chunks, c, 1, &lo, &hi);
      blocks(0, a.ny, lo, hi);
    } else {
      detail::chunk_range(a.ny, chunks, c, 1, &lo, &hi);
      blocks(lo, hi, 0, a.nz);
    }
    if (stream) Rows::stream_fence();
  });
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
