// What the solver tests check an answer against, computed independently of the solvers:
// the residual b - A x in long double from the triplets (a direct solve to compare with:
// support/direct_solve.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "mixprec/sparse.hpp"

namespace mixprec::test {

/// n values uniform in [-1, 1] (right-hand sides, test vectors).
inline std::vector<double> random_vector(std::int64_t n, std::uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = d(gen);
  return v;
}

/// ||b - A x||_2 / ||b||_2 in long double.
inline double relative_residual(const coo_matrix& a, const std::vector<double>& b, const std::vector<double>& x) {
  std::vector<long double> r(b.begin(), b.end());
  for (std::int64_t k = 0; k < a.nnz(); ++k)
    r[std::size_t(a.row[std::size_t(k)])] -=
        (long double)a.value[std::size_t(k)] * x[std::size_t(a.col[std::size_t(k)])];
  long double rr = 0, bb = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    rr += r[i] * r[i];
    bb += (long double)b[i] * b[i];
  }
  return double(std::sqrt(rr / bb));
}

/// max_i sum_j |a_ij| |x_j| + |b_i|, over ||b||: how much rounding an f64 or f32 evaluation of
/// b - A x can add to the residual, per unit roundoff and nonzero of a row.
inline double residual_rounding_scale(const coo_matrix& a, const std::vector<double>& b, const std::vector<double>& x) {
  std::vector<double> s(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) s[i] = std::abs(b[i]);
  for (std::int64_t k = 0; k < a.nnz(); ++k)
    s[std::size_t(a.row[std::size_t(k)])] += std::abs(a.value[std::size_t(k)] * x[std::size_t(a.col[std::size_t(k)])]);
  double ss = 0, bb = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    ss += s[i] * s[i];
    bb += b[i] * b[i];
  }
  return std::sqrt(ss / bb);
}

}  // namespace mixprec::test
