// Iterative refinement with a low-precision inner Krylov solve (Carson & Higham 2018's
// GMRES-IR, and the same with CG): residuals and the solution in f64, the correction solved
// for in the policy's precisions, and a fallback to higher precision when the low one fails.
#include "mixprec/refinement.hpp"

#include <algorithm>
#include <memory>

#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/refinement_support.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {

std::string precision_policy::name() const {
  const std::string halo_part = halo == dtype::f64 ? "" : std::string("+") + name_of(halo) + "-halo";
  if (matrix == dtype::f64 && krylov == dtype::f64) return "f64" + halo_part;
  if (matrix == krylov) return std::string(name_of(matrix)) + "-ir" + halo_part;
  return std::string(name_of(matrix)) + "/" + name_of(krylov) + "-ir" + halo_part;
}

precision_policy precision_policy::parse(const std::string& name) {
  std::string s = name;
  try {
    dtype halo = dtype::f64;
    if (const auto plus = s.find('+'); plus != std::string::npos) {
      std::string h = s.substr(plus + 1);
      if (h.size() <= 5 || h.compare(h.size() - 5, 5, "-halo") != 0)
        MIXPREC_THROW(invalid_argument, "precision_policy::parse", "no -halo after +");
      h.resize(h.size() - 5);
      halo = parse_dtype(h);
      s.resize(plus);
    }
    if (s.size() > 3 && s.compare(s.size() - 3, 3, "-ir") == 0) s.resize(s.size() - 3);
    const auto slash = s.find('/');
    if (slash == std::string::npos) {
      const dtype t = parse_dtype(s);
      return {t, t, halo};
    }
    return {parse_dtype(s.substr(0, slash)), parse_dtype(s.substr(slash + 1)), halo};
  } catch (const error&) {
    MIXPREC_THROW(invalid_argument, "precision_policy::parse", "'", name,
                  "' is not a policy name (f64, f32-ir, bf16/f32-ir, f16/f32-ir: matrix/krylov dtypes; ",
                  "then +f32-halo or +bf16-halo)");
  }
}

const char* name_of(inner_solver s) {
  switch (s) {
    case inner_solver::cg:
      return "cg";
    case inner_solver::bicgstab:
      return "bicgstab";
    case inner_solver::gmres:
      return "gmres";
    case inner_solver::fgmres:
      return "fgmres";
    case inner_solver::cg_reliable:
      return "cg_reliable";
  }
  return "?";
}

namespace {

solve_report solve_inner(inner_solver method, const linear_operator& a, const_view b, view x, const solve_options& o) {
  switch (method) {
    case inner_solver::cg:
      return cg(a, b, x, o);
    case inner_solver::bicgstab:
      return bicgstab(a, b, x, o);
    case inner_solver::gmres:
      return gmres(a, b, x, o);
    case inner_solver::fgmres:
      return fgmres(a, b, x, o);
    case inner_solver::cg_reliable:
      break;  // not an inner solver: refine() runs it whole
  }
  return {};
}

}  // namespace

namespace detail {

precision_policy raised(precision_policy p) {
  if (p.matrix == dtype::f16 || p.matrix == dtype::bf16) return {dtype::f32, p.krylov, p.halo};
  return precision_policy::f64();
}

void note_precisions(solve_report& rep, const linear_operator& inner, const precision_policy& policy,
                     const linear_operator* preconditioner) {
  rep.matrix_type = inner.storage_type();
  rep.krylov_type = policy.krylov;
  rep.preconditioned = preconditioner != nullptr;
  rep.preconditioner_type = preconditioner ? preconditioner->storage_type() : rep.matrix_type;
}

precision_policy fall_back(solve_report& rep, const precision_policy& from, const std::string& why) {
  const precision_policy to = raised(from);
  rep.fallback += detail::cat(rep.fallback.empty() ? "" : "; ", from.name(), " -> ", to.name(), " because ", why);
  return to;
}

void check_policy(const refinement_options& o) {
  constexpr const char* op = "refine";
  const dtype m = o.policy.matrix, k = o.policy.krylov;
  if (m != dtype::f64 && m != dtype::f32 && m != dtype::f16 && m != dtype::bf16)
    MIXPREC_THROW(unsupported, op, "policy.matrix ", name_of(m), " (f64, f32, f16 or bf16)");
  if (k != dtype::f64 && k != dtype::f32) MIXPREC_THROW(unsupported, op, "policy.krylov ", name_of(k), " (f64 or f32)");
  const dtype h = o.policy.halo;
  if (h != dtype::f64 && h != dtype::f32 && h != dtype::bf16)
    MIXPREC_THROW(unsupported, op, "policy.halo ", name_of(h), " (f64, f32 or bf16)");
  if (!(o.min_reduction > 0 && o.min_reduction < 1))
    MIXPREC_THROW(invalid_argument, op, "min_reduction = ", o.min_reduction, " (in (0, 1))");
  if (!(o.inner.rel_tol > 0 && o.inner.rel_tol < 1))
    MIXPREC_THROW(invalid_argument, op, "inner.rel_tol = ", o.inner.rel_tol,
                  " (in (0, 1): each inner solve must reduce the residual)");
  if (!(o.reliable_factor > 0 && o.reliable_factor < 1))
    MIXPREC_THROW(invalid_argument, op, "reliable_factor = ", o.reliable_factor, " (in (0, 1))");
}

}  // namespace detail

