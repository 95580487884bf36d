// GMRES's Arnoldi process with delayed reorthogonalization: classical Gram-Schmidt twice,
// the second pass of vector j done in step j+1 together with the first pass of the next
// vector (DCGS2; Swirydowicz, Langou, Ananthan, Yang, Thomas, "Low synchronization
// Gram-Schmidt and GMRES algorithms", 2021). Each step reads the basis twice (one fused dot
// pass, one fused update pass) where CGS2 reads it four times, and sums once per step for
// all its dot products where CGS2 sums three times.
//
// Step j holds u_j, the vector the operator takes: u_0 = r/beta, and for j > 0 the
// remainder of step j-1 orthogonalized once and scaled to about unit length. From u_j and
// w = A M^-1 u_j, one pass of dot products gives s = V'u_j, u_j'u_j, t = V'w, u_j'w and
// w'w (V = v_0 .. v_{j-1}); then v_j = (u_j - V s)/rho with rho^2 = u_j'u_j - s's, and the
// next vector u_{j+1} ~ w - V t - gamma v_j with gamma = v_j'w, in one update pass. The
// columns of H are the coordinates of A M^-1 u_j in the final basis, so column j is
// complete only when step j+1 has the coordinates of u_{j+1}; the residual of step j is
// taken from the column as it stands, which differs from the final one by the second
// pass's correction (of the order of the loss of orthogonality). x is updated along the
// u_j, which are the v_j combined by the upper triangular `coordinates`.
#include <cmath>
#include <vector>

#include "internal/fused_ops.hpp"
#include "mixprec/blas1.hpp"
#include "solver/gmres_parts.hpp"

