// Dense test matrices and systems computed independently of the library: random, orthogonal
// (Gram-Schmidt in long double), with a chosen 2-norm condition number, and A x = b with a
// known x whose b is formed in long double.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace mixprec::test {

using ld = long double;

inline std::vector<double> random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> a(static_cast<std::size_t>(rows * cols));
  for (double& v : a) v = u(g);
  return a;
}

/// An orthogonal n x n matrix: modified Gram-Schmidt, twice, on a random one.
inline std::vector<double> random_orthogonal(std::int64_t n, unsigned seed) {
  std::vector<double> q = random_matrix(n, n, seed);
  for (int pass = 0; pass < 2; ++pass)
    for (std::int64_t j = 0; j < n; ++j) {
      for (std::int64_t p = 0; p < j; ++p) {
        ld d = 0;
        for (std::int64_t i = 0; i < n; ++i) d += ld(q[std::size_t(i * n + j)]) * q[std::size_t(i * n + p)];
        for (std::int64_t i = 0; i < n; ++i) q[std::size_t(i * n + j)] -= double(d) * q[std::size_t(i * n + p)];
      }
      ld s = 0;
      for (std::int64_t i = 0; i < n; ++i) s += ld(q[std::size_t(i * n + j)]) * q[std::size_t(i * n + j)];
      for (std::int64_t i = 0; i < n; ++i) q[std::size_t(i * n + j)] /= double(std::sqrt(s));
    }
  return q;
}

/// A = Q1 diag(sigma) Q2^T with singular values from 1 down to 1/kappa, geometrically.
inline std::vector<double> matrix_with_condition(std::int64_t n, double kappa, unsigned seed) {
  const std::vector<double> q1 = random_orthogonal(n, seed), q2 = random_orthogonal(n, seed + 1);
  std::vector<ld> sigma(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) sigma[std::size_t(k)] = std::pow(ld(kappa), -ld(k) / ld(n - 1));
  std::vector<double> a(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      ld s = 0;
      for (std::int64_t k = 0; k < n; ++k)
        s += ld(q1[std::size_t(i * n + k)]) * sigma[std::size_t(k)] * q2[std::size_t(j * n + k)];
      a[std::size_t(i * n + j)] = double(s);
    }
  return a;
}

/// A = Q diag(sigma) Q^T, symmetric positive definite (entries above the diagonal copied from
/// below, so exactly symmetric), eigenvalues from 1 down to 1/kappa geometrically.
inline std::vector<double> spd_with_condition(std::int64_t n, double kappa, unsigned seed) {
  const std::vector<double> q = random_orthogonal(n, seed);
  std::vector<ld> lambda(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) lambda[std::size_t(k)] = std::pow(ld(kappa), -ld(k) / ld(n - 1));
  std::vector<double> a(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      ld s = 0;
      for (std::int64_t k = 0; k < n; ++k)
        s += ld(q[std::size_t(i * n + k)]) * lambda[std::size_t(k)] * q[std::size_t(j * n + k)];
      a[std::size_t(i * n + j)] = a[std::size_t(j * n + i)] = double(s);
    }
  return a;
}

/// D1 A D2 for D1 = diag(10^(-row_decades i / (n - 1))), D2 likewise with col_decades: a matrix
/// graded by rows and/or columns over that many decades.
inline std::vector<double> graded(std::vector<double> a, std::int64_t n, double row_decades, double col_decades) {
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      a[std::size_t(i * n + j)] *= std::pow(10.0, -row_decades * double(i) / double(n - 1)) *
                                   std::pow(10.0, -col_decades * double(j) / double(n - 1));
  return a;
}

struct system {
  std::int64_t n;
  std::vector<double> a, x_true, b;
};

inline system make_system(std::vector<double> a, std::int64_t n, unsigned seed) {
  system s{n, std::move(a), random_matrix(n, 1, seed), {}};
  s.b.assign(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    ld t = 0;
    for (std::int64_t j = 0; j < n; ++j) t += ld(s.a[std::size_t(i * n + j)]) * s.x_true[std::size_t(j)];
    s.b[std::size_t(i)] = double(t);
  }
  return s;
}

}  // namespace mixprec::test
