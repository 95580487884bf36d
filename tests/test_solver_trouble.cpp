// Solvers in trouble: breakdown, stagnation, the iteration limit, non-finite numbers, a
// precision that cannot reach the tolerance, and bad arguments. Each must end in a report
// that says what happened (or an error naming the argument), never a silent answer.
#include <cmath>
#include <limits>

#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

csr_matrix dense_2x2(double a, double b, double c, double d) {
  coo_matrix m(2, 2);
  m.add(0, 0, a);
  m.add(0, 1, b);
  m.add(1, 0, c);
  m.add(1, 1, d);
  return csr_matrix::from_coo(m);
}

bool all_finite(const std::vector<double>& v) {
  for (double e : v)
    if (!std::isfinite(e)) return false;
  return true;
}

TEST(solver_trouble, cg_on_an_indefinite_matrix_reports_breakdown) {
  // diag(1, -1) and b = (1, 1): p = b at the start and p'Ap = 1 - 1 = 0.
  const csr_operator a(dense_2x2(1, 0, 0, -1));
  array<double> b(std::vector<double>{1, 1}), x(std::vector<double>{0, 0});
  const solve_report rep = cg(a, b.as_view(), x.as_view());
  EXPECT_EQ(rep.reason, stop_reason::breakdown) << rep.summary();
  EXPECT_NE(rep.message.find("p'Ap = 0"), std::string::npos) << rep.message;
  EXPECT_NE(rep.message.find("not positive definite"), std::string::npos) << rep.message;
  EXPECT_EQ(x.to_vector(), (std::vector<double>{0, 0}));  // no step was taken
  EXPECT_FALSE(rep.converged());
}

TEST(solver_trouble, bicgstab_reports_rho_and_shadow_breakdowns) {
  // A = [[0, 1], [1, 0]], b = e_1: r0 = e_1, v = A r0 = e_2 is orthogonal to the shadow r0.
  const csr_operator swap(dense_2x2(0, 1, 1, 0));
  array<double> b(std::vector<double>{1, 0}), x(std::vector<double>{0, 0});
  const solve_report rep = bicgstab(swap, b.as_view(), x.as_view());
  EXPECT_EQ(rep.reason, stop_reason::breakdown) << rep.summary();
  EXPECT_NE(rep.message.find("r0'A p = 0"), std::string::npos) << rep.message;
  EXPECT_TRUE(all_finite(x.to_vector()));
}

TEST(solver_trouble, restarted_gmres_stagnates_on_a_rotation) {
  // A rotates by 90 degrees: A r is orthogonal to r, so GMRES(1) never reduces ||r||.
  const csr_operator rot(dense_2x2(0, 1, -1, 0));
  array<double> b(std::vector<double>{1, 2}), x(std::vector<double>{0, 0});
  solve_options o;
  o.restart = 1;
  o.stagnation_window = 10;
  const solve_report rep = gmres(rot, b.as_view(), x.as_view(), o);
  EXPECT_EQ(rep.reason, stop_reason::stagnation) << rep.summary();
  EXPECT_EQ(rep.iterations, 10);
  EXPECT_NEAR(rep.true_residual, 1.0, 1e-15);
  // Full GMRES (restart 2) solves it in two steps.
  array<double> x2(std::vector<double>{0, 0});
  o.restart = 2;
  const solve_report full = gmres(rot, b.as_view(), x2.as_view(), o);
  EXPECT_TRUE(full.converged()) << full.summary();
  EXPECT_EQ(full.iterations, 2);
}