namespace mixprec::detail {
namespace {

double dot_of(const double* a, const double* b, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

/// The products of a step's one reduction: the rows v_0 .. v_{j-1}, u, w of the basis
/// against u and against w.
struct step_products {
  std::vector<double> dots;
  int j = 0;

  explicit step_products(int restart) : dots(2 * std::size_t(restart + 2)) {}
  void take(const gmres_cycle_state& st, int step, const_view u, const_view w) {
    j = step;
    const int rows = j + 2;
    mdot2(vectors_in(st.basis, 0, rows, st.n), u, w, dots.data(), dots.data() + rows);
    st.sums.sum(dots.data(), 2 * rows);
  }
  double* s() { return dots.data(); }  // V'u
  double uu() const { return dots[std::size_t(j)]; }
  const double* t() const { return dots.data() + j + 2; }  // V'w
  double uw() const { return dots[std::size_t(2 * j + 2)]; }
  double ww() const { return dots[std::size_t(2 * j + 3)]; }
  /// u'u - s's: the square of ||u - V s|| while V is orthonormal.
  double rest() const { return uu() - dot_of(dots.data(), dots.data(), j); }
};

/// Completes column j of H from the coordinates of u_{j+1} (= the remainder of step j over
/// sigma) in v_0 .. v_j and v_{j+1}: one more reduction, used at the end of a cycle, where
/// no step j+1 follows.
void complete_last_column(const gmres_cycle_state& st, int j, double sigma) {
  std::vector<double> q(std::size_t(j + 2));
  mdot(vectors_in(st.basis, 0, j + 2, st.n), vector_in(st.basis, j + 1, st.n), q.data());
  st.sums.sum(q.data(), j + 2);
  double* col = st.lsq.column(j);
  for (int i = 0; i <= j; ++i) col[i] += sigma * q[std::size_t(i)];
  col[j + 1] = sigma * std::sqrt(std::max(0.0, q[std::size_t(j + 1)] - dot_of(q.data(), q.data(), j + 1)));
}

/// Takes the completed column j into the least-squares problem: end.cols = j + 1, or, where
/// its diagonal comes out zero, the singular problem reported and the solve stopped.
bool take_column(const gmres_cycle_state& st, int j, cycle_end& end) {
  if (st.lsq.add_column(j) == 0) {
    report_singular_column(st.mon, j);
    end.stop = true;
    return false;
  }
  end.cols = j + 1;
  return true;
}

}  // namespace

cycle_end arnoldi_dcgs2(const gmres_cycle_state& st, double beta, std::vector<double>& coordinates) {
  const int m = st.restart;
  const std::int64_t n = st.n;
  auto coordinate = [&](int i, int j) -> double& { return coordinates[std::size_t(j) * m + i]; };
  step_products p(m);
  std::vector<double> moved(static_cast<std::size_t>(m));  // what extra passes took out of u_j, in V
  cycle_end end;
  double sigma = 1;  // the remainder of the previous step is sigma u_j
  for (int j = 0; j < m; ++j) {
    const view u = vector_in(st.basis, j, n), w = vector_in(st.basis, j + 1, n);
    apply_preconditioned(st, j, u, w);
    p.take(st, j, u, w);
    // w'w over- or underflows where A is scaled far from 1: then w is brought to unit length
    // (omega keeps what it was divided by) and the products are taken again.
    double omega = 1;
    if (std::isfinite(p.uu()) && !(p.ww() >= 0x1p-500 && p.ww() <= 0x1p500)) {
      omega = st.sums.nrm2(w);
      if (omega > 0 && std::isfinite(omega)) {
        scal(1 / omega, w);
        p.take(st, j, u, w);
      }
    }
    if (!std::isfinite(p.uu()) || !std::isfinite(p.ww()) || !std::isfinite(omega)) {
      end.finite = false;
      return end;
    }
    if (omega == 0) omega = 1;  // w = 0
    // The second pass for u_j: exact while it keeps at least 1/sqrt(2) of u_j's length
    // (Kahan-Parlett: then one pass is enough); otherwise u_j, the remainder of an almost
    // invariant step, loses a pass of its own first.
    std::fill(moved.begin(), moved.end(), 0.0);
    int passes = 0;
    for (; j > 0 && !(p.rest() > 0.5 * p.uu()) && passes < 2; ++passes) {
      std::vector<double> minus(static_cast<std::size_t>(j));
      for (int i = 0; i < j; ++i) {
        moved[std::size_t(i)] += p.s()[i];
        minus[std::size_t(i)] = -p.s()[i];
      }
      maxpy(minus.data(), vectors_in(st.basis, 0, j, n), u);
      p.take(st, j, u, w);
    }
    // u_j still in the span of v_0 .. v_{j-1}: so is A M^-1 u_{j-1}, the space is invariant,
    // and column j-1 ends with a zero below its diagonal, as GMRES ends on a zero remainder.
    const bool invariant = j > 0 && !(p.rest() > 0.5 * p.uu());
    const double rho = invariant ? 0.0 : std::sqrt(p.rest());
    for (int i = 0; i < j; ++i) coordinate(i, j) = moved[std::size_t(i)] + p.s()[i];
    coordinate(j, j) = rho;
    if (j == 0) {
      st.lsq.start(beta * rho);  // r = beta u_0 = beta rho v_0
    } else {
      double* col = st.lsq.column(j - 1);
      for (int i = 0; i < j; ++i) col[i] += sigma * coordinate(i, j);
      col[j] = sigma * rho;  // in place of the remainder's length, which the column had so far
      if (!take_column(st, j - 1, end)) return end;
      if (invariant) return end;
    }
    // v_j, and the remainder w - V t - gamma v_j scaled to about unit length. Its length
    // follows from the products, ||w||^2 - ||t||^2 - gamma^2, unless cancellation spoils
    // that (the remainder small next to w): then the update's own y'y, one more reduction,
    // gives it, and sets the scale.
    const double gamma = (p.uw() - dot_of(p.s(), p.t(), j)) / rho;
    const double ww = p.ww(), left = ww - dot_of(p.t(), p.t(), j) - gamma * gamma;
    const bool from_products = left > 1e-4 * ww;
    double scale = from_products ? 1 / std::sqrt(left) : (ww > 0 ? 1 / std::sqrt(ww) : 1.0);
    const double local_yy = dcgs2_update(vectors_in(st.basis, 0, j, n), p.s(), p.t(), 1 / rho, gamma, scale, u, w);
    double remainder = std::sqrt(left);
    if (!from_products) {
      const double yy = st.sums.sum(local_yy);
      if (!std::isfinite(yy)) {
        end.finite = false;
        return end;
      }
      remainder = std::sqrt(yy) / scale;
      if (yy > 0 && (yy < 0.25 || yy > 4)) {
        scal(1 / std::sqrt(yy), w);
        scale /= std::sqrt(yy);
      }
    }
    double* col = st.lsq.column(j);
    for (int i = 0; i < j; ++i) col[i] = omega * p.t()[i];
    col[j] = omega * gamma;
    col[j + 1] = omega * remainder;
    if (remainder == 0) {  // A M^-1 u_j lies in the space: the exact solution is in it
      if (!take_column(st, j, end)) return end;
      end.stop = st.mon.step(st.lsq.residual(j));
      end.met_target = st.mon.below_target(st.lsq.residual(j));
      return end;
    }
    const double res = st.lsq.residual_with(j);
    end.stop = st.mon.step(res);
    end.met_target = st.mon.below_target(res);
    sigma = omega / scale;
    if (end.stop || end.met_target || j == m - 1) {
      complete_last_column(st, j, sigma);
      take_column(st, j, end);
      return end;
    }
  }
  return end;  // not reached: the last step returns
}

}  // namespace mixprec::detail
