#include "tools/compare/solver_cases.hpp"

#include <chrono>
#include <cmath>

#include "mixprec/linear_operator.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

/// How one case solves: the FP64 method alone, or refinement with a policy.
struct solve_plan {
  bool refine = false;
  precision_policy policy = precision_policy::f64();
  inner_solver inner = inner_solver::cg;
  std::string label() const {
    if (!refine) return "f64";
    return policy.name() + (inner == inner_solver::cg_reliable ? "/reliable" : "");
  }
};

solve_report solve_with(const solve_plan& plan, const solver_problem& p, const linear_operator& op, const_view b,
                        view x, convergence_history* history) {
  fill(x, 0.0);
  const auto t0 = std::chrono::steady_clock::now();
  // Refinement's outer steps are recorded against the Krylov iterations of all inner solves,
  // counted by the inner progress callback, so that every policy shares one axis.
  auto inner_count = std::make_shared<int>(0);
  const auto record = [history, t0, inner_count, &plan](const iteration_info& i) {
    history->residual.push_back(i.relative_residual);
    history->iterations.push_back(plan.refine && plan.inner != inner_solver::cg_reliable ? *inner_count : i.iteration);
    history->seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return true;
  };
  if (!plan.refine) {
    solve_options o;
    o.rel_tol = p.target;
    o.max_iterations = p.max_iterations;
    o.record_history = false;
    if (history) o.progress = record;
    return p.spd ? cg(op, b, x, o) : gmres(op, b, x, o);
  }
  refinement_options o;
  o.policy = plan.policy;
  o.inner_method = plan.inner;
  o.outer.rel_tol = p.target;
  o.outer.max_iterations = plan.inner == inner_solver::cg_reliable ? p.max_iterations : 100;
  o.inner.max_iterations = p.max_iterations;
  if (history) {
    o.outer.progress = record;
    o.inner.progress = [inner_count](const iteration_info&) {
      ++*inner_count;
      return true;
    };
  }
  return refine(op, b, x, o);
}

void add_plan(case_list& cases, const solver_problem& p, const solve_plan& plan) {
  case_def d{p.family, (p.spd ? "cg/" : "gmres/") + p.name, plan.label(), {}};
  d.prepare = [p, plan] {
    auto op = std::make_shared<csr_operator>(*p.a);
    auto b = std::make_shared<array<double>>(*p.b);
    auto x = std::make_shared<array<double>>(p.a->rows());
    auto last = std::make_shared<solve_report>();
    prepared_case c;
    c.max_samples = 3;  // one solve is a long sample already
    c.run = [p, plan, op, b, x, last] { *last = solve_with(plan, p, *op, b->as_view(), x->as_view(), nullptr); };
    c.check = [p, plan, op, b, x](case_result& r) {
      const solve_report rep = solve_with(plan, p, *op, b->as_view(), x->as_view(), &r.history);
      r.iterations = plan.refine && plan.inner != inner_solver::cg_reliable ? rep.inner_iterations : rep.iterations;
      r.stop_reason = name_of(rep.reason);
      r.note = rep.method + (plan.refine ? ", " + std::to_string(rep.iterations) + " outer steps" : "") +
               (rep.fallback.empty() ? "" : "; fallback: " + rep.fallback);
      r.accuracy.push_back(checked_figure("true relative residual", "target", rep.true_residual, p.target,
                                          "the FP64 tolerance asked for, ||b - A x|| / ||b|| in f64"));
      if (p.x_exact) {
        const std::vector<double> got = x->to_vector();
        r.accuracy.push_back(
            plain_figure("relative forward error", "f64 problem", normwise_error(got, widened(*p.x_exact))));
      }
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_solver_cases_for(case_list& cases, const solver_problem& p) {
  const inner_solver inner = p.spd ? inner_solver::cg : inner_solver::gmres;
  add_plan(cases, p, {false, precision_policy::f64(), inner});
  add_plan(cases, p, {true, precision_policy::f32(), inner});
  add_plan(cases, p, {true, precision_policy::half_matrix(dtype::bf16), inner});
  add_plan(cases, p, {true, precision_policy::half_matrix(dtype::f16), inner});
  if (p.spd) add_plan(cases, p, {true, precision_policy::f32(), inner_solver::cg_reliable});
}

}  // namespace mixprec::compare
