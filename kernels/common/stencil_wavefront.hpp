// k constant-coefficient sweeps in one pass over memory: overlapped tiles in x and y, each
// walked along z as a wavefront of time levels.
//
// A tile [x0,x1) x [y0,y1) computes level t (t = 1..k) on the tile grown by (k-t)*r on each
// side (the points level t+1 will read), so tiles never wait for each other: the cost is
// the redundant rim, small when tiles are much larger than k*r. Along z, level t computes
// plane z right after level t-1 computed plane z+r, so each level keeps only 2r+1 planes of
// its tile in a ring buffer that stays in cache; level 0 is the input grid and level k
// writes the output grid. Between levels the ghost points follow the boundary conditions
// exactly as fill_halo would write them (dirichlet values read from the input's halo), so
// the result equals k separate sweeps with halo fills, bit for bit: every point is computed
// by the same row engine from the same values.
//
// Periodic faces in y or z are not supported here (a tile would need the far side of the
// grid at every level); periodic x is, with tiles spanning whole rows.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "internal/parallel.hpp"
#include "kernels/common/stencil_rows.hpp"
#include "kernels/common/stencil_sweep.hpp"
#include "mixprec/grid.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Tile extents for k sweeps: about `budget` bytes of ring buffers per thread, tiles at
/// least 4*k*r wide so the redundant rim stays under about half the work.
struct wavefront_tiling {
  std::int64_t bx, by;

  static wavefront_tiling choose(const detail::stencil_args& a, int k, std::size_t elem, bool periodic_x,
                                 int threads) {
    const std::int64_t rim = std::int64_t(k) * a.radius;
    const std::int64_t planes = std::int64_t(k - 1) * (2 * a.radius + 1);
    const std::int64_t budget = std::int64_t(768) << 10;
    std::int64_t bx = a.nx;
    if (!periodic_x) bx = std::min<std::int64_t>(a.nx, std::max<std::int64_t>(256, 8 * rim));
    std::int64_t by = budget / std::max<std::int64_t>(1, planes * (bx + 2 * rim) * std::int64_t(elem)) - 2 * rim;
    by = std::clamp<std::int64_t>(by, std::max<std::int64_t>(4, 4 * rim), std::max<std::int64_t>(a.ny, 1));
    // MIXPREC_WAVEFRONT_TILE="bx,by" overrides the choice, for tuning on other machines.
    if (const char* e = std::getenv("MIXPREC_WAVEFRONT_TILE")) {
      long ex = 0, ey = 0;
      if (std::sscanf(e, "%ld,%ld", &ex, &ey) == 2 && ex > 0 && ey > 0) {
        bx = periodic_x ? a.nx : std::min<std::int64_t>(a.nx, ex);
        by = std::min<std::int64_t>(std::max<std::int64_t>(a.ny, 1), ey);
      }
    }
    // Whole tiles per thread: round the tile count up to a multiple of the threads.
    const std::int64_t tx = (a.nx + bx - 1) / bx;
    std::int64_t ty = (a.ny + by - 1) / by;
    while ((tx * ty) % threads != 0 && ty < a.ny) ++ty;
    by = (a.ny + ty - 1) / std::max<std::int64_t>(1, ty);
    return {bx, by};
  }
};

template <class S, class Rows>
class wavefront_tile {
 public:
  wavefront_tile(const detail::stencil_args& a, const detail::halo_args& bc, int k, const row_plan& plan,
                 const wavefront_tiling& tiling)
      // Planes padded by an odd number of cache lines: without it the levels' slots sit at
      // equal offsets modulo 4 KiB and loads stall on 4K aliasing with the stores.
      : a_(a), bc_(bc), k_(k), r_(a.radius), plan_(plan), rim_(std::int64_t(k) * a.radius),
        ring_sx_(round_up(tiling.bx + 2 * rim_ + 2 * r_)), ring_rows_(tiling.by + 2 * rim_),
        plane_(ring_sx_ * ring_rows_ + 5 * std::int64_t(64 / sizeof(S))), ring_(ring_storage(std::size_t(k - 1) * (2 * r_ + 1) * plane_)), in_(plan.rows()), run_in_(plan.rows()) {}

