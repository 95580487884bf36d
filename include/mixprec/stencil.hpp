// mixprec/stencil.hpp — stencils on structured grids: apply, Jacobi sweeps, multi-sweep
// with temporal blocking, explicit heat-equation steps, and stencils as operators.
//
//   mixprec::grid u(mixprec::dtype::f32, {256, 256, 256}), v = u.like();
//   auto bc = mixprec::boundary_conditions::all(mixprec::boundary::dirichlet, 0.0);
//   mixprec::stencil lap = mixprec::stencil::laplace_3d7();      // -Laplacian, h = 1
//   mixprec::fill_halo(u, bc);
//   mixprec::stencil_apply(lap, 1.0, u, 0.0, v);                 // v = lap(u)
//   mixprec::grid& w = mixprec::jacobi_sweeps(lap, u, nullptr, v, bc, 8);   // 8 sweeps
//
// Numerics contract. Grids store f64, f32, f16 or bf16; all grids of one call share the
// dtype. Each output point is computed in the compute type (f64 for f64 grids, f32 for
// the others) as sum_p c_p*u(x+o_p) in the stencil's point order, with the coefficients
// rounded once to the compute type, then combined and rounded once to the storage dtype.
// Error per point: gamma_{P+2}(u_compute)*(sum_p |c_p u_p| + |terms|) + u_storage*|result|.
// Stencils read the input's halo: fill_halo (or the multi-sweep entry points, which do it)
// must have run since the input last changed, and the halo must be at least the radius.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mixprec/grid.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

struct stencil_point {
  int dx = 0, dy = 0, dz = 0;
  double coeff = 0.0;
};

/// A linear stencil: out(x) = sum_p coeff_p * u(x + (dx,dy,dz)_p).
class stencil {
 public:
  stencil() = default;
  /// Points with their coefficients; a point may appear once. dims 2 requires dz == 0.
  stencil(int dims, std::vector<stencil_point> points);

  /// -Laplacian, second-order, unit spacing: 4/-1 (2D 5-point), 6/-1 (3D 7-point). The
  /// assembled matrices of poisson_2d / poisson_3d are these with zero Dirichlet halos.
  static stencil laplace_2d5();
  static stencil laplace_3d7();
  /// HPCG's operator: 26 at the center, -1 at the 26 neighbours (= hpcg_27pt's matrix).
  static stencil hpcg_27();
  /// Star of radius r = weights.size() - 1: weights[0] at the center, weights[d] at distance
  /// d along each axis, both directions (symmetric).
  static stencil star(int dims, const std::vector<double>& weights);
  /// Box of radius r: every (dx,dy,dz) in [-r, r]^dims; coeffs listed x fastest, then y,
  /// then z ((2r+1)^dims of them).
  static stencil box(int dims, int radius, const std::vector<double>& coeffs);

  int dims() const { return dims_; }
  int radius() const { return radius_; }
  const std::vector<stencil_point>& points() const { return points_; }
  /// Coefficient of (0,0,0); 0 when the stencil has no center point.
  double center() const;

 private:
  int dims_ = 3, radius_ = 0;
  std::vector<stencil_point> points_;
};

/// A stencil with a coefficient per grid point for each of its points (the coefficient
/// grids have the extent of the grids it is applied to and their dtype).
struct variable_stencil {
  stencil shape;             // offsets; the coefficients there are ignored
  std::vector<grid> coeffs;  // one per point of `shape`, same order

  /// -div(k grad u) discretised with unit spacing: 5-point (2D) or 7-point (3D), the face
  /// conductivity the harmonic mean of the two cells' k (0 where either is 0). k must be
  /// positive (or zero) at every point, halo included: fill_halo(k, ...) first.
  static variable_stencil diffusion(const grid& k);
};

/// out = alpha * S(u) + beta * u. u and out must be different grids of one extent.
void stencil_apply(const stencil& s, double alpha, const grid& u, double beta, grid& out);
/// out = alpha * S(u) + beta * u + gamma * f; f may be out itself (e.g. the residual
/// r = f - S(u) is alpha = -1, beta = 0, gamma = 1 with out = f... or any other grid).
void stencil_apply(const stencil& s, double alpha, const grid& u, double beta, grid& out, const grid* f, double gamma);
void stencil_apply(const variable_stencil& s, double alpha, const grid& u, double beta, grid& out);