namespace {

solve_report refine_at(const linear_operator& a, const_view b, view x, const refinement_options& o) {
  if (o.inner_method == inner_solver::cg_reliable) return detail::reliable_cg(a, b, x, o);

  precision_policy policy = o.policy;
  detail::solve_monitor mon(std::string(name_of(o.inner_method)) + "-ir", a, b, x, o.outer);
  auto inner_a = std::make_unique<detail::inner_operator>(a, policy);
  detail::note_precisions(mon.report(), inner_a->get(), policy, o.inner.preconditioner);

  const std::int64_t n = x.size();
  buffer r(dtype::f64, n, x.ctx()), x_before(dtype::f64, n, x.ctx());
  buffer rk, dk, d64;
  auto make_krylov_vectors = [&] {
    rk = buffer(policy.krylov, n, x.ctx());
    dk = buffer(policy.krylov, n, x.ctx());
    d64 = policy.krylov == dtype::f64 ? buffer() : buffer(dtype::f64, n, x.ctx());
  };
  make_krylov_vectors();

  detail::residual(a, b, x, r.as_view());
  const detail::global_sums sums(a);
  double rn = sums.nrm2(r.as_view());
  if (mon.start(rn)) return mon.finish(a, b, x);

  for (;;) {
    // Solve A d = r / ||r|| (scaled so that low precision neither overflows nor underflows).
    convert(r.as_view(), rk.as_view());
    scal(1.0 / rn, rk.as_view());
    fill(dk.as_view(), 0.0);
    // Ask no more of the inner solve than the target needs (with a tenth for the rounding
    // between its recurrence and the f64 residual): the last step is often a short one. Nor
    // more than its products can be trusted to: halo values rounded to u_h put noise of
    // about u_h into every product, and a Krylov solve asked to go far below it spends its
    // iterations against that noise (measured in docs/distributed.md).
    solve_options inner_o = o.inner;
    inner_o.rel_tol = std::max(
        {o.inner.rel_tol, 0.25 * unit_roundoff(inner_a->get().halo_type()), std::min(0.5, 0.1 * mon.target() / rn)});
    const solve_report inner = solve_inner(o.inner_method, inner_a->get(), rk.as_view(), dk.as_view(), inner_o);
    mon.report().inner_iterations += inner.iterations;

    const bool inner_failed = inner.reason == stop_reason::breakdown || inner.reason == stop_reason::non_finite;
    double rn_new = rn;
    if (!inner_failed) {
      copy(x, x_before.as_view());
      const view d = policy.krylov == dtype::f64 ? dk.as_view() : d64.as_view();
      if (policy.krylov != dtype::f64) convert(dk.as_view(), d);
      axpy(rn, d, x);
      detail::residual(a, b, x, r.as_view());
      rn_new = sums.nrm2(r.as_view());
    }
    if (inner_failed || !(rn_new <= o.min_reduction * rn)) {
      const std::string why =
          inner_failed ? detail::cat("the ", policy.name(), " inner ", name_of(o.inner_method), " ended in ",
                                     name_of(inner.reason), " (", inner.message, ")")
                       : detail::cat("an outer step with the ", policy.name(), " inner ", name_of(o.inner_method),
                                     " took the f64 residual from ", mon.relative(rn), " to ", mon.relative(rn_new),
                                     " (relative), less than the factor ", o.min_reduction, " asked");
      if (!inner_failed) {  // undo the step that did not help
        copy(x_before.as_view(), x);
        detail::residual(a, b, x, r.as_view());
      }
      if (!detail::can_fall_back(o, policy)) {
        mon.stop(inner_failed ? inner.reason : stop_reason::stagnation, why);
        break;
      }
      policy = detail::fall_back(mon.report(), policy, why);
      inner_a = std::make_unique<detail::inner_operator>(a, policy);
      make_krylov_vectors();
      detail::note_precisions(mon.report(), inner_a->get(), policy, o.inner.preconditioner);
      continue;
    }
    rn = rn_new;
    if (mon.step(rn)) break;
    if (mon.below_target(rn)) {
      mon.confirm(rn);  // rn is the true f64 residual already
      break;
    }
  }
  return mon.finish(a, b, x);
}

}  // namespace

solve_report refine(const linear_operator& a, const_view b, view x, const refinement_options& o) {
  constexpr const char* op = "refine";
  detail::check_solve(op, a, b, x, o.outer);
  if (x.type() != dtype::f64)
    MIXPREC_THROW(unsupported, op, "b and x must be f64 (the precision refinement delivers), not ", name_of(x.type()));
  detail::check_policy(o);
  return detail::solve_at_unit_scale(a, b, x, o.outer, [&](const_view bs, const solve_options& outer) {
    refinement_options scaled = o;
    scaled.outer = outer;
    return refine_at(a, bs, x, scaled);
  });
}

}  // namespace mixprec
