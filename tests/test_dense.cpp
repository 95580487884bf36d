// Dense factorizations and mixed-precision dense solves (mixprec/dense.hpp):
//   getrf:  P A = L U + E, |E| <= gamma_n(u) |L||U| entrywise (Higham, Thm 9.3); with bf16
//           trailing updates each product of L and U entries also carries two bf16
//           roundings, |E| <= (2^-7 + 2^-16 + gamma_n(u32)) |L||U|;
//   potrf:  A = L L^T + E, |E| <= gamma_{n+1}(u) |L||L^T|;
//   getrs/potrs: ||b - A x||inf <= gamma_{3n}(u) || |L||U| |x| ||inf (Thm 9.4), per column;
//   gesv_ir: dsgesv's stopping rule gives a backward error <= eps sqrt(n) (eps = 2^-53);
//           classical refinement with an f32 LU converges when kappa(A) u32 < 1 and must
//           fall back when kappa(A) u32 >> 1; GMRES-IR with the same LU goes further.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dense/dense_matrix.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/error.hpp"
#include "support/dense_systems.hpp"
#include "support/harness.hpp"

namespace mixprec {
namespace {

using ld = long double;
using test::expect_error;
using test::make_system;
using test::matrix_with_condition;
using test::random_matrix;
using test::system;

ld gamma(std::int64_t n, ld u) { return n * u / (1 - n * u); }

/// Checks P A = L U within `rel` |L||U| entrywise, from getrf's output `lu` of `a`.
template <class T>
void expect_lu_backward_stable(const std::vector<T>& a, const std::vector<T>& lu, const std::vector<std::int64_t>& piv,
                               std::int64_t n, ld rel) {
  std::vector<T> pa = a;
  for (std::int64_t i = 0; i < n; ++i)
    if (piv[std::size_t(i)] != i)
      std::swap_ranges(pa.begin() + i * n, pa.begin() + (i + 1) * n, pa.begin() + piv[std::size_t(i)] * n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      ld s = 0, mag = 0;
      for (std::int64_t k = 0; k <= std::min(i, j); ++k) {
        const ld l = k == i ? 1 : ld(lu[std::size_t(i * n + k)]), u = lu[std::size_t(k * n + j)];
        s += l * u;
        mag += std::fabs(l * u);
      }
      ASSERT_LE(std::fabs(s - ld(pa[std::size_t(i * n + j)])), rel * mag + 1e-300L) << "at " << i << "," << j;
    }
}

TEST(dense_getrf, lu_with_pivoting_is_backward_stable_in_f64_and_f32_across_panels) {
  for (std::int64_t n : {1, 7, 129, 300}) {
    const std::vector<double> a = random_matrix(n, n, unsigned(n));
    std::vector<double> lu = a;
    std::vector<std::int64_t> piv;
    getrf(make_view(lu.data(), {n, n}), piv);
    expect_lu_backward_stable(a, lu, piv, n, gamma(n, std::ldexp(1.0L, -53)));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < i; ++k)
        ASSERT_LE(std::fabs(lu[std::size_t(i * n + k)]), 1.0) << "|l| > 1: no pivoting";
    std::vector<float> a32(a.begin(), a.end()), lu32 = a32;
    getrf(make_view(lu32.data(), {n, n}), piv);
    expect_lu_backward_stable(a32, lu32, piv, n, gamma(n, std::ldexp(1.0L, -24)));
  }
}

TEST(dense_getrf, a_matrix_inside_wider_rows_factors_as_the_contiguous_one_and_leaves_the_rest_alone) {
  // The panels are factored in packed copies and the exchanges applied column range by
  // column range: with a row stride past n both must still touch only the n x n entries.
  const std::int64_t n = 300, ld = 317;
  const std::vector<double> a = random_matrix(n, n, 17u);
  std::vector<double> lu = a, wide(std::size_t(n * ld), -7.25);
  for (std::int64_t i = 0; i < n; ++i) std::copy(a.begin() + i * n, a.begin() + (i + 1) * n, wide.begin() + i * ld);
  std::vector<std::int64_t> piv, piv_wide;
  getrf(make_view(lu.data(), {n, n}), piv);
  getrf(make_view(wide.data(), {n, n}, {ld, 1}), piv_wide);
  EXPECT_EQ(piv, piv_wide);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j)
      ASSERT_EQ(lu[std::size_t(i * n + j)], wide[std::size_t(i * ld + j)]) << "at " << i << "," << j;
    for (std::int64_t j = n; j < ld; ++j) ASSERT_EQ(wide[std::size_t(i * ld + j)], -7.25) << "padding at " << i;
  }
}

TEST(dense_getrf, the_look_ahead_gives_the_same_factors_on_any_thread_count) {
  // Narrow panels put n = 400 on the path where one thread factors the next panel while the
  // others update the trailing columns in blocks they take as they finish.
  const std::int64_t n = 400;
  const std::vector<double> a = random_matrix(n, n, 23u);
  for (lu_update update : {lu_update::native, lu_update::bf16}) {
    const std::vector<float> a32(a.begin(), a.end());
    std::vector<float> first;
    std::vector<std::int64_t> first_piv;
    for (int threads : {1, 2, 3}) {
      std::vector<float> lu = a32;
      std::vector<std::int64_t> piv;
      getrf(make_view(lu.data(), {n, n}, {}, context::cpu(threads)), piv, lu_options{true, 32, update});
      if (threads == 1) {
        if (update == lu_update::native) expect_lu_backward_stable(a32, lu, piv, n, gamma(n, std::ldexp(1.0L, -24)));
        first = lu, first_piv = piv;
        continue;
      }
      EXPECT_EQ(piv, first_piv) << threads << " threads";
      ASSERT_TRUE(lu == first) << threads << " threads";
    }
  }
}

