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
#include <vector>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Scalar row conversions; ISA folders provide the same two functions with SIMD.
struct scalar_rows {
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
  static void stream_fence() {}
};

/// The distinct (dy, dz) input rows of a stencil, and for each point its row and x shift.
/// Row 0 is always the center row (0, 0).
struct row_plan {
  std::vector<int> dy, dz;
  std::vector<int> row_of_point, dx_of_point;

  explicit row_plan(const detail::stencil_args& a) : dy{0}, dz{0} {
    for (int p = 0; p < a.npoints; ++p) {
      const detail::stencil_offset o = a.offsets[p];
      int r = 0;
      while (r < int(dy.size()) && (dy[r] != o.dy || dz[r] != o.dz)) ++r;
      if (r == int(dy.size())) {
        dy.push_back(o.dy);
        dz.push_back(o.dz);
      }
      row_of_point.push_back(r);
      dx_of_point.push_back(o.dx);
    }
  }
  int rows() const { return int(dy.size()); }
};

/// acc[x] = sum_p c[p] * in[p][x], points in order; N > 0 fixes the point count at compile
/// time so the sum stays in registers.
template <int N, class C>
inline void sum_points_fixed(const C* const* in, const C* c, std::int64_t n, C* __restrict acc) {
  const C* q[N];
  C k[N];
  for (int i = 0; i < N; ++i) {
    q[i] = in[i];
    k[i] = c[i];
  }
#pragma GCC ivdep
  for (std::int64_t x = 0; x < n; ++x) {
    C sum = k[0] * q[0][x];
#pragma GCC unroll 32
    for (int i = 1; i < N; ++i) sum += k[i] * q[i][x];
    acc[x] = sum;
  }
}

template <class C>
inline void sum_points(int np, const C* const* in, const C* c, std::int64_t n, C* __restrict acc) {
  switch (np) {
    case 4: return sum_points_fixed<4>(in, c, n, acc);
    case 5: return sum_points_fixed<5>(in, c, n, acc);
    case 6: return sum_points_fixed<6>(in, c, n, acc);
    case 7: return sum_points_fixed<7>(in, c, n, acc);
    case 26: return sum_points_fixed<26>(in, c, n, acc);
    case 27: return sum_points_fixed<27>(in, c, n, acc);
    default: break;
  }
  // Any other count: one pass per point over the row (in L1), same order of operations.
  const C* p0 = in[0];
#pragma GCC ivdep
  for (std::int64_t x = 0; x < n; ++x) acc[x] = c[0] * p0[x];
  for (int i = 1; i < np; ++i) {
    const C* pi = in[i];
    const C ci = c[i];
#pragma GCC ivdep
    for (std::int64_t x = 0; x < n; ++x) acc[x] += ci * pi[x];
  }
}

/// Per-thread state for computing rows of one call: conversion and accumulation buffers.
template <class S, class Rows>
class stencil_row_kernel {
 public:
  using C = compute_t<S>;
  static constexpr bool widened = !std::is_same_v<S, C>;

  stencil_row_kernel(const detail::stencil_args& a, const row_plan& plan)
      : a_(a), plan_(plan), span_(a.nx + 2 * std::int64_t(a.radius)), pts_(a.npoints), coef_(a.npoints),
        acc_(a.nx), rowp_(plan.rows()), crow_(a.npoints), cbuf_(a.coeff_grids ? a.npoints : 0) {
    if constexpr (widened) {
      rowbuf_.resize(std::size_t(plan.rows() * span_));
      fbuf_.resize(std::size_t(a.nx));
      for (auto& b : cbuf_) b.resize(std::size_t(a.nx));
    }
    if (a.coeffs)
      for (int p = 0; p < a.npoints; ++p) coef_[p] = C(a.coeffs[p]);
  }

  /// Output row from `in[r]` (x = 0 of the input row plan.dy[r], plan.dz[r] away), the f
  /// row (or null), and for variable stencils the coefficient rows at this (y, z).
  /// `stream`: write out with non-temporal stores (outputs nobody reads soon: it saves the
  /// read-for-ownership, a third of a sweep's memory traffic); callers then end with
  /// Rows::stream_fence().
  void row(const S* const* in, const S* f, S* out, const S* const* coeff_rows = nullptr, bool stream = false) {
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
    if (!a_.coeff_grids) {
      constant_row(fc, out);
    } else {
      variable_row(center, fc, out, coeff_rows);
    }
  }

 private:
  void constant_row(const C* f, S* out) {
    const std::int64_t nx = a_.nx;
    // f may alias out (operator apply with beta): sum first, combine in a second pass.
    if (!widened && !f && !stream_) {
      sum_points(a_.npoints, pts_.data(), coef_.data(), nx, reinterpret_cast<C*>(out));
      return;
    }
    C* acc = acc_.data();
    sum_points(a_.npoints, pts_.data(), coef_.data(), nx, acc);
    if (f) {
      const C g = C(a_.gamma);
      for (std::int64_t x = 0; x < nx; ++x) acc[x] += g * f[x];
    }
    store(acc, out);
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
    for (std::int64_t x = 0; x < nx; ++x) acc[x] = c[0][x] * pts_[0][x];
    for (int p = 1; p < a_.npoints; ++p) {
      const C* cp = c[p];
      const C* up = pts_[p];
#pragma GCC ivdep
      for (std::int64_t x = 0; x < nx; ++x) acc[x] += cp[x] * up[x];
    }
    if (a_.mode == detail::stencil_mode::jacobi) {
      const C w = C(a_.omega);
      const C* d = c[a_.center];
      for (std::int64_t x = 0; x < nx; ++x) acc[x] = center[x] + w * ((f ? f[x] : C(0)) - acc[x]) / d[x];
    } else {
      const C al = C(a_.alpha), be = C(a_.beta), g = C(a_.gamma);
      for (std::int64_t x = 0; x < nx; ++x) {
        C v = al * acc[x];
        if (be != C(0)) v += be * center[x];
        if (f) v += g * f[x];
        acc[x] = v;
      }
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
  std::vector<const C*> pts_;
  std::vector<C> coef_;
  std::vector<C> acc_, rowbuf_, fbuf_;
  std::vector<const C*> rowp_, crow_;
  std::vector<std::vector<C>> cbuf_;
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
