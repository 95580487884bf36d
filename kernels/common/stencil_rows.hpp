// The row engine of every CPU stencil kernel: one output row (fixed y, z; x = 0..nx-1)
// from the input rows the stencil touches. Single sweeps and the time-blocked multi-sweep
// both call it, so a point is computed by the same arithmetic whichever traverses the grid
// (what makes blocked and unblocked sweeps agree bit for bit).
//
// Storage S is widened to the compute type C = compute_t<S> (f64 for f64, f32 otherwise).
// For S == C the rows are read in place; f16/bf16 rows are first widened into buffers by
// the `Rows` policy (scalar here, SIMD in the ISA folders).
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/loop_hints.hpp"
#include "kernels/common/scalar.hpp"
#include "kernels/common/stencil_box_rows.hpp"
#include "kernels/common/stencil_row_plan.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Scalar row conversions; ISA folders provide the same functions with SIMD.
struct scalar_rows {
  /// Whether box stencils take the policy's sum_box (rows loaded once per vector, their
  /// x-1 and x+1 neighbours shifted in registers; kernels/common/stencil_box_rows.hpp).
  static constexpr bool register_shifts = false;
  template <class S>
  static void load(const S* src, compute_t<S>* dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) dst[i] = widen(src[i]);
  }
  template <class S>
  static void store(const compute_t<S>* src, S* dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) dst[i] = narrow<S>(src[i]);
  }
  /// A store that bypasses the caches where the ISA has one; here a plain store.
  template <class S>
  static void stream(const compute_t<S>* src, S* dst, std::int64_t n) {
    store(src, dst, n);
  }
  /// One 64-byte line of compute values to a line-aligned dst of the same type.
  template <class C>
  static void stream_line(const C* src, C* dst) {
    std::copy(src, src + 64 / sizeof(C), dst);
  }
  static void stream_fence() {}
};

/// acc[x0 + i] = sum_p c[p] * q[p][x0 + i] for i < L, points in order.
template <int N, int L, class C>
inline void sum_points_block(const C* const* q, const C* k, std::int64_t x0, C* __restrict acc) {
  MIXPREC_IVDEP
  for (int i = 0; i < L; ++i) {
    const std::int64_t x = x0 + i;
    C sum = k[0] * q[0][x];
#pragma GCC unroll 32
    for (int p = 1; p < N; ++p) sum += k[p] * q[p][x];
    acc[x] = sum;
  }
}

/// `rows` consecutive output rows: row j reads every input `in_sy` elements further than row
/// j-1, acc_j[x] = sum_p c[p] * in[p][x + j*in_sy] with the points in order, written to
/// dst(j); line(j, x, acc_j) follows each whole cache line of it (to stream it out while
/// the loads go on, where dst is a buffer) and done(j, x, acc_j) the rest from x on.
/// N > 0 fixes the point count at compile time so the sum stays in registers, and so do the
/// row pointers across rows: per-row bookkeeping stores would queue behind the output
/// stores waiting on memory. Every x gets the same arithmetic with or without the prefetch,
/// whatever the row count (blocked and unblocked sweeps agree bit for bit). `pf` advances
/// `pf_sy` bytes per row.
template <int N, class C, class Dst, class Line, class Done>
inline void sum_rows_fixed(const C* const* in, const C* c, std::int64_t n, std::int64_t rows, std::int64_t in_sy,
                           row_prefetch pf, std::int64_t pf_sy, Dst&& dst, Line&& line, Done&& done) {
  constexpr int L = int(64 / sizeof(C));
  const C* q[N];
  C k[N];
  for (int i = 0; i < N; ++i) {
    q[i] = in[i];
    k[i] = c[i];
  }
  for (std::int64_t j = 0; j < rows; ++j) {
    C* __restrict acc = dst(j);
    std::int64_t x = 0;
    const char* p = pf.p ? pf.p : reinterpret_cast<const char*>(acc);  // prefetching acc: a no-op
    for (; x + L <= n; x += L, p += pf.p ? pf.step : 0) {
      __builtin_prefetch(p);
      sum_points_block<N, L>(q, k, x, acc);
      line(j, x, acc);
    }
    if (pf.p) pf.p += pf_sy;
    const std::int64_t rest = x;
    MIXPREC_IVDEP
    for (; x < n; ++x) {
      C sum = k[0] * q[0][x];
#pragma GCC unroll 32
      for (int i = 1; i < N; ++i) sum += k[i] * q[i][x];
      acc[x] = sum;
    }
    done(j, rest, acc);
    for (int i = 0; i < N; ++i) q[i] += in_sy;
  }
}