  void run(std::int64_t x0, std::int64_t x1, std::int64_t y0, std::int64_t y1) {
    x0_ = x0;
    y0_ = y0;
    // Per level: the rectangle it holds (ghosts included) and a row engine as wide as the
    // part it computes.
    std::vector<detail::stencil_args> args(k_ + 1, a_);
    for (int t = 1; t <= k_; ++t) {
      const std::int64_t grow = std::int64_t(k_ - t) * r_;
      lo_x_[t] = std::max<std::int64_t>(-r_, x0 - grow);
      hi_x_[t] = std::min<std::int64_t>(a_.nx + r_, x1 + grow);
      lo_y_[t] = std::max<std::int64_t>(-r_, y0 - grow);
      hi_y_[t] = std::min<std::int64_t>(a_.ny + r_, y1 + grow);
      if (t == k_) lo_x_[t] = x0, hi_x_[t] = x1, lo_y_[t] = y0, hi_y_[t] = y1;
      args[t].nx = std::min(a_.nx, hi_x_[t]) - std::max<std::int64_t>(0, lo_x_[t]);
    }
    std::vector<std::unique_ptr<stencil_row_kernel<S, Rows>>> engines(k_ + 1);
    for (int t = 1; t <= k_; ++t) engines[t] = std::make_unique<stencil_row_kernel<S, Rows>>(args[t], plan_);

    if (boundary(bc_.kind[2][0]) == boundary::dirichlet)
      for (int t = 1; t < k_; ++t)
        for (std::int64_t z = -r_; z < 0; ++z) copy_plane_from_input(t, z);

    const std::int64_t steps = a_.nz + r_ + std::int64_t(k_ - 1) * r_;
    for (std::int64_t s = 0; s < steps; ++s) {
      for (int t = 1; t <= k_; ++t) {
        const std::int64_t z = s - std::int64_t(t - 1) * r_;
        if (z < 0 || z >= (t < k_ ? a_.nz + r_ : a_.nz)) continue;
        if (z >= a_.nz) {
          ghost_plane_high(t, z);
          continue;
        }
        compute_plane(t, z, *engines[t]);
        if (t < k_ && z < r_ && boundary(bc_.kind[2][0]) == boundary::neumann) copy_plane(t, z, t, -1 - z);
      }
    }
  }

 private:
  static std::int64_t round_up(std::int64_t n) {
    const std::int64_t v = std::int64_t(64 / sizeof(S));
    return (n + v - 1) / v * v;
  }
  /// The calling thread's ring storage, kept between calls: a fresh multi-megabyte
  /// allocation per call would cost page faults comparable to the sweeps themselves.
  static S* ring_storage(std::size_t n) {
    struct cache {
      void* p = nullptr;
      std::size_t bytes = 0;
      ~cache() { std::free(p); }
    };
    static thread_local cache c;
    const std::size_t bytes = std::max<std::size_t>(1, n) * sizeof(S);
    if (bytes > c.bytes) {
      std::free(c.p);
      c.p = nullptr;
      c.bytes = 0;
      if (posix_memalign(&c.p, 64, bytes) != 0) throw std::bad_alloc();
      c.bytes = bytes;
    }
    return static_cast<S*>(c.p);
  }

  /// Element (x, y, z) of level t: the input grid for t = 0, the output for t = k, else
  /// the ring buffer (only for points of the level's rectangle and its 2r+1 live planes).
  S* at(int t, std::int64_t x, std::int64_t y, std::int64_t z) const {
    if (t == 0) return const_cast<S*>(static_cast<const S*>(a_.u)) + x + y * a_.usy + z * a_.usz;
    if (t == k_) return static_cast<S*>(a_.out) + x + y * a_.osy + z * a_.osz;
    const std::int64_t P = 2 * r_ + 1, slot = ((z % P) + P) % P;
    return ring_ + (std::int64_t(t - 1) * P + slot) * plane_ + (y - (y0_ - rim_ - r_)) * ring_sx_ +
           (x - (x0_ - rim_ - r_));
  }

