// A stencil as an operator on dense interior vectors: x is copied into a grid with a halo
// (set by the boundary conditions), and the stencil kernel writes y directly, reading y
// for the beta term through its f input.
#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/stencil.hpp"

namespace mixprec {

stencil_operator::stencil_operator(stencil s, grid_extent extent, boundary_conditions bc, const context& ctx)
    : stencil_(std::move(s)), extent_(extent), bc_(bc), ctx_(ctx) {
  if (stencil_.dims() != extent.dims)
    MIXPREC_THROW(shape_mismatch, "stencil_operator", "a ", stencil_.dims(), "D stencil on a ", extent.dims,
                  "D extent");
}

void stencil_operator::apply(double alpha, const_view x, double beta, view y) const {
  constexpr const char* op = "stencil_operator::apply";
  const std::int64_t n = extent_.points();
  if (x.size() != n || y.size() != n)
    MIXPREC_THROW(shape_mismatch, op, "the operator is ", n, " x ", n, " but x has ", x.size(), " and y ", y.size(),
                  " elements");
  if (x.type() != y.type() || (x.type() != dtype::f64 && x.type() != dtype::f32))
    MIXPREC_THROW(unsupported, op, "x and y must both be f64 or both f32 (x is ", name_of(x.type()), ", y ",
                  name_of(y.type()), ")");
  if (!x.is_contiguous() || !y.is_contiguous()) MIXPREC_THROW(unsupported, op, "x and y must be dense");
  if (!ctx_.same_memory(x.ctx()) || !ctx_.same_memory(y.ctx()))
    MIXPREC_THROW(invalid_argument, op, "x and y must live in the operator's memory space");
  if (n == 0) return;
  if (!scratch_.ctx().state() || scratch_.type() != x.type())
    scratch_ = grid(x.type(), extent_, std::max(1, stencil_.radius()), ctx_);

  // x (a halo-free grid of the same extent) into the scratch grid's interior; then its halo.
  const grid xg = grid::wrap(const_cast<void*>(x.data()), x.type(), extent_, 0, extent_.nx,
                             extent_.nx * extent_.ny, ctx_);
  copy_interior(xg, scratch_);
  fill_halo(scratch_, bc_);

  // y as a halo-free grid, both as the output and (beta != 0) as the f input.
  grid out = grid::wrap(y.data(), y.type(), extent_, 0, extent_.nx, extent_.nx * extent_.ny, ctx_);
  stencil_apply(stencil_, alpha, scratch_, 0.0, out, beta == 0.0 ? nullptr : &out, beta);
}

void spmv(double alpha, const stencil_operator& a, const_view x, double beta, view y) { a.apply(alpha, x, beta, y); }

}  // namespace mixprec