/// sum_rows_fixed for any point count; counts other than the common ones make one pass per
/// point over the row (in L1), same order of operations.
template <class C, class Dst, class Line, class Done>
inline void sum_rows(int np, const C* const* in, const C* c, std::int64_t n, std::int64_t rows, std::int64_t in_sy,
                     row_prefetch pf, std::int64_t pf_sy, Dst&& dst, Line&& line, Done&& done) {
  switch (np) {
    case 4:
      return sum_rows_fixed<4>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    case 5:
      return sum_rows_fixed<5>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    case 6:
      return sum_rows_fixed<6>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    case 7:
      return sum_rows_fixed<7>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    case 26:
      return sum_rows_fixed<26>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    case 27:
      return sum_rows_fixed<27>(in, c, n, rows, in_sy, pf, pf_sy, dst, line, done);
    default:
      break;
  }
  for (std::int64_t j = 0; j < rows; ++j) {
    C* __restrict acc = dst(j);
    const std::int64_t shift = j * in_sy;
    const C* p0 = in[0] + shift;
    MIXPREC_IVDEP
    for (std::int64_t x = 0; x < n; ++x) acc[x] = c[0] * p0[x];
    for (int i = 1; i < np; ++i) {
      const C* pi = in[i] + shift;
      const C ci = c[i];
      MIXPREC_IVDEP
      for (std::int64_t x = 0; x < n; ++x) acc[x] += ci * pi[x];
    }
    done(j, std::int64_t(0), acc);
  }
}

/// acc[x] = sum_p c[p][x] * u[p][x] for x < n (variable coefficients), points in order, all
/// rows streaming together: a pass over the row per point left each coefficient row to
/// stream from memory alone (256^3 f64 -div(k grad u): 152 ms, 7.9 GB/s).
template <int N, class C>
inline void variable_sum_fixed(const C* const* u, const C* const* c, std::int64_t n, C* __restrict acc) {
  const C* q[N];
  const C* k[N];
  for (int i = 0; i < N; ++i) {
    q[i] = u[i];
    k[i] = c[i];
  }
  MIXPREC_IVDEP
  for (std::int64_t x = 0; x < n; ++x) {
    C sum = k[0][x] * q[0][x];
#pragma GCC unroll 32
    for (int p = 1; p < N; ++p) sum += k[p][x] * q[p][x];
    acc[x] = sum;
  }
}

/// variable_sum_fixed for any point count; other counts than the common ones make one pass
/// per point, same order of operations.
template <class C>
inline void variable_sum(int np, const C* const* u, const C* const* c, std::int64_t n, C* __restrict acc) {
  switch (np) {
    case 5:
      return variable_sum_fixed<5>(u, c, n, acc);
    case 7:
      return variable_sum_fixed<7>(u, c, n, acc);
    case 27:
      return variable_sum_fixed<27>(u, c, n, acc);
    default:
      break;
  }
  for (std::int64_t x = 0; x < n; ++x) acc[x] = c[0][x] * u[0][x];
  for (int p = 1; p < np; ++p) {
    const C* cp = c[p];
    const C* up = u[p];
    MIXPREC_IVDEP
    for (std::int64_t x = 0; x < n; ++x) acc[x] += cp[x] * up[x];
  }
}