  void compute_plane(int t, std::int64_t z, stencil_row_kernel<S, Rows>& engine) {
    const std::int64_t xb = std::max<std::int64_t>(0, lo_x_[t]);
    const std::int64_t yb = std::max<std::int64_t>(0, lo_y_[t]), ye = std::min(a_.ny, hi_y_[t]);
    if (yb >= ye) return;
    // Row pointers at the first row, then advanced by each level's row stride: the ring
    // slot arithmetic is done once per plane, not per row.
    for (int q = 0; q < plan_.rows(); ++q) in_[q] = at(t - 1, xb, yb + plan_.dy[q], z + plan_.dz[q]);
    const std::int64_t in_sy = t == 1 ? a_.usy : ring_sx_, out_sy = t == k_ ? a_.osy : ring_sx_;
    S* out = at(t, xb, yb, z);
    const S* f = a_.f ? static_cast<const S*>(a_.f) + xb + yb * a_.fsy + z * a_.fsz : nullptr;
    const S* u = at(0, 0, yb, z);
    const bool ghosts = t < k_ && (lo_x_[t] < 0 || hi_x_[t] > a_.nx);
    // Level 1 reads the input grid from memory: prefetch its leading row ahead.
    const std::int64_t ahead = prefetch_rows((x_end(t) - xb) * std::int64_t(sizeof(S)), ye - yb);
    if (engine.runs_rows()) {
      // Many rows per call with the row pointers in registers, as the single sweep: 1.3x
      // faster than a call per row on a grid in cache, 1.1-1.2x at 256^3. Level 1 runs in two parts so
      // that its last `ahead` rows prefetch the next plane's first rows from memory; the
      // ring levels read rows already in cache.
      const bool stream = t == k_ && stream_;
      if (t == 1) {
        const std::int64_t split = std::max(yb, ye - ahead);
        for (auto [y, y_end] : {std::pair{yb, split}, std::pair{split, ye}}) {
          if (y == y_end) continue;
          for (int q = 0; q < plan_.rows(); ++q) run_in_[q] = in_[q] + (y - yb) * in_sy;
          const S* next = rows_ahead(run_in_[plan_.lead], y, ye, ye - yb, ahead, a_.usy, a_.usz);
          engine.rows(run_in_.data(), in_sy, out + (y - yb) * out_sy, out_sy, y_end - y, stream, next);
        }
      } else {
        engine.rows(in_.data(), in_sy, out, out_sy, ye - yb, stream, nullptr);
      }
      if (ghosts)
        for (std::int64_t y = yb; y < ye; ++y) ghost_x(t, at(t, 0, y, z), at(0, 0, y, z));
    } else {
      for (std::int64_t y = yb; y < ye; ++y) {
        const S* next = t == 1 ? rows_ahead(in_[plan_.lead], y, ye, ye - yb, ahead, a_.usy, a_.usz)
                               : in_[plan_.trail] + ahead * in_sy;
        engine.row(in_.data(), f, out, nullptr, t == k_ && stream_, next);
        if (ghosts) ghost_x(t, out - xb, u);
        for (auto& p : in_) p += in_sy;
        out += out_sy;
        u += a_.usy;
        if (f) f += a_.fsy;
      }
    }
    if (t == k_) return;
    const auto ky = boundary(bc_.kind[1][0]), ky_hi = boundary(bc_.kind[1][1]);
    for (std::int64_t y = lo_y_[t]; y < 0; ++y)
      ky == boundary::dirichlet ? copy_row(0, y, z, t, y, z) : copy_row(t, -1 - y, z, t, y, z);
    for (std::int64_t y = a_.ny; y < hi_y_[t]; ++y)
      ky_hi == boundary::dirichlet ? copy_row(0, y, z, t, y, z) : copy_row(t, 2 * a_.ny - 1 - y, z, t, y, z);
  }

