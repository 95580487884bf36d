// k constant-coefficient sweeps in one pass over memory: tiles in x and y, each walked along
// z as a wavefront of time levels. A pass takes as many sweeps as keep the ring in cache
// (wavefront_tiling::levels); the caller runs passes until all are done.
//
// Along z, level t computes plane z right after level t-1 computed plane z+r, so each level
// keeps only 2r planes of its tile live, in a ring buffer that stays in cache; level 0 is the
// input grid and level k writes the output grid. Level t writes its plane z where level t-1's
// plane z-r (the oldest it reads) lies, r+1 rows behind the row it reads there: each store
// goes to a line the same pass loaded a moment before, still in L1, instead of to a slot last
// touched a whole step earlier and fetched back from L3 to be overwritten (8 f64 sweeps of
// 256^3, 2 threads: 38 -> 30 ms in a quiet hour, 0-10 % in busy ones). The ring holds the
// compute type: f16/bf16 levels are stored there as the f32 values they round to.
//
// In y the tiles are skewed, so that no point is computed twice: the tile that writes output
// rows [y0, y1) computes level t on rows [y0 + (k-t)r, y1 + (k-t)r). Level t+1 there also
// reads the 2r rows of level t just below, which the tile before computed; that tile leaves
// them, per level and plane, in a carry buffer. A tile's ring thus holds its own rows plus 2r
// (an overlapped tile would hold 2kr more and compute them again). Tiles in y form strips
// walked in order by one thread; a strip's first tile has no carry and grows downwards
// instead, computing [y0 - (k-t)r, y1 + (k-t)r) (rows the strip below also computes: the
// price of running strips in parallel). In x, tiles narrower than the grid grow by (k-t)r on
// each side (a redundant rim); the default tile spans whole rows.
//
// Between levels the ghost points follow the boundary conditions exactly as fill_halo would
// write them (dirichlet values read from the input's halo), so the result equals k separate
// sweeps with halo fills, bit for bit: every point is computed by the same row engine from
// the same values.
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
#include <numeric>

#include "internal/kernel_tuning.hpp"
#include "internal/parallel.hpp"
#include "kernels/common/stencil_rows.hpp"
#include "kernels/common/stencil_sweep.hpp"
#include "kernels/common/stencil_widened.hpp"
#include "mixprec/grid.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Tile extents for k sweeps, and how many strips of y tiles each column of x tiles is cut
/// into (so that the threads get equal shares of strips).
struct wavefront_tiling {
  std::int64_t bx, by, strips_y;

  /// Ring buffers per thread: about 3 MiB. Measured at 256^3, 8 sweeps, 2 threads, with
  /// the shared in-place ring: f64 tiles of 64-96 rows (the default gives 64) 30.6-31.6 ms,
  /// 48 rows 32-34, 32 rows 34-35, 16 rows (ring within the 1 MiB L2) 38-39: the carries
  /// and short bursts of small tiles cost more than L3 does. f32 best with the whole
  /// 128-row strip as one tile.
  static constexpr std::int64_t ring_budget = std::int64_t(3) << 20;

  /// Planes in a tile's ring for k levels of radius r. Level t writes its plane z over
  /// level t-1's plane z-r as it reads it (wavefront_tile::ring_at), so the levels share
  /// one ring in which each keeps its 2r live planes, plus the plane being written (one
  /// fewer fails the bit-for-bit tests).
  static std::int64_t ring_planes(int k, int r) { return 2 * std::int64_t(r) * (k - 1) + 1; }

  /// Rows per tile (not counting the 2r carried ones) whose k-level ring takes about
  /// ring_budget bytes when tiles are `bx` points wide.
  static std::int64_t rows_within_budget(const detail::stencil_args& a, int k, std::size_t elem, std::int64_t bx) {
    const std::int64_t rim = std::int64_t(k) * a.radius;
    const std::int64_t planes = ring_planes(k, a.radius);
    const std::int64_t row_bytes = (bx + 2 * rim + 2 * a.radius) * std::int64_t(elem);
    return ring_budget / std::max<std::int64_t>(1, planes * row_bytes) - 2 * a.radius;
  }

