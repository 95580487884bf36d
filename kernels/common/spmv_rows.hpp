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

template <class V, class I, class X, class A>
void spmv_csr_rows(const detail::csr_args& a, std::int64_t rb, std::int64_t re, A alpha, const X* x, A beta, X* y) {
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  for (std::int64_t i = rb; i < re; ++i) {
    A sum = 0;
    for (I k = rp[i]; k < rp[i + 1]; ++k) sum += A(widen(v[k])) * A(widen(x[ci[k]]));
    spmv_store(y, i, sum, alpha, beta);
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