  /// One past the last x level t computes.
  std::int64_t x_end(int t) const { return std::min(a_.nx, hi_x_[t]); }

  /// The x ghosts of a computed row of level t (x = 0 at `row`; `u` the input's row), where
  /// the level reaches past x's faces.
  void ghost_x(int t, S* row, const S* u) {
    const std::int64_t n = a_.nx;
    for (std::int64_t x = lo_x_[t]; x < 0; ++x) {
      switch (boundary(bc_.kind[0][0])) {
        case boundary::dirichlet: row[x] = u[x]; break;
        case boundary::periodic: row[x] = row[x + n]; break;
        case boundary::neumann: row[x] = row[-1 - x]; break;
      }
    }
    for (std::int64_t x = n; x < hi_x_[t]; ++x) {
      switch (boundary(bc_.kind[0][1])) {
        case boundary::dirichlet: row[x] = u[x]; break;
        case boundary::periodic: row[x] = row[x - n]; break;
        case boundary::neumann: row[x] = row[2 * n - 1 - x]; break;
      }
    }
  }

  void copy_row(int from, std::int64_t fy, std::int64_t fz, int t, std::int64_t y, std::int64_t z) {
    std::memcpy(at(t, lo_x_[t], y, z), at(from, lo_x_[t], fy, fz), std::size_t(hi_x_[t] - lo_x_[t]) * sizeof(S));
  }
  void copy_plane(int from, std::int64_t fz, int t, std::int64_t z) {
    for (std::int64_t y = lo_y_[t]; y < hi_y_[t]; ++y) copy_row(from, y, fz, t, y, z);
  }
  void copy_plane_from_input(int t, std::int64_t z) { copy_plane(0, z, t, z); }

  void ghost_plane_high(int t, std::int64_t z) {
    if (boundary(bc_.kind[2][1]) == boundary::dirichlet)
      copy_plane_from_input(t, z);
    else
      copy_plane(t, 2 * a_.nz - 1 - z, t, z);
  }

  const detail::stencil_args& a_;
  const detail::halo_args& bc_;
  const int k_, r_;
  const row_plan& plan_;
  const std::int64_t rim_, ring_sx_, ring_rows_, plane_;
  S* ring_;
  std::vector<const S*> in_, run_in_;  // row pointers at a plane's first row, at a run's
  const bool stream_ = streams_output<S>(a_);
  std::int64_t x0_ = 0, y0_ = 0;
  std::int64_t lo_x_[64] = {}, hi_x_[64] = {}, lo_y_[64] = {}, hi_y_[64] = {};
};

/// Largest sweep count one wavefront pass takes; more sweeps run as several passes.
inline constexpr int max_wavefront_levels = 32;

template <class S, class Rows>
void stencil_sweeps_blocked(const detail::exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc,
                            int k) {
  if (a.nx == 0 || a.ny == 0 || a.nz == 0) return;
  const row_plan plan(a);
  const bool periodic_x = boundary(bc.kind[0][0]) == boundary::periodic;
  const wavefront_tiling tiling = wavefront_tiling::choose(a, k, sizeof(S), periodic_x, std::max(1, ex.threads));
  const std::int64_t tx = (a.nx + tiling.bx - 1) / tiling.bx, ty = (a.ny + tiling.by - 1) / tiling.by;
  const std::int64_t tiles = tx * ty;
  const int chunks = detail::chunk_count(tiles, ex.threads, 1);
  detail::parallel_chunks(chunks, [&](int c) {
    wavefront_tile<S, Rows> tile(a, bc, k, plan, tiling);
    std::int64_t t0, t1;
    detail::chunk_range(tiles, chunks, c, 1, &t0, &t1);
    for (std::int64_t i = t0; i < t1; ++i) {
      const std::int64_t x0 = (i % tx) * tiling.bx, y0 = (i / tx) * tiling.by;
      tile.run(x0, std::min(a.nx, x0 + tiling.bx), y0, std::min(a.ny, y0 + tiling.by));
    }
    Rows::stream_fence();
  });
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