TEST(dense_getrf, without_pivoting_the_factors_are_those_of_pivoting_on_the_diagonal) {
  // Strongly diagonally dominant by columns: partial pivoting picks every diagonal entry, so
  // both paths do the same operations in the same order, though without pivoting the rows
  // below a base block are eliminated one row at a time (all its columns at once), not one
  // column sweep at a time. Sizes and panel widths leave every remainder of rows and
  // partial base blocks.
  for (std::int64_t n : {7, 130, 301}) {
    std::vector<double> a = random_matrix(n, n, unsigned(n) + 5u);
    for (std::int64_t j = 0; j < n; ++j) {
      double column = 0;
      for (std::int64_t i = 0; i < n; ++i) column += std::fabs(a[std::size_t(i * n + j)]);
      a[std::size_t(j * n + j)] = 2 * column;
    }
    for (std::int64_t block : {0, 48}) {
      const auto same_factors = [&](auto tag) {
        using T = decltype(tag);
        const std::vector<T> at(a.begin(), a.end());
        std::vector<T> pivoted = at, plain = at;
        std::vector<std::int64_t> piv, none;
        getrf(make_view(pivoted.data(), {n, n}), piv, lu_options{true, block, lu_update::native});
        for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(piv[std::size_t(i)], i) << "a row exchange: not the premise";
        getrf(make_view(plain.data(), {n, n}), none, lu_options{false, block, lu_update::native});
        EXPECT_EQ(none, piv);
        for (std::size_t k = 0; k < plain.size(); ++k)
          ASSERT_EQ(plain[k], pivoted[k]) << "n " << n << ", block " << block << ", at " << k / n << "," << k % n;
      };
      same_factors(double{});
      same_factors(float{});
    }
  }
}

TEST(dense_getrf, bf16_trailing_updates_stay_within_their_rounding_and_no_pivoting_keeps_rows) {
  const std::int64_t n = 300;
  std::vector<double> a64 = random_matrix(n, n, 3);
  for (std::int64_t i = 0; i < n; ++i) a64[std::size_t(i * n + i)] += double(n);  // diagonally dominant
  const std::vector<float> a(a64.begin(), a64.end());
  std::vector<float> lu = a;
  std::vector<std::int64_t> piv;
  lu_options o;
  o.update = lu_update::bf16;
  o.block = 64;
  getrf(make_view(lu.data(), {n, n}), piv, o);
  expect_lu_backward_stable(a, lu, piv, n,
                            std::ldexp(1.0L, -7) + std::ldexp(1.0L, -16) + gamma(n, std::ldexp(1.0L, -24)));
  std::vector<float> plain = a;
  o = lu_options{};
  o.pivoting = false;
  getrf(make_view(plain.data(), {n, n}), piv, o);
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(piv[std::size_t(i)], i);
  expect_lu_backward_stable(a, plain, piv, n, gamma(n, std::ldexp(1.0L, -24)));
  expect_error(
      [&] {
        getrf(make_view(a64.data(), {n, n}), piv, lu_options{true, 0, lu_update::bf16});
      },
      status::unsupported, "bf16 trailing updates need an f32 matrix");
}

TEST(dense_getrs, many_right_hand_sides_are_solved_within_the_lu_solve_bound) {
  const std::int64_t n = 257, nrhs = 5;
  const std::vector<double> a = random_matrix(n, n, 11), b = random_matrix(n, nrhs, 12);
  std::vector<double> lu = a, x = b;
  std::vector<std::int64_t> piv;
  getrf(make_view(lu.data(), {n, n}), piv);
  getrs(make_view(lu.data(), {n, n}), piv, make_view(x.data(), {n, nrhs}));
  // || |L||U| ||inf, then per column ||b - A x||inf <= gamma_3n(u) || |L||U| ||inf ||x||inf.
  ld lu_norm = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    ld row = 0;
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t k = 0; k <= std::min(i, j); ++k)
        row += std::fabs((k == i ? 1 : ld(lu[std::size_t(i * n + k)])) * lu[std::size_t(k * n + j)]);
    lu_norm = std::max(lu_norm, row);
  }
  for (std::int64_t c = 0; c < nrhs; ++c) {
    ld rmax = 0, xmax = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      ld r = b[std::size_t(i * nrhs + c)];
      for (std::int64_t j = 0; j < n; ++j) r -= ld(a[std::size_t(i * n + j)]) * x[std::size_t(j * nrhs + c)];
      rmax = std::max(rmax, std::fabs(r));
      xmax = std::max(xmax, std::fabs(ld(x[std::size_t(i * nrhs + c)])));
    }
    EXPECT_LE(rmax, gamma(3 * n, std::ldexp(1.0L, -53)) * lu_norm * xmax) << "column " << c;
  }
}

TEST(dense_vector_solves, several_vectors_at_once_give_exactly_what_each_gives_alone) {
  // f32 triangles applied in f64 (refinement's corrections), 600 rows: three blocks of the
  // substitution, the vectors split over two threads or taken in turn by one.
  const std::int64_t n = 600;
  const std::vector<double> values = random_matrix(n, n, 31);
  std::vector<float> f(values.begin(), values.end());
  for (std::int64_t i = 0; i < n; ++i) f[std::size_t(i * n + i)] = 4.0f + float(i % 7);  // well away from 0
  for (int threads : {1, 2}) {
    const context ctx = context::cpu(threads);
    const detail::dense_ref<const float> factor{f.data(), n, n, n, &ctx};
    for (bool lower : {true, false})
      for (bool unit : {true, false}) {
        std::vector<std::vector<double>> alone, together;
        for (unsigned v = 0; v < 5; ++v) {
          alone.push_back(random_matrix(n, 1, 40 + v));
          together.push_back(alone.back());
        }
        std::vector<double*> ys;
        for (auto& y : together) ys.push_back(y.data());
        for (auto& y : alone)
          lower ? detail::lower_solve_vector(factor, unit, y.data())
                : detail::upper_solve_vector(factor, unit, y.data());
        lower ? detail::lower_solve_vectors(factor, unit, ys.data(), 5)
              : detail::upper_solve_vectors(factor, unit, ys.data(), 5);
        for (std::size_t v = 0; v < 5; ++v) {
          ASSERT_EQ(together[v], alone[v]) << "vector " << v << (lower ? " lower" : " upper") << (unit ? " unit" : "")
                                           << " on " << threads << " threads";
          for (double y : alone[v]) ASSERT_TRUE(std::isfinite(y));
        }
      }
  }
}

