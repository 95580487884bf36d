// Mixed-precision dense solves (gesv_ir, posv_ir) against what refinement theory says for
// each factorization precision, whose unit roundoff u_f is 2^-24 (f32), 2^-11 (A rounded to
// f16) or 2^-8 (L and U rounded to bf16 for the trailing updates); u = 2^-53:
//   - classical refinement contracts when kappa(A) u_f is well below 1 (Higham, Accuracy and
//     Stability of Numerical Algorithms, Thm 12.2; Carson and Higham 2017), and where
//     kappa(A) u_f >> 1 its corrections carry no correct digit: the residual stops falling
//     and dsgesv's rule sends the solve to the f64 fallback;
//   - GMRES-IR, with GMRES run to its tolerance (restart >= n), converges while kappa(A) <=
//     u^-1/2 u_f^-1 (Carson and Higham 2018, u_r = u), for Cholesky as well (Higham and
//     Pranesh 2021, with the diagonal shift that keeps a rounded SPD matrix definite); the
//     analysis drops constants, so the sweep asks it of kappa <= 1e-2 times
//     that;
//   - a converged answer meets dsgesv's rule, backward error <= eps sqrt(n); a fallback's is
//     the f64 factorization's, <= gamma_3n(eps) (Higham Thm 9.4 with |L||U| ~ |A|, which
//     partial pivoting and Cholesky give for these matrices);
//   - LU with partial pivoting, and the convergence condition of refinement, are invariant
//     under column scaling, and Cholesky under symmetric diagonal scaling: a graded matrix
//     converges as its balanced form does — in f16 only because the solver scales it first.
// Between "well below 1" and ">> 1" theory says nothing definite; the sweep checks only the
// accuracy of whatever path was taken there.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mixprec/dense.hpp"
#include "mixprec/error.hpp"
#include "support/dense_systems.hpp"
#include "support/harness.hpp"

