// mixprec/multigrid.hpp — geometric multigrid V-cycle on a structured grid, as a
// preconditioner (matrix-free: it needs the stencil, not an assembled matrix).
//
//   mixprec::stencil_operator A(mixprec::stencil::laplace_3d7(), mixprec::grid_extent(128, 128, 128));
//   mixprec::multigrid_preconditioner M(A);                  // 4 levels, SGS 1/1, full weighting
//   mixprec::multigrid_options o32;
//   o32.storage = mixprec::dtype::f32;                       // the V-cycle in f32, CG in f64
//   mixprec::multigrid_preconditioner M32(A, o32);
//   mixprec::solve_options so;
//   so.preconditioner = &M;
//   auto report = mixprec::cg(A, b, x, so);                  // MG-PCG
//
// One V-cycle from a zero guess: on each level, `pre_smooth` symmetric Gauss-Seidel sweeps
// (colors forward, then backward), the residual restricted to the next level, the
// correction from there prolongated back, `post_smooth` SGS sweeps; the coarsest level gets
// `coarse_smooth` SGS sweeps as its solve. Gauss-Seidel is multicolored (red-black for star
// stencils, 2^d colors for box stencils) so every color is one parallel sweep. With the
// same sweeps before and after and R a multiple of P^T, the V-cycle is a symmetric positive
// definite operator, as CG needs. Coarse point I is fine point 2I+1 on each axis (2D grids
// are coarsened in x and y only); the coarse operator is the fine stencil times
// `coarse_scale` per level.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/grid.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/stencil.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class mg_restriction {
  injection,       // the residual at the coarse points; prolongation adds there only (HPCG)
  full_weighting,  // [1/4 1/2 1/4] per axis; prolongation trilinear
};
const char* name_of(mg_restriction r);

struct multigrid_options {
  int levels = 4;                       // at most: fewer where a coarsened axis would get fewer than 1 point
  int pre_smooth = 1, post_smooth = 1;  // SGS sweeps (pre must equal post for a symmetric M)
  int coarse_smooth = 4;                // SGS sweeps on the coarsest level
  mg_restriction restriction = mg_restriction::full_weighting;
  /// Coarse stencil = fine stencil * coarse_scale. 0 picks 1/4 for full weighting (the
  /// Galerkin operator of a second-order operator, h -> 2h) and 1 for injection (HPCG).
  double coarse_scale = 0;
  /// The grids of the V-cycle: f64 or f32 (computed in that precision). The input and
  /// output vectors may be either.
  dtype storage = dtype::f64;

  /// HPCG's multigrid: 4 levels, injection, one SGS sweep before and after and on the
  /// coarsest level, the same stencil on every level.
  static multigrid_options hpcg() {
    multigrid_options o;
    o.restriction = mg_restriction::injection;
    o.coarse_smooth = 1;
    return o;
  }
};

/// Where a V-cycle's grids get their halos when the grid is decomposed over processes: each
/// level's blocks exchange faces with their neighbours (zero on the global faces), and the
/// next level's blocks are these halved. mixprec/distributed.hpp makes them; on one process
/// there is none and the halos stay zero.
class halo_exchanger {
 public:
  virtual ~halo_exchanger() = default;
  /// Fills the halo (depth 1) of g, this process's block of the level.
  virtual void exchange(grid& g) const = 0;
  /// The exchanger of the next coarser level, whose blocks are these halved on each axis
  /// (point I of a coarse block is point 2I+1 of the fine one); null where some process's
  /// block cannot be halved so (an odd size or start), which ends the hierarchy there.
  /// Collective.
  virtual std::shared_ptr<const halo_exchanger> coarsened() const = 0;

  /// Where coarsened() is null: the blocks of this level gathered into the whole grid on
  /// one process, which runs the rest of the cycle (the one-process cycle's levels from
  /// here on) and scatters the correction back. The whole level's extent:
  virtual grid_extent whole_extent() const = 0;
  /// True on the process that holds the whole grid.
  virtual bool holds_whole() const = 0;
  /// Collective: every block's interior into `whole`, the dense whole grid (x fastest, in
  /// the blocks' dtype) on the holding process; null elsewhere.
  virtual void gather(const grid& block, void* whole) const = 0;
  /// Collective: the inverse, the whole grid's points back into the blocks' interiors.
  virtual void scatter(const void* whole, grid& block) const = 0;
};

/// M^-1 ~ A^-1 for a stencil_operator with a constant radius-1 stencil (5/7/9/27-point, any
/// coefficients with a nonzero center) and zero Dirichlet boundaries on every face.
class multigrid_preconditioner : public linear_operator {
 public:
  explicit multigrid_preconditioner(const stencil_operator& a, multigrid_options options = {});
  /// The V-cycle over a decomposed grid: `local` is this process's block of a grid with zero
  /// Dirichlet faces, `halos` its level-0 exchanger. Smoothing exchanges before each color
  /// and the transfers before they read across blocks; where the blocks can halve no more,
  /// the level is gathered onto one process, which runs the rest of the cycle. The cycle
  /// equals the one-process cycle point for point.
  multigrid_preconditioner(const stencil& s, const grid_extent& local, std::shared_ptr<const halo_exchanger> halos,
                           multigrid_options options = {});
  ~multigrid_preconditioner() override;

  /// z = alpha * V(r) + beta * z, with V one V-cycle on r. The levels are one set of grids:
  /// concurrent calls on one preconditioner take turns.
  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return options_.storage; }
  std::string describe() const override;
  int levels() const;
  const multigrid_options& options() const { return options_; }

 private:
  struct level;
  void build(const stencil& s, grid_extent e, std::shared_ptr<const halo_exchanger> halos);
  void gather_rest(level& lv, int levels);
  void vcycle(std::size_t l) const;
  void sgs(level& lv, int sweeps) const;

  multigrid_options options_;
  mutable std::vector<level> levels_;
  mutable buffer out_;              // V(r) in z's dtype when alpha, beta are not 1, 0
  mutable std::mutex apply_mutex_;  // guards levels_ and out_
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
