// BiCGStab (van der Vorst 1992), right-preconditioned: iterates on A M^-1 u = b, x = M^-1 u,
// so the residual it monitors is the true one's recurrence. One iteration = two products
// with A; convergence is also tested after the half step (s = r - alpha v).
#include <cmath>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {
namespace {

constexpr const char* name = "bicgstab";

solve_report bicgstab_at(const linear_operator& a, const_view b, view x, const solve_options& o) {
  detail::solve_monitor mon(name, a, b, x, o);
  const detail::global_sums sums(a);
  const linear_operator* m = o.preconditioner;

  buffer r_buf = detail::work_vector(x), shadow_buf = detail::work_vector(x), p_buf = detail::work_vector(x),
         v_buf = detail::work_vector(x), t_buf = detail::work_vector(x);
  buffer ph_buf = m ? detail::work_vector(x) : buffer(), sh_buf = m ? detail::work_vector(x) : buffer();
  const view r = r_buf.as_view(), shadow = shadow_buf.as_view(), p = p_buf.as_view(), v = v_buf.as_view(),
             t = t_buf.as_view();
  const view p_hat = m ? ph_buf.as_view() : p, s_hat = m ? sh_buf.as_view() : r;  // r holds s after the half step

  double rho = 1, alpha = 1, omega = 1;
  auto restart = [&]() {
    detail::residual(a, b, x, r);
    convert(r, shadow);
    fill(p, 0.0);
    fill(v, 0.0);
    rho = alpha = omega = 1;
    return sums.nrm2(r);
  };
  // The half step or the full one met the target: true when the solve ends.
  auto confirm = [&]() { return mon.confirm(restart()) || mon.stopped(); };
  // x += step * dx and r -= step * dr in one pass that also returns ||r||: sqrt(r'r), or
  // the scaled nrm2 where r'r under- or overflowed (a norm of 0 is then not believed).
  auto update = [&](double step, const_view dx, const_view dr) {
    const double rr = sums.sum(detail::cg_update(step, dx, dr, x, r));
    return rr > 0 && std::isfinite(rr) ? std::sqrt(rr) : sums.nrm2(r);
  };
  if (mon.start(restart())) return mon.finish(a, b, x);

  for (;;) {
    const double rho_new = sums.dot(shadow, r);
    if (rho_new == 0 || !std::isfinite(rho_new)) {
      mon.stop(rho_new == 0 ? stop_reason::breakdown : stop_reason::non_finite,
               detail::cat("rho = r0'r = ", rho_new, " at iteration ", mon.iterations() + 1));
      break;
    }
    const double beta = (rho_new / rho) * (alpha / omega);
    rho = rho_new;
    axpy(-omega, v, p);  // p = r + beta (p - omega v)
    axpby(1.0, r, beta, p);
    if (m) m->apply(p, p_hat);
    a.apply(p_hat, v);
    const double shadow_v = sums.dot(shadow, v);
    if (shadow_v == 0 || !std::isfinite(shadow_v)) {
      mon.stop(shadow_v == 0 ? stop_reason::breakdown : stop_reason::non_finite,
               detail::cat("r0'A p = ", shadow_v, " at iteration ", mon.iterations() + 1));
      break;
    }
    alpha = rho / shadow_v;
    const double s_norm = update(alpha, p_hat, v);  // r = s
    if (mon.below_target(s_norm)) {
      if (mon.step(s_norm) || confirm()) break;
      continue;
    }
    if (m) m->apply(r, s_hat);
    a.apply(s_hat, t);
    double t_products[2] = {dot(t, t, accumulation::f64), dot(t, r, accumulation::f64)};
    sums.sum(t_products, 2);  // one reduction for both
    double tt = t_products[0];
    const double ts = t_products[1];
    if (tt > 0 && tt < 0x1p1000 && tt > 0x1p-1000) {
      omega = ts / tt;
    } else {
      // t't left the range of squares (A scaled far from 1): ||t|| is computed scaled.
      const double tn = sums.nrm2(t);
      tt = tn * tn;
      omega = tn > 0 ? ts / tn / tn : 0.0;
    }
    if (omega == 0 || !std::isfinite(omega)) {
      mon.stop(std::isfinite(omega) ? stop_reason::breakdown : stop_reason::non_finite,
               detail::cat("omega = t's / t't = ", ts, " / ", tt, " at iteration ", mon.iterations() + 1,
                           " (the stabilising step stalls)"));
      break;
    }
    const double res = update(omega, s_hat, t);
    if (mon.step(res)) break;
    if (mon.below_target(res) && confirm()) break;
  }
  return mon.finish(a, b, x);
}

}  // namespace

solve_report bicgstab(const linear_operator& a, const_view b, view x, const solve_options& o) {
  detail::check_solve(name, a, b, x, o);
  return detail::solve_at_unit_scale(a, b, x, o,
                                     [&](const_view bs, const solve_options& os) { return bicgstab_at(a, bs, x, os); });
}

}  // namespace mixprec
