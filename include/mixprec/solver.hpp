// mixprec/solver.hpp — Krylov solvers for A x = b on any linear_operator.
//
//   mixprec::csr_operator A(mixprec::poisson_3d(64));
//   mixprec::jacobi_preconditioner M(A);
//   mixprec::array<double> b(A.rows()), x(A.rows());
//   ... b = A * ones; x = 0 (x is the initial guess) ...
//   mixprec::solve_options o;
//   o.rel_tol = 1e-10;
//   o.preconditioner = &M;
//   auto report = mixprec::cg(A, b, x, o);
//   if (!report.converged()) std::cerr << report.summary() << "\n";
//
// The solvers are written against mixprec's ops (operator apply, axpy, dot, ...), so they
// run on every backend and in f64 or f32 vectors (b and x the same dtype; the working
// vectors take it too). Stopping: ||r|| <= max(rel_tol * ||b||, abs_tol) with r the
// method's own residual (recurrence for CG/BiCGStab, the least-squares residual for GMRES),
// then confirmed against the true residual ||b - A x|| (evaluated in the vectors' dtype, its
// norm accumulated in f64): a report says converged only if the true residual meets the
// tolerance too. Numerical trouble is a report, never a silent answer: breakdown (CG's
// p'Ap <= 0, BiCGStab's rho = 0 or omega = 0), a non-finite residual, stagnation, or the
// iteration limit end the solve with converged() == false, the reason and a message. When an
// Inf/NaN comes from the operator, CG, BiCGStab and GMRES leave x at the last finite iterate.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "mixprec/dtype.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// Orthogonalization of GMRES's Krylov basis: modified Gram-Schmidt; classical Gram-Schmidt
/// applied twice (as accurate as MGS in practice, its dot products independent); or CGS2
/// with each vector's second pass one step late, fused with the next vector's first
/// (DCGS2: one reduction and two passes over the basis per step where CGS2 takes three and
/// four; the same loss of orthogonality in practice).
enum class orthogonalization { mgs, cgs2, dcgs2 };
const char* name_of(orthogonalization o);

enum class stop_reason {
  converged,            // the true residual meets the tolerance
  max_iterations,       // the iteration limit was reached first
  stagnation,           // the residual stopped decreasing (see solve_options::stagnation_window)
  breakdown,            // a division by (near) zero the method cannot go past
  non_finite,           // the residual became Inf/NaN (overflow in low precision, bad input)
  stopped_by_callback,  // the progress callback asked to stop
  inaccurate,           // the method's residual converged but the true residual did not
};
const char* name_of(stop_reason r);

/// Passed to the progress callback after every iteration.
struct iteration_info {
  int iteration = 0;
  double residual = 0;           // the method's residual norm
  double relative_residual = 0;  // residual / ||b||
  double seconds = 0;            // since the solve started
};

struct solve_options {
  double rel_tol = 1e-8;
  double abs_tol = 0;
  int max_iterations = 1000;
  /// Stop when the best residual has not dropped by stagnation_factor for this many
  /// iterations and for three times as many as it took to reach that best (a solve that
  /// needed 1,000 iterations to get there is given 3,000 more: slow but steady solves, such
  /// as BiCGStab on indefinite problems, plateau for long and then converge); 0 turns the
  /// test off.
  int stagnation_window = 200;
  double stagnation_factor = 0.999;
  /// GMRES/FGMRES: restart length m and orthogonalization.
  int restart = 30;
  orthogonalization ortho = orthogonalization::dcgs2;
  /// Applies M^-1 ~ A^-1 (right preconditioning for GMRES/FGMRES/BiCGStab, split-free
  /// for CG, which needs M symmetric positive definite). Not owned; null for none.
  const linear_operator* preconditioner = nullptr;
  /// Called after every iteration; return false to stop the solve.
  std::function<bool(const iteration_info&)> progress;
  /// Print the convergence (one line every `verbose_every` iterations) to `log`
  /// (std::clog when null).
  bool verbose = false;
  int verbose_every = 10;
  std::ostream* log = nullptr;
  /// Keep the relative residual of every iteration in the report.
  bool record_history = true;
};

