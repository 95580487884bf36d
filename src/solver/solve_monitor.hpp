// What every Krylov method shares: argument checks, working vectors, and the monitor that
// decides when to stop, calls the progress callback, prints verbose lines and fills the
// report. The methods themselves only do their recurrences.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "mixprec/array.hpp"
#include "mixprec/solver.hpp"

namespace mixprec::detail {

/// Throws naming what is wrong with the operator, b, x or the options; for a distributed
/// operator on every process when it is wrong on any.
void check_solve(const char* method, const linear_operator& a, const_view b, const_view x, const solve_options& o);

/// A working vector like x (dtype, size, memory space), uninitialised.
buffer work_vector(const_view x);

/// r = b - A x in r (all the same dtype).
void residual(const linear_operator& a, const_view b, const_view x, view r);

/// A solver body: solves A x = b (x the initial guess) under options o.
using solve_body = std::function<solve_report(const_view b, const solve_options& o)>;

/// Runs `solve` so that its stopping logic does not depend on the scale of b:
/// - b = 0: x is set to 0, the exact solution, and the solve ends converged at its start
///   (an x0 != 0 would otherwise decay towards 0 without ever meeting a target of 0);
/// - ||b|| far from 1 (below 2^-limit or above 2^limit): b (copied) and x are multiplied by
///   a power of two 2^-e that brings ||b|| into [1, 2), abs_tol with them, and x is scaled
///   back after. Powers of two are exact, so the iterates are those of the unscaled solve
///   wherever that one stays in range; but squared quantities (r'r, p'Ap) of a b near
///   2^-1000 would underflow to 0 and of one near 2^1000 overflow.
/// The report's norms are relative and so unchanged; rhs_norm is the caller's ||b||.
solve_report solve_at_unit_scale(const linear_operator& a, const_view b, view x, const solve_options& o,
                                 const solve_body& solve);

class solve_monitor {
 public:
  solve_monitor(std::string method, const linear_operator& a, const_view b, const_view x, const solve_options& o);

  double rhs_norm() const { return report_.rhs_norm; }
  /// An absolute residual norm relative to ||b|| (as it is when b = 0).
  double relative(double residual) const { return report_.rhs_norm > 0 ? residual / report_.rhs_norm : residual; }
  /// The absolute residual norm that counts as converged.
  double target() const { return target_; }
  bool below_target(double residual) const { return residual <= target_; }
  int iterations() const { return report_.iterations; }

  /// The residual of the initial guess; true when there is nothing to do (it converged).
  bool start(double residual);
  /// After an iteration with the method's residual norm; true when the solve must stop
  /// (non-finite, stagnation, iteration limit, or the callback said so).
  bool step(double residual);
  /// The true residual norm where the method's own says converged: true when it meets the
  /// target too (converged); false to go on from it (the method restarts from the true
  /// residual), or when it has stopped improving (then it sets `inaccurate` and the solve
  /// must stop: check stopped()).
  bool confirm(double true_residual);
  /// Ends the solve for a breakdown (or another reason) with the numbers that led to it.
  void stop(stop_reason why, std::string message);
  bool stopped() const { return stopped_; }
  void count_restart() { ++report_.restarts; }
  /// For drivers that add to the report (refinement: inner iterations, precisions).
  solve_report& report() { return report_; }

  /// The report, with the true residual of x computed here, or given: the 2-norm of b - A x
  /// for this very x, which a driver that has just computed it passes instead of a second
  /// product with A.
  solve_report finish(const linear_operator& a, const_view b, const_view x, double known_residual_norm = -1);

 private:
  void say(double relative, bool last);

  const solve_options& o_;
  solve_report report_;
  double target_ = 0, best_ = 0, last_confirmed_ = -1;
  int best_at_ = 0;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace mixprec::detail