TEST(solver_trouble, bicgstab_plateaus_on_an_indefinite_problem_are_not_stagnation) {
  // The 2-D Laplacian shifted by -1 is indefinite. BiCGStab's best residual stays put for
  // over 200 iterations around iteration 400-600, then the solve converges near 2,000: a
  // fixed 200-iteration window stopped it there; the window now grows with the progress made.
  coo_matrix c = poisson_2d(48).to_coo();
  for (std::size_t k = 0; k < c.value.size(); ++k)
    if (c.row[k] == c.col[k]) c.value[k] -= 1.0;
  const csr_operator a(csr_matrix::from_coo(c));
  std::vector<double> b(std::size_t(c.rows));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::sin(0.37 * double(i)) + 0.5;
  array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
  solve_options o;
  o.rel_tol = 1e-8;
  o.max_iterations = 6000;
  const solve_report rep = bicgstab(a, bd.as_view(), x.as_view(), o);
  EXPECT_TRUE(rep.converged()) << rep.summary();
}

TEST(solver_trouble, the_iteration_limit_is_reported_with_the_residual) {
  const csr_operator a(poisson_3d(10));
  array<double> b(std::vector<double>(std::size_t(a.rows()), 1.0)), x(std::vector<double>(std::size_t(a.rows()), 0.0));
  solve_options o;
  o.max_iterations = 3;
  for (auto solve : {&cg, &bicgstab, &gmres, &fgmres}) {
    fill(x.as_view(), 0.0);
    const solve_report rep = solve(a, b.as_view(), x.as_view(), o);
    EXPECT_EQ(rep.reason, stop_reason::max_iterations) << rep.summary();
    EXPECT_EQ(rep.iterations, 3) << rep.summary();
    EXPECT_NE(rep.message.find("after 3 iterations"), std::string::npos) << rep.message;
    EXPECT_LT(rep.true_residual, rep.initial_residual) << rep.summary();  // the partial answer is kept
  }
}

TEST(solver_trouble, nan_in_b_is_reported_not_iterated_on) {
  const csr_operator a(poisson_3d(4));
  std::vector<double> bv(std::size_t(a.rows()), 1.0);
  bv[5] = std::numeric_limits<double>::quiet_NaN();
  array<double> b(bv), x(std::vector<double>(bv.size(), 0.0));
  for (auto solve : {&cg, &bicgstab, &gmres, &fgmres}) {
    const solve_report rep = solve(a, b.as_view(), x.as_view(), {});
    EXPECT_EQ(rep.reason, stop_reason::non_finite) << rep.summary();
    EXPECT_EQ(rep.iterations, 0);
    EXPECT_TRUE(all_finite(x.to_vector()));
  }
}

TEST(solver_trouble, an_operator_that_overflows_midway_is_caught_and_x_stays_finite) {
  // The operator returns Inf from its 4th application on: as a low-precision operator whose
  // values overflow would.
  const csr_matrix p = poisson_3d(6);
  for (auto solve : {&cg, &bicgstab, &gmres, &fgmres}) {
    int calls = 0;
    const callback_operator faulty(p.rows(), p.cols(), [&](const_view in, view out) {
      spmv(1.0, p, in, 0.0, out);
      if (++calls >= 4) static_cast<double*>(out.data())[0] = std::numeric_limits<double>::infinity();
    });
    array<double> b(std::vector<double>(std::size_t(p.rows()), 1.0)),
        x(std::vector<double>(std::size_t(p.rows()), 0.0));
    const solve_report rep = solve(faulty, b.as_view(), x.as_view(), {});
    EXPECT_EQ(rep.reason, stop_reason::non_finite) << rep.summary();
    EXPECT_FALSE(rep.message.empty());
    EXPECT_TRUE(all_finite(x.to_vector())) << rep.method;
  }
}