/// The line/done callback of sum_rows where the rows are written in place.
struct no_line {
  template <class... A>
  void operator()(A&&...) const {}
};

/// Per-thread state for computing rows of one call: conversion and accumulation buffers.
template <class S, class Rows>
class stencil_row_kernel {
 public:
  using C = compute_t<S>;
  static constexpr bool widened = !std::is_same_v<S, C>;

  stencil_row_kernel(const detail::stencil_args& a, const row_plan& plan)
      : a_(a),
        plan_(plan),
        span_(a.nx + 2 * std::int64_t(a.radius)),
        pts_(a.npoints),
        coef_(a.npoints),
        box_(a, plan),
        acc_(a.nx),
        rowp_(plan.rows()),
        crow_(a.npoints),
        cbuf_(a.coeff_grids ? a.npoints : 0) {
    if constexpr (widened) {
      rowbuf_.resize(std::size_t(plan.rows() * span_));
      fbuf_.resize(std::size_t(a.nx));
      for (auto& b : cbuf_) b.resize(std::size_t(a.nx));
    }
    if (a.coeffs)
      for (int p = 0; p < a.npoints; ++p) coef_[p] = C(a.coeffs[p]);
  }

  /// Whether rows() applies (constant coefficients, rows read in place). Variable stencils
  /// go through row(); constant ones on f16/bf16 through widened planes and an f32 kernel's
  /// rows_narrowed().
  bool runs_rows() const { return !widened && !a_.coeff_grids; }

  /// `count` output rows of a plane, each `in_sy` further than the last in every input row
  /// and `out_sy` in the output (only where runs_rows()); `prefetch`: an input row (x = 0)
  /// the caller will need soon, or null, fetched a line per line computed, for the first row
  /// and advancing `in_sy` per row. `f`: the f row of the first output row (or null),
  /// `fsy` further per row; it may alias out. Each f row read prefetches the one `f_ahead`
  /// elements further (the caller's next plane).
  void rows(const S* const* in, std::int64_t in_sy, S* out, std::int64_t out_sy, std::int64_t count, bool stream,
            const S* prefetch, const S* f = nullptr, std::int64_t fsy = 0, std::int64_t f_ahead = 0) {
    if constexpr (!widened) {
      const std::int64_t nx = a_.nx;
      const row_prefetch pf{reinterpret_cast<const char*>(prefetch), 64};
      const std::int64_t pf_sy = in_sy * std::int64_t(sizeof(S));
      C* acc = acc_.data();
      if (f) {
        // The sum into the buffer, then gamma*f added and the row written: as row() does,
        // so that f may alias out. 256^3 f64 Jacobi with f, 2 threads: 19.7 ms row by row.
        const C g = C(a_.gamma);
        row_sums(
            in, nx, count, in_sy, pf, pf_sy, [acc](std::int64_t) { return acc; }, no_line{},
            [&](std::int64_t j, std::int64_t, C* row) {
              const S* fj = f + j * fsy;
              prefetch_row(fj, f_ahead, nx);
              for (std::int64_t x = 0; x < nx; ++x) row[x] += g * fj[x];
              if (stream)
                Rows::stream(row, out + j * out_sy, nx);
              else
                std::copy(row, row + nx, out + j * out_sy);
            });
      } else if (!stream) {
        C* o = reinterpret_cast<C*>(out);
        row_sums(
            in, nx, count, in_sy, pf, pf_sy, [o, out_sy](std::int64_t j) { return o + j * out_sy; }, no_line{},
            no_line{});
      } else if (reinterpret_cast<std::uintptr_t>(out) % 64 == 0 && out_sy * sizeof(S) % 64 == 0) {
        // Lines streamed as soon as computed: the non-temporal stores then overlap the loads
        // (measured 25% faster than streaming each row after computing it).
        row_sums(
            in, nx, count, in_sy, pf, pf_sy, [acc](std::int64_t) { return acc; },
            [out, out_sy](std::int64_t j, std::int64_t x, const C* row) {
              Rows::stream_line(row + x, out + j * out_sy + x);
            },
            [out, out_sy, nx](std::int64_t j, std::int64_t x, const C* row) {
              std::copy(row + x, row + nx, out + j * out_sy + x);
            });
      } else {
        row_sums(
            in, nx, count, in_sy, pf, pf_sy, [acc](std::int64_t) { return acc; }, no_line{},
            [out, out_sy, nx](std::int64_t j, std::int64_t, const C* row) { Rows::stream(row, out + j * out_sy, nx); });
      }
    }
  }