/// One (weighted) Jacobi sweep for S(u) = f: out = u + omega * (f - S(u)) / center. f may be
/// null (f = 0). Throws numerical_breakdown where the center coefficient is 0.
void jacobi_sweep(const stencil& s, const grid& u, const grid* f, grid& out, double omega = 1.0);
void jacobi_sweep(const variable_stencil& s, const grid& u, const grid* f, grid& out, double omega = 1.0);

/// `sweeps` Jacobi sweeps starting from u, halos filled from `bc` before each sweep, using
/// `scratch` (same extent, dtype and halo as u) as the other buffer. Returns the grid that
/// holds the result (u or scratch; its halo filled), the other holds no meaningful data.
/// The result equals that of `sweeps` calls of jacobi_sweep with fill_halo between them,
/// bit for bit: kernels that block in time (3D; no periodic face in y or z) compute the
/// same points with the same arithmetic, in a cache-friendly order, in passes of as many
/// sweeps as keep their tiles in cache (e.g. 14 for a 7-point stencil on 256^3 f64, 10 on
/// 384^3; MIXPREC_WAVEFRONT_LEVELS overrides). They keep buffers per thread between calls:
/// a ring of 3-5 MiB (about 3 MiB of it in use) and 2r rows per sweep of a pass and plane
/// of the grid: 4.1 and 8.1 MiB for 8 sweeps of a 7-point stencil on 256^3 f64.
grid& jacobi_sweeps(const stencil& s, grid& u, const grid* f, grid& scratch, const boundary_conditions& bc, int sweeps,
                    double omega = 1.0);

/// Explicit Euler steps of u_t = kappa * Laplacian(u): u += r * Laplacian_h(u) with
/// r = kappa*dt/h^2, with the same 5/7-point stencil and blocking as jacobi_sweeps. Throws
/// invalid_argument when r exceeds the stability limit 1/(2*dims). Returns the grid that
/// holds the result, as jacobi_sweeps.
grid& heat_steps(grid& u, grid& scratch, double r, const boundary_conditions& bc, int steps);

/// A stencil as an operator on dense vectors of the interior points (x fastest), the same
/// shape as a sparse matrix for solvers: apply(alpha, x, beta, y) is y = alpha*S(x) +
/// beta*y, with the halo set by `bc` (zero Dirichlet makes it the assembled matrix).
/// Storage dtype of its internal grids is that of the vectors (f64 or f32). Dirichlet
/// faces with nonzero values make it affine, not linear: solvers need zero values.
/// apply() copies x into a grid with a halo; each concurrent call takes a grid of its own,
/// kept for the next call (see linear_operator).
class stencil_operator : public linear_operator {
 public:
  stencil_operator(stencil s, grid_extent extent, boundary_conditions bc = boundary_conditions{},
                   const context& ctx = context::cpu());
  stencil_operator(stencil_operator&&) noexcept;
  stencil_operator& operator=(stencil_operator&&) noexcept;
  ~stencil_operator() override;
  const stencil& shape() const { return stencil_; }
  const grid_extent& extent() const { return extent_; }
  const boundary_conditions& boundaries() const { return bc_; }
  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  std::string describe() const override;
  /// The coefficients that land on the point itself: the center, plus those that the
  /// boundary conditions fold back onto it (Neumann mirrors, periodic wrap-around).
  void diagonal(double* d) const override;

 private:
  stencil stencil_;
  grid_extent extent_;
  boundary_conditions bc_;
  // x with its halo, in x's dtype (reallocated when the dtype changes), one per concurrent call
  std::unique_ptr<detail::scratch_pool<grid>> scratch_;
};

/// The same as a.apply(alpha, x, beta, y): stencils and sparse matrices share one call.
void spmv(double alpha, const stencil_operator& a, const_view x, double beta, view y);

}  // namespace mixprec

MIXPREC_PUBLIC_END