TEST(solver_trouble, f32_vectors_cannot_reach_1e_minus_12_and_say_so) {
  // The f32 recurrence keeps shrinking, the true residual stops near kappa * u_f32: the
  // report must not say converged.
  const csr_operator a(poisson_3d(10));
  std::vector<float> bv(std::size_t(a.rows()));
  for (std::size_t i = 0; i < bv.size(); ++i) bv[i] = float(std::sin(double(i)));
  array<float> b(bv), x(std::vector<float>(bv.size(), 0.0f));
  solve_options o;
  o.rel_tol = 1e-12;
  o.max_iterations = 500;
  for (auto solve : {&cg, &bicgstab, &gmres}) {
    fill(x.as_view(), 0.0);
    const solve_report rep = solve(a, b.as_view(), x.as_view(), o);
    EXPECT_FALSE(rep.converged()) << rep.summary();
    EXPECT_GT(rep.true_residual, 1e-12) << rep.summary();
    EXPECT_LT(rep.true_residual, 1e-4) << rep.summary();  // it did solve to f32 accuracy
  }
}

TEST(solver_trouble, jacobi_names_a_zero_diagonal_and_an_overflowing_inverse) {
  const csr_operator zero(dense_2x2(1, 2, 3, 0));
  expect_refusal([&] { jacobi_preconditioner m(zero); }, status::numerical_breakdown, "row 1 is 0");
  const csr_operator tiny(dense_2x2(1, 0, 0, 1e-10));
  expect_refusal([&] { jacobi_preconditioner m(tiny, dtype::f16); }, status::numerical_breakdown, "in f16");
  jacobi_preconditioner ok(tiny, dtype::f32);  // 1e10 fits f32
  EXPECT_EQ(ok.storage_type(), dtype::f32);
}

TEST(solver_errors, bad_arguments_are_named_and_x_untouched) {
  const csr_operator a(poisson_3d(3));
  const std::int64_t n = a.rows();
  array<double> b(std::vector<double>(std::size_t(n), 1.0)), x(std::vector<double>(std::size_t(n), 7.0));
  array<double> short_x(std::vector<double>(std::size_t(n - 1), 0.0));
  array<float> xf(std::vector<float>(std::size_t(n), 0.0f));
  const csr_operator rect(csr_matrix::from_coo([] {
    coo_matrix c(2, 3);
    c.add(0, 0, 1);
    return c;
  }()));
  expect_refusal([&] { (void)cg(rect, b.as_view(), x.as_view()); }, status::shape_mismatch, "not square");
  expect_refusal([&] { (void)cg(a, b.as_view(), short_x.as_view()); }, status::shape_mismatch, "x 26 elements");
  expect_refusal([&] { (void)gmres(a, b.as_view(), xf.as_view()); }, status::unsupported, "b is f64, x f32");
  solve_options o;
  o.rel_tol = 0;
  expect_refusal([&] { (void)bicgstab(a, b.as_view(), x.as_view(), o); }, status::invalid_argument, "rel_tol = 0");
  o = {};
  o.restart = 0;
  expect_refusal([&] { (void)fgmres(a, b.as_view(), x.as_view(), o); }, status::invalid_argument, "restart = 0");
  o = {};
  o.max_iterations = -1;
  expect_refusal([&] { (void)cg(a, b.as_view(), x.as_view(), o); }, status::invalid_argument, "max_iterations = -1");
  const csr_operator small(poisson_3d(2));
  const jacobi_preconditioner m(small);
  o = {};
  o.preconditioner = &m;
  expect_refusal([&] { (void)cg(a, b.as_view(), x.as_view(), o); }, status::shape_mismatch, "preconditioner is 8 x 8");
  expect_refusal([&] { (void)chebyshev(a, b.as_view(), x.as_view(), 2.0, 1.0); }, status::invalid_argument,
                 "lambda_min < lambda_max");
  for (double v : x.to_vector()) ASSERT_EQ(v, 7.0);
  // Operators check their vectors too.
  expect_refusal([&] { a.apply(b.as_view(), short_x.as_view()); }, status::shape_mismatch, "y 26 elements");
  expect_refusal([&] { callback_operator c(2, 2, nullptr); }, status::invalid_argument, "apply function is empty");
  expect_refusal([&] { jacobi_preconditioner j(callback_operator(2, 2, [](const_view, view) {})); },
                 status::unsupported, "does not provide its diagonal");
}

}  // namespace
}  // namespace mixprec::test
