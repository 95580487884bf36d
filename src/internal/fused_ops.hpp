// Fused vector ops for the solvers: one pass over memory where the plain ops would take
// several. Front ends in src/blas1.cpp, kernels registered like the BLAS-1 ones.
#pragma once

#include "mixprec/view.hpp"

namespace mixprec::detail {

/// CG's update: x += alpha*p, r -= alpha*q; returns the new r'r accumulated in f64. Dense
/// vectors of one dtype (f64 or f32).
double cg_update(double alpha, const_view p, const_view q, view x, view r);

/// z = alpha*(d .* r) + beta*z (beta == 0: z not read), d, r and z dense, of one dtype
/// (f64 or f32), in CPU memory: a diagonal applied without a matrix's index arrays.
void diag_scale(double alpha, const_view d, const_view r, double beta, view z);
/// Whether diag_scale serves these operands (else apply the diagonal as a matrix).
bool diag_scale_serves(const_view d, const_view r, const_view z);

/// The two sums pcg_jacobi_update returns.
struct pcg_jacobi_sums {
  double rr;   // r'r of the new r
  double rdr;  // r'Dr of the new r
};
/// PCG's update with the point-Jacobi preconditioner D = diag(d): x += alpha*p, r -= alpha*q,
/// with r'r and r'Dr of the new r accumulated in f64, in one pass. Same operands as
/// diag_scale (diag_scale_serves(d, r, r) must hold).
pcg_jacobi_sums pcg_jacobi_update(double alpha, const_view p, const_view q, const_view d, view x, view r);

/// out += alpha * A y for A rows x len (rank 2, unit stride along a row, any row stride; f64
/// or f32) and y, out dense f64 vectors, in one memory space; products and sums in f64 (f32
/// entries widen exactly): f32 factors applied to an f64 vector, which no GEMM kernel takes.
/// out must not overlap A or y.
void row_dots(const_view a, const_view y, double alpha, view out);

/// h[j] = v_j' w accumulated in f64, for the rows v_j of vs (k x n, unit stride along n;
/// f64 or f32 like w): w is read once per group of 8 rows, not once per row (classical
/// Gram-Schmidt against a whole Krylov basis).
void mdot(const_view vs, const_view w, double* h);
/// w += sum_j a[j] v_j over the rows of vs in order, each step rounded as axpy rounds it:
/// one pass over w per group of 8 rows. w must not overlap vs.
void maxpy(const double* a, const_view vs, view w);

/// hx[j] = v_j' x and hy[j] = v_j' y accumulated in f64, for the rows v_j of vs (as mdot):
/// each row is read once for both (the one reduction of a DCGS2 Arnoldi step).
void mdot2(const_view vs, const_view x, const_view y, double* hx, double* hy);
/// The update of a DCGS2 Arnoldi step over the rows v_j of vs, in one pass:
/// x = inv_rho*(x - sum_j s[j] v_j), then y = scale*(y - sum_j t[j] v_j - gamma*x) with the
/// new x; returns y'y of the new y accumulated in f64. x and y must not overlap each other
/// or vs.
double dcgs2_update(const_view vs, const double* s, const double* t, double inv_rho, double gamma, double scale, view x,
                    view y);

}  // namespace mixprec::detail
