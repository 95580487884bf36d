// What the solver tests check an answer against, computed independently of the solvers:
// the residual b - A x in long double from the triplets, and (with Eigen) a direct FP64
// solve with the extreme singular values that turn a residual into an error bound.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "mixprec/sparse.hpp"

#if defined(MIXPREC_TEST_EIGEN)
#include <Eigen/Dense>
#include <Eigen/SparseLU>
#endif

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

#if defined(MIXPREC_TEST_EIGEN)
/// A direct FP64 solve (sparse LU) and A's extreme singular values (dense SVD: for the small
/// test problems only).
struct direct_solution {
  std::vector<double> x;
  double sigma_min = 0, sigma_max = 0;
};

inline direct_solution solve_directly(const coo_matrix& a, const std::vector<double>& b) {
  std::vector<Eigen::Triplet<double>> t;
  for (std::int64_t k = 0; k < a.nnz(); ++k)
    t.emplace_back(Eigen::Index(a.row[std::size_t(k)]), Eigen::Index(a.col[std::size_t(k)]), a.value[std::size_t(k)]);
  Eigen::SparseMatrix<double> s(Eigen::Index(a.rows), Eigen::Index(a.cols));
  s.setFromTriplets(t.begin(), t.end());
  s.makeCompressed();
  Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(s);
  direct_solution d;
  if (lu.info() != Eigen::Success) return d;
  const Eigen::VectorXd x = lu.solve(Eigen::Map<const Eigen::VectorXd>(b.data(), Eigen::Index(b.size())));
  d.x.assign(x.data(), x.data() + x.size());
  const Eigen::VectorXd sv = Eigen::BDCSVD<Eigen::MatrixXd>(Eigen::MatrixXd(s)).singularValues();
  d.sigma_max = sv(0);
  d.sigma_min = sv(sv.size() - 1);
  return d;
}

/// ||x - x_direct||_2 may be at most ||b - A x||/sigma_min (the solver's part) plus the
/// direct solve's own error, kappa * n * u * ||x_direct|| (LU's backward error, first order).
inline double error_bound(const direct_solution& d, double residual_norm, std::int64_t n) {
  double xn = 0;
  for (double v : d.x) xn += v * v;
  xn = std::sqrt(xn);
  return residual_norm / d.sigma_min + (d.sigma_max / d.sigma_min) * double(n) * 0x1p-53 * xn;
}

inline double distance(const std::vector<double>& x, const std::vector<double>& y) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
  return std::sqrt(s);
}
#endif

}  // namespace mixprec::test
