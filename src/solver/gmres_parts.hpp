// What the two Arnoldi processes of GMRES share: the basis block and its vectors, the small
// least-squares problem of a cycle, and how a cycle ends. gmres.cpp runs the cycles; the
// Arnoldi step with delayed reorthogonalization lives in gmres_dcgs2.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/view.hpp"
#include "solver/global_sums.hpp"
#include "solver/solve_monitor.hpp"

namespace mixprec::detail {

/// Vector i of a block of equal dense vectors stored one after another.
inline view vector_in(buffer& block, std::int64_t i, std::int64_t n) {
  return view(static_cast<char*>(block.data()) + i * n * std::int64_t(size_of(block.type())), block.type(), {n}, {1},
              block.ctx());
}

/// Vectors first .. first+count-1 of the block as the rows of a count x n view.
inline const_view vectors_in(buffer& block, std::int64_t first, std::int64_t count, std::int64_t n) {
  return const_view(static_cast<const char*>(block.data()) + first * n * std::int64_t(size_of(block.type())),
                    block.type(), {count, n}, {n, 1}, block.ctx());
}

/// min ||g - H y|| of one cycle, H upper Hessenberg ((m+1) x m, in f64 on the host),
/// reduced to upper triangular by Givens rotations column by column; g starts as beta e_0.
class hessenberg_lsq {
 public:
  explicit hessenberg_lsq(int restart)
      : m_(restart),
        h_(std::size_t(restart + 1) * restart),
        cs_(restart),
        sn_(restart),
        g_(restart + 1),
        scratch_(restart + 1) {}

  void start(double beta) {
    std::fill(g_.begin(), g_.end(), 0.0);
    g_[0] = beta;
  }
  double& h(int i, int j) { return h_[std::size_t(j) * (m_ + 1) + i]; }
  double* column(int j) { return &h(0, j); }

  /// Applies the earlier rotations to column j and one that zeroes h(j+1, j); returns the
  /// new diagonal, zero when both h(j, j) and h(j+1, j) were (a singular least-squares
  /// problem).
  double add_column(int j) {
    for (int i = 0; i < j; ++i) rotate(i, h(i, j), h(i + 1, j));
    const double d = std::hypot(h(j, j), h(j + 1, j));
    cs_[j] = d > 0 ? h(j, j) / d : 1.0;
    sn_[j] = d > 0 ? h(j + 1, j) / d : 0.0;
    h(j, j) = d;
    h(j + 1, j) = 0;
    g_[j + 1] = -sn_[j] * g_[j];
    g_[j] = cs_[j] * g_[j];
    return d;
  }
  /// The residual norm |g_{j+1}| once column j is in.
  double residual(int j) const { return std::abs(g_[j + 1]); }
  /// The residual norm that column j as it stands would give, leaving the problem as it is
  /// (for a column that a later step still corrects).
  double residual_with(int j) {
    double* col = scratch_.data();
    std::copy(column(j), column(j) + j + 1, col);
    for (int i = 0; i < j; ++i) rotate(i, col[i], col[i + 1]);
    const double below = h(j + 1, j), d = std::hypot(col[j], below);
    return d > 0 ? std::abs(g_[j] * below / d) : std::abs(g_[j]);
  }
  /// y = R^-1 g over the first cols columns.
  void solve(int cols, double* y) {
    for (int i = cols - 1; i >= 0; --i) {
      double s = g_[i];
      for (int k = i + 1; k < cols; ++k) s -= h(i, k) * y[k];
      y[i] = s / h(i, i);
    }
  }

 private:
  void rotate(int i, double& a, double& b) const {
    const double t = cs_[i] * a + sn_[i] * b;
    b = -sn_[i] * a + cs_[i] * b;
    a = t;
  }

  int m_;
  std::vector<double> h_, cs_, sn_, g_;
  std::vector<double> scratch_;  // residual_with's rotated copy of a column
};

/// The state of a GMRES(m) solve that its cycles work in.
struct gmres_cycle_state {
  const linear_operator& a;
  const linear_operator* m;  // M^-1, or null
  bool flexible;
  const global_sums& sums;
  solve_monitor& mon;
  int restart;
  std::int64_t n;
  buffer& basis;    // m+1 vectors
  buffer& z_block;  // flexible: M^-1 applied to each vector the operator took; fixed: one vector
  hessenberg_lsq& lsq;
};

/// How a cycle ended: the columns of H in the update, whether the solve stops, whether
/// everything stayed finite (if not, x keeps the last cycle's iterate), whether the cycle's
/// own residual met the target (which the true residual of the restart must confirm).
struct cycle_end {
  int cols = 0;
  bool stop = false;
  bool finite = true;
  bool met_target = false;
};

/// w = A M^-1 v, keeping M^-1 v as z_j (flexible) or in the one z vector (fixed).
inline void apply_preconditioned(const gmres_cycle_state& s, int j, const_view v, view w) {
  if (!s.m) {
    s.a.apply(v, w);
    return;
  }
  const view z = vector_in(s.z_block, s.flexible ? j : 0, s.n);
  s.m->apply(v, z);
  s.a.apply(z, w);
}

/// Reports the singular least-squares problem of Arnoldi column j.
inline void report_singular_column(solve_monitor& mon, int j) {
  mon.stop(stop_reason::breakdown,
           cat("the Arnoldi column ", j,
               " is zero after orthogonalization: A (times M^-1) is singular on the Krylov space"));
}

/// One DCGS2 cycle from v_0 = r/beta in the basis's first vector: the columns of H are the
/// coordinates of A M^-1 u_j, u_j the vectors the operator took, and coordinates(i, j)
/// (upper triangular, m x m) gets u_j = sum_i coordinates(i, j) v_i for the update.
cycle_end arnoldi_dcgs2(const gmres_cycle_state& s, double beta, std::vector<double>& coordinates);

}  // namespace mixprec::detail
