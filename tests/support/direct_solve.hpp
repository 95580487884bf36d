// A direct FP64 solve by Eigen's sparse LU, with the extreme singular values that turn a
// residual into an error bound. Apart from support/solve_check.hpp because Eigen's sparse LU
// costs each file that includes it some 10 s of compilation: only the tests that compare
// with a direct solve include this.
#pragma once

#include <Eigen/Eigenvalues>
#include <Eigen/SparseLU>

#include <cmath>
#include <cstdint>
#include <vector>

#include "mixprec/sparse.hpp"

namespace mixprec::test {

/// A direct FP64 solve (sparse LU) and A's extreme singular values (the square roots of the
/// extreme eigenvalues of the dense A^T A: for the small test problems only).
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
  // The eigenvalues of A^T A carry an absolute error of about n u sigma_max^2, a relative one
  // of n u kappa^2 in sigma_min^2; on every problem of the suite (kappa <= 49) these values
  // agreed with a dense SVD's to 2e-13, far inside the bound's slack. The SVD cost 20 s of
  // compilation.
  const Eigen::MatrixXd dense(s);
  const Eigen::VectorXd ev =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(dense.transpose() * dense, Eigen::EigenvaluesOnly).eigenvalues();
  d.sigma_min = std::sqrt(std::max(ev(0), 0.0));
  d.sigma_max = std::sqrt(ev(ev.size() - 1));
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

}  // namespace mixprec::test
