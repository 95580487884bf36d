// mixprec/dense.hpp — dense LU and Cholesky factorizations and solves, and FP64-accurate
// solves whose factorization runs in low precision (the bridge: HPL-MxP's algorithm).
//
//   std::vector<std::int64_t> piv;
//   mixprec::getrf(A, piv);                         // A = P L U in place (f64 or f32)
//   mixprec::getrs(A, piv, B);                      // B = A^-1 B, one or many columns
//
//   mixprec::dense_refinement_options o;            // LU in f32, refined in f64
//   o.policy = mixprec::precision_policy::half_matrix(mixprec::dtype::bf16);  // bf16 trailing updates
//   auto report = mixprec::gesv_ir(A, b, x, o);     // x to FP64 accuracy, or the f64 fallback
//   auto spd = mixprec::posv_ir(S, b, x, o);        // the same with a Cholesky factorization
//
// Matrices are rank-2 row-major views (any row stride, unit column stride) in CPU memory,
// square where a factorization needs it; right-hand sides n x nrhs views or length-n vectors.
// Every routine runs on the threads of its matrix's context (the factors' for getrs/potrs):
// its GEMMs, its passes over rows, getrf's look-ahead and gesv_ir's refinement and GMRES. A
// one-thread context (one MPI rank per core) keeps all of it on the calling thread.
//
// Algorithms and numerics
// - getrf: right-looking blocked LU with partial pivoting (the largest |a_ij| of the column
//   below the diagonal; the first such on ties), row swaps applied to whole rows as LAPACK's
//   laswp does; the panel (recursive, its base columns eliminated one by one in a packed
//   copy) is factored by one thread while the others update the trailing matrix for the
//   panel before (look-ahead), U's block row by a triangular solve, and the trailing matrix
//   updated by GEMMs. The factors are the same for any thread count. Backward error (Higham,
//   Thm 9.3): P A = L U + E, |E| <= gamma_n(u) |L| |U|. lu_update::bf16 (f32 matrices)
//   rounds L's panel and U's block row to bf16 for the trailing GEMM (f32 accumulation): the
//   factors are then those of a matrix within about 2^-8 |L||U| of A, an LU that refinement
//   corrects (below). Without pivoting (diagonally dominant matrices) no rows move.
// - potrf: blocked Cholesky A = L L^T from A's lower triangle (the strict upper triangle is
//   overwritten); a non-positive pivot is reported, naming its column. cholesky_options::update
//   = bf16 (f32 matrices) rounds L's panel to bf16 for the trailing GEMM, as getrf does.
// - getrs / potrs: forward and back substitution by blocks, the off-diagonal blocks by GEMM.
// - An exactly zero pivot, a non-finite entry, or a non-positive Cholesky pivot throws
//   numerical_breakdown (invalid_argument for NaN/Inf input) naming the column, with the
//   matrix left partly factored (the caller's copy is what refinement keeps intact).
//   Without pivoting a small pivot does the same harm as a zero one: the factors grow, and
//   once U's largest entry passes 1/gamma_n(u) times A's (the LU's backward error bound then
//   exceeds A), getrf throws numerical_breakdown giving the growth (not checked with partial
//   pivoting, whose growth is small in practice).
//
// gesv_ir: A x = b with A and b f64, x f64. The factorization runs in the policy's matrix
// precision: f64 (plain LU), f32, bf16 (f32 LU with bf16 trailing updates) or f16 (A rounded
// to f16, its LU in f32); then, in f64, r = b - A x and x += LU^-1 r (classical
// refinement), or x += the GMRES solution of A d = r preconditioned by the LU (GMRES-IR,
// which converges for condition numbers up to about u_low^-2 instead of u_low^-1; run as
// FGMRES with modified Gram-Schmidt, whose iterates are GMRES's for this fixed
// preconditioner and which keeps the preconditioned vectors rather than solve with the
// factors once more per cycle; a correction stops on the residual its Arnoldi process
// estimates, a new cycle starts from the true residual). It stops
// by LAPACK dsgesv's rule, ||r||inf <= ||x||inf ||A||inf eps sqrt(n) (eps = 2^-53), and falls
// back to an f64 LU when the low-precision matrix overflows, its LU breaks down, the
// residual grows, a GMRES correction does not halve its residual, or max_iterations pass without
// convergence; the report says which.
//
// Many right-hand sides (b and x n x nrhs, of one shape; LAPACK's NRHS): A is checked, scaled
// and factored once, and the columns are refined in step against that factorization, each
// with the stopping rule and fallback reasons of a single vector: a step's corrections are one
// solve with the factors for all the columns still refining (their blocks read from memory
// once, from cache for the others) and its residuals one GEMM, so that A and the factors are
// read once a step, not once per column; under GMRES-IR the columns' FGMRES iterations go in
// step too, each one product with A (a GEMM) and one solve for all of them.
// A column's x agrees with what solving it alone gives to within the stopping rule's
// accuracy, not bit for bit (the GEMM sums in another order). The columns refinement could
// not finish, and all of them under the f64 policy, are solved together by one f64
// factorization (getrs/potrs on the block); the others keep their refined x. The report
// gives the most steps a column took (with that column's history), the GMRES iterations of
// all columns, the largest backward error and relative residual, and in path and fallback
// how many columns fell back and the first one's reason.
//
// Scaling (dense_refinement_options::scale, on by default): before A is rounded to the low
// precision it is scaled to H = mu R A C with R, C diagonal and mu a scalar, all powers of two
// (so the scaling itself is exact): R makes each row's largest entry lie in [1/2, 1), C then
// each column's, and for f16 mu lifts the largest entry to about 0.1 of f16's largest finite
// value (Higham, Pranesh and Zounon, "Squeezing a matrix into half precision", 2019): entries
// that would overflow or flush to zero in f16 are kept, and a matrix graded by rows or
// columns factors as well as its balanced form. The refinement runs on A itself: each
// correction is d = C (LU)^-1 mu R r. Without scaling a matrix past the low precision's range
// falls back to f64 as before. A whose entries are finite but whose infinity norm overflows f64
// is invalid_argument: the stopping rule and the backward error need ||A||inf (scale A and b
// down by a power of two, which changes no digit of x).
//
// posv_ir: the same for a symmetric positive definite A (both triangles are read; A must be
// exactly symmetric), factored by Cholesky in the policy's precision (bf16: f32 Cholesky with
// bf16 trailing updates), scaled symmetrically (R = C = diag(2^-round(log2 sqrt(a_ii)))), with
// the same refinement, stopping rule and fallback (to an f64 Cholesky). When rounding has
// made H indefinite (kappa(A) u_f >~ 1), the Cholesky is retried on H + c u_f diag(H), c = 2,
// 8, ..., 2048 (Higham and Pranesh 2021); the report gives the shift. Each correction's
// preconditioner (L L^T)^-1 is symmetric positive definite, so GMRES-IR's theory (Higham and
// Pranesh 2021) applies unchanged. A matrix whose f64 Cholesky fails is reported as not
// positive definite.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// The precision of getrf's trailing updates: the matrix's own, or bf16 inputs with f32
/// accumulation (f32 matrices; the AI units do this work).
enum class lu_update : std::uint8_t { native, bf16 };