TEST(dense_potrf, cholesky_is_backward_stable_and_refuses_an_indefinite_matrix) {
  const std::int64_t n = 200;
  const std::vector<double> m = random_matrix(n, n, 21);
  std::vector<double> a(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      ld s = i == j ? n : 0;
      for (std::int64_t k = 0; k < n; ++k) s += ld(m[std::size_t(i * n + k)]) * m[std::size_t(j * n + k)];
      a[std::size_t(i * n + j)] = double(s);
    }
  std::vector<double> l = a;
  potrf(make_view(l.data(), {n, n}));
  const ld g = gamma(n + 1, std::ldexp(1.0L, -53));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      ld s = 0, mag = 0;
      for (std::int64_t k = 0; k <= j; ++k) {
        s += ld(l[std::size_t(i * n + k)]) * l[std::size_t(j * n + k)];
        mag += std::fabs(ld(l[std::size_t(i * n + k)]) * l[std::size_t(j * n + k)]);
      }
      ASSERT_LE(std::fabs(s - a[std::size_t(i * n + j)]), g * mag) << i << "," << j;
    }
  std::vector<double> x = random_matrix(n, 1, 22), b(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    ld s = 0;
    for (std::int64_t j = 0; j < n; ++j) s += ld(a[std::size_t(i * n + j)]) * x[std::size_t(j)];
    b[std::size_t(i)] = double(s);
  }
  std::vector<double> y = b;
  potrs(make_view(l.data(), {n, n}), make_view(y.data(), n));
  for (std::int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[std::size_t(i)], x[std::size_t(i)], 1e-10);
  std::vector<double> indefinite = a;
  indefinite[std::size_t(50 * n + 50)] = -1.0;
  expect_error(
      [&] {
        potrf(make_view(indefinite.data(), {n, n}));
      },
      status::numerical_breakdown, "column 50: the pivot is");
}

TEST(dense_errors, singular_and_non_finite_matrices_are_named_and_nan_leaves_the_data_intact) {
  const std::int64_t n = 6;
  std::vector<double> a = random_matrix(n, n, 31);
  std::copy(a.begin() + 2 * n, a.begin() + 3 * n, a.begin() + 4 * n);  // rows 2 and 4 equal
  std::vector<std::int64_t> piv;
  std::vector<double> lu = a;
  expect_error([&] { getrf(make_view(lu.data(), {n, n}), piv); }, status::numerical_breakdown, "singular");
  std::vector<double> bad = random_matrix(n, n, 32), saved = bad;
  bad[7] = NAN;
  saved[7] = NAN;
  expect_error([&] { getrf(make_view(bad.data(), {n, n}), piv); }, status::invalid_argument, "entry (1, 1)");
  for (std::size_t i = 0; i < bad.size(); ++i)
    if (i != 7) ASSERT_EQ(bad[i], saved[i]);
  std::vector<double> rect(12);
  expect_error([&] { getrf(make_view(rect.data(), {3, 4}), piv); }, status::shape_mismatch, "not square");
  std::vector<double> b(5);
  std::vector<double> ok = random_matrix(n, n, 33);
  getrf(make_view(ok.data(), {n, n}), piv);
  expect_error(
      [&] {
        getrs(make_view(ok.data(), {n, n}), piv, make_view(b.data(), 5));
      },
      status::shape_mismatch, "b has 5 rows");
  piv[3] = 1;
  std::vector<double> b6(6);
  expect_error(
      [&] {
        getrs(make_view(ok.data(), {n, n}), piv, make_view(b6.data(), 6));
      },
      status::invalid_argument, "pivots[3] = 1");
}

TEST(dense_errors, the_solvers_name_a_non_finite_entry_of_a_or_an_overflowing_norm_and_leave_x_alone) {
  // One pass over A finds the row sums; a non-finite sum sends the scan that names the entry.
  const std::int64_t n = 40;
  std::vector<double> b(std::size_t(n), 1.0);
  for (double bad : {double(NAN), double(INFINITY), -double(INFINITY)}) {
    for (bool spd : {false, true}) {
      std::vector<double> a = random_matrix(n, n, 35);
      for (std::int64_t i = 0; i < n; ++i) a[std::size_t(i * n + i)] += double(n);
      a[std::size_t(17 * n + 29)] = bad;
      if (spd) a[std::size_t(29 * n + 17)] = bad;
      std::vector<double> x(std::size_t(n), -3.5);
      dense_refinement_options o;
      const auto solve = [&] {
        if (spd)
          (void)posv_ir(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
        else
          (void)gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
      };
      expect_error(solve, status::invalid_argument, "entry (17, 29)");
      for (double v : x) ASSERT_EQ(v, -3.5);
    }
  }
  // Finite entries whose row sums overflow: not called non-finite, but the norm the stopping
  // rule and the backward error need is Inf (every x would pass, with backward error 0).
  std::vector<double> big = random_matrix(n, n, 36);
  for (double& v : big) v *= 1e307;
  for (std::int64_t i = 0; i < n; ++i) big[std::size_t(i * n + i)] = 1.5e308;
  std::vector<double> x(b.size(), -3.5);
  expect_error(
      [&] {
        (void)gesv_ir(make_view(big.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n));
      },
      status::invalid_argument, "||a||inf overflows f64");
  for (double v : x) ASSERT_EQ(v, -3.5);
  for (double& v : big) v = std::ldexp(v, -4);  // scaled by a power of two, it solves
  const dense_solve_report r = gesv_ir(make_view(big.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n));
  EXPECT_GT(r.backward_error, 0.0);
  EXPECT_LE(r.backward_error, std::ldexp(1.0, -53) * std::sqrt(double(n)));
}

TEST(dense_errors, a_small_pivot_without_pivoting_is_named_by_the_growth_it_causes) {
  // Diagonally dominant but for a leading pivot of 1e-20: the multipliers of column 0 are
  // about 1e20 and U's entries as large; partial pivoting on the same matrix is fine.
  const std::int64_t n = 64;
  std::vector<double> a = random_matrix(n, n, 41);
  for (std::int64_t i = 0; i < n; ++i) a[std::size_t(i * n + i)] += double(n);
  a[0] = 1e-20;
  lu_options no_pivots;
  no_pivots.pivoting = false;
  std::vector<std::int64_t> piv;
  std::vector<double> lu = a;
  expect_error(
      [&] {
        getrf(make_view(lu.data(), {n, n}), piv, no_pivots);
      },
      status::numerical_breakdown, "without pivoting the factors grew to");
  std::vector<float> lu32(a.begin(), a.end());
  expect_error([&] { getrf(make_view(lu32.data(), {n, n}), piv, no_pivots); }, status::numerical_breakdown, "in f32");
  lu = a;
  getrf(make_view(lu.data(), {n, n}), piv);
  expect_lu_backward_stable(a, lu, piv, n, gamma(n, std::ldexp(1.0L, -53)));
  // Symmetric positive definite, scaled by rows and columns over 12 orders of magnitude:
  // multipliers up to 1e6, but no growth (at most 1 for SPD matrices): no error.
  std::vector<double> spd(static_cast<std::size_t>(n * n));
  const std::vector<double> m = random_matrix(n, n, 42);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = i == j ? double(n) : 0;
      for (std::int64_t k = 0; k < n; ++k) s += m[std::size_t(i * n + k)] * m[std::size_t(j * n + k)] / double(n);
      spd[std::size_t(i * n + j)] = s * std::pow(10.0, 6.0 * (double(i + j) / double(n - 1) - 1.0));
    }
  lu = spd;
  getrf(make_view(lu.data(), {n, n}), piv, no_pivots);
  expect_lu_backward_stable(spd, lu, piv, n, gamma(n, std::ldexp(1.0L, -53)));
}

