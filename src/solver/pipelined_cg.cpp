// Pipelined conjugate gradients (Ghysels & Vanroose 2014, alg. "p-CG"): CG rewritten so
// that each iteration's inner products — r'u, w'u and r'r, with u = M^-1 r and w = A u —
// form one reduction that is begun before the iteration's preconditioner and operator
// products and completed after them. On a distributed operator the reduction's latency
// hides behind that work; on one process the method only costs more vector updates (four
// recurrences besides x and r), which is why cg stays the default there.
//
// The extra recurrences carry rounding of their own, so the recurrence residual drifts
// further from b - A x than CG's: where it says converged the monitor checks the true
// residual and the pipeline restarts from it if the target is not met.
#include <cmath>
#include <memory>

#include "internal/error_macros.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {
namespace {

constexpr const char* plain_name = "cg-pipelined";
constexpr const char* preconditioned_name = "pcg-pipelined";

solve_report pipelined_cg_at(const linear_operator& a, const_view b, view x, const solve_options& o) {
  const linear_operator* m = o.preconditioner;
  detail::solve_monitor mon(m ? preconditioned_name : plain_name, a, b, x, o);
  const detail::global_sums sums(a);

  // Without a preconditioner u = r, m = w and q = s: three vectors fewer.
  buffer r_buf = detail::work_vector(x), w_buf = detail::work_vector(x), n_buf = detail::work_vector(x),
         z_buf = detail::work_vector(x), s_buf = detail::work_vector(x), p_buf = detail::work_vector(x);
  buffer u_buf = m ? detail::work_vector(x) : buffer(), mw_buf = m ? detail::work_vector(x) : buffer(),
         q_buf = m ? detail::work_vector(x) : buffer();
  const view r = r_buf.as_view(), w = w_buf.as_view(), nv = n_buf.as_view(), z = z_buf.as_view(), s = s_buf.as_view(),
             p = p_buf.as_view();
  const view u = m ? u_buf.as_view() : r, mw = m ? mw_buf.as_view() : w, q = m ? q_buf.as_view() : s;

  // (Re)starts the pipeline from the true residual: r = b - A x, u = M^-1 r, w = A u.
  bool first = true;
  auto restart = [&] {
    detail::residual(a, b, x, r);
    if (m) m->apply(r, u);
    a.apply(u, w);
    first = true;
  };
  restart();
  if (mon.start(sums.nrm2(r))) return mon.finish(a, b, x);

  double gamma_old = 0, alpha_old = 0;
  for (;;) {
    // gamma = r'u, delta = w'u, rr = r'r: local parts now, summed while M and A work.
    double products[3] = {m ? dot(r, u, accumulation::f64) : 0.0, dot(w, u, accumulation::f64),
                          dot(r, r, accumulation::f64)};
    std::unique_ptr<reduction_domain::pending> in_flight;
    if (sums.domain()) in_flight = sums.domain()->start_sum(products, 3);
    if (m) m->apply(w, mw);
    a.apply(mw, nv);
    if (in_flight) in_flight->wait();
    const double rr = products[2], gamma = m ? products[0] : rr, delta = products[1];

    if (!first) {
      const double res = std::sqrt(rr);
      if (mon.step(res)) break;
      if (mon.below_target(res)) {
        // The recurrence says converged: check against b - A x, go on from it if not met.
        restart();
        if (mon.confirm(sums.nrm2(r)) || mon.stopped()) break;
        continue;
      }
    }
    if (!std::isfinite(gamma) || !std::isfinite(delta)) {
      mon.stop(stop_reason::non_finite,
               detail::cat("r'M^-1 r = ", gamma, ", w'u = ", delta, " at iteration ", mon.iterations() + 1));
      break;
    }
    if (m && !(gamma > 0)) {
      mon.stop(stop_reason::breakdown, detail::cat("r'M^-1 r = ", gamma, " at iteration ", mon.iterations() + 1,
                                                   ": the preconditioner is not positive definite"));
      break;
    }
    const double beta = first ? 0.0 : gamma / gamma_old;
    // delta - beta gamma / alpha_old is p'Ap of CG: its sign is the test of definiteness.
    const double pap = first ? delta : delta - beta * gamma / alpha_old;
    if (!(pap > 0)) {
      mon.stop(stop_reason::breakdown, detail::cat("p'Ap = ", pap, " <= 0 at iteration ", mon.iterations() + 1,
                                                   ": A is not positive definite (CG needs SPD A)"));
      break;
    }
    const double alpha = gamma / pap;
    if (first) {
      convert(nv, z);
      convert(w, s);
      convert(u, p);
      if (m) convert(mw, q);
    } else {
      axpby(1.0, nv, beta, z);  // z = n + beta z
      axpby(1.0, w, beta, s);   // s = w + beta s
      axpby(1.0, u, beta, p);   // p = u + beta p
      if (m) axpby(1.0, mw, beta, q);
    }
    axpy(alpha, p, x);
    axpy(-alpha, s, r);
    if (m) axpy(-alpha, q, u);
    axpy(-alpha, z, w);
    gamma_old = gamma;
    alpha_old = alpha;
    first = false;
  }
  return mon.finish(a, b, x);
}

}  // namespace

solve_report cg_pipelined(const linear_operator& a, const_view b, view x, const solve_options& o) {
  const char* name = o.preconditioner ? preconditioned_name : plain_name;
  detail::check_solve(name, a, b, x, o);
  return detail::solve_at_unit_scale(
      a, b, x, o, [&](const_view bs, const solve_options& os) { return pipelined_cg_at(a, bs, x, os); });
}

}  // namespace mixprec