struct lu_options {
  bool pivoting = true;    // false: no row exchanges (diagonally dominant matrices)
  std::int64_t block = 0;  // panel width; 0 chooses
  lu_update update = lu_update::native;
};

/// A = P L U in place: L unit lower (below the diagonal), U upper; pivots[i] is the row
/// swapped with row i at step i (0-based LAPACK ipiv). a: n x n, f64 or f32.
void getrf(view a, std::vector<std::int64_t>& pivots, const lu_options& o = {});
/// b (n x nrhs, or n) = A^-1 b from getrf's factors; lu and b share a dtype.
void getrs(const_view lu, const std::vector<std::int64_t>& pivots, view b);
struct cholesky_options {
  std::int64_t block = 0;  // panel width; 0 chooses
  lu_update update = lu_update::native;
};
/// A = L L^T in place (lower), for symmetric positive definite A (f64 or f32).
void potrf(view a, const cholesky_options& o = {});
/// b = A^-1 b from potrf's factor.
void potrs(const_view l, view b);

struct dense_refinement_options {
  /// policy.matrix: the factorization's precision (f64, f32, bf16, f16); policy.krylov is
  /// not used (the refinement and GMRES run in f64, GMRES applying the low-precision LU).
  precision_policy policy = precision_policy::f32();
  bool gmres = false;       // GMRES-IR instead of classical refinement
  bool pivoting = true;     // false: the low-precision LU without row exchanges (HPL-MxP's); posv_ir ignores it
  bool scale = true;        // scale A by powers of two before rounding it (see above)
  int max_iterations = 30;  // refinement steps (LAPACK's ITERMAX)
  bool fallback = true;     // on failure, factor in f64 and solve (else report the failure)
  /// GMRES-IR: each correction equation is solved to this relative residual.
  double gmres_tolerance = 1e-4;
  /// GMRES-IR: iterations between restarts (at most n are used). Unrestarted within the
  /// budget by default, as GMRES-IR's analysis assumes: restarted every 50, GMRES stagnated
  /// from kappa ~1e6 with a bf16 or f16 factorization, where unrestarted it converges to
  /// 1e12-1e14 (n = 150-192). The basis and the preconditioned vectors, 2 n doubles an
  /// iteration for each right-hand side (the columns iterate together), stay small next to
  /// A's n^2 while iterations x nrhs << n.
  int gmres_restart = 300;
  /// GMRES-IR: iterations one correction may take, while its residual halves every
  /// gmres_halving_window iterations.
  int gmres_max_iterations = 300;
  /// GMRES-IR: a correction whose residual has not halved in this many iterations stops
  /// (0: never). Where the first window does not halve it, the factorization is too poor a
  /// preconditioner: fall back. GMRES on such a factorization may still converge after a
  /// plateau of about n iterations, but each costs about 1 % of an f64 LU at n = 8192, so
  /// the f64 factorization is the cheaper answer.
  int gmres_halving_window = 50;
};

