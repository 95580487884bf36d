// Mixed-precision CG with reliable updates (Sleijpen & van der Vorst 1996; Clark et al.
// 2010, alg. 3): the CG recurrences run in the policy's precisions on the system scaled by
// s = ||r||, its iterate collects in a low-precision x_lo; whenever the recurrence residual
// has dropped by reliable_factor, x += s x_lo in f64 and the residual is replaced by the f64
// b - A x. The search direction p is kept (rescaled to the new s), so the Krylov space built
// so far is not thrown away as a restarted inner solve would.
#include <cmath>
#include <memory>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/refinement_support.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec::detail {
namespace {

/// The vectors of one precision attempt.
struct cg_vectors {
  buffer x_lo, r, z, p, q, x_step;  // z empty without preconditioner; x_step: x_lo in f64
  cg_vectors(dtype t, std::int64_t n, const context& ctx, bool preconditioned)
      : x_lo(t, n, ctx),
        r(t, n, ctx),
        z(preconditioned ? buffer(t, n, ctx) : buffer()),
        p(t, n, ctx),
        q(t, n, ctx),
        x_step(t == dtype::f64 ? buffer() : buffer(dtype::f64, n, ctx)) {}
};

/// What ended one attempt in a given precision.
enum class attempt_end { converged, stopped, failed };

}  // namespace

solve_report reliable_cg(const linear_operator& a, const_view b, view x, const refinement_options& o) {
  const linear_operator* m = o.inner.preconditioner;
  solve_monitor mon(m ? "pcg-reliable" : "cg-reliable", a, b, x, o.outer);
  const global_sums sums(a);
  precision_policy policy = o.policy;
  const std::int64_t n = x.size();
  buffer r64(dtype::f64, n, x.ctx()), x_saved(dtype::f64, n, x.ctx());

  // r64 = b - A x in f64; its norm.
  auto true_residual = [&] {
    residual(a, b, x, r64.as_view());
    return sums.nrm2(r64.as_view());
  };
  double rn = true_residual();
  if (mon.start(rn)) return mon.finish(a, b, x);

  for (;;) {  // one attempt per precision policy
    const inner_operator low(a, policy);
    note_precisions(mon.report(), low.get(), policy, m);
    cg_vectors v(policy.krylov, n, x.ctx(), m != nullptr);
    const view x_lo = v.x_lo.as_view(), r = v.r.as_view(), p = v.p.as_view(), q = v.q.as_view();
    const view z = m ? v.z.as_view() : r;
    const view step = policy.krylov == dtype::f64 ? x_lo : v.x_step.as_view();

    // Adds s * x_lo to x in f64 and clears x_lo.
    double s = rn;
    auto flush = [&] {
      if (policy.krylov != dtype::f64) convert(x_lo, step);
      axpy(s, step, x);
      fill(x_lo, 0.0);
    };
    // The start: r = (b - A x) / s, z = M^-1 r, p = z.
    fill(x_lo, 0.0);
    convert(r64.as_view(), r);
    scal(1.0 / s, r);
    if (m) m->apply(r, z);
    double rz = sums.dot(r, z);
    convert(z, p);
    double r_max = rn;  // the residual at the last replacement
    attempt_end end = attempt_end::stopped;
    stop_reason failure = stop_reason::breakdown;
    std::string why;
    for (;;) {
      low.get().apply(p, q);
      const double pq = sums.dot(p, q);
      if (!(pq > 0)) {
        failure = std::isfinite(pq) ? stop_reason::breakdown : stop_reason::non_finite;
        why = cat("p'Ap = ", pq, " at iteration ", mon.iterations() + 1);
        end = attempt_end::failed;
        break;
      }
      const double alpha = rz / pq;
      // x_lo += alpha p, r -= alpha q and r'r in one pass.
      const double rr = sums.sum(detail::cg_update(alpha, p, q, x_lo, r));
      const double res = s * std::sqrt(rr);  // the recurrence's residual, unscaled
      if (!std::isfinite(res)) {
        failure = stop_reason::non_finite;
        why = cat("the residual became ", res, " at iteration ", mon.iterations() + 1);
        end = attempt_end::failed;
        break;
      }
      if (mon.step(res)) {
        flush();
        break;
      }
      bool replaced = false;
      if (res < o.reliable_factor * r_max || mon.below_target(res)) {
        // Reliable update: x in f64, the residual recomputed in f64.
        copy(x, x_saved.as_view());
        flush();
        const double rn_new = true_residual();
        if (mon.below_target(rn_new)) {
          mon.confirm(rn_new);
          end = attempt_end::converged;
          break;
        }
        if (!(rn_new < r_max)) {  // no progress since the last replacement
          failure = std::isfinite(rn_new) ? stop_reason::stagnation : stop_reason::non_finite;
          why = cat("the f64 residual went from ", mon.relative(r_max), " to ", mon.relative(rn_new),
                    " (relative) between two replacements");
          copy(x_saved.as_view(), x);  // undo the step that did not help
          end = attempt_end::failed;
          break;
        }
        // Same direction, new scale: p and r'z follow s; r is the f64 residual now.
        const double ratio = s / rn_new;
        s = rn = r_max = rn_new;
        scal(ratio, p);
        rz *= ratio * ratio;
        convert(r64.as_view(), r);
        scal(1.0 / s, r);
        replaced = true;
        mon.count_restart();
      }
      double rz_new;
      if (m) {
        m->apply(r, z);
        rz_new = sums.dot(r, z);
      } else {
        rz_new = replaced ? sums.dot(r, r) : rr;
      }
      if (!(rz_new > 0)) {
        failure = std::isfinite(rz_new) ? stop_reason::breakdown : stop_reason::non_finite;
        why = cat("r'M^-1 r = ", rz_new, " at iteration ", mon.iterations());
        end = attempt_end::failed;
        break;
      }
      const double beta = rz_new / rz;
      rz = rz_new;
      axpby(1.0, z, beta, p);  // p = z + beta p
    }
    if (end != attempt_end::failed) break;

    // This precision failed; x keeps what the last replacement confirmed.
    rn = true_residual();
    const std::string what = cat("the ", policy.name(), " cg: ", why);
    if (!can_fall_back(o, policy)) {
      mon.stop(failure, what);
      break;
    }
    policy = fall_back(mon.report(), policy, what);
  }
  return mon.finish(a, b, x);
}

}  // namespace mixprec::detail