  /// Sweeps per pass, for k sweeps asked: the most whose ring leaves tiles spanning whole
  /// rows at least `rows_per_tile` high (or the whole grid's rows), in passes of equal
  /// length. More levels per pass save memory traffic but thin the tiles, and the ring, the
  /// carries (2r rows per level and plane) and the per-thread buffers grow with the levels.
  /// Measured, 2 threads, f64 7-point, 32 sweeps of 256^3: passes of 8 121-124 ms, of 11
  /// (chosen) 122-129 ms, of 16 131-135 ms (before the shared in-place ring: passes of 8
  /// 148-162 ms, one pass of 32 227-251 ms).
  static int levels(const detail::stencil_args& a, int k, std::size_t elem) {
    const std::int64_t rows_per_tile = 48, wanted = std::min<std::int64_t>(rows_per_tile, a.ny);
    int most = k;
    while (most > 2 && rows_within_budget(a, most, elem, a.nx) < wanted) --most;
    if (detail::tuning().wavefront_levels > 0)  // MIXPREC_WAVEFRONT_LEVELS, for tuning on other machines
      most = std::min(k, detail::tuning().wavefront_levels);
    const int passes = (k + most - 1) / most;
    return (k + passes - 1) / passes;
  }

  /// Tiles whose ring buffers take about ring_budget bytes per thread: whole rows where that
  /// leaves at least `min_rows` rows per tile, else the rows cut into the fewest equal x
  /// tiles that do (each then grows a redundant rim of (k-t)r columns a side).
  static wavefront_tiling choose(const detail::stencil_args& a, int k, std::size_t elem, bool periodic_x, int threads) {
    // At 384^3 f64, whole rows (44 per tile) ran 1.38x faster than x tiles of 256 and 128
    // columns.
    const std::int64_t rim = std::int64_t(k) * a.radius, min_rows = 16;
    std::int64_t bx = a.nx;
    if (!periodic_x)
      for (std::int64_t tiles = 2; rows_within_budget(a, k, elem, bx) < min_rows && bx > 8 * rim; ++tiles)
        bx = std::max<std::int64_t>(8 * rim, (a.nx + tiles - 1) / tiles);
    std::int64_t by = std::clamp<std::int64_t>(rows_within_budget(a, k, elem, bx), 2, std::max<std::int64_t>(a.ny, 2));
    // MIXPREC_WAVEFRONT_TILE="bx,by" overrides the choice, for tuning on other machines.
    if (const detail::kernel_tuning& t = detail::tuning(); t.wavefront_tile_x > 0) {
      bx = periodic_x ? a.nx : std::min<std::int64_t>(a.nx, t.wavefront_tile_x);
      by = std::min<std::int64_t>(std::max<std::int64_t>(a.ny, 1), t.wavefront_tile_y);
    }
    // tx * strips a multiple of the threads (lcm), so that every thread gets as many strips.
    const std::int64_t tx = (a.nx + bx - 1) / bx;
    const std::int64_t strips =
        std::clamp<std::int64_t>(threads / std::gcd<std::int64_t>(tx, threads), 1, std::max<std::int64_t>(a.ny, 1));
    return {bx, by, strips};
  }
};

template <class S, class Rows>
class wavefront_tile {
  /// The ring's element type: the compute type. f16/bf16 levels are kept as the f32 values
  /// they round to, so that the levels after the first read them in place instead of
  /// widening every row they touch (three planes' worth per point) again.
  using C = compute_t<S>;
  static constexpr bool narrow_storage = !std::is_same_v<S, C>;

 public:
  wavefront_tile(const detail::stencil_args& a, const detail::halo_args& bc, int k, const row_plan& plan,
                 const wavefront_tiling& tiling)
      : a_(a),
        bc_(bc),
        k_(k),
        r_(a.radius),
        plan_(plan),
        rim_(std::int64_t(k) * a.radius),
        ring_x0_(round_up(rim_ + r_)),
        ring_sx_(round_up(ring_x0_ + tiling.bx + rim_ + r_)),
        ring_rows_(tiling.by + 2 * rim_),
        // Planes hold each level's rows r+1 further than the next level's (ring_at), and are
        // padded by an odd number of cache lines: without it the slots sit at equal offsets
        // modulo 4 KiB and loads stall on 4K aliasing with the stores.
        plane_(ring_sx_ * (ring_rows_ + std::int64_t(r_ + 1) * (k - 1)) + 5 * std::int64_t(64 / sizeof(C))),
        ring_(thread_storage<0>(std::size_t(wavefront_tiling::ring_planes(k, r_)) * plane_)),
        carry_(thread_storage<1>(std::size_t(k - 1) * std::size_t(a.nz + std::int64_t(k - 1) * a.radius) * 2 * r_ *
                                 ring_sx_)),
        in_(plan.rows()),
        run_in_(plan.rows()),
        row_s_(narrow_storage ? ring_sx_ : 0),
        f_c_(narrow_storage && a.f ? ring_sx_ : 0),
        level1_(narrow_storage ? ring_sx_ : 0, narrow_storage ? ring_rows_ : 0, a.radius, a.radius) {}  // 3D only

