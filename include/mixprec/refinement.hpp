// mixprec/refinement.hpp — mixed-precision solves that still end in FP64: iterative
// refinement with a low-precision inner Krylov solver and FP64 residuals.
//
//   mixprec::csr_operator A(mixprec::poisson_3d(128));          // f64: the residuals use it
//   mixprec::refinement_options o;
//   o.policy = mixprec::precision_policy::f32();                 // matrix and Krylov vectors f32
//   o.inner_method = mixprec::inner_solver::cg;                  // CG-IR (gmres: GMRES-IR)
//   o.outer.rel_tol = 1e-10;                                     // the FP64 target
//   auto report = mixprec::refine(A, b, x, o);                   // b, x in f64
//
// Each outer step computes r = b - A x in f64 with the f64 operator, solves A d = r/||r||
// to the inner tolerance with the matrix (and the Krylov vectors) in the policy's lower
// precisions, and adds ||r|| d to x in f64. The attainable accuracy is that of the f64
// residual, not of the inner precision (Carson & Higham 2018), as long as the inner solve
// reduces the residual at all — kappa(A) * u_inner < 1 roughly. Where it does not (the inner
// solver breaks down, overflows, or an outer step fails to reduce the residual by
// `min_reduction`), the driver says so and, with `fallback` on, raises the precisions one
// step (matrix f16/bf16 -> f32 -> f64, Krylov f32 -> f64, and the halo to f64 with them)
// and goes on; the report's `fallback` names every change and why.
#pragma once

#include <string>

#include "mixprec/dtype.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// The precisions of one solve. The outer loop (solution, residual) is always f64.
struct precision_policy {
  dtype matrix = dtype::f32;  // storage of the operator's values in the inner solves
  dtype krylov = dtype::f32;  // the inner Krylov vectors: f32 or f64
  /// What the inner solves' halo values travel in, for a distributed operator (mixprec/
  /// distributed.hpp): f64 (as the Krylov vectors), f32 or bf16 — never wider than the
  /// vectors, and the narrower of this and the operator's own inner_halo. The outer
  /// residuals keep the operator's f64 halos. Operators on one process ignore it.
  dtype halo = dtype::f64;
  /// "f64", "f32-ir", "bf16/f32-ir" (matrix/krylov where they differ), then "+f32-halo" or
  /// "+bf16-halo" where the halo is narrower than f64.
  std::string name() const;

  static precision_policy f64() { return {dtype::f64, dtype::f64}; }
  static precision_policy f32() { return {dtype::f32, dtype::f32}; }
  /// Matrix in a 16-bit format (exact for stencil matrices with small integer values),
  /// Krylov vectors in f32.
  static precision_policy half_matrix(dtype matrix16) { return {matrix16, dtype::f32}; }
  /// The policy a name() stands for ("f64", "f32-ir", "bf16/f32-ir", "f64+f32-halo", ...);
  /// also accepts the name without "-ir". Throws invalid_argument on anything else.
  static precision_policy parse(const std::string& name);
};

/// The low-precision solver. cg, bicgstab, gmres, fgmres: classic refinement, each outer step
/// a fresh inner solve to inner.rel_tol. cg_reliable: one CG run in the policy's precisions
/// whose recurrence residual is replaced by the f64 residual b - A x (and its iterate added
/// to x in f64) each time it has dropped by `reliable_factor` (reliable updates: Sleijpen &
/// van der Vorst 1996; Clark et al. 2010). It keeps its search direction across updates, so
/// it needs about as many iterations as f64 CG, each moving half the bytes; its report counts
/// CG iterations as `iterations` and the f64 residual replacements as `restarts`.
enum class inner_solver { cg, bicgstab, gmres, fgmres, cg_reliable };
const char* name_of(inner_solver s);

struct refinement_options {
  precision_policy policy = precision_policy::f32();
  inner_solver inner_method = inner_solver::cg;
  /// The outer loop: rel_tol/abs_tol on the f64 residual (the target), max_iterations
  /// (outer steps), progress callback and verbose output per outer step.
  solve_options outer{};
  /// The inner solves: rel_tol is the reduction asked of each (1e-4 by default; never less
  /// than a quarter of the unit roundoff of the inner operator's halo_type(), below which
  /// its rounded halos leave the solve nothing to gain — 9.8e-4 for bf16 halos), plus
  /// max_iterations, restart, orthogonalization and the preconditioner — built by the caller
  /// in any storage precision, for vectors of the policy's Krylov dtype.
  solve_options inner = default_inner();
  /// cg_reliable: replace the residual when it has dropped by this factor since the last
  /// replacement (in (0, 1)).
  double reliable_factor = 0.1;
  /// An outer step that does not reduce the f64 residual by at least this factor counts as
  /// a failure of the inner precision.
  double min_reduction = 0.5;
  /// On failure, raise the precisions and go on (true) or stop with the reason (false).
  bool fallback = true;

  static solve_options default_inner() {
    solve_options o;
    o.rel_tol = 1e-4;
    o.max_iterations = 1000;
    o.record_history = false;
    return o;
  }
};

/// Iterative refinement: A x = b with b and x in f64 (x is the initial guess). The report's
/// iterations are outer steps, inner_iterations the Krylov iterations of all inner solves,
/// history the f64 relative residual after each outer step; matrix_type and krylov_type are
/// the precisions the solve ended with.
[[nodiscard]] solve_report refine(const linear_operator& a, const_view b, view x,
                                  const refinement_options& options = {});

}  // namespace mixprec

MIXPREC_PUBLIC_END
