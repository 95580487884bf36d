// Scalar SpMV bodies over a row range, shared by the reference and portable kernels and
// used by SIMD kernels for index types or rows they do not vectorise; plus the partition
// of rows into chunks of equal work (nonzeros + rows), so skewed matrices still scale.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Accumulator type of SpMV: f64 when the vectors or the values are f64 (or for
/// accumulation::f64), else f32 — values always widen exactly.
template <class V, class X>
using spmv_acc_t = std::conditional_t<std::is_same_v<X, double> || std::is_same_v<V, double>, double, float>;

/// Stores alpha*sum + beta*y[i] rounded to Y; y is not read when beta == 0.
template <class A, class Y>
MIXPREC_KI void spmv_store(Y* y, std::int64_t i, A sum, A alpha, A beta) {
  y[i] = beta == A(0) ? narrow<Y>(alpha * sum) : narrow<Y>(alpha * sum + beta * widen(y[i]));
}

/// Entries ahead of the current row that CSR SpMV prefetches values and column indices:
/// with rows of a few entries one core's hardware prefetching keeps too few misses in flight
/// to stream at the memory's pace (poisson7_128 on 2 Zen 5 cores: 6.8 -> 5.0 ms, the triad's
/// bandwidth; 64, 256 and 1024 entries ahead all gain, 256 the most).
inline constexpr std::int64_t spmv_prefetch_entries = 256;

template <class V, class I>
inline void prefetch_row_ahead(const V* v, const I* ci, std::int64_t k) {
  __builtin_prefetch(v + k + spmv_prefetch_entries);
  __builtin_prefetch(ci + k + spmv_prefetch_entries);
}

/// Rows [rb, re) of y = alpha*A*x + beta*y. Sums = 1 adds a row's products in order (the
/// reference); Sums = 2 keeps even and odd entries in two partial sums added at the end:
/// half the dependent chain of adds, which with rows of 7-27 entries is what one core
/// waits on between the loads (the poisson7_128 loop alone, 2 cores, one process, built
/// with FMA: f32 values 6.3 -> 5.0 ms, f64 5.6 -> 5.4 ms).
template <class V, class I, class X, class A, int Sums = 1>
void spmv_csr_rows(const detail::csr_args& a, std::int64_t rb, std::int64_t re, A alpha, const X* x, A beta, X* y) {
  static_assert(Sums == 1 || Sums == 2, "one or two partial sums");
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  auto product = [&](I k) { return A(widen(v[k])) * A(widen(x[ci[k]])); };
  for (std::int64_t i = rb; i < re; ++i) {
    prefetch_row_ahead(v, ci, rp[i]);
    A sum = 0;
    if constexpr (Sums == 1) {
      for (I k = rp[i]; k < rp[i + 1]; ++k) sum += product(k);
    } else {
      A odd = 0;
      I k = rp[i];
      for (; k + 1 < rp[i + 1]; k += 2) {
        sum += product(k);
        odd += product(k + 1);
      }
      if (k < rp[i + 1]) sum += product(k);
      sum += odd;
    }
    spmv_store(y, i, sum, alpha, beta);
  }
}

/// Y = alpha*A*X + beta*Y for k right-hand sides (X, Y row-major, leading dimensions ldx,
/// ldy): each column of Y gets exactly SpMV's sum (Sums as there), in the same order; the
/// k sums of a row are kept in registers, 16 at a time, so A's row is read once per 16
/// columns.
template <class V, class I, class X, class A, int Sums = 1>
void spmm_csr_rows(const detail::csr_args& a, std::int64_t rb, std::int64_t re, std::int64_t k, A alpha, const X* x,
                   std::int64_t ldx, A beta, X* y, std::int64_t ldy) {
  constexpr std::int64_t block = 16;
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  for (std::int64_t i = rb; i < re; ++i)
    for (std::int64_t j0 = 0; j0 < k; j0 += block) {
      const std::int64_t w = std::min(block, k - j0);
      A sum[Sums][block] = {};
      for (I p = rp[i]; p < rp[i + 1]; ++p) {
        const A av = A(widen(v[p]));
        const X* xr = x + std::int64_t(ci[p]) * ldx + j0;
        A* s = sum[Sums == 2 && (p - rp[i]) % 2 == 1 ? Sums - 1 : 0];  // SpMV's even/odd split
        for (std::int64_t j = 0; j < w; ++j) s[j] += av * A(widen(xr[j]));
      }
      if constexpr (Sums == 2)
        for (std::int64_t j = 0; j < w; ++j) sum[0][j] += sum[Sums - 1][j];
      for (std::int64_t j = 0; j < w; ++j) spmv_store(y + i * ldy + j0, j, sum[0][j], alpha, beta);
    }
}

/// Row range of chunk c of `chunks`, balancing row_ptr[i] + i (nonzeros plus rows) so that
/// a few long rows or many empty ones do not leave a thread with most of the work.
template <class I>
void balanced_rows(const I* row_ptr, std::int64_t rows, int chunks, int c, std::int64_t* rb, std::int64_t* re) {
  const std::int64_t total = std::int64_t(row_ptr[rows]) + rows;
  auto first_row_at = [&](std::int64_t target) {
    std::int64_t lo = 0, hi = rows;  // smallest i with row_ptr[i] + i >= target
    while (lo < hi) {
      const std::int64_t mid = (lo + hi) / 2;
      if (std::int64_t(row_ptr[mid]) + mid < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  *rb = c == 0 ? 0 : first_row_at(total * c / chunks);
  *re = c == chunks - 1 ? rows : first_row_at(total * (c + 1) / chunks);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