  /// The tile writing output [x0,x1) x [y0,y1). `carry_in`: the previous tile of the strip
  /// (rows below y0) left its top rows in the carry buffer; `carry_out`: leave ours there.
  void run(std::int64_t x0, std::int64_t x1, std::int64_t y0, std::int64_t y1, bool carry_in, bool carry_out) {
    x0_ = x0;
    y0_ = y0;
    carry_in_ = carry_in;
    carry_out_ = carry_out;
    // Per level: the rows it computes, the rectangle it holds (carried rows and ghosts
    // included), and a row engine as wide as the part it computes.
    local_vector<detail::stencil_args> args(k_ + 1, a_);
    for (int t = 1; t <= k_; ++t) {
      const std::int64_t grow = std::int64_t(k_ - t) * r_;
      lo_x_[t] = std::max<std::int64_t>(-r_, x0 - grow);
      hi_x_[t] = std::min<std::int64_t>(a_.nx + r_, x1 + grow);
      row_lo_[t] = carry_in ? y0 + grow : y0 - grow;
      row_hi_[t] = y1 + grow;
      lo_y_[t] = std::max<std::int64_t>(-r_, row_lo_[t] - (carry_in ? 2 * r_ : 0));
      hi_y_[t] = std::min<std::int64_t>(a_.ny + r_, row_hi_[t]);
      if (t == k_) lo_x_[t] = x0, hi_x_[t] = x1, lo_y_[t] = y0, hi_y_[t] = y1;
      args[t].nx = std::min(a_.nx, hi_x_[t]) - std::max<std::int64_t>(0, lo_x_[t]);
    }
    // Level 1 reads the grid, or f16/bf16 planes of it widened once; the others the ring.
    local_vector<std::unique_ptr<stencil_row_kernel<C, Rows>>> engines(k_ + 1);
    for (int t = 1; t <= k_; ++t) engines[t] = std::make_unique<stencil_row_kernel<C, Rows>>(args[t], plan_);
    const std::int64_t yb1 = std::clamp<std::int64_t>(row_lo_[1], 0, a_.ny),
                       ye1 = std::clamp<std::int64_t>(row_hi_[1], 0, a_.ny);
    if (narrow_storage && yb1 < ye1) {
      level1_.block(std::max<std::int64_t>(0, lo_x_[1]), x_end(1), yb1, ye1);
      for (std::int64_t z = -r_; z < r_; ++z) level1_.load(input(), a_.usy, a_.usz, z);
    }

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
        if (t == 1 && narrow_storage && yb1 < ye1) level1_.load(input(), a_.usy, a_.usz, z + r_);
        compute_plane(t, z, *engines[t]);
        if (t < k_ && z < r_ && boundary(bc_.kind[2][0]) == boundary::neumann) copy_plane(t, z, t, -1 - z);
      }
    }
  }

 private:
  static std::int64_t round_up(std::int64_t n) {
    const std::int64_t v = std::int64_t(64 / sizeof(C));
    return (n + v - 1) / v * v;
  }
  /// The calling thread's ring (Which = 0) and carry (1) storage, kept between calls: a
  /// fresh multi-megabyte allocation per call would cost page faults comparable to the
  /// sweeps themselves.
  template <int Which>
  static C* thread_storage(std::size_t n) {
    struct cache {
      void* p = nullptr;
      std::size_t bytes = 0;
      ~cache() { std::free(p); }
    };
    static thread_local cache c;
    const std::size_t bytes = std::max<std::size_t>(1, n) * sizeof(C);
    if (bytes > c.bytes) {
      std::free(c.p);
      c.p = nullptr;
      c.bytes = 0;
      if (posix_memalign(&c.p, 64, bytes) != 0) throw std::bad_alloc();
      c.bytes = bytes;
    }
    return static_cast<C*>(c.p);
  }

  /// The input grid (level 0) at x = y = z = 0; element (x, y, z) of it and of the output
  /// grid (level k).
  const S* input() const { return static_cast<const S*>(a_.u); }
  const S* input_at(std::int64_t x, std::int64_t y, std::int64_t z) const {
    return static_cast<const S*>(a_.u) + x + y * a_.usy + z * a_.usz;
  }
  S* output_at(std::int64_t x, std::int64_t y, std::int64_t z) const {
    return static_cast<S*>(a_.out) + x + y * a_.osy + z * a_.osz;
  }
  /// Element (x, y, z) of level 0 < t < k in the ring buffer (only for points of the level's
  /// rectangle and its live planes). Level t's (x, y, z) is level t-1's (x, y - r - 1, z - r):
  /// when level t writes row y of plane z, plane z-r of level t-1 is read only by rows y
  /// and above of this plane (plane z+1 starts at z-r+1), and those read its rows y-r and
  /// above. r+1 rows, not 0: a box stencil's row reads row y-r of plane z-r at x-1 after the
  /// store of the vector before it, and rows() for uncommon point counts builds a row in the
  /// output over several passes. Carried rows (below the rows a level computes) and ghosts
  /// (after them) land on rows equally dead.
  C* ring_at(int t, std::int64_t x, std::int64_t y, std::int64_t z) const {
    const std::int64_t P = wavefront_tiling::ring_planes(k_, r_), d = z - std::int64_t(r_) * t;
    const std::int64_t row = y - (y0_ - rim_ - r_) + std::int64_t(r_ + 1) * (k_ - 1 - t);
    return ring_ + ((d % P) + P) % P * plane_ + row * ring_sx_ + (x - (x0_ - ring_x0_));
  }

  /// Plane z of level t: the carried rows in, the tile's rows, the ghosts, our rows out.
  void compute_plane(int t, std::int64_t z, stencil_row_kernel<C, Rows>& engine) {
    const std::int64_t yb = std::clamp<std::int64_t>(row_lo_[t], 0, a_.ny);
    const std::int64_t ye = std::clamp<std::int64_t>(row_hi_[t], 0, a_.ny);
    if (t < k_ && carry_in_) carry(t, z, row_lo_[t], true);
    if (yb < ye) compute_rows(t, z, engine, yb, ye);
    if (t == k_) return;
    // Ghost rows, where their source is held: a mirrored row the tile neither computed nor
    // received is read by none of its points (they would need rows it lacks).
    const std::int64_t held_lo = std::max<std::int64_t>(0, lo_y_[t]), held_hi = std::min(a_.ny, hi_y_[t]);
    const auto ky = boundary(bc_.kind[1][0]), ky_hi = boundary(bc_.kind[1][1]);
    for (std::int64_t y = lo_y_[t]; y < 0; ++y) {
      if (ky == boundary::dirichlet)
        copy_row(0, y, z, t, y, z);
      else if (-1 - y < held_hi)
        copy_row(t, -1 - y, z, t, y, z);
    }
    for (std::int64_t y = a_.ny; y < hi_y_[t]; ++y) {
      if (ky_hi == boundary::dirichlet)
        copy_row(0, y, z, t, y, z);
      else if (2 * a_.ny - 1 - y >= held_lo)
        copy_row(t, 2 * a_.ny - 1 - y, z, t, y, z);
    }
    if (carry_out_) carry(t, z, row_hi_[t], false);
  }

  /// The 2r rows of level t below `edge` (those inside the grid) between the ring and the
  /// carry buffer: a tile's top rows are the next tile's bottom ones.
  void carry(int t, std::int64_t z, std::int64_t edge, bool into_ring) {
    const std::int64_t width = hi_x_[t] - lo_x_[t];
    // Ordered by wavefront step, then level: a step's carries are one contiguous run, and
    // the steps follow each other, so the hardware prefetchers stream them.
    const std::int64_t step = z + std::int64_t(t - 1) * r_;
    C* const base = carry_ + (step * (k_ - 1) + (t - 1)) * 2 * r_ * ring_sx_ + (lo_x_[t] - (x0_ - ring_x0_));
    for (std::int64_t y = std::max<std::int64_t>(0, edge - 2 * r_); y < std::min(a_.ny, edge); ++y) {
      C* ring = ring_at(t, lo_x_[t], y, z);
      C* kept = base + (y - (edge - 2 * r_)) * ring_sx_;
      std::memcpy(into_ring ? ring : kept, into_ring ? kept : ring, std::size_t(width) * sizeof(C));
    }
  }

  /// Rows [yb, ye) of plane z of level t, with their x ghosts: the many-rows engine, which
  /// takes every wavefront case (constant coefficients; f16/bf16 read as f32).
  void compute_rows(int t, std::int64_t z, stencil_row_kernel<C, Rows>& engine, std::int64_t yb, std::int64_t ye) {
    const std::int64_t xb = std::max<std::int64_t>(0, lo_x_[t]), n = x_end(t) - xb;
    // Row pointers at the first row, then advanced by each level's row stride: the ring
    // slot arithmetic is done once per plane, not per row.
    for (int q = 0; q < plan_.rows(); ++q) {
      const std::int64_t y = yb + plan_.dy[q], zq = z + plan_.dz[q];
      if (t > 1)
        in_[q] = ring_at(t - 1, xb, y, zq);
      else if constexpr (narrow_storage)
        in_[q] = level1_.row(y, zq);
      else
        in_[q] = input_at(xb, y, zq);
    }
    const std::int64_t in_sy = t > 1 ? ring_sx_ : narrow_storage ? level1_.row_stride() : a_.usy;
    const std::int64_t out_sy = t == k_ ? a_.osy : ring_sx_;
    const S* f = a_.f ? static_cast<const S*>(a_.f) + xb + yb * a_.fsy + z * a_.fsz : nullptr;
    const bool stream = t == k_ && stream_;
    // Many rows per call with the row pointers in registers, as the single sweep: 1.3x faster
    // than a call per row on a grid in cache, 1.1-1.2x at 256^3.
    if constexpr (narrow_storage) {
      void* out = t == k_ ? static_cast<void*>(output_at(xb, yb, z)) : static_cast<void*>(ring_at(t, xb, yb, z));
      engine.rows_narrowed(in_.data(), in_sy, out, out_sy, ye - yb, t < k_, stream, row_s_.data(), f, a_.fsy,
                           f_c_.data(), a_.fsz);
    } else {
      S* out = t == k_ ? output_at(xb, yb, z) : ring_at(t, xb, yb, z);
      if (t == 1) {
        // Level 1 reads the input grid from memory, in two parts, so that its last `ahead`
        // rows prefetch the next plane's first rows; the ring levels read rows in cache.
        const std::int64_t ahead = prefetch_rows(n * std::int64_t(sizeof(S)), ye - yb);
        const std::int64_t split = std::max(yb, ye - ahead);
        for (auto [y, y_end] : {std::pair{yb, split}, std::pair{split, ye}}) {
          if (y == y_end) continue;
          for (int q = 0; q < plan_.rows(); ++q) run_in_[q] = in_[q] + (y - yb) * in_sy;
          const S* next = rows_ahead(run_in_[plan_.lead], y, ye, ye - yb, ahead, a_.usy, a_.usz);
          engine.rows(run_in_.data(), in_sy, out + (y - yb) * out_sy, out_sy, y_end - y, stream, next,
                      f ? f + (y - yb) * a_.fsy : nullptr, a_.fsy, a_.fsz);
        }
      } else {
        engine.rows(in_.data(), in_sy, out, out_sy, ye - yb, stream, nullptr, f, a_.fsy, a_.fsz);
      }
    }
    if (t < k_ && (lo_x_[t] < 0 || hi_x_[t] > a_.nx))
      for (std::int64_t y = yb; y < ye; ++y) ghost_x(t, ring_at(t, 0, y, z), input_at(0, y, z));
  }

  /// One past the last x level t computes.
  std::int64_t x_end(int t) const { return std::min(a_.nx, hi_x_[t]); }

  /// The x ghosts of a computed ring row of level t (x = 0 at `row`; `u` the input's row),
  /// where the level reaches past x's faces.
  void ghost_x(int t, C* row, const S* u) {
    const std::int64_t n = a_.nx;
    for (std::int64_t x = lo_x_[t]; x < 0; ++x) {
      switch (boundary(bc_.kind[0][0])) {
        case boundary::dirichlet:
          row[x] = widen(u[x]);
          break;
        case boundary::periodic:
          row[x] = row[x + n];
          break;
        case boundary::neumann:
          row[x] = row[-1 - x];
          break;
      }
    }
    for (std::int64_t x = n; x < hi_x_[t]; ++x) {
      switch (boundary(bc_.kind[0][1])) {
        case boundary::dirichlet:
          row[x] = widen(u[x]);
          break;
        case boundary::periodic:
          row[x] = row[x - n];
          break;
        case boundary::neumann:
          row[x] = row[2 * n - 1 - x];
          break;
      }
    }
  }

  /// A ring row of level t from the input grid (from = 0: dirichlet ghosts) or from another
  /// row of the same level (from = t: mirrored ghosts).
  void copy_row(int from, std::int64_t fy, std::int64_t fz, int t, std::int64_t y, std::int64_t z) {
    const std::int64_t n = hi_x_[t] - lo_x_[t];
    C* dst = ring_at(t, lo_x_[t], y, z);
    if (from == t)
      std::memcpy(dst, ring_at(t, lo_x_[t], fy, fz), std::size_t(n) * sizeof(C));
    else if constexpr (narrow_storage)
      Rows::load(input_at(lo_x_[t], fy, fz), dst, n);
    else
      std::memcpy(dst, input_at(lo_x_[t], fy, fz), std::size_t(n) * sizeof(C));
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
  // Ring rows: x = x0 sits ring_x0_ elements (the rim and ghosts, rounded up to a cache
  // line) into a row of ring_sx_, so that rows start on a line as the grid's own do:
  // otherwise every 64-byte load and store of the row engine splits two lines (8 f64 sweeps
  // at 256^3 ran 1.3x slower for k = 6 and 8 than for k = 7, whose rim happened to align).
  const std::int64_t rim_, ring_x0_, ring_sx_, ring_rows_, plane_;
  C* ring_;
  C* carry_;  // per level and plane, the 2r rows the next tile of the strip reads below its own
  local_vector<const C*> in_, run_in_;  // row pointers at a plane's first row, at a run's
  local_vector<S> row_s_;               // f16/bf16: a row rounded to storage
  local_vector<C> f_c_;                 // f16/bf16: an f row widened
  widened_planes<S, Rows> level1_;      // f16/bf16: level 1's input planes, widened once per tile and plane
  const bool stream_ = streams_output<S>(a_);
  std::int64_t x0_ = 0, y0_ = 0;
  bool carry_in_ = false, carry_out_ = false;
  // Per level: the rectangle held (ghosts and carried rows included) and the rows computed
  // (before clipping to the grid).
  std::int64_t lo_x_[64] = {}, hi_x_[64] = {}, lo_y_[64] = {}, hi_y_[64] = {}, row_lo_[64] = {}, row_hi_[64] = {};
};

