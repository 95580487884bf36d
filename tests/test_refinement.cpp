// Mixed-precision iterative refinement: low-precision inner solves, FP64 answers. Every
// policy must reach a relative f64 residual of 1e-12 — beyond what f32 vectors can reach on
// their own (see solver_trouble) — on problems where kappa(A) * u_inner is well below 1, and
// must say so, and fall back, where the low precision cannot do it.
#include <random>

#include "mixprec/preconditioner.hpp"
#include "mixprec/refinement.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

struct ir_case {
  const char* problem;
  inner_solver method;
  precision_policy policy;
  bool jacobi;
};

coo_matrix ir_problem(const std::string& name) {
  if (name == "poisson") return poisson_3d(10).to_coo();
  coo_matrix a = convection_diffusion_3d(8, 20.0).to_coo();
  return a;
}

class refinement : public ::testing::TestWithParam<ir_case> {};

TEST_P(refinement, reaches_fp64_accuracy_with_low_precision_inner_solves) {
  const ir_case& c = GetParam();
  const coo_matrix coo = ir_problem(c.problem);
  const csr_operator a(csr_matrix::from_coo(coo));
  const std::vector<double> b = random_vector(a.rows(), 9);
  array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
  refinement_options o;
  o.policy = c.policy;
  o.inner_method = c.method;
  o.outer.rel_tol = 1e-12;
  o.outer.max_iterations = c.method == inner_solver::cg_reliable ? 1000 : 50;  // CG iterations there
  std::unique_ptr<csr_operator> low =
      c.jacobi ? std::unique_ptr<csr_operator>(static_cast<csr_operator*>(a.stored_as(c.policy.matrix).release()))
               : nullptr;
  std::unique_ptr<jacobi_preconditioner> m =
      c.jacobi ? std::make_unique<jacobi_preconditioner>(*low, c.policy.matrix) : nullptr;
  o.inner.preconditioner = m.get();
  const solve_report rep = refine(a, bd.as_view(), x.as_view(), o);
  ASSERT_TRUE(rep.converged()) << rep.summary();
  EXPECT_TRUE(rep.fallback.empty()) << rep.summary();
  EXPECT_EQ(rep.matrix_type, c.policy.matrix);
  EXPECT_EQ(rep.krylov_type, c.policy.krylov);
  EXPECT_EQ(rep.working_type, dtype::f64);
  EXPECT_EQ(rep.preconditioner_type, c.policy.matrix);
  EXPECT_EQ(rep.history.size(), std::size_t(rep.iterations + 1));
  if (c.method == inner_solver::cg_reliable) {
    // One CG run: about as many iterations as f64 CG needs (here, on a 1000-point grid, at
    // most n), and a replacement per factor 10 of residual (12 for 1e-12, a few more for
    // the recurrence's drift).
    EXPECT_LE(rep.iterations, a.rows()) << rep.summary();
    EXPECT_GE(rep.restarts, 6) << rep.summary();
    EXPECT_LE(rep.restarts, 16) << rep.summary();
  } else {
    EXPECT_GT(rep.inner_iterations, rep.iterations);
    // Each outer step multiplies the residual by about the inner tolerance (1e-4), so 1e-12
    // takes 3 steps, 4 with rounding of the inner precision: more means the inner solves fail.
    EXPECT_LE(rep.iterations, 5) << rep.summary();
  }
  EXPECT_LE(relative_residual(coo, b, x.to_vector()), 1e-12) << rep.summary();
  EXPECT_NE(rep.summary().find(c.policy.krylov == dtype::f64 ? "vectors f64" : "krylov f32"), std::string::npos)
      << rep.summary();
}

std::string ir_name(const ::testing::TestParamInfo<ir_case>& info) {
  std::string policy = info.param.policy.name();
  for (char& ch : policy)
    if (ch == '-' || ch == '/') ch = '_';
  return std::string(info.param.problem) + "_" + name_of(info.param.method) + "_" + policy +
         (info.param.jacobi ? "_jacobi" : "");
}

INSTANTIATE_TEST_SUITE_P(
    policies, refinement,
    ::testing::Values(ir_case{"poisson", inner_solver::cg, precision_policy::f32(), false},
                      ir_case{"poisson", inner_solver::cg, precision_policy::f32(), true},
                      ir_case{"poisson", inner_solver::cg, precision_policy::half_matrix(dtype::bf16), false},
                      ir_case{"poisson", inner_solver::cg, precision_policy::half_matrix(dtype::f16), false},
                      ir_case{"poisson", inner_solver::cg, precision_policy::f64(), false},
                      ir_case{"poisson", inner_solver::cg_reliable, precision_policy::f32(), false},
                      ir_case{"poisson", inner_solver::cg_reliable, precision_policy::f32(), true},
                      ir_case{"poisson", inner_solver::cg_reliable, precision_policy::half_matrix(dtype::bf16), false},
                      ir_case{"convdiff", inner_solver::gmres, precision_policy::f32(), false},
                      ir_case{"convdiff", inner_solver::gmres, precision_policy::half_matrix(dtype::f16), false},
                      ir_case{"convdiff", inner_solver::bicgstab, precision_policy::f32(), false},
                      ir_case{"convdiff", inner_solver::fgmres, precision_policy::f32(), true}),
    ir_name);