TEST(dense_errors, an_exact_zero_pivot_without_pivoting_is_named_on_any_thread_count) {
  // Diagonally dominant but for rows 99 and 100, which are equal: without row exchanges
  // row 100 is eliminated to exactly zero by row 99, and column 100's pivot is 0. With
  // 32-column panels that column's panel is factored beside the trailing update.
  const std::int64_t n = 400;
  std::vector<double> a = random_matrix(n, n, 43);
  for (std::int64_t i = 0; i < n; ++i) a[std::size_t(i * n + i)] += double(n);
  std::copy(a.begin() + 99 * n, a.begin() + 100 * n, a.begin() + 100 * n);
  for (int threads : {1, 2}) {
    std::vector<double> lu = a;
    std::vector<std::int64_t> piv;
    expect_error(
        [&] {
          getrf(make_view(lu.data(), {n, n}, {}, context::cpu(threads)), piv, lu_options{false, 32, lu_update::native});
        },
        status::numerical_breakdown, "column 100: the pivot is 0 (without pivoting)");
  }
}

// ---- gesv_ir ----

dense_solve_report solve(const system& s, const dense_refinement_options& o, std::vector<double>& x) {
  x.assign(static_cast<std::size_t>(s.n), 0.0);
  return gesv_ir(make_view(s.a.data(), {s.n, s.n}), make_view(s.b.data(), s.n), make_view(x.data(), s.n), o);
}

TEST(dense_gesv_ir, f32_lu_refines_a_well_conditioned_system_to_fp64_backward_error) {
  const std::int64_t n = 200;
  const system s = make_system(matrix_with_condition(n, 1e3, 41), n, 42);
  const double eps_sqrt_n = std::ldexp(1.0, -53) * std::sqrt(double(n));
  for (bool gmres : {false, true}) {
    dense_refinement_options o;
    o.gmres = gmres;
    std::vector<double> x;
    const dense_solve_report r = solve(s, o, x);
    EXPECT_TRUE(r.converged()) << r.message;
    EXPECT_TRUE(r.fallback.empty()) << r.fallback;
    EXPECT_EQ(r.path, gmres ? "f32 LU + GMRES-IR" : "f32 LU + refinement");
    EXPECT_LE(r.iterations, 6) << r.message;  // kappa u32 ~ 6e-5: each step gains ~4 digits
    EXPECT_GT(r.iterations, 0);
    EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
    // Forward error: kappa times the backward error, about.
    for (std::int64_t i = 0; i < n; ++i) ASSERT_NEAR(x[std::size_t(i)], s.x_true[std::size_t(i)], 1e3 * 1e-14);
  }
}

TEST(dense_gesv_ir, x_may_be_b_in_place_as_lapack_has_it) {
  // b is copied before x is written: the answer in b's memory is the one a separate x gets,
  // for one right-hand side and for several, in every path (refined, and the f64 LU).
  const std::int64_t n = 120, nrhs = 3;
  const system s = make_system(matrix_with_condition(n, 1e3, 43), n, 44);
  std::vector<double> b3(static_cast<std::size_t>(n * nrhs));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < nrhs; ++j) b3[std::size_t(i * nrhs + j)] = s.b[std::size_t(i)] * double(j + 1);
  const auto a = make_view(s.a.data(), {n, n});
  for (dtype policy : {dtype::f32, dtype::f64}) {
    dense_refinement_options o;
    o.policy.matrix = policy;
    std::vector<double> x(s.b.size()), in_place = s.b;
    (void)gesv_ir(a, make_view(s.b.data(), n), make_view(x.data(), n), o);
    (void)gesv_ir(a, make_view(in_place.data(), n), make_view(in_place.data(), n), o);
    EXPECT_EQ(in_place, x) << name_of(policy);
    std::vector<double> x3(b3.size()), in_place3 = b3;
    (void)gesv_ir(a, make_view(b3.data(), {n, nrhs}), make_view(x3.data(), {n, nrhs}), o);
    (void)gesv_ir(a, make_view(in_place3.data(), {n, nrhs}), make_view(in_place3.data(), {n, nrhs}), o);
    EXPECT_EQ(in_place3, x3) << name_of(policy);
  }
}

TEST(dense_gesv_ir, classical_refinement_falls_back_past_one_over_u32_and_gmres_ir_does_not) {
  const std::int64_t n = 150;
  const double eps_sqrt_n = std::ldexp(1.0, -53) * std::sqrt(double(n));
  // kappa = 1e9: kappa u32 ~ 60, so the f32 LU's corrections do not contract and classical
  // refinement must fall back; GMRES preconditioned by the same LU still converges (Carson
  // and Higham: GMRES-IR reaches condition numbers well past 1 / u_f).
  const system s = make_system(matrix_with_condition(n, 1e9, 51), n, 52);
  std::vector<double> x;
  dense_refinement_options o;
  dense_solve_report r = solve(s, o, x);
  EXPECT_EQ(r.path, "f64 LU (fallback)") << r.message;
  EXPECT_NE(r.fallback.find("too ill-conditioned for the f32 factorization"), std::string::npos) << r.fallback;
  EXPECT_LE(r.backward_error, 4 * eps_sqrt_n) << r.message;
  o.fallback = false;
  r = solve(s, o, x);
  EXPECT_EQ(r.reason, stop_reason::inaccurate) << r.message;
  o = dense_refinement_options{};
  o.gmres = true;
  r = solve(s, o, x);
  EXPECT_EQ(r.path, "f32 LU + GMRES-IR") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
  EXPECT_GT(r.inner_iterations, 0);
  // kappa = 1e12: GMRES on the f32 LU plateaus, and the default halving window sends the
  // solve to the f64 LU after 50 iterations, the cheaper answer. It is that window's choice,
  // not GMRES-IR's limit (u^-1/2 u_f^-1 ~ 2e15): run to its tolerance over the whole basis,
  // it converges, past the plateau.
  const system worse = make_system(matrix_with_condition(n, 1e12, 53), n, 54);
  r = solve(worse, o, x);
  EXPECT_EQ(r.path, "f64 LU (fallback)") << r.message;
  EXPECT_NE(r.fallback.find("at iteration 50"), std::string::npos) << r.fallback;
  o.gmres_halving_window = 0;
  o.gmres_restart = o.gmres_max_iterations = int(n);
  r = solve(worse, o, x);
  EXPECT_EQ(r.path, "f32 LU + GMRES-IR") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
  EXPECT_GT(r.inner_iterations, 50) << r.message;
}