/// Largest sweep count one wavefront pass takes; more sweeps run as several passes.
inline constexpr int max_wavefront_levels = 32;

/// Up to k sweeps in one pass (wavefront_tiling::levels decides how many); returns how many
/// it ran.
template <class S, class Rows>
int stencil_sweeps_blocked(const detail::exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc,
                           int k) {
  if (a.nx == 0 || a.ny == 0 || a.nz == 0) return k;
  k = wavefront_tiling::levels(a, k, sizeof(compute_t<S>));
  const row_plan plan(a);
  const bool periodic_x = boundary(bc.kind[0][0]) == boundary::periodic;
  const wavefront_tiling tiling =
      wavefront_tiling::choose(a, k, sizeof(compute_t<S>), periodic_x, std::max(1, ex.threads));
  const std::int64_t tx = (a.nx + tiling.bx - 1) / tiling.bx, strips = tx * tiling.strips_y;
  const int chunks = detail::chunk_count(strips, ex.threads, 1);
  detail::parallel_chunks(chunks, [&](int c) {
    wavefront_tile<S, Rows> tile(a, bc, k, plan, tiling);
    std::int64_t s0, s1;
    detail::chunk_range(strips, chunks, c, 1, &s0, &s1);
    for (std::int64_t i = s0; i < s1; ++i) {
      // Strip i: x tile i % tx, rows [ya, yb) as the (i / tx)-th of strips_y equal parts.
      const std::int64_t x0 = (i % tx) * tiling.bx, x1 = std::min(a.nx, x0 + tiling.bx);
      const std::int64_t part = i / tx;
      const std::int64_t ya = a.ny * part / tiling.strips_y, yb = a.ny * (part + 1) / tiling.strips_y;
      // Tiles of equal height: a last tile of a few rows would run its levels as slowly as
      // a full one (measured 1.1x on 384^3 with 63-row tiles and a 3-row remainder).
      const std::int64_t tiles = (yb - ya + tiling.by - 1) / tiling.by;
      for (std::int64_t j = 0; j < tiles; ++j) {
        const std::int64_t y0 = ya + (yb - ya) * j / tiles, y1 = ya + (yb - ya) * (j + 1) / tiles;
        tile.run(x0, x1, y0, y1, j != 0, j + 1 != tiles);
      }
    }
    Rows::stream_fence();
  });
  return k;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
