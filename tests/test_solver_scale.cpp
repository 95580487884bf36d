// Solvers whose stopping logic must not depend on the scale of the problem: b = 0 with a
// nonzero initial guess, and one system with b (or A) scaled by powers of two from 2^-1000
// to 2^1000. Powers of two are exact, so every solver must take the same iterations at
// every scale and return an x whose true residual, computed here in long double, meets the
// tolerance.
#include <cmath>
#include <functional>
#include <string>

#include "mixprec/preconditioner.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

using solver_fn = std::function<solve_report(const linear_operator&, const_view, view)>;

struct named_solver {
  std::string name;
  bool symmetric_only;  // needs SPD A (CG family, Chebyshev)
  std::function<solve_report(const linear_operator&, const_view, view, const solve_options&)> run;
};

solve_options tight() {
  solve_options o;
  o.rel_tol = 1e-9;
  o.max_iterations = 5000;
  return o;
}

std::vector<named_solver> all_solvers() {
  std::vector<named_solver> v;
  v.push_back({"cg", true, [](auto& a, auto b, auto x, auto o) { return cg(a, b, x, o); }});
  v.push_back({"pcg_jacobi", true, [](auto& a, auto b, auto x, auto o) {
                 const jacobi_preconditioner m(a);
                 o.preconditioner = &m;
                 return cg(a, b, x, o);
               }});
  v.push_back({"chebyshev", true, [](auto& a, auto b, auto x, auto o) {
                 const spectrum_estimate e = estimate_spectrum(a, 40);
                 return chebyshev(a, b, x, e.lambda_min / 2, 1.1 * e.lambda_max, o);
               }});
  v.push_back({"bicgstab", false, [](auto& a, auto b, auto x, auto o) { return bicgstab(a, b, x, o); }});
  v.push_back({"bicgstab_jacobi", false, [](auto& a, auto b, auto x, auto o) {
                 const jacobi_preconditioner m(a);
                 o.preconditioner = &m;
                 return bicgstab(a, b, x, o);
               }});
  v.push_back({"gmres", false, [](auto& a, auto b, auto x, auto o) { return gmres(a, b, x, o); }});
  v.push_back({"fgmres_ilu0", false, [](auto& a, auto b, auto x, auto o) {
                 const incomplete_factorization m(a, incomplete_factorization::kind::ilu0);
                 o.preconditioner = &m;
                 return fgmres(a, b, x, o);
               }});
  v.push_back({"refine_gmres_f32", false, [](auto& a, auto b, auto x, auto o) {
                 refinement_options r;
                 r.inner_method = inner_solver::gmres;
                 r.outer = o;
                 return refine(a, b, x, r);
               }});
  v.push_back({"refine_cg_reliable_f32", true, [](auto& a, auto b, auto x, auto o) {
                 refinement_options r;
                 r.inner_method = inner_solver::cg_reliable;
                 r.outer = o;
                 return refine(a, b, x, r);
               }});
  return v;
}

/// The test systems: SPD (2-D Poisson) and nonsymmetric (3-D convection-diffusion).
coo_matrix system_for(const named_solver& s) {
  return s.symmetric_only ? poisson_2d(12).to_coo() : convection_diffusion_3d(6, 5.0).to_coo();
}

coo_matrix scaled(coo_matrix a, int power) {
  for (double& v : a.value) v = std::ldexp(v, power);
  return a;
}

std::vector<double> scaled(std::vector<double> v, int power) {
  for (double& e : v) e = std::ldexp(e, power);
  return v;
}

TEST(solver_scale, zero_rhs_gives_x_zero_at_once) {
  for (const named_solver& s : all_solvers()) {
    const coo_matrix a = system_for(s);
    const csr_operator op(csr_matrix::from_coo(a));
    array<double> b(std::vector<double>(std::size_t(a.rows), 0.0));
    array<double> x(random_vector(a.rows, 7));
    const solve_report rep = s.run(op, b.as_view(), x.as_view(), tight());
    EXPECT_TRUE(rep.converged()) << s.name << ": " << rep.summary();
    EXPECT_EQ(rep.iterations, 0) << s.name;
    EXPECT_EQ(x.to_vector(), std::vector<double>(std::size_t(a.rows), 0.0)) << s.name;
    EXPECT_EQ(rep.true_residual, 0.0) << s.name;
  }
}

/// Solves the system with A scaled by 2^a_power and b by 2^b_power; checks it converged to
/// the tolerance by the long-double residual and returns the iterations.
int solve_scaled(const named_solver& s, int a_power, int b_power) {
  const coo_matrix a0 = system_for(s);
  const coo_matrix a = scaled(a0, a_power);
  const std::vector<double> b = scaled(random_vector(a.rows, 3), b_power);
  const csr_operator op(csr_matrix::from_coo(a));
  array<double> bd(b), x(std::vector<double>(std::size_t(a.rows), 0.0));
  const solve_options o = tight();
  const solve_report rep = s.run(op, bd.as_view(), x.as_view(), o);
  const std::string where = s.name + " A*2^" + std::to_string(a_power) + " b*2^" + std::to_string(b_power);
  EXPECT_TRUE(rep.converged()) << where << ": " << rep.summary();
  // The report's true residual is evaluated in f64: it may differ from the exact one by the
  // rounding of b - A x, at most gamma_(k+1) of |b| + |A||x| with k nonzeros per row (7).
  const std::vector<double> xs = x.to_vector();
  // (A ratio, so computed on the unscaled system, whose squares stay in range.)
  const double rounding = 8 * 0x1p-53 / (1 - 8 * 0x1p-53) *
                          residual_rounding_scale(a0, random_vector(a.rows, 3), scaled(xs, a_power - b_power));
  EXPECT_LE(relative_residual(a, b, xs), o.rel_tol + rounding) << where << ": " << rep.summary();
  return rep.iterations;
}

TEST(solver_scale, b_scaled_by_powers_of_two_converges_in_the_same_iterations) {
  for (const named_solver& s : all_solvers()) {
    const int at_one = solve_scaled(s, 0, 0);
    for (int power : {-1000, -600, -300, -100, 100, 300, 600, 1000})
      EXPECT_EQ(solve_scaled(s, 0, power), at_one) << s.name << " b*2^" << power;
  }
}

TEST(solver_scale, a_scaled_by_powers_of_two_converges) {
  // x scales by 2^-k: the products that are quadratic in A (BiCGStab's t't) must not
  // overflow or underflow. The f32 refinement cannot hold A*2^1000 in its inner precision
  // and falls back to f64; the others take the same iterations as at scale 1.
  for (const named_solver& s : all_solvers()) {
    const int at_one = solve_scaled(s, 0, 0);
    for (int power : {-1000, -500, 500, 1000}) {
      const int its = solve_scaled(s, power, 0);
      if (s.name.rfind("refine", 0) != 0) EXPECT_EQ(its, at_one) << s.name << " A*2^" << power;
    }
  }
}

}  // namespace
}  // namespace mixprec::test