TEST(dense_gesv_ir, bf16_and_f16_policies_on_what_they_suit_and_what_they_cannot_hold) {
  const std::int64_t n = 256;
  std::vector<double> a = random_matrix(n, n, 61);
  for (std::int64_t i = 0; i < n; ++i) a[std::size_t(i * n + i)] += 2.0 * std::sqrt(double(n));  // kappa ~ 3
  const system s = make_system(a, n, 62);
  const double eps_sqrt_n = std::ldexp(1.0, -53) * std::sqrt(double(n));
  std::vector<double> x;
  dense_refinement_options o;
  o.policy = precision_policy::half_matrix(dtype::bf16);
  dense_solve_report r = solve(s, o, x);
  EXPECT_EQ(r.path, "bf16-update LU + refinement") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n);
  o.policy = precision_policy::half_matrix(dtype::f16);
  r = solve(s, o, x);
  EXPECT_EQ(r.path, "f16-rounded LU + refinement") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n);
  // An entry past f16's range: scaled into it, the f16 policy still refines; unscaled, it
  // falls back, saying why.
  std::vector<double> big = a;
  big[5] = 1e6;
  const system sb = make_system(big, n, 63);
  r = solve(sb, o, x);
  EXPECT_EQ(r.path, "f16-rounded LU + refinement") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n);
  o.scale = false;
  r = solve(sb, o, x);
  EXPECT_EQ(r.path, "f64 LU (fallback)");
  EXPECT_NE(r.fallback.find("overflows f16"), std::string::npos) << r.fallback;
  EXPECT_LE(r.backward_error, eps_sqrt_n * 4);
  // Without the fallback nothing was solved: x = 0 (backward error 1), not whatever the
  // work vector held.
  o.fallback = false;
  x.assign(static_cast<std::size_t>(n), 7.0);
  r = gesv_ir(make_view(sb.a.data(), {n, n}), make_view(sb.b.data(), n), make_view(x.data(), n), o);
  EXPECT_EQ(r.reason, stop_reason::inaccurate);
  EXPECT_EQ(r.path, "f16-rounded LU + refinement (failed, no fallback)");
  EXPECT_EQ(r.backward_error, 1.0);
  for (double v : x) ASSERT_EQ(v, 0.0);
}

TEST(dense_gesv_ir, a_singular_matrix_is_reported_and_bad_input_leaves_x_untouched) {
  const std::int64_t n = 8;
  std::vector<double> a = random_matrix(n, n, 71);
  std::copy(a.begin(), a.begin() + n, a.begin() + 3 * n);
  const system s = make_system(a, n, 72);
  std::vector<double> x;
  expect_error([&] { (void)solve(s, dense_refinement_options{}, x); }, status::numerical_breakdown, "singular");
  system bad = make_system(random_matrix(n, n, 73), n, 74);
  bad.b[2] = INFINITY;
  std::vector<double> x0(static_cast<std::size_t>(n), 7.0);
  expect_error(
      [&] {
        (void)gesv_ir(make_view(bad.a.data(), {n, n}), make_view(bad.b.data(), n), make_view(x0.data(), n));
      },
      status::invalid_argument, "b[2]");
  for (double v : x0) EXPECT_EQ(v, 7.0);
}

/// b (n x 3, row-major) from three systems' right-hand sides of one matrix: s's, another, and 0.
std::vector<double> three_columns(const system& s, const system& t) {
  std::vector<double> b(static_cast<std::size_t>(s.n * 3), 0.0);
  for (std::int64_t i = 0; i < s.n; ++i) {
    b[std::size_t(i * 3)] = s.b[std::size_t(i)];
    b[std::size_t(i * 3 + 1)] = t.b[std::size_t(i)];
  }
  return b;
}

TEST(dense_gesv_ir, many_right_hand_sides_share_one_factorization_and_each_column_meets_its_own_rule) {
  // The columns are refined in step against the one factorization, each stopping by dsgesv's
  // rule on its own computed residual, ||r^|| <= ||x|| ||A|| eps sqrt(n). The residual is
  // computed in f64 with |r - r^| <= gamma_{n+1} (|b| + |A||x|), so each column's true
  // backward error is at most eps sqrt(n) + gamma_{n+1}; two solutions of one column (here:
  // solved alone, and among three) then differ by at most 2 kappa_inf eta / (1 - kappa_inf eta)
  // of ||x||, with kappa_inf <= n kappa_2. The zero column stays exactly 0.
  const std::int64_t n = 150;
  const double kappa = 1e3;
  const std::vector<double> a = matrix_with_condition(n, kappa, 81);
  const system s = make_system(a, n, 82), t = make_system(a, n, 83);
  const std::vector<double> b = three_columns(s, t);
  const double eps_sqrt_n = std::ldexp(1.0, -53) * std::sqrt(double(n));
  const double eta = eps_sqrt_n + double(n + 1) * 0x1p-53 / (1 - double(n + 1) * 0x1p-53);
  const double kappa_inf = double(n) * kappa, apart = 2 * kappa_inf * eta / (1 - kappa_inf * eta);
  for (bool spd : {false, true}) {
    const std::vector<double> m = spd ? test::spd_with_condition(n, kappa, 84) : a;
    const auto solver = spd ? &posv_ir : &gesv_ir;
    ld anorm = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      ld row = 0;
      for (std::int64_t j = 0; j < n; ++j) row += std::fabs(ld(m[std::size_t(i * n + j)]));
      anorm = std::max(anorm, row);
    }
    for (bool gmres : {false, true}) {
      dense_refinement_options o;
      o.gmres = gmres;
      std::vector<double> x(b.size(), 7.0);
      const dense_solve_report r =
          solver(make_view(m.data(), {n, n}), make_view(b.data(), {n, 3}), make_view(x.data(), {n, 3}), o);
      ASSERT_TRUE(r.converged()) << r.message;
      EXPECT_TRUE(r.fallback.empty()) << r.fallback;
      EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
      EXPECT_EQ(r.history.size(), std::size_t(r.iterations + 1)) << "the most-stepped column's history";
      int most = 0;
      for (std::int64_t c = 0; c < 2; ++c) {
        ld rmax = 0, xmax = 0, bmax = 0;
        for (std::int64_t i = 0; i < n; ++i) {
          ld ri = b[std::size_t(i * 3 + c)];
          for (std::int64_t j = 0; j < n; ++j) ri -= ld(m[std::size_t(i * n + j)]) * x[std::size_t(j * 3 + c)];
          rmax = std::max(rmax, std::fabs(ri));
          xmax = std::max(xmax, std::fabs(ld(x[std::size_t(i * 3 + c)])));
          bmax = std::max(bmax, std::fabs(ld(b[std::size_t(i * 3 + c)])));
        }
        EXPECT_LE(double(rmax / (anorm * xmax + bmax)), eta) << "column " << c;
        std::vector<double> bc(static_cast<std::size_t>(n)), xc(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) bc[std::size_t(i)] = b[std::size_t(i * 3 + c)];
        const dense_solve_report rc =
            solver(make_view(m.data(), {n, n}), make_view(bc.data(), n), make_view(xc.data(), n), o);
        most = std::max(most, rc.iterations);
        const double xc_max =
            *std::max_element(xc.begin(), xc.end(), [](double p, double q) { return std::fabs(p) < std::fabs(q); });
        for (std::int64_t i = 0; i < n; ++i)
          ASSERT_LE(std::fabs(x[std::size_t(i * 3 + c)] - xc[std::size_t(i)]), apart * std::fabs(xc_max))
              << "column " << c << " row " << i;
      }
      // Rounding may move a column across the stopping rule by one step, no more.
      EXPECT_LE(std::abs(r.iterations - most), 1) << r.message;
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(x[std::size_t(i * 3 + 2)], 0.0);
    }
  }
}

