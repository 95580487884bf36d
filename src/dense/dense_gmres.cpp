// solve_corrections (dense_gmres.hpp): the correction equations of GMRES-IR for several
// columns, their FGMRES iterations in step.
#include "dense/dense_gmres.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "solver/gmres_parts.hpp"

namespace mixprec::detail {
namespace {

/// One column's FGMRES: its basis V, the preconditioned vectors Z, the cycle's least-squares
/// problem, and where it stands.
struct column_solve {
  std::int64_t n = 0;
  const double* r = nullptr;
  double* d = nullptr;
  std::vector<array<double>> v, z;  // v_0 .. v_j, z_0 .. z_{j-1} of the current cycle
  hessenberg_lsq lsq;
  double rhs_norm = 0, checkpoint = 1;
  int j = 0;  // the cycle's iteration
  bool done = false;
  correction_result result;

  column_solve(std::int64_t size, int restart) : n(size), lsq(restart) {}

  /// A cycle from residual s (n values) of norm beta > 0.
  void start_cycle(const context& ctx, const double* s, double beta) {
    v.clear();
    z.clear();
    v.emplace_back(n, ctx);
    for (std::int64_t i = 0; i < n; ++i) v[0][i] = s[i] / beta;
    lsq.start(beta);
    j = 0;
  }

  /// d += Z y for the cycle's j columns.
  void update_correction(std::vector<double>& y) {
    if (j == 0) return;
    lsq.solve(j, y.data());
    for (int q = 0; q < j; ++q) axpy(y[std::size_t(q)], z[std::size_t(q)].as_view(), make_view(d, n));
  }

  void stop(bool converged, std::string why = {}) {
    done = true;
    result.converged = converged;
    result.why = std::move(why);
  }
};

}  // namespace

std::vector<correction_result> solve_corrections(std::int64_t n, const std::vector<const double*>& r,
                                                 const std::vector<double*>& d, const apply_to_columns& apply_a,
                                                 const apply_to_columns& apply_m, const correction_options& o,
                                                 const context& ctx) {
  const std::size_t k = r.size();
  const int restart = int(std::min<std::int64_t>(std::max(o.restart, 1), std::max<std::int64_t>(n, 1)));
  std::vector<column_solve> cols;
  cols.reserve(k);
  std::vector<double> y(static_cast<std::size_t>(restart));
  for (std::size_t c = 0; c < k; ++c) {
    cols.emplace_back(n, restart);
    column_solve& s = cols.back();
    s.r = r[c];
    s.d = d[c];
    std::fill(d[c], d[c] + n, 0.0);
    s.rhs_norm = nrm2(make_view(r[c], n));
    if (!std::isfinite(s.rhs_norm)) {  // stops at once, d = 0
      s.result.relative_residual = s.rhs_norm;
      s.stop(false, "the residual is not finite");
      continue;
    }
    if (s.rhs_norm == 0) {  // d = 0 solves it
      s.result.relative_residual = 0;
      s.stop(true);
      continue;
    }
    s.start_cycle(ctx, r[c], s.rhs_norm);
  }
  for (;;) {
    std::vector<column_solve*> active;
    for (column_solve& s : cols)
      if (!s.done) active.push_back(&s);
    if (active.empty()) break;
    // z_j = M^-1 v_j, then w = A z_j, for every active column at once.
    std::vector<const double*> in;
    std::vector<double*> out;
    for (column_solve* s : active) {
      s->z.emplace_back(n, ctx);
      in.push_back(s->v[std::size_t(s->j)].data());
      out.push_back(s->z.back().data());
    }
    apply_m(in, out);
    in.clear();
    out.clear();
    for (std::size_t q = 0; q < active.size(); ++q) {
      column_solve& s = *active[q];
      s.v.emplace_back(n, ctx);  // v_{j+1}, w until it is orthogonalized
      in.push_back(s.z.back().data());
      out.push_back(s.v.back().data());
    }
    apply_a(in, out);
    for (column_solve* sp : active) {
      column_solve& s = *sp;
      const int j = s.j;
      const view wv = s.v[std::size_t(j + 1)].as_view();
      double* h = s.lsq.column(j);
      for (int i = 0; i <= j; ++i) {  // modified Gram-Schmidt
        h[i] = dot(wv, s.v[std::size_t(i)].as_view());
        axpy(-h[i], s.v[std::size_t(i)].as_view(), wv);
      }
      const double hn = nrm2(wv);
      s.lsq.h(j + 1, j) = hn;
      if (hn > 0 && std::isfinite(hn)) scal(1.0 / hn, wv);
      const double diagonal = s.lsq.add_column(j), res = s.lsq.residual(j);
      ++s.result.iterations;
      s.j = j + 1;
      if (!std::isfinite(res) || !std::isfinite(diagonal)) {
        s.j = j;  // the last column is not finite: the update leaves it out
        s.update_correction(y);
        s.stop(false, "the Arnoldi process produced Inf/NaN at iteration " + std::to_string(s.result.iterations));
        continue;
      }
      if (diagonal == 0) {  // a singular least-squares problem: keep what the earlier columns give
        s.j = j;
        s.update_correction(y);
        s.stop(false, "the Arnoldi column " + std::to_string(j) +
                          " is zero after orthogonalization: A M^-1 is singular on the Krylov space");
        continue;
      }
      const double relative = res / s.rhs_norm;
      s.result.relative_residual = relative;
      const int it = s.result.iterations;
      bool stagnating = false;
      if (o.halving_window > 0 && it % o.halving_window == 0) {
        stagnating = !(relative <= 0.5 * s.checkpoint);
        s.checkpoint = relative;
      }
      const bool converged = relative <= o.tolerance || hn == 0;  // hn = 0: the solution is in the space
      if (converged || stagnating || it >= o.max_iterations) {
        s.update_correction(y);
        std::ostringstream why;
        if (stagnating)
          why << "the relative residual did not halve in " << o.halving_window << " iterations: " << relative
              << " at iteration " << it;
        else if (!converged)
          why << o.max_iterations << " iterations reached a relative residual of " << relative;
        s.stop(converged, why.str());
        continue;
      }
      if (s.j == restart) {  // a new cycle from the true residual r - A d
        s.update_correction(y);
        std::vector<double> t(static_cast<std::size_t>(n));
        apply_a({s.d}, {t.data()});
        for (std::int64_t i = 0; i < n; ++i) t[std::size_t(i)] = s.r[i] - t[std::size_t(i)];
        const double beta = nrm2(make_view(t.data(), n));
        s.result.relative_residual = beta / s.rhs_norm;
        if (!(beta > 0) || !std::isfinite(beta)) {
          s.stop(beta == 0, beta == 0 ? "" : "the restart's residual is not finite");
          continue;
        }
        s.start_cycle(ctx, t.data(), beta);
      }
    }
  }
  std::vector<correction_result> results;
  for (column_solve& s : cols) results.push_back(std::move(s.result));
  return results;
}

}  // namespace mixprec::detail
