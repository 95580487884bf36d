// What every solver benchmark does: default options for a validated FP64 target, the timed
// solve from x0 = 0 (one solve per benchmark iteration), the validation (converged, true
// FP64 residual at the target) and the counters every solve reports.
#pragma once

#include <algorithm>
#include <string>

#include "bench_common.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/solver.hpp"

namespace mixprec::bench {

/// Options for a benchmark solve to a relative residual of `target`.
inline solve_options solve_defaults(double target, int max_iterations = 5000) {
  solve_options o;
  o.rel_tol = target;
  o.max_iterations = max_iterations;
  o.record_history = false;
  return o;
}

/// Runs solve() (returning a solve_report) once per benchmark iteration from x = 0; false,
/// with the benchmark skipped, when the answer does not meet `target`.
template <class Solve>
bool timed_solve(benchmark::State& state, view x, double target, Solve&& solve, solve_report* rep, double* seconds) {
  for (auto _ : state) {
    fill(x, 0.0);
    loop_timer t;
    *rep = solve();
    *seconds = t.seconds();
  }
  if (!rep->converged() || !(rep->true_residual <= target)) {
    state.SkipWithError(("not solved: " + rep->summary()).c_str());
    return false;
  }
  return true;
}

/// iterations, true_residual and seconds per iteration.
inline void solve_counters(benchmark::State& state, const solve_report& rep, double seconds) {
  state.counters["iterations"] = rep.iterations;
  state.counters["true_residual"] = rep.true_residual;
  state.counters["s_per_iter"] = seconds / std::max(1, rep.iterations);
}

}  // namespace mixprec::bench