TEST(dense_gesv_ir, gmres_ir_columns_iterate_in_step_through_restarts_and_stop_on_their_own) {
  // Three columns (two systems and 0) whose FGMRES iterations go in step. Each must meet the
  // stopping rule as a single column does; the zero column needs no iteration and stays 0.
  const std::int64_t n = 150;
  const double eps_sqrt_n = std::ldexp(1.0, -53) * std::sqrt(double(n));
  const auto solve_three = [&](const std::vector<double>& a, const dense_refinement_options& o,
                               std::vector<double>& x) {
    const system s = make_system(a, n, 52), t = make_system(a, n, 55);
    const std::vector<double> b = three_columns(s, t);
    x.assign(b.size(), 7.0);
    return gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), {n, 3}), make_view(x.data(), {n, 3}), o);
  };
  std::vector<double> x;
  // kappa = 1e9 (f32: only GMRES-IR converges, as above), unrestarted.
  dense_refinement_options o;
  o.gmres = true;
  dense_solve_report r = solve_three(matrix_with_condition(n, 1e9, 51), o, x);
  EXPECT_EQ(r.path, "f32 LU + GMRES-IR") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(x[std::size_t(i * 3 + 2)], 0.0);
  // kappa = 1e6 with two iterations a cycle and a tolerance a correction needs more than two
  // for: cycles restart from their column's true residual, and still converge.
  o.gmres_restart = 2;
  o.gmres_tolerance = 1e-10;
  r = solve_three(matrix_with_condition(n, 1e6, 56), o, x);
  EXPECT_EQ(r.path, "f32 LU + GMRES-IR") << r.message;
  EXPECT_LE(r.backward_error, eps_sqrt_n) << r.message;
  EXPECT_GT(r.inner_iterations, 2 * o.gmres_restart * r.iterations) << "no correction restarted: " << r.message;
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(x[std::size_t(i * 3 + 2)], 0.0);
  // kappa = 1e12: both systems' corrections plateau and stop after the halving window, each
  // on its own; they fall back together, the zero column keeps its exact 0.
  o = dense_refinement_options{};
  o.gmres = true;
  r = solve_three(matrix_with_condition(n, 1e12, 53), o, x);
  EXPECT_EQ(r.path, "f32 LU + GMRES-IR; f64 LU (fallback) for 2 of 3 columns") << r.message;
  EXPECT_NE(r.fallback.find("column 0: GMRES could not halve"), std::string::npos) << r.fallback;
  EXPECT_NE(r.fallback.find("did not halve in 50 iterations"), std::string::npos) << r.fallback;
  EXPECT_GE(r.inner_iterations, 2 * 50) << r.message;
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(x[std::size_t(i * 3 + 2)], 0.0);
}

TEST(dense_gesv_ir, only_the_columns_refinement_cannot_finish_fall_back_and_the_report_says_which) {
  // kappa 1e6 with an f32 LU: classical refinement gains ~kappa u32 ~ 0.06 per step, so one
  // step cannot meet the stopping rule for a nonzero b; the zero column needs no step.
  const std::int64_t n = 120;
  const std::vector<double> a = matrix_with_condition(n, 1e6, 91);
  const system s = make_system(a, n, 92), t = make_system(a, n, 93);
  std::vector<double> b = three_columns(s, t);
  for (std::int64_t i = 0; i < n; ++i) std::swap(b[std::size_t(i * 3)], b[std::size_t(i * 3 + 2)]);  // 0 first
  dense_refinement_options o;
  o.max_iterations = 1;
  std::vector<double> x(b.size(), 7.0);
  const dense_solve_report r =
      gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), {n, 3}), make_view(x.data(), {n, 3}), o);
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_EQ(r.path, "f32 LU + refinement; f64 LU (fallback) for 2 of 3 columns");
  EXPECT_NE(r.fallback.find("column 1: 1 refinement steps without reaching"), std::string::npos) << r.fallback;
  const ld u = std::ldexp(1.0L, -53);
  for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(x[std::size_t(i * 3)], 0.0);
  // The fallback columns: what the f64 LU gives, forward error within kappa's bound.
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(x[std::size_t(i * 3 + 2)], s.x_true[std::size_t(i)], double(1e6L * 1e3L * u));
    ASSERT_NEAR(x[std::size_t(i * 3 + 1)], t.x_true[std::size_t(i)], double(1e6L * 1e3L * u));
  }
  // Without the fallback the same solve is inaccurate, naming how many columns failed.
  o.fallback = false;
  const dense_solve_report f =
      gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), {n, 3}), make_view(x.data(), {n, 3}), o);
  EXPECT_EQ(f.reason, stop_reason::inaccurate);
  EXPECT_NE(f.message.find("2 of 3 columns failed"), std::string::npos) << f.message;
  // No right-hand side at all: nothing to solve, nothing written.
  const dense_solve_report none =
      gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), {n, 0}, {3, 1}), make_view(x.data(), {n, 0}, {3, 1}), o);
  EXPECT_EQ(none.iterations, 0);
  // Shapes: x must have b's.
  expect_error(
      [&] {
        (void)gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), {n, 3}), make_view(x.data(), {n, 2}), o);
      },
      status::shape_mismatch, "of one shape (b is 120 x 3, x 120 x 2)");
}