  /// rows() of a kernel reading its rows in place (f32 here) for a storage type N narrower
  /// than its compute type (f16, bf16): each result rounds to N, and is written as N, or,
  /// where `keep_wide`, as the f32 value N represents exactly (what the time-blocked sweeps
  /// keep between levels, so that the next level reads it without widening every row again).
  /// `scratch` holds a row of N. `stream` as in row(), for N output only. `f` (N rows, `fsy`
  /// apart, or null) is widened into `f_wide` (a row of C) and added times gamma, as row()
  /// does; `f_ahead` as in rows().
  template <class N>
  void rows_narrowed(const S* const* in, std::int64_t in_sy, void* out, std::int64_t out_sy, std::int64_t count,
                     bool keep_wide, bool stream, N* scratch, const N* f = nullptr, std::int64_t fsy = 0,
                     C* f_wide = nullptr, std::int64_t f_ahead = 0) {
    static_assert(std::is_same_v<compute_t<N>, S> && !widened, "f32 rows rounding to f16 or bf16");
    const std::int64_t nx = a_.nx;
    C* acc = acc_.data();
    const C g = C(a_.gamma);
    row_sums(
        in, nx, count, in_sy, row_prefetch{}, 0, [acc](std::int64_t) { return acc; }, no_line{},
        [&](std::int64_t j, std::int64_t, C* row) {
          if (f) {
            prefetch_row(f + j * fsy, f_ahead, nx);
            Rows::load(f + j * fsy, f_wide, nx);
            for (std::int64_t x = 0; x < nx; ++x) row[x] += g * f_wide[x];
          }
          if (keep_wide) {
            Rows::store(row, scratch, nx);
            Rows::load(scratch, static_cast<C*>(out) + j * out_sy, nx);
          } else if (stream) {
            Rows::stream(row, static_cast<N*>(out) + j * out_sy, nx);
          } else {
            Rows::store(row, static_cast<N*>(out) + j * out_sy, nx);
          }
        });
  }

  /// Output row of a variable stencil (constant ones take rows() or rows_narrowed()) from
  /// `in[r]` (x = 0 of the input row plan.dy[r], plan.dz[r] away), the f row (or null) and
  /// the coefficient rows at this (y, z). `stream`: write out with non-temporal stores
  /// (outputs nobody reads soon: it saves the read-for-ownership); callers then end with
  /// Rows::stream_fence().
  void row(const S* const* in, const S* f, S* out, const S* const* coeff_rows, bool stream) {
    stream_ = stream;
    const std::int64_t nx = a_.nx, r = a_.radius;
    const C** rows = rowp_.data();  // x = 0 of each input row, in C
    const C* center;
    if constexpr (widened) {
      for (int k = 0; k < plan_.rows(); ++k) {
        C* b = rowbuf_.data() + k * span_;
        Rows::load(in[k] - r, b, span_);
        rows[k] = b + r;
      }
    } else {
      for (int k = 0; k < plan_.rows(); ++k) rows[k] = in[k];
    }
    center = rows[0];
    for (int p = 0; p < a_.npoints; ++p) pts_[p] = rows[plan_.row_of_point[p]] + plan_.dx_of_point[p];

    const C* fc = nullptr;
    if (f) {
      if constexpr (widened) {
        Rows::load(f, fbuf_.data(), nx);
        fc = fbuf_.data();
      } else {
        fc = f;
      }
    }
    variable_row(center, fc, out, coeff_rows);
  }

