// The SpMV error bound every format's kernels are held to, against long-double sums:
//   |y_i - exact_i| <= |alpha| gamma_k(u) S_i + gamma_3(u)(|alpha s_i| + |beta y_i|) + u_y |exact_i|
// with k the row's nonzeros, S_i = sum_j |a_ij x_j|, s_i the exact row sum, u the
// accumulator's unit roundoff and u_y that of y when y's dtype is narrower than it.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mixprec/sparse.hpp"
#include "support/oracle.hpp"

namespace mixprec::test {

/// Whether `got` = alpha*A*x + beta*y0 holds within the bound for every row (A's entries as
/// triplets; beta == 0 ignores y0); f64_acc: the kernel accumulated in f64.
template <class X>
::testing::AssertionResult spmv_within_bound(const coo_matrix& a, const std::vector<X>& x, const std::vector<X>& y0,
                                             double alpha, double beta, const std::vector<X>& got, bool f64_acc) {
  const auto rows = static_cast<std::size_t>(a.rows);
  std::vector<ld> sum(rows, 0), sabs(rows, 0);
  std::vector<std::int64_t> count(rows, 0);
  for (std::int64_t e = 0; e < a.nnz(); ++e) {
    const ld p = ld(a.value[e]) * exact(x[a.col[e]]);
    sum[a.row[e]] += p;
    sabs[a.row[e]] += std::fabs(p);
    ++count[a.row[e]];
  }
  const ld u = f64_acc ? unit_roundoff<double>() : unit_roundoff<float>();
  const ld uy = std::is_same_v<X, float> && f64_acc ? unit_roundoff<float>() : 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const ld by = beta == 0 ? 0 : ld(beta) * exact(y0[i]);
    const ld e = ld(alpha) * sum[i] + by;
    const ld bound = std::fabs(ld(alpha)) * gamma(ld(count[i]), u) * sabs[i] +
                     gamma(3, u) * (std::fabs(ld(alpha) * sum[i]) + std::fabs(by)) + uy * std::fabs(e);
    const ld err = std::fabs(exact(got[i]) - e);
    if (!(err <= bound))
      return ::testing::AssertionFailure()
             << "row " << i << ": error " << double(err) << " above the bound " << double(bound);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mixprec::test