TEST(refinement_fallback, an_f16_overflow_falls_back_to_f32_and_says_why) {
  // 1e6 * Laplacian: every value overflows f16 (max 65504).
  coo_matrix coo = poisson_3d(6).to_coo();
  for (double& v : coo.value) v *= 1e6;
  const csr_operator a(csr_matrix::from_coo(coo));
  const std::vector<double> b = random_vector(a.rows(), 4);
  array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
  for (inner_solver method : {inner_solver::cg, inner_solver::cg_reliable}) {
    refinement_options o;
    o.policy = precision_policy::half_matrix(dtype::f16);
    o.inner_method = method;
    o.outer.rel_tol = 1e-12;
    fill(x.as_view(), 0.0);
    const solve_report rep = refine(a, bd.as_view(), x.as_view(), o);
    ASSERT_TRUE(rep.converged()) << rep.summary();
    EXPECT_NE(rep.fallback.find("f16/f32-ir -> f32-ir because"), std::string::npos) << rep.fallback;
    EXPECT_EQ(rep.matrix_type, dtype::f32);  // what it ended with
    EXPECT_LE(relative_residual(coo, b, x.to_vector()), 1e-12);

    // Without fallback: the reason, and x as it was.
    o.fallback = false;
    fill(x.as_view(), 0.0);
    const solve_report stopped = refine(a, bd.as_view(), x.as_view(), o);
    EXPECT_EQ(stopped.reason, stop_reason::non_finite) << stopped.summary();
    EXPECT_NE(stopped.message.find("f16/f32-ir"), std::string::npos) << stopped.message;
    for (double v : x.to_vector()) ASSERT_EQ(v, 0.0);
  }
}

TEST(refinement_fallback, a_matrix_singular_in_f32_falls_back_to_f64) {
  // [[1, 1], [1, 1 + 2^-30]]: SPD, but 1 + 2^-30 rounds to 1 in f32, where the matrix is
  // singular and CG breaks down; in f64 it solves.
  coo_matrix coo(2, 2);
  coo.add(0, 0, 1);
  coo.add(0, 1, 1);
  coo.add(1, 0, 1);
  coo.add(1, 1, 1 + 0x1p-30);
  const csr_operator a(csr_matrix::from_coo(coo));
  array<double> b(std::vector<double>{1, 0}), x(std::vector<double>{0, 0});
  for (inner_solver method : {inner_solver::cg, inner_solver::cg_reliable}) {
    refinement_options o;
    o.inner_method = method;
    o.outer.rel_tol = 1e-6;
    fill(x.as_view(), 0.0);
    const solve_report rep = refine(a, b.as_view(), x.as_view(), o);
    EXPECT_TRUE(rep.converged()) << rep.summary();
    EXPECT_NE(rep.fallback.find("f32-ir -> f64 because"), std::string::npos) << rep.summary();
    EXPECT_EQ(rep.krylov_type, dtype::f64);
    EXPECT_LE(relative_residual(coo, {1, 0}, x.to_vector()), 1e-6);
  }
}

TEST(refinement_errors, bad_policies_and_vectors_are_named) {
  const csr_operator a(poisson_3d(3));
  array<double> b(std::vector<double>(27, 1.0)), x(std::vector<double>(27, 0.0));
  array<float> bf(std::vector<float>(27, 1.0f)), xf(std::vector<float>(27, 0.0f));
  expect_refusal([&] { (void)refine(a, bf.as_view(), xf.as_view()); }, status::unsupported, "must be f64");
  refinement_options o;
  o.policy.krylov = dtype::f16;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::unsupported, "policy.krylov f16");
  o = {};
  o.policy.matrix = dtype::i8;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::unsupported, "policy.matrix i8");
  o = {};
  o.inner.rel_tol = 1.0;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::invalid_argument, "inner.rel_tol = 1");
  o = {};
  o.min_reduction = 0;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::invalid_argument, "min_reduction = 0");
  o = {};
  o.reliable_factor = 1.5;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::invalid_argument,
                 "reliable_factor = 1.5");
  o = {};
  o.policy.halo = dtype::f16;
  expect_refusal([&] { (void)refine(a, b.as_view(), x.as_view(), o); }, status::unsupported, "policy.halo f16");
}

TEST(precision_policy, names_parse_back_to_the_same_policy_halo_included) {
  for (const precision_policy& p :
       {precision_policy::f64(), precision_policy::f32(), precision_policy::half_matrix(dtype::bf16),
        precision_policy{dtype::f64, dtype::f64, dtype::f32}, precision_policy{dtype::bf16, dtype::f32, dtype::bf16}}) {
    const precision_policy q = precision_policy::parse(p.name());
    EXPECT_TRUE(q.matrix == p.matrix && q.krylov == p.krylov && q.halo == p.halo) << p.name();
  }
  EXPECT_EQ((precision_policy{dtype::f64, dtype::f64, dtype::f32}.name()), "f64+f32-halo");
  EXPECT_EQ((precision_policy{dtype::bf16, dtype::f32, dtype::bf16}.name()), "bf16/f32-ir+bf16-halo");
  for (const char* bad : {"f32-ir+f32", "f32-ir+", "+f32-halo", "f32-ir+x-halo"})
    expect_refusal([&] { (void)precision_policy::parse(bad); }, status::invalid_argument, "not a policy name");
}

TEST(precision_policy, a_halo_precision_changes_nothing_on_one_process) {
  const csr_operator a(poisson_3d(6));
  const std::int64_t n = a.rows();
  array<double> b(std::vector<double>(std::size_t(n), 1.0));
  std::vector<double> solutions[2];
  for (int h = 0; h < 2; ++h) {
    refinement_options o;
    o.policy.halo = h ? dtype::bf16 : dtype::f64;
    o.outer.rel_tol = 1e-12;
    array<double> x(std::vector<double>(std::size_t(n), 0.0));
    const solve_report r = refine(a, b.as_view(), x.as_view(), o);
    ASSERT_TRUE(r.converged()) << r.summary();
    solutions[h] = x.to_vector();
  }
  EXPECT_EQ(solutions[0], solutions[1]);
}

}  // namespace
}  // namespace mixprec::test
