// Chebyshev iteration (Saad, Iterative Methods, alg. 12.1; Gutknecht & Roellin 2002 form)
// for A (or M^-1 A) with spectrum in [lambda_min, lambda_max]: its recurrence needs no inner
// products. The residual norm is still computed each iteration, for the stopping test only.
#include <cmath>

#include "internal/error_macros.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {
namespace {

constexpr const char* name = "chebyshev";

solve_report chebyshev_at(const linear_operator& a, const_view b, view x, double lambda_min, double lambda_max,
                          const solve_options& o) {
  detail::solve_monitor mon(name, a, b, x, o);
  const detail::global_sums sums(a);
  const linear_operator* m = o.preconditioner;

  buffer r_buf = detail::work_vector(x), d_buf = detail::work_vector(x);
  buffer z_buf = m ? detail::work_vector(x) : buffer();
  const view r = r_buf.as_view(), d = d_buf.as_view(), z = m ? z_buf.as_view() : r;

  const double theta = (lambda_max + lambda_min) / 2, delta = (lambda_max - lambda_min) / 2, sigma = theta / delta;
  double rho = 1 / sigma;
  // Starts (again) from the true residual: d = M^-1 r / theta.
  auto restart = [&]() {
    detail::residual(a, b, x, r);
    const double norm = sums.nrm2(r);
    if (m) m->apply(r, z);
    convert(z, d);
    scal(1 / theta, d);
    rho = 1 / sigma;
    return norm;
  };
  if (mon.start(restart())) return mon.finish(a, b, x);
  for (;;) {
    axpy(1.0, d, x);
    a.apply(-1.0, d, 1.0, r);
    const double res = sums.nrm2(r);
    if (mon.step(res)) break;
    if (mon.below_target(res)) {
      if (mon.confirm(restart()) || mon.stopped()) break;
      continue;
    }
    if (m) m->apply(r, z);
    const double rho_new = 1 / (2 * sigma - rho);
    axpby(2 * rho_new / delta, z, rho_new * rho, d);
    rho = rho_new;
  }
  return mon.finish(a, b, x);
}

}  // namespace

solve_report chebyshev(const linear_operator& a, const_view b, view x, double lambda_min, double lambda_max,
                       const solve_options& o) {
  detail::check_solve(name, a, b, x, o);
  if (!(lambda_min > 0 && lambda_max > lambda_min && std::isfinite(lambda_max)))
    MIXPREC_THROW(invalid_argument, name, "eigenvalue bounds [", lambda_min, ", ", lambda_max,
                  "]: need 0 < lambda_min < lambda_max");
  return detail::solve_at_unit_scale(a, b, x, o, [&](const_view bs, const solve_options& os) {
    return chebyshev_at(a, bs, x, lambda_min, lambda_max, os);
  });
}

}  // namespace mixprec