/// solver.solve(s.b) against gesv_ir (posv_ir) of m, the matrix the solver holds, with the
/// same options: the same path, fallback, steps, backward error and x, bit for bit.
dense_solve_report solves_as_gesv_ir_or_posv_ir(const dense_ir_solver& solver, bool cholesky,
                                                const std::vector<double>& m, const system& s, std::int64_t n,
                                                const dense_refinement_options& o) {
  std::vector<double> x(static_cast<std::size_t>(n)), y(x.size());
  const dense_solve_report r = solver.solve(make_view(s.b.data(), n), make_view(x.data(), n));
  const auto once = cholesky ? &posv_ir : &gesv_ir;
  const dense_solve_report q = once(make_view(m.data(), {n, n}), make_view(s.b.data(), n), make_view(y.data(), n), o);
  EXPECT_EQ(r.path, q.path) << r.message;
  EXPECT_EQ(r.fallback, q.fallback);
  EXPECT_EQ(r.iterations, q.iterations);
  EXPECT_EQ(r.backward_error, q.backward_error);
  EXPECT_TRUE(x == y) << r.path << ": the kept solver's x differs from a fresh solve's";
  return r;
}

TEST(dense_ir_solver, factors_once_and_each_solve_is_what_gesv_ir_and_posv_ir_give) {
  const std::int64_t n = 140;
  const std::vector<double> a = matrix_with_condition(n, 1e4, 101), spd = test::spd_with_condition(n, 1e4, 102);
  const system s1 = make_system(a, n, 103), s2 = make_system(a, n, 104);
  for (bool cholesky : {false, true}) {
    const std::vector<double>& m = cholesky ? spd : a;
    for (dtype policy : {dtype::f32, dtype::bf16, dtype::f64}) {
      dense_refinement_options o;
      o.policy = {policy, dtype::f64};
      o.gmres = policy == dtype::bf16;
      dense_ir_solver solver = cholesky ? dense_ir_solver::cholesky(make_view(m.data(), {n, n}), o)
                                        : dense_ir_solver(make_view(m.data(), {n, n}), o);
      EXPECT_EQ(solver.size(), n);
      for (const system* s : {&s1, &s2, &s1})
        ASSERT_TRUE(solves_as_gesv_ir_or_posv_ir(solver, cholesky, m, *s, n, o).converged());
    }
  }
}

TEST(dense_ir_solver, a_refactored_solver_solves_as_a_new_one_and_forgets_the_old_matrix) {
  // Each policy and factorization: a solver made for one matrix, refactored with others,
  // solves each as gesv_ir / posv_ir do, bit for bit. kappa 1e9 makes the f32 and bf16 LUs
  // fall back; a3 then a4 so that a3's kept f64 factorization and its reason must go with it.
  const std::int64_t n = 120;
  const std::vector<double> a1 = matrix_with_condition(n, 1e3, 131), a2 = matrix_with_condition(n, 1e4, 132),
                            a3 = matrix_with_condition(n, 1e9, 133), a4 = matrix_with_condition(n, 1e9, 137);
  const std::vector<double> p1 = test::spd_with_condition(n, 1e3, 134), p2 = test::spd_with_condition(n, 1e4, 135);
  const system s = make_system(a2, n, 136);
  for (bool cholesky : {false, true}) {
    const std::vector<const std::vector<double>*> sequence =
        cholesky ? std::vector<const std::vector<double>*>{&p2, &p1}
                 : std::vector<const std::vector<double>*>{&a2, &a3, &a1, &a4, &a2};
    for (dtype policy : {dtype::f32, dtype::bf16, dtype::f64}) {
      dense_refinement_options o;
      o.policy = {policy, dtype::f64};
      o.gmres = policy == dtype::bf16;
      const std::vector<double>& first = cholesky ? p1 : a1;
      dense_ir_solver solver = cholesky ? dense_ir_solver::cholesky(make_view(first.data(), {n, n}), o)
                                        : dense_ir_solver(make_view(first.data(), {n, n}), o);
      for (const std::vector<double>* m : sequence) {
        solver.refactor(make_view(m->data(), {n, n}));
        (void)solves_as_gesv_ir_or_posv_ir(solver, cholesky, *m, s, n, o);
      }
    }
  }
}

TEST(dense_ir_solver, a_refactor_that_fails_names_its_matrix_and_leaves_no_factorization) {
  const std::int64_t n = 60;
  const std::vector<double> a = matrix_with_condition(n, 1e3, 141), other = matrix_with_condition(n - 1, 1e3, 142);
  const system s = make_system(a, n, 143);
  dense_ir_solver solver(make_view(a.data(), {n, n}));
  expect_error(
      [&] {
        solver.refactor(make_view(other.data(), {n - 1, n - 1}));
      },
      status::shape_mismatch,
      "dense_ir_solver::refactor: shape_mismatch: a is 59 x 59; this solver factors 60 x 60 matrices");
  // The size is checked before anything changes: the solver still solves with a.
  std::vector<double> x(static_cast<std::size_t>(n)), y(x.size());
  ASSERT_TRUE(solver.solve(make_view(s.b.data(), n), make_view(x.data(), n)).converged());
  std::vector<double> bad = a;
  bad[std::size_t(7 * n + 2)] = INFINITY;
  expect_error(
      [&] {
        solver.refactor(make_view(bad.data(), {n, n}));
      },
      status::invalid_argument, "dense_ir_solver::refactor: invalid_argument: entry (7, 2) is inf");
  std::fill(y.begin(), y.end(), 7.0);
  expect_error([&] { (void)solver.solve(make_view(s.b.data(), n), make_view(y.data(), n)); }, status::invalid_argument,
               "holds no factorization: its last refactor failed");
  for (double v : y) ASSERT_EQ(v, 7.0);
  solver.refactor(make_view(a.data(), {n, n}));
  ASSERT_TRUE(solver.solve(make_view(s.b.data(), n), make_view(y.data(), n)).converged());
  EXPECT_TRUE(x == y);
  // A Cholesky solver checks symmetry as its constructor does.
  const std::vector<double> p = test::spd_with_condition(n, 1e3, 144);
  dense_ir_solver spd = dense_ir_solver::cholesky(make_view(p.data(), {n, n}));
  expect_error(
      [&] {
        spd.refactor(make_view(a.data(), {n, n}));
      },
      status::invalid_argument, "must be exactly symmetric");
}

