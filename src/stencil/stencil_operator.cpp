// A stencil as an operator on dense interior vectors: x is copied into a grid with a halo
// (set by the boundary conditions), and the stencil kernel writes y directly, reading y
// for the beta term through its f input.
#include <cstring>

#include "internal/context_state.hpp"
#include "internal/dispatch.hpp"
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

  // x into the scratch grid's interior, row by row; then its halo.
  const std::size_t es = size_of(x.type());
  const detail::context_state& st = *ctx_.state();
  for (std::int64_t k = 0; k < extent_.nz; ++k)
    for (std::int64_t j = 0; j < extent_.ny; ++j)
      detail::copy_bytes(st, static_cast<const char*>(x.data()) + (k * extent_.ny + j) * extent_.nx * std::int64_t(es),
                         st, static_cast<char*>(scratch_.origin()) + scratch_.offset(0, j, k) * std::int64_t(es),
                         std::size_t(extent_.nx) * es);
  fill_halo(scratch_, bc_);

  // y as a halo-free grid, both as the output and (beta != 0) as the f input.
  grid out = grid::wrap(y.data(), y.type(), extent_, 0, extent_.nx, extent_.nx * extent_.ny, ctx_);
  stencil_apply(stencil_, alpha, scratch_, 0.0, out, beta == 0.0 ? nullptr : &out, beta);
}

void spmv(double alpha, const stencil_operator& a, const_view x, double beta, view y) { a.apply(alpha, x, beta, y); }

}  // namespace mixprec