/// What gesv_ir did: the solve_report fields (iterations: refinement steps; inner_iterations:
/// GMRES iterations; fallback: why the f64 factorization was used, empty if it was not),
/// plus the normwise backward error ||b - A x||inf / (||A||inf ||x||inf + ||b||inf).
struct dense_solve_report : solve_report {
  double backward_error = 0;
  std::string path;  // "f32 LU + refinement", "bf16-update LU + GMRES-IR", "f64 LU (fallback)", ...
  /// posv_ir: the low-precision Cholesky factored H + s diag(H) with this s (0: none needed).
  double diagonal_shift = 0;
};

/// x may be b (in place, as LAPACK's dgesv: b is copied before x is written); x overlapping
/// a is an error.
[[nodiscard]] dense_solve_report gesv_ir(const_view a, const_view b, view x, const dense_refinement_options& o = {});
/// A x = b for symmetric positive definite A: Cholesky in the policy's precision, refined in f64.
[[nodiscard]] dense_solve_report posv_ir(const_view a, const_view b, view x, const dense_refinement_options& o = {});

/// gesv_ir / posv_ir for many solves with one matrix, whose right-hand sides come one after
/// another (implicit time steps, Newton steps with a frozen Jacobian):
///
///   mixprec::dense_ir_solver s(A, o);               // checks, scales and factors A once
///   for (...) { ...b...; auto rep = s.solve(b, x); }  // refinement only
///
/// The constructor makes gesv_ir's checks of A and its low-precision factorization (or, for
/// the f64 policy, the f64 one), and reports bad input and a singular or indefinite matrix
/// as they do; each solve() is gesv_ir's refinement, fallback and report for its b (a vector
/// or n x nrhs), bit for bit. The f64 fallback factorization is made the first time a solve
/// needs it and kept. A is referenced, not copied: it must outlive the solver, unchanged.
/// solve() may run on several threads at once (they share the factors, read-only).
class dense_ir_solver {
 public:
  /// LU (the policy's precision, o.pivoting) for a general A.
  explicit dense_ir_solver(const_view a, const dense_refinement_options& o = {});
  /// Cholesky for a symmetric positive definite A (exactly symmetric), as posv_ir.
  static dense_ir_solver cholesky(const_view a, const dense_refinement_options& o = {});
  dense_ir_solver(dense_ir_solver&&) noexcept;
  dense_ir_solver& operator=(dense_ir_solver&&) noexcept;
  ~dense_ir_solver();

  /// x = A^-1 b to FP64 accuracy (b and x f64, vectors of n or n x nrhs of one shape).
  [[nodiscard]] dense_solve_report solve(const_view b, view x) const;
  /// Factors a new matrix of the same size in A's place, with the same options and the same
  /// checks and errors as the constructor, in the memory of the earlier factors: for a
  /// sequence of matrices of one size (Newton with a fresh Jacobian, a new time step's
  /// matrix), gesv_ir's work without allocating and paging in n^2 values again each time.
  /// The new a is referenced as A was. Not while a solve() runs. If it throws, the solver
  /// holds no factorization and solve() says so until a refactor succeeds.
  void refactor(const_view a);
  std::int64_t size() const;  // n

 private:
  struct state;
  dense_ir_solver(const char* op, bool cholesky, const_view a, const dense_refinement_options& o);
  friend dense_solve_report gesv_ir(const_view, const_view, view, const dense_refinement_options&);
  friend dense_solve_report posv_ir(const_view, const_view, view, const dense_refinement_options&);
  std::unique_ptr<state> s_;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