TEST(dense_ir_solver, falls_back_on_every_solve_it_cannot_refine_and_names_bad_input_as_itself) {
  // kappa 1e9: classical refinement with an f32 LU cannot converge, so every solve falls back.
  const std::int64_t n = 100;
  const std::vector<double> a = matrix_with_condition(n, 1e9, 111);
  const system s = make_system(a, n, 112), t = make_system(a, n, 113);
  dense_ir_solver solver(make_view(a.data(), {n, n}));
  for (const system* sys : {&s, &t}) {
    std::vector<double> x(static_cast<std::size_t>(n));
    const dense_solve_report r = solver.solve(make_view(sys->b.data(), n), make_view(x.data(), n));
    EXPECT_EQ(r.path, "f64 LU (fallback)") << r.message;
    EXPECT_FALSE(r.fallback.empty());
    EXPECT_LE(r.backward_error, std::ldexp(1.0, -53) * double(n)) << r.message;
  }
  std::vector<double> bad = s.b, x(static_cast<std::size_t>(n), 7.0);
  bad[4] = NAN;
  expect_error([&] { (void)solver.solve(make_view(bad.data(), n), make_view(x.data(), n)); }, status::invalid_argument,
               "dense_ir_solver: invalid_argument: b[4] is nan");
  for (double v : x) ASSERT_EQ(v, 7.0);
  expect_error([&] { (void)solver.solve(make_view(s.b.data(), n - 1), make_view(x.data(), n - 1)); },
               status::shape_mismatch, "b and x must be vectors of 100");
  std::vector<double> singular = a;
  std::fill(singular.begin() + 3 * n, singular.begin() + 4 * n, 0.0);
  dense_refinement_options f64;
  f64.policy = {dtype::f64, dtype::f64};
  expect_error(
      [&] {
        dense_ir_solver(make_view(singular.data(), {n, n}), f64);
      },
      status::numerical_breakdown, "singular");
  expect_error(
      [&] {
        (void)dense_ir_solver::cholesky(make_view(a.data(), {n, n}));
      },
      status::invalid_argument, "must be exactly symmetric");
}

TEST(dense_ir_solver, solves_on_two_threads_at_once_give_what_each_gives_alone) {
  // kappa 1e3 refines; kappa 1e9 falls back on every solve, so the two threads race to make
  // the kept f64 factorization.
  const std::int64_t n = 120;
  for (double kappa : {1e3, 1e9}) {
    const std::vector<double> a = matrix_with_condition(n, kappa, 121);
    const system s = make_system(a, n, 122), t = make_system(a, n, 123);
    std::vector<double> xs(static_cast<std::size_t>(n)), xt(xs.size()), ys(xs.size()), yt(xs.size());
    const dense_solve_report rs =
        gesv_ir(make_view(a.data(), {n, n}), make_view(s.b.data(), n), make_view(xs.data(), n));
    const dense_solve_report rt =
        gesv_ir(make_view(a.data(), {n, n}), make_view(t.b.data(), n), make_view(xt.data(), n));
    const dense_ir_solver solver(make_view(a.data(), {n, n}));
    dense_solve_report qs, qt;
    std::thread other([&] { qt = solver.solve(make_view(t.b.data(), n), make_view(yt.data(), n)); });
    qs = solver.solve(make_view(s.b.data(), n), make_view(ys.data(), n));
    other.join();
    EXPECT_EQ(qs.path, rs.path);
    EXPECT_EQ(qt.path, rt.path);
    EXPECT_TRUE(ys == xs) << "kappa " << kappa;
    EXPECT_TRUE(yt == xt) << "kappa " << kappa;
  }
}

/// The threads this process has (Linux), or 0 where that cannot be read.
int threads_of_this_process() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return 0;
}

/// Runs every dense routine on a one-thread context, then exits with 0 if this process has
/// one thread and the solves converged (and says so on stderr).
[[noreturn]] void run_dense_routines_on_one_thread_and_exit() {
  const context one = context::cpu(1);
  const std::int64_t n = 600;  // past every size at which the dense passes split their rows
  const system s = make_system(matrix_with_condition(n, 1e3, 5), n, 6);
  std::vector<double> lu = s.a, b = s.b, x(static_cast<std::size_t>(n), 0.0);
  std::vector<std::int64_t> piv;
  getrf(make_view(lu.data(), {n, n}, {}, one), piv);
  getrs(make_view(lu.data(), {n, n}, {}, one), piv, make_view(b.data(), {n, 1}, {}, one));
  std::vector<float> lu32(s.a.begin(), s.a.end());
  getrf(make_view(lu32.data(), {n, n}, {}, one), piv, lu_options{true, 0, lu_update::bf16});
  dense_refinement_options o;
  o.gmres = true;
  const bool lu_ok = gesv_ir(make_view(s.a.data(), {n, n}, {}, one), make_view(s.b.data(), n, 1, one),
                             make_view(x.data(), n, 1, one), o)
                         .converged();
  std::vector<double> spd = test::spd_with_condition(n, 1e3, 7);
  const bool spd_ok = posv_ir(make_view(spd.data(), {n, n}, {}, one), make_view(s.b.data(), n, 1, one),
                              make_view(x.data(), n, 1, one), o)
                          .converged();
  potrf(make_view(spd.data(), {n, n}, {}, one));
  potrs(make_view(spd.data(), {n, n}, {}, one), make_view(b.data(), {n, 1}, {}, one));
  const int threads = threads_of_this_process();
  std::fprintf(stderr, "threads: %d, solves converged: %d\n", threads, int(lu_ok && spd_ok));
  std::exit(threads == 1 && lu_ok && spd_ok ? 0 : 1);
}

TEST(dense_threads, a_one_thread_context_runs_every_dense_routine_on_the_calling_thread) {
  // A simulation code with one MPI rank per core hands the library one-thread contexts: no
  // pass, GEMM or look-ahead may start a thread of its own. Checked in a fresh process (the
  // death test re-executes this binary), which must still have one thread at the end.
  if (threads_of_this_process() == 0) GTEST_SKIP() << "no /proc/self/status to count threads in";
  if (context::cpu().threads() < 2) GTEST_SKIP() << "the default context has one thread: nothing to tell apart";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_dense_routines_on_one_thread_and_exit(), ::testing::ExitedWithCode(0),
              "threads: 1, solves converged: 1");
}

}  // namespace
}  // namespace mixprec
