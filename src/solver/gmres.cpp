// Restarted GMRES(m) and flexible GMRES(m), right-preconditioned (Saad, Iterative Methods,
// alg. 6.9 and 9.6): the Arnoldi basis in x's dtype, the Hessenberg matrix, its Givens
// rotations and the small triangular solve on the host in f64. Every cycle begins from the
// true residual b - A x, so restarts double as the check of convergence.
#include <cmath>
#include <vector>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec {
namespace {

/// Vector i of a block of equal dense vectors stored one after another.
view vector_in(buffer& block, std::int64_t i, std::int64_t n) {
  return view(static_cast<char*>(block.data()) + i * n * std::int64_t(size_of(block.type())), block.type(), {n}, {1},
              block.ctx());
}

/// Vectors first .. first+count-1 of the block as the rows of a count x n view.
const_view vectors_in(buffer& block, std::int64_t first, std::int64_t count, std::int64_t n) {
  return const_view(static_cast<const char*>(block.data()) + first * n * std::int64_t(size_of(block.type())),
                    block.type(), {count, n}, {n, 1}, block.ctx());
}

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

solve_report gmres_cycles(const char* method, bool flexible, const linear_operator& a, const_view b, view x,
                          const solve_options& o) {
  if (o.restart < 1) MIXPREC_THROW(invalid_argument, method, "restart = ", o.restart, " (>= 1)");
  const std::string name = std::string(method) + "(" + std::to_string(o.restart) + ")/" + name_of(o.ortho);
  detail::solve_monitor mon(name, a, b, x, o);
  const detail::global_sums sums(a);
  const linear_operator* m = o.preconditioner;
  const int restart = o.restart;
  const std::int64_t n = x.size();

  buffer basis(x.type(), (restart + 1) * n, x.ctx());
  // Flexible: z_j = M^-1 v_j kept for the update; fixed: one vector for M^-1 v_j and M^-1 V y.
  buffer z_block(x.type(), (flexible && m ? restart : (m ? 1 : 0)) * n, x.ctx());
  std::vector<double> h(std::size_t(restart + 1) * restart), cs(restart), sn(restart), g(restart + 1), y(restart);
  auto H = [&](int i, int j) -> double& { return h[std::size_t(j) * (restart + 1) + i]; };

  bool first = true;
  for (;;) {
    // The true residual begins every cycle.
    const view r = vector_in(basis, 0, n);
    detail::residual(a, b, x, r);
    const double beta = sums.nrm2(r);
    if (first) {
      first = false;
      if (mon.start(beta)) break;
    } else {
      mon.count_restart();
      if (!std::isfinite(beta)) {
        mon.stop(stop_reason::non_finite, detail::cat("the residual of the restart is ", beta));
        break;
      }
      if (mon.below_target(beta) && (mon.confirm(beta) || mon.stopped())) break;
    }
    scal(1.0 / beta, r);
    std::fill(g.begin(), g.end(), 0.0);
    g[0] = beta;

    int cols = 0;  // basis vectors in the update
    bool finite = true, stop = false;
    for (int j = 0; j < restart; ++j) {
      const view vj = vector_in(basis, j, n), w = vector_in(basis, j + 1, n);
      if (m) {
        const view zj = vector_in(z_block, flexible ? j : 0, n);
        m->apply(vj, zj);
        a.apply(zj, w);
      } else {
        a.apply(vj, w);
      }
      orthogonalize(sums, o.ortho, basis, j, n, w, &H(0, j));
      const double hn = sums.nrm2(w);
      H(j + 1, j) = hn;
      if (hn > 0 && std::isfinite(hn)) scal(1.0 / hn, w);
      // Earlier rotations on the new column, then one that zeroes H(j+1, j).
      for (int i = 0; i < j; ++i) {
        const double t = cs[i] * H(i, j) + sn[i] * H(i + 1, j);
        H(i + 1, j) = -sn[i] * H(i, j) + cs[i] * H(i + 1, j);
        H(i, j) = t;
      }
      const double d = std::hypot(H(j, j), H(j + 1, j));
      cs[j] = d > 0 ? H(j, j) / d : 1.0;
      sn[j] = d > 0 ? H(j + 1, j) / d : 0.0;
      H(j, j) = d;
      H(j + 1, j) = 0;
      g[j + 1] = -sn[j] * g[j];
      g[j] = cs[j] * g[j];
      const double res = std::abs(g[j + 1]);
      finite = std::isfinite(res) && std::isfinite(d);
      if (finite && d == 0) {
        // H(j, j) and H(j+1, j) both zero: A M^-1 v_j lies in the span of v_0..v_{j-1}
        // without reducing the residual; the least-squares problem is singular.
        mon.stop(stop_reason::breakdown,
                 detail::cat("the Arnoldi column ", j,
                             " is zero after orthogonalization: A (times M^-1) is singular on the Krylov space"));
        stop = true;
        break;
      }
      cols = j + 1;
      stop = mon.step(res);
      if (stop || mon.below_target(res) || hn == 0) break;  // hn == 0: the exact solution is in the space
    }
    if (!finite) {  // x keeps the last cycle's (finite) iterate
      mon.stop(stop_reason::non_finite,
               detail::cat("the Arnoldi process produced Inf/NaN at iteration ", mon.iterations() + 1));
      break;
    }
    // y = R^-1 g, then x += M^-1 V y (fixed) or Z y (flexible).
    for (int i = cols - 1; i >= 0; --i) {
      double s = g[i];
      for (int k = i + 1; k < cols; ++k) s -= H(i, k) * y[k];
      y[i] = s / H(i, i);
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
    if (stop || mon.stopped()) break;
  }
  return mon.finish(a, b, x);
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