/// What a solve did. `[[nodiscard]]` on the solvers: ignoring it ignores failure.
struct solve_report {
  std::string method;  // e.g. "pcg", "gmres(30)/dcgs2"
  stop_reason reason = stop_reason::max_iterations;
  std::string message;             // the reason in words, with the numbers that led to it
  int iterations = 0;              // Krylov iterations
  int restarts = 0;                // GMRES cycles begun after the first; cg_reliable: f64 residual replacements
  double rhs_norm = 0;             // ||b||
  double initial_residual = 0;     // ||b - A x0|| / ||b||
  double final_residual = 0;       // the method's residual at the end / ||b||
  double true_residual = 0;        // ||b - A x|| / ||b|| in f64 at the end
  std::vector<double> history;     // relative residual after each iteration (index 0: x0)
  dtype matrix_type = dtype::f64;  // storage of the operator
  bool preconditioned = false;
  dtype preconditioner_type = dtype::f64;  // storage of the preconditioner (= matrix_type if none)
  dtype working_type = dtype::f64;         // the vectors' dtype (the outer loop's, for refinement)
  dtype krylov_type = dtype::f64;          // the Krylov vectors' dtype (inner solves, for refinement)
  int inner_iterations = 0;                // refinement: Krylov iterations of all inner solves
  std::string fallback;                    // refinement: the precision changes made, and why
  double seconds = 0;

  bool converged() const { return reason == stop_reason::converged; }
  /// One paragraph: method, precisions, iterations, residuals, time, reason.
  std::string summary() const;
};

/// Conjugate gradients (preconditioned when options.preconditioner is set); A and M
/// symmetric positive definite.
[[nodiscard]] solve_report cg(const linear_operator& a, const_view b, view x, const solve_options& options = {});
/// Pipelined CG (Ghysels & Vanroose 2014): CG's iterates in exact arithmetic, with the
/// iteration's one reduction (its three inner products) begun before the preconditioner and
/// operator are applied and completed after them, so that on a distributed operator the
/// latency of the reduction hides behind that work. It pays with four more vector updates
/// per iteration and a recurrence residual that drifts further from b - A x (checked and
/// restarted from, as for cg): on one process cg is the faster choice.
[[nodiscard]] solve_report cg_pipelined(const linear_operator& a, const_view b, view x,
                                        const solve_options& options = {});
/// BiCGStab (van der Vorst), right-preconditioned; for nonsymmetric A.
[[nodiscard]] solve_report bicgstab(const linear_operator& a, const_view b, view x, const solve_options& options = {});
/// Restarted GMRES(m), right-preconditioned (a fixed preconditioner).
[[nodiscard]] solve_report gmres(const linear_operator& a, const_view b, view x, const solve_options& options = {});
/// Flexible GMRES(m): the preconditioner may change from one iteration to the next (an
/// inner solver); keeps M^-1 v_j for every basis vector.
[[nodiscard]] solve_report fgmres(const linear_operator& a, const_view b, view x, const solve_options& options = {});
/// Extreme eigenvalues of a symmetric positive definite A (or M^-1 A with M SPD), estimated
/// from `steps` CG iterations on a fixed pseudo-random right-hand side: the Ritz values of
/// the Lanczos matrix those iterations build. They lie inside the spectrum, lambda_max
/// converging fastest: widen them before using them as bounds (Chebyshev needs an interval
/// that encloses the spectrum, e.g. [lambda_min / 2, 1.1 lambda_max]). `steps` is the number
/// of iterations actually taken (fewer when CG converged or broke down first).
struct spectrum_estimate {
  double lambda_min = 0, lambda_max = 0;
  int steps = 0;
};
[[nodiscard]] spectrum_estimate estimate_spectrum(const linear_operator& a, int steps = 30,
                                                  const linear_operator* preconditioner = nullptr);

/// Chebyshev iteration for A (or M^-1 A) with eigenvalues in [lambda_min, lambda_max] (see
/// estimate_spectrum),
/// 0 < lambda_min < lambda_max: no inner products, so no global reductions.
[[nodiscard]] solve_report chebyshev(const linear_operator& a, const_view b, view x, double lambda_min,
                                     double lambda_max, const solve_options& options = {});

}  // namespace mixprec

MIXPREC_PUBLIC_END
