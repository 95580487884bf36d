// Restarted GMRES(m) and flexible GMRES(m), right-preconditioned (Saad, Iterative Methods,
// alg. 6.9 and 9.6): the Arnoldi basis in x's dtype, the Hessenberg matrix, its Givens
// rotations and the small triangular solve on the host in f64. Every cycle begins from the
// true residual b - A x, so restarts double as the check of convergence. The Arnoldi
// process is MGS or CGS2 here, DCGS2 in gmres_dcgs2.cpp.
#include <cmath>
#include <vector>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/blas1.hpp"
#include "solver/gmres_parts.hpp"

namespace mixprec {
namespace {

using detail::vector_in;
using detail::vectors_in;

/// Orthogonalizes w against v_0..v_j; h receives the coefficients (j+1 of them).
void orthogonalize(const detail::global_sums& sums, orthogonalization how, buffer& basis, int j, std::int64_t n, view w,
                   double* h) {
  if (how == orthogonalization::mgs) {
    for (int i = 0; i <= j; ++i) {
      const view vi = vector_in(basis, i, n);
      h[i] = sums.dot(w, vi);
      axpy(-h[i], vi, w);
    }
    return;
  }
  // CGS2: all coefficients from the same w, subtracted together, then once more to remove
  // what rounding left (Giraud, Langou, Rozloznik 2005: twice is enough). Each pass reads w
  // once for all the dot products and once for all the updates (mdot, maxpy), where one
  // dot and one axpy per basis vector read it 3(j+1) times.
  std::vector<double> c(static_cast<std::size_t>(j + 1));
  for (int i = 0; i <= j; ++i) h[i] = 0;
  const const_view v = vectors_in(basis, 0, j + 1, n);
  for (int pass = 0; pass < 2; ++pass) {
    detail::mdot(v, w, c.data());
    sums.sum(c.data(), j + 1);  // one reduction for the whole pass
    for (int i = 0; i <= j; ++i) {
      h[i] += c[std::size_t(i)];
      c[std::size_t(i)] = -c[std::size_t(i)];
    }
    detail::maxpy(c.data(), v, w);
  }
}

/// One cycle of Arnoldi with MGS or CGS2 from v_0 = r/beta: each vector orthogonalized in
/// full before the operator takes it.
detail::cycle_end arnoldi(const detail::gmres_cycle_state& st, orthogonalization how, double beta) {
  detail::cycle_end end;
  st.lsq.start(beta);
  for (int j = 0; j < st.restart; ++j) {
    const view vj = vector_in(st.basis, j, st.n), w = vector_in(st.basis, j + 1, st.n);
    detail::apply_preconditioned(st, j, vj, w);
    orthogonalize(st.sums, how, st.basis, j, st.n, w, st.lsq.column(j));
    const double hn = st.sums.nrm2(w);
    st.lsq.h(j + 1, j) = hn;
    if (hn > 0 && std::isfinite(hn)) scal(1.0 / hn, w);
    const double d = st.lsq.add_column(j), res = st.lsq.residual(j);
    end.finite = std::isfinite(res) && std::isfinite(d);
    if (!end.finite) return end;
    if (d == 0) {  // H(j, j) and H(j+1, j) both zero: the least-squares problem is singular
      detail::report_singular_column(st.mon, j);
      end.stop = true;
      return end;
    }
    end.cols = j + 1;
    end.stop = st.mon.step(res);
    end.met_target = st.mon.below_target(res);
    if (end.stop || end.met_target || hn == 0) return end;  // hn == 0: the solution is in the space
  }
  return end;
}

solve_report gmres_cycles(const char* method, bool flexible, const linear_operator& a, const_view b, view x,
                          const solve_options& o) {
  if (o.restart < 1) MIXPREC_THROW(invalid_argument, method, "restart = ", o.restart, " (>= 1)");
  const std::string name = std::string(method) + "(" + std::to_string(o.restart) + ")/" + name_of(o.ortho);
  detail::solve_monitor mon(name, a, b, x, o);
  const detail::global_sums sums(a);
  const linear_operator* m = o.preconditioner;
  const int restart = o.restart;
  const std::int64_t n = x.size();
  const bool delayed = o.ortho == orthogonalization::dcgs2;

  buffer basis(x.type(), (restart + 1) * n, x.ctx());
  // Flexible: z_j = M^-1 v_j kept for the update; fixed: one vector for M^-1 v_j and M^-1 V y.
  buffer z_block(x.type(), (flexible && m ? restart : (m ? 1 : 0)) * n, x.ctx());
  detail::hessenberg_lsq lsq(restart);
  const detail::gmres_cycle_state st{a, m, flexible, sums, mon, restart, n, basis, z_block, lsq};
  std::vector<double> y(restart), coordinates(delayed ? std::size_t(restart) * restart : 0);

  bool first = true, claimed = false;  // claimed: the last cycle's residual met the target
  double residual_of_x = -1;           // ||b - A x|| when x has not moved since it was computed
  for (;;) {
    // The true residual begins every cycle.
    const view r = vector_in(basis, 0, n);
    detail::residual(a, b, x, r);
    const double beta = sums.nrm2(r);
    residual_of_x = beta;
    if (first) {
      first = false;
      if (mon.start(beta)) break;
    } else {
      mon.count_restart();
      if (!std::isfinite(beta)) {
        mon.stop(stop_reason::non_finite, detail::cat("the residual of the restart is ", beta));
        break;
      }
      // A claim the true residual does not bear out is confirmed all the same: the monitor
      // ends the solve as inaccurate once restarts stop improving the true residual, where
      // cycles whose own residual keeps meeting an unreachable target would go on forever.
      if ((claimed || mon.below_target(beta)) && (mon.confirm(beta) || mon.stopped())) break;
    }
    scal(1.0 / beta, r);
    residual_of_x = -1;  // the cycle below updates x
    const detail::cycle_end end = delayed ? detail::arnoldi_dcgs2(st, beta, coordinates) : arnoldi(st, o.ortho, beta);
    if (!end.finite) {  // x keeps the last cycle's (finite) iterate
      mon.stop(stop_reason::non_finite,
               detail::cat("the Arnoldi process produced Inf/NaN at iteration ", mon.iterations() + 1));
      break;
    }
    const int cols = end.cols;
    claimed = end.met_target;
    // y = R^-1 g, then x += M^-1 V y (fixed) or Z y (flexible). DCGS2's H is over the
    // vectors u_j the operator took, u = V coordinates: V y becomes V (coordinates y).
    lsq.solve(cols, y.data());
    if (delayed && !(m && flexible))
      for (int i = 0; i < cols; ++i) {
        double s = 0;
        for (int k = i; k < cols; ++k) s += coordinates[std::size_t(k) * restart + i] * y[std::size_t(k)];
        y[std::size_t(i)] = s;
      }
    if (m && !flexible) {
      const view u = vector_in(basis, 0, n);  // v_0 is no longer needed
      scal(y[0], u);
      if (cols > 1) detail::maxpy(y.data() + 1, vectors_in(basis, 1, cols - 1, n), u);
      m->apply(1.0, u, 1.0, x);
    } else {
      buffer& src = m ? z_block : basis;
      if (cols > 0) detail::maxpy(y.data(), vectors_in(src, 0, cols, n), x);
    }
    if (end.stop || mon.stopped()) break;
  }
  return mon.finish(a, b, x, residual_of_x);
}

}  // namespace

solve_report gmres(const linear_operator& a, const_view b, view x, const solve_options& o) {
  detail::check_solve("gmres", a, b, x, o);
  return detail::solve_at_unit_scale(
      a, b, x, o, [&](const_view bs, const solve_options& os) { return gmres_cycles("gmres", false, a, bs, x, os); });
}

solve_report fgmres(const linear_operator& a, const_view b, view x, const solve_options& o) {
  detail::check_solve("fgmres", a, b, x, o);
  return detail::solve_at_unit_scale(
      a, b, x, o, [&](const_view bs, const solve_options& os) { return gmres_cycles("fgmres", true, a, bs, x, os); });
}

}  // namespace mixprec
