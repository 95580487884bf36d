// Conjugate gradients, preconditioned when a preconditioner is given (Saad, Iterative
// Methods, alg. 9.1). Without one z aliases r, so r'z is also ||r||^2: one reduction less.
// Per iteration the vectors are passed over three times besides the operator: p'Ap, the
// fused update of x and r with r'r, and p = z + beta p (16 vector streams down to 11).
// With point Jacobi on the CPU z is never formed: the update also returns r'Dr, and
// p = Dr + beta p is one diag_scale (a Jacobi-PCG iteration 10.8 -> 9.2 MB of traffic, and
// no one-entry-per-row SpMV).
#include <cmath>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/preconditioner.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {
namespace {

solve_report cg_at(const linear_operator& a, const_view b, view x, const solve_options& o) {
  const char* name = o.preconditioner ? "pcg" : "cg";
  detail::solve_monitor mon(name, a, b, x, o);
  const detail::global_sums sums(a);
  const linear_operator* m = o.preconditioner;

  buffer r_buf = detail::work_vector(x), p_buf = detail::work_vector(x), q_buf = detail::work_vector(x);
  buffer z_buf = m ? detail::work_vector(x) : buffer();
  const view r = r_buf.as_view(), p = p_buf.as_view(), q = q_buf.as_view();
  const view z = m ? z_buf.as_view() : r;
  // Point Jacobi whose diagonal diag_scale can apply to these vectors: fused updates.
  const auto* jacobi = dynamic_cast<const jacobi_preconditioner*>(m);
  const const_view d = jacobi ? jacobi->inverse_diagonal() : const_view();
  const bool fused_jacobi = jacobi && detail::diag_scale_serves(d, r, p) && detail::diag_scale_serves(d, x, q);

  // (Re)starts from the true residual of x: r, z = M^-1 r, p = z; returns r'z.
  auto restart = [&]() {
    detail::residual(a, b, x, r);
    if (m) m->apply(r, z);
    convert(z, p);
    return sums.dot(r, z);
  };
  double rz = restart();
  // The start's norm from r itself: sqrt(r'r) would read 0 for an r whose squares underflow
  // and end the solve "converged" before it began.
  if (mon.start(sums.nrm2(r))) return mon.finish(a, b, x);

  for (;;) {
    a.apply(p, q);
    const double pq = sums.dot(p, q);
    if (!std::isfinite(pq)) {
      mon.stop(stop_reason::non_finite, detail::cat("p'Ap = ", pq, " at iteration ", mon.iterations() + 1));
      break;
    }
    if (pq <= 0) {
      mon.stop(stop_reason::breakdown, detail::cat("p'Ap = ", pq, " <= 0 at iteration ", mon.iterations() + 1,
                                                   ": A is not positive definite (CG needs SPD A)"));
      break;
    }
    const double alpha = rz / pq;
    double rr, rz_new;
    if (fused_jacobi) {
      // x += alpha p, r -= alpha q, r'r and r'Dr in one pass.
      const detail::pcg_jacobi_sums s = detail::pcg_jacobi_update(alpha, p, q, d, x, r);
      double both[2] = {s.rr, s.rdr};
      sums.sum(both, 2);
      rr = both[0];
      rz_new = both[1];
    } else {
      // x += alpha p, r -= alpha q and r'r in one pass over the four vectors.
      rr = sums.sum(detail::cg_update(alpha, p, q, x, r));
      rz_new = rr;
    }
    const double res = std::sqrt(rr);
    if (mon.step(res)) break;
    if (mon.below_target(res)) {
      // The recurrence says converged: check against b - A x, go on from it if not met.
      rz = restart();
      if (mon.confirm(m ? sums.nrm2(r) : std::sqrt(rz)) || mon.stopped()) break;
      continue;
    }
    if (m && !fused_jacobi) {
      m->apply(r, z);
      rz_new = sums.dot(r, z);
    }
    if (m && !(rz_new > 0)) {
      mon.stop(std::isfinite(rz_new) ? stop_reason::breakdown : stop_reason::non_finite,
               detail::cat("r'M^-1 r = ", rz_new, " at iteration ", mon.iterations(),
                           ": the preconditioner is not positive definite"));
      break;
    }
    const double beta = rz_new / rz;
    rz = rz_new;
    if (fused_jacobi)
      detail::diag_scale(1.0, d, r, beta, p);  // p = D r + beta p
    else
      axpby(1.0, z, beta, p);  // p = z + beta p
  }
  return mon.finish(a, b, x);
}

}  // namespace

solve_report cg(const linear_operator& a, const_view b, view x, const solve_options& o) {
  detail::check_solve(o.preconditioner ? "pcg" : "cg", a, b, x, o);
  return detail::solve_at_unit_scale(a, b, x, o,
                                     [&](const_view bs, const solve_options& os) { return cg_at(a, bs, x, os); });
}

}  // namespace mixprec
