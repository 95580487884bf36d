#include "solver/solve_monitor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "internal/error_macros.hpp"
#include "internal/view_spans.hpp"
#include "mixprec/blas1.hpp"
#include "solver/global_sums.hpp"

namespace mixprec {

const char* name_of(orthogonalization o) {
  switch (o) {
    case orthogonalization::mgs:
      return "mgs";
    case orthogonalization::cgs2:
      return "cgs2";
    case orthogonalization::dcgs2:
      return "dcgs2";
  }
  return "?";
}

const char* name_of(stop_reason r) {
  switch (r) {
    case stop_reason::converged:
      return "converged";
    case stop_reason::max_iterations:
      return "max_iterations";
    case stop_reason::stagnation:
      return "stagnation";
    case stop_reason::breakdown:
      return "breakdown";
    case stop_reason::non_finite:
      return "non_finite";
    case stop_reason::stopped_by_callback:
      return "stopped_by_callback";
    case stop_reason::inaccurate:
      return "inaccurate";
  }
  return "?";
}

std::string solve_report::summary() const {
  std::ostringstream s;
  s << method << " (matrix " << name_of(matrix_type);
  if (preconditioned) s << ", preconditioner " << name_of(preconditioner_type);
  s << ", vectors " << name_of(working_type);
  if (krylov_type != working_type) s << ", krylov " << name_of(krylov_type);
  s << "): " << name_of(reason) << " after " << iterations << " iterations";
  if (inner_iterations) s << " (" << inner_iterations << " inner)";
  if (restarts) s << " (" << restarts << " restarts)";
  s << std::scientific << std::setprecision(3) << ", relative residual " << initial_residual << " -> " << final_residual
    << " (true " << true_residual << "), " << std::defaultfloat << seconds << " s";
  if (!message.empty()) s << "; " << message;
  if (!fallback.empty()) s << "; fell back: " << fallback;
  return s.str();
}

namespace detail {

namespace {

void check_solve_here(const char* method, const linear_operator& a, const_view b, const_view x,
                      const solve_options& o) {
  if (a.rows() != a.cols()) MIXPREC_THROW(shape_mismatch, method, "A is not square: ", a.rows(), " x ", a.cols());
  if (b.size() != a.rows() || x.size() != a.cols())
    MIXPREC_THROW(shape_mismatch, method, "A is ", a.rows(), " x ", a.cols(), " but b has ", b.size(), " and x ",
                  x.size(), " elements");
  if (b.type() != x.type() || (x.type() != dtype::f64 && x.type() != dtype::f32))
    MIXPREC_THROW(unsupported, method, "b and x must both be f64 or both f32 (b is ", name_of(b.type()), ", x ",
                  name_of(x.type()), ")");
  if (!b.is_contiguous() || !x.is_contiguous()) MIXPREC_THROW(unsupported, method, "b and x must be dense");
  // x is written while b is still read (each restart's and the final check's b - A x).
  if (overlap(span_of(b), span_of(x)))
    MIXPREC_THROW(invalid_argument, method, "x overlaps b: the solve writes x while it reads b; pass separate vectors");
  if (!(o.rel_tol >= 0) || !(o.abs_tol >= 0) || (o.rel_tol == 0 && o.abs_tol == 0))
    MIXPREC_THROW(invalid_argument, method, "tolerances rel_tol = ", o.rel_tol, ", abs_tol = ", o.abs_tol,
                  ": both >= 0, one > 0");
  if (o.max_iterations < 0) MIXPREC_THROW(invalid_argument, method, "max_iterations = ", o.max_iterations);
  if (o.stagnation_window < 0 || !(o.stagnation_factor > 0 && o.stagnation_factor <= 1))
    MIXPREC_THROW(invalid_argument, method, "stagnation_window = ", o.stagnation_window,
                  ", stagnation_factor = ", o.stagnation_factor, " (window >= 0, factor in (0, 1])");
  if (o.preconditioner) {
    const linear_operator& m = *o.preconditioner;
    if (m.rows() != a.rows() || m.cols() != a.cols())
      MIXPREC_THROW(shape_mismatch, method, "the preconditioner is ", m.rows(), " x ", m.cols(), ", A ", a.rows(),
                    " x ", a.cols());
  }
}

}  // namespace

void check_solve(const char* method, const linear_operator& a, const_view b, const_view x, const solve_options& o) {
  const reduction_domain* domain = a.reductions();
  if (!domain) return check_solve_here(method, a, b, x, o);
  // A process whose arguments are wrong must not leave the others waiting in the solve's
  // first reduction: all of them throw, or none.
  std::exception_ptr local_error;
  try {
    check_solve_here(method, a, b, x, o);
  } catch (...) {
    local_error = std::current_exception();
  }
  domain->agree(local_error);
}

buffer work_vector(const_view x) { return buffer(x.type(), x.size(), x.ctx()); }

void residual(const linear_operator& a, const_view b, const_view x, view r) {
  convert(b, r);
  a.apply(-1.0, x, 1.0, r);
}

solve_report solve_at_unit_scale(const linear_operator& a, const_view b, view x, const solve_options& o,
                                 const solve_body& solve) {
  const double bn = global_sums(a).nrm2(b);
  if (bn == 0) {
    fill(x, 0.0);
    solve_report rep = solve(b, o);
    if (rep.converged()) rep.message = "b = 0, so x = 0 is the exact solution";
    return rep;
  }
  // Within these bounds every squared quantity of a solve to 1e-16 stays a normal number
  // (f32 vectors: their own range, 2^+-126, is the narrower limit).
  const int limit = x.type() == dtype::f64 ? 128 : 24;
  const int e = std::isfinite(bn) ? std::ilogb(bn) : 0;
  if (std::abs(e) <= limit) return solve(b, o);
  const double scale = std::ldexp(1.0, -e), unscale = std::ldexp(1.0, e);
  buffer b_scaled = work_vector(x);
  convert(b, b_scaled.as_view());
  scal(scale, b_scaled.as_view());
  scal(scale, x);
  solve_options scaled = o;
  scaled.abs_tol = o.abs_tol * scale;
  if (o.progress)
    scaled.progress = [&o, unscale](const iteration_info& info) {
      iteration_info caller = info;
      caller.residual = info.residual * unscale;
      return o.progress(caller);
    };
  solve_report rep = solve(b_scaled.as_view(), scaled);
  scal(unscale, x);
  rep.rhs_norm = bn;
  return rep;
}

solve_monitor::solve_monitor(std::string method, const linear_operator& a, const_view b, const_view x,
                             const solve_options& o)
    : o_(o), t0_(std::chrono::steady_clock::now()) {
  report_.method = std::move(method);
  report_.matrix_type = a.storage_type();
  report_.preconditioned = o.preconditioner != nullptr;
  report_.preconditioner_type = o.preconditioner ? o.preconditioner->storage_type() : a.storage_type();
  report_.working_type = report_.krylov_type = x.type();
  report_.rhs_norm = global_sums(a).nrm2(b);
  target_ = std::max(o.rel_tol * report_.rhs_norm, o.abs_tol);
}

bool solve_monitor::start(double residual) {
  const double rel = relative(residual);
  report_.initial_residual = report_.final_residual = rel;
  if (o_.record_history) report_.history.push_back(rel);
  best_ = residual;
  say(rel, false);
  if (!std::isfinite(residual)) {
    stop(stop_reason::non_finite, detail::cat("the initial residual is ", residual, " (Inf/NaN in A, b or x0)"));
    return true;
  }
  if (below_target(residual)) {
    stop(stop_reason::converged, "");
    return true;
  }
  if (o_.max_iterations == 0) {
    stop(stop_reason::max_iterations, "max_iterations is 0");
    return true;
  }
  return false;
}

bool solve_monitor::step(double residual) {
  ++report_.iterations;
  const double rel = relative(residual);
  report_.final_residual = rel;
  if (o_.record_history) report_.history.push_back(rel);
  say(rel, false);
  if (!std::isfinite(residual)) {
    stop(stop_reason::non_finite, detail::cat("the residual became ", residual, " at iteration ", report_.iterations,
                                              " (overflow in the working precision, or Inf/NaN from the operator)"));
    return true;
  }
  if (o_.progress) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (!o_.progress(iteration_info{report_.iterations, residual, rel, secs})) {
      stop(stop_reason::stopped_by_callback, detail::cat("at iteration ", report_.iterations));
      return true;
    }
  }
  if (residual < o_.stagnation_factor * best_) {
    best_ = residual;
    best_at_ = report_.iterations;
  } else if (const int stall = report_.iterations - best_at_; o_.stagnation_window > 0 &&
                                                              stall >= std::max(o_.stagnation_window, 3 * best_at_) &&
                                                              !below_target(residual)) {
    // Judged against the progress made: a solve that took best_at_ iterations to reach its
    // best gets three times as many to improve on it (at most 4x the work, wasted). BiCGStab
    // on indefinite problems plateaus for hundreds of iterations and then converges: on
    // shifted 2-D Laplacians its longest plateau was up to 2.4x the iterations before it.
    stop(stop_reason::stagnation,
         detail::cat("the residual has not dropped below ", o_.stagnation_factor, " x its best (", relative(best_),
                     " relative, reached at iteration ", best_at_, ") in ", stall, " iterations"));
    return true;
  }
  if (report_.iterations >= o_.max_iterations && !below_target(residual)) {
    stop(stop_reason::max_iterations, detail::cat("relative residual ", rel, " after ", report_.iterations,
                                                  " iterations, target ", relative(target_)));
    return true;
  }
  return false;
}

bool solve_monitor::confirm(double true_residual) {
  if (below_target(true_residual)) {
    stop(stop_reason::converged, "");
    return true;
  }
  // Not met: the recurrence drifted from the true residual. Going on from the true residual
  // helps once; if it did not improve since the last confirmation, the working precision
  // cannot reach the target.
  if (last_confirmed_ >= 0 && true_residual >= last_confirmed_) {
    stop(stop_reason::inaccurate,
         detail::cat("the method's residual met the target but the true residual is ", relative(true_residual),
                     " relative and no longer improves (target ", relative(target_), "): beyond what ",
                     name_of(report_.working_type), " vectors can reach"));
    return false;
  }
  last_confirmed_ = true_residual;
  return false;
}

void solve_monitor::stop(stop_reason why, std::string message) {
  if (stopped_) return;
  stopped_ = true;
  report_.reason = why;
  report_.message = std::move(message);
}

solve_report solve_monitor::finish(const linear_operator& a, const_view b, const_view x, double known_residual_norm) {
  if (!stopped_) stop(stop_reason::max_iterations, "");
  double t = known_residual_norm;
  if (!(t >= 0)) {
    buffer r = work_vector(x);
    residual(a, b, x, r.as_view());
    t = global_sums(a).nrm2(r.as_view());
  }
  report_.true_residual = relative(t);
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  say(report_.final_residual, true);
  return std::move(report_);
}

void solve_monitor::say(double relative, bool last) {
  if (!o_.verbose) return;
  std::ostream& out = o_.log ? *o_.log : std::clog;
  const int it = report_.iterations;
  if (last) {
    out << report_.summary() << "\n";
    return;
  }
  if (it % std::max(1, o_.verbose_every) != 0) return;
  out << report_.method << " iteration " << std::setw(5) << it << "  relative residual " << std::scientific
      << std::setprecision(3) << relative << std::defaultfloat << "\n";
}

}  // namespace detail
}  // namespace mixprec