namespace mixprec {
namespace {

using test::expect_error;
using test::graded;
using test::make_system;
using test::matrix_with_condition;
using test::spd_with_condition;
using test::system;

constexpr double eps = 0x1p-53;

double factorization_roundoff(dtype factorization) {
  return factorization == dtype::f32 ? 0x1p-24 : factorization == dtype::f16 ? 0x1p-11 : 0x1p-8;
}

double fallback_bound(std::int64_t n) { return 3.0 * double(n) * eps / (1 - 3.0 * double(n) * eps); }

enum class kind { general, spd };

dense_solve_report solve(kind k, const system& s, const dense_refinement_options& o, std::vector<double>& x) {
  x.assign(static_cast<std::size_t>(s.n), 0.0);
  const auto a = make_view(s.a.data(), {s.n, s.n});
  const auto b = make_view(s.b.data(), s.n);
  return k == kind::general ? gesv_ir(a, b, make_view(x.data(), s.n), o) : posv_ir(a, b, make_view(x.data(), s.n), o);
}

bool fell_back(const dense_solve_report& r) { return r.path.find("(fallback)") != std::string::npos; }

/// What the sweep found for one matrix and policy, for the failure message.
std::string describe(double kappa, dtype f, bool gmres, const dense_solve_report& r) {
  return "kappa " + std::to_string(kappa) + ", " + name_of(f) + (gmres ? " GMRES-IR" : " refinement") + ": " +
         r.message;
}

void sweep(kind k) {
  const std::int64_t n = 192;  // past one 128-column panel: bf16 does the trailing updates
  const double sqrt_n = std::sqrt(double(n));
  for (int decade = 1; decade <= 14; ++decade) {
    const double kappa = std::pow(10.0, decade);
    const std::vector<double> a = k == kind::general ? matrix_with_condition(n, kappa, 100 + unsigned(decade))
                                                     : spd_with_condition(n, kappa, 200 + unsigned(decade));
    const system s = make_system(a, n, 300 + unsigned(decade));
    for (dtype f : {dtype::f32, dtype::bf16, dtype::f16})
      for (bool gmres : {false, true}) {
        dense_refinement_options o;
        o.policy = precision_policy::half_matrix(f);
        o.gmres = gmres;
        // GMRES run to its tolerance, as the theory has it: the whole basis, no stop on a
        // plateau (the default stops one that lasts 50 iterations: the f64 LU is cheaper).
        o.gmres_restart = int(n);
        o.gmres_max_iterations = int(n);
        o.gmres_halving_window = 0;
        std::vector<double> x;
        const dense_solve_report r = solve(k, s, o, x);
        const std::string what = describe(kappa, f, gmres, r);
        ASSERT_TRUE(r.converged()) << what;
        if (fell_back(r))
          EXPECT_LE(r.backward_error, fallback_bound(n)) << what;
        else
          EXPECT_LE(r.backward_error, eps * sqrt_n) << what;
        const double u_f = factorization_roundoff(f);
        if (kappa * u_f <= 0.02) EXPECT_FALSE(fell_back(r)) << "theory: refinement converges; " << what;
        // Only rounding A itself (f32, f16) perturbs it by u_f for sure; bf16 rounds the factors
        // of the trailing updates, an error of at most, not of about, 2^-8.
        if (!gmres && f != dtype::bf16 && kappa * u_f >= 100)
          EXPECT_TRUE(fell_back(r)) << "theory: refinement cannot converge; " << what;
        if (gmres && kappa <= 1e-2 / (std::sqrt(eps) * u_f))
          EXPECT_FALSE(fell_back(r)) << "theory: GMRES-IR converges; " << what;
      }
  }
}

TEST(dense_refinement_theory, lu_policies_converge_or_fall_back_where_theory_says_for_kappa_1e1_to_1e14) {
  sweep(kind::general);
}

TEST(dense_refinement_theory, cholesky_policies_converge_or_fall_back_where_theory_says_for_kappa_1e1_to_1e14) {
  sweep(kind::spd);
}

TEST(dense_refinement_theory, column_graded_matrices_converge_as_their_balanced_form_in_every_precision) {
  const std::int64_t n = 96;
  // B with kappa 10, its columns graded over 10 decades: kappa(A) ~ 1e11, but LU with partial
  // pivoting and refinement's contraction do not see column scaling.
  const std::vector<double> b = matrix_with_condition(n, 10.0, 401);
  for (double row_decades : {0.0, 10.0})
    for (double col_decades : {10.0, 0.0}) {
      if (row_decades == 0 && col_decades == 0) continue;
      const system s = make_system(graded(b, n, row_decades, col_decades), n, 402);
      for (dtype f : {dtype::f32, dtype::bf16, dtype::f16}) {
        dense_refinement_options o;
        o.policy = precision_policy::half_matrix(f);
        std::vector<double> x;
        const dense_solve_report r = solve(kind::general, s, o, x);
        const std::string what = std::string(name_of(f)) + ", rows graded over " + std::to_string(row_decades) +
                                 " decades, columns over " + std::to_string(col_decades) + ": " + r.message;
        EXPECT_FALSE(fell_back(r)) << what;
        EXPECT_LE(r.backward_error, eps * std::sqrt(double(n))) << what;
      }
    }
  // Unscaled, f16 flushes the small columns (below 2^-24) to zero: the factorization breaks
  // down or cannot refine, and the solve falls back.
  const system s = make_system(graded(b, n, 0, 10), n, 403);
  dense_refinement_options o;
  o.policy = precision_policy::half_matrix(dtype::f16);
  o.scale = false;
  std::vector<double> x;
  const dense_solve_report r = solve(kind::general, s, o, x);
  EXPECT_TRUE(fell_back(r)) << r.message;
  EXPECT_LE(r.backward_error, fallback_bound(n)) << r.message;
}

TEST(dense_refinement_theory, symmetrically_graded_spd_matrices_converge_after_scaling_in_every_precision) {
  const std::int64_t n = 96;
  const system s = make_system(graded(spd_with_condition(n, 10.0, 501), n, 6, 6), n, 502);  // kappa ~ 1e13
  for (dtype f : {dtype::f32, dtype::bf16, dtype::f16}) {
    dense_refinement_options o;
    o.policy = precision_policy::half_matrix(f);
    std::vector<double> x;
    const dense_solve_report r = solve(kind::spd, s, o, x);
    EXPECT_FALSE(fell_back(r)) << name_of(f) << ": " << r.message;
    EXPECT_LE(r.backward_error, eps * std::sqrt(double(n))) << name_of(f) << ": " << r.message;
    EXPECT_LE(r.iterations, 10) << name_of(f) << ": " << r.message;
  }
  // Unscaled, the f16 Cholesky meets diagonal entries below f16's range.
  dense_refinement_options o;
  o.policy = precision_policy::half_matrix(dtype::f16);
  o.scale = false;
  std::vector<double> x;
  const dense_solve_report r = solve(kind::spd, s, o, x);
  EXPECT_EQ(r.path, "f64 Cholesky (fallback)") << r.message;
}

TEST(dense_posv_ir, cholesky_policies_refine_to_fp64_and_entries_past_f16_are_scaled_into_range) {
  const std::int64_t n = 120;
  std::vector<double> a = spd_with_condition(n, 1e3, 601);
  for (double& v : a) v *= 1e6;  // every entry past f16's range: the f16 policy needs its scaling
  const system s = make_system(a, n, 602);
  for (dtype f : {dtype::f64, dtype::f32, dtype::bf16, dtype::f16}) {
    dense_refinement_options o;
    o.policy = precision_policy::half_matrix(f);
    o.gmres = f == dtype::bf16;  // kappa u_bf16 ~ 4: classical refinement would not contract
    std::vector<double> x;
    const dense_solve_report r = solve(kind::spd, s, o, x);
    const std::string expected = f == dtype::f64    ? "f64 Cholesky"
                                 : f == dtype::f32  ? "f32 Cholesky + refinement"
                                 : f == dtype::bf16 ? "bf16-update Cholesky + GMRES-IR"
                                                    : "f16-rounded Cholesky + refinement";
    EXPECT_EQ(r.path, expected) << r.message;
    EXPECT_LE(r.backward_error, eps * std::sqrt(double(n))) << r.message;
    // Forward error: kappa times the backward error, about, relative to ||x|| ~ 1.
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(x[std::size_t(i)], s.x_true[std::size_t(i)], 1e3 * 1e-13) << name_of(f) << " at " << i;
  }
  // Without scaling the f16 policy cannot hold the matrix and says so.
  dense_refinement_options o;
  o.policy = precision_policy::half_matrix(dtype::f16);
  o.scale = false;
  std::vector<double> x;
  const dense_solve_report r = solve(kind::spd, s, o, x);
  EXPECT_EQ(r.path, "f64 Cholesky (fallback)");
  EXPECT_NE(r.fallback.find("overflows f16"), std::string::npos) << r.fallback;
}

TEST(dense_posv_ir, asymmetric_and_indefinite_matrices_are_named_and_x_is_untouched) {
  const std::int64_t n = 6;
  std::vector<double> a = spd_with_condition(n, 10.0, 701);
  const system s = make_system(a, n, 702);
  std::vector<double> x(static_cast<std::size_t>(n), 7.0);
  const auto run = [&](const std::vector<double>& m) {
    (void)posv_ir(make_view(m.data(), {n, n}), make_view(s.b.data(), n), make_view(x.data(), n));
  };
  std::vector<double> asym = a;
  asym[std::size_t(4 * n + 1)] += 1e-12;
  expect_error([&] { run(asym); }, status::invalid_argument, "a(4, 1)");
  std::vector<double> indefinite = a;
  indefinite[std::size_t(3 * n + 3)] = -1.0;
  expect_error([&] { run(indefinite); }, status::numerical_breakdown, "not symmetric positive definite");
  for (double v : x) EXPECT_EQ(v, 7.0);
  // Over several 64 x 64 tiles (checked by several threads) the pair named is still the
  // first in row order of the tiles: (70, 65) in the second tile row, not (150, 10).
  const std::int64_t m = 200;
  std::vector<double> big = spd_with_condition(m, 10.0, 703), bm(static_cast<std::size_t>(m), 1.0),
                      xm(static_cast<std::size_t>(m), 7.0);
  big[std::size_t(150 * m + 10)] += 1e-12;
  big[std::size_t(70 * m + 65)] += 1e-12;
  expect_error(
      [&] {
        (void)posv_ir(make_view(big.data(), {m, m}), make_view(bm.data(), m), make_view(xm.data(), m));
      },
      status::invalid_argument, "a(70, 65)");
  for (double v : xm) EXPECT_EQ(v, 7.0);
}

TEST(dense_potrf, bf16_trailing_updates_stay_within_their_rounding) {
  const std::int64_t n = 260;
  const std::vector<double> a64 = spd_with_condition(n, 1e2, 801);
  const std::vector<float> a(a64.begin(), a64.end());
  std::vector<float> l = a;
  cholesky_options o;
  o.update = lu_update::bf16;
  o.block = 64;
  potrf(make_view(l.data(), {n, n}), o);
  // A = L L^T + E, |E| <= (2^-7 + 2^-16 + gamma_{n+1}(u32)) |L||L^T|: each product in a
  // trailing update multiplies two bf16-rounded factors.
  const long double bound = 0x1p-7L + 0x1p-16L + (n + 1) * 0x1p-24L / (1 - (n + 1) * 0x1p-24L);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      long double s = 0, mag = 0;
      for (std::int64_t k = 0; k <= j; ++k) {
        const long double p = (long double)l[std::size_t(i * n + k)] * l[std::size_t(j * n + k)];
        s += p;
        mag += std::fabs(p);
      }
      ASSERT_LE(std::fabs(s - a[std::size_t(i * n + j)]), bound * mag) << i << "," << j;
    }
  std::vector<double> d = a64;
  expect_error(
      [&] {
        potrf(make_view(d.data(), {n, n}), o);
      },
      status::unsupported, "bf16 trailing updates need an f32 matrix");
}

}  // namespace
}  // namespace mixprec