 private:
  /// sum_rows, or the policy's sum_box for the boxes it takes, over the input rows `in`
  /// (x = 0 of each).
  template <class Dst, class Line, class Done>
  void row_sums(const C* const* in, std::int64_t n, std::int64_t count, std::int64_t in_sy, row_prefetch pf,
                std::int64_t pf_sy, Dst&& dst, Line&& line, Done&& done) {
    if constexpr (Rows::register_shifts && !widened) {
      const C* k = box_.coef.data();
      if (box_.rows == 9 && box_.center_middle)
        return Rows::template sum_box<9, true>(in, k, n, count, in_sy, pf, pf_sy, dst, line, done);
      if (box_.rows == 9) return Rows::template sum_box<9, false>(in, k, n, count, in_sy, pf, pf_sy, dst, line, done);
      if (box_.rows == 3 && box_.center_middle)
        return Rows::template sum_box<3, true>(in, k, n, count, in_sy, pf, pf_sy, dst, line, done);
      if (box_.rows == 3) return Rows::template sum_box<3, false>(in, k, n, count, in_sy, pf, pf_sy, dst, line, done);
    }
    for (int p = 0; p < a_.npoints; ++p) pts_[p] = in[plan_.row_of_point[p]] + plan_.dx_of_point[p];
    sum_rows(a_.npoints, pts_.data(), coef_.data(), n, count, in_sy, pf, pf_sy, dst, line, done);
  }

  void variable_row(const C* center, const C* f, S* out, const S* const* coeff_rows) {
    const std::int64_t nx = a_.nx;
    const C** c = crow_.data();
    for (int p = 0; p < a_.npoints; ++p) {
      if constexpr (widened) {
        Rows::load(coeff_rows[p], cbuf_[p].data(), nx);
        c[p] = cbuf_[p].data();
      } else {
        c[p] = coeff_rows[p];
      }
    }
    C* acc = acc_.data();
    variable_sum(a_.npoints, pts_.data(), c, nx, acc);
    if (a_.mode == detail::stencil_mode::jacobi) {
      const C w = C(a_.omega);
      const C* d = c[a_.center];
      if (f)  // two loops, for the same reason as below
        for (std::int64_t x = 0; x < nx; ++x) acc[x] = center[x] + w * (f[x] - acc[x]) / d[x];
      else
        for (std::int64_t x = 0; x < nx; ++x) acc[x] = center[x] + w * (C(0) - acc[x]) / d[x];
    } else {
      // One loop per term, the conditions outside: inside, the compiler made them lane masks,
      // and a masked load of the null f row (every lane off, but on an unmapped page) takes a
      // fault-suppression assist, ~90 ns here: three quarters of the sweep's time.
      const C al = C(a_.alpha), be = C(a_.beta), g = C(a_.gamma);
      for (std::int64_t x = 0; x < nx; ++x) acc[x] = al * acc[x];
      if (be != C(0))
        for (std::int64_t x = 0; x < nx; ++x) acc[x] += be * center[x];
      if (f)
        for (std::int64_t x = 0; x < nx; ++x) acc[x] += g * f[x];
    }
    store(acc, out);
  }

  void store(const C* acc, S* out) {
    if (stream_)
      Rows::stream(acc, out, a_.nx);
    else if constexpr (widened)
      Rows::store(acc, out, a_.nx);
    else
      std::copy(acc, acc + a_.nx, out);
  }

  const detail::stencil_args& a_;
  const row_plan& plan_;
  std::int64_t span_;
  bool stream_ = false;
  local_vector<const C*> pts_;
  local_vector<C> coef_;
  box_shape<C> box_;  // where the stencil is a box the policy computes in registers
  local_vector<C> acc_, rowbuf_, fbuf_;
  local_vector<const C*> rowp_, crow_;
  local_vector<local_vector<C>> cbuf_;
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
