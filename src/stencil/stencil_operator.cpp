// A stencil as an operator on dense interior vectors: x is copied into a grid with a halo
// (set by the boundary conditions), and the stencil kernel writes y directly, reading y
// for the beta term through its f input.
#include "internal/error_macros.hpp"
#include "internal/scratch_pool.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/stencil.hpp"

namespace mixprec {

stencil_operator::stencil_operator(stencil s, grid_extent extent, boundary_conditions bc, const context& ctx)
    : linear_operator(extent.points(), extent.points(), ctx),
      stencil_(std::move(s)),
      extent_(extent),
      bc_(bc),
      scratch_(std::make_unique<detail::scratch_pool<grid>>()) {
  if (stencil_.dims() != extent.dims)
    MIXPREC_THROW(shape_mismatch, "stencil_operator", "a ", stencil_.dims(), "D stencil on a ", extent.dims,
                  "D extent");
}

stencil_operator::stencil_operator(stencil_operator&&) noexcept = default;
stencil_operator& stencil_operator::operator=(stencil_operator&&) noexcept = default;
stencil_operator::~stencil_operator() = default;

void stencil_operator::apply(double alpha, const_view x, double beta, view y) const {
  constexpr const char* op = "stencil_operator::apply";
  check_vectors(op, x, y);
  const std::int64_t n = extent_.points();
  if (n == 0) return;
  const auto lease = scratch_->take();
  grid& scratch = *lease;
  if (scratch.ctx().empty() || scratch.type() != x.type())
    scratch = grid(x.type(), extent_, std::max(1, stencil_.radius()), ctx());

  // x (a halo-free grid of the same extent) into the scratch grid's interior; then its halo.
  const grid xg =
      grid::wrap(const_cast<void*>(x.data()), x.type(), extent_, 0, extent_.nx, extent_.nx * extent_.ny, ctx());
  copy_interior(xg, scratch);
  fill_halo(scratch, bc_);

  // y as a halo-free grid, both as the output and (beta != 0) as the f input.
  grid out = grid::wrap(y.data(), y.type(), extent_, 0, extent_.nx, extent_.nx * extent_.ny, ctx());
  stencil_apply(stencil_, alpha, scratch, 0.0, out, beta == 0.0 ? nullptr : &out, beta);
}

std::string stencil_operator::describe() const {
  return detail::cat("stencil ", stencil_.points().size(), "-point ", extent_.nx, "x", extent_.ny,
                     extent_.dims == 3 ? "x" + std::to_string(extent_.nz) : std::string());
}

namespace {

/// Where index i + d of an axis of n points reads its value from under the face conditions
/// (halo fill's rules): an interior index, or -1 for a Dirichlet value (not a point).
std::int64_t source_index(std::int64_t i, std::int64_t n, const face_condition& lo, const face_condition& hi) {
  if (i >= 0 && i < n) return i;
  const face_condition& f = i < 0 ? lo : hi;
  switch (f.kind) {
    case boundary::dirichlet:
      return -1;
    case boundary::periodic:
      return i < 0 ? i + n : i - n;
    case boundary::neumann:
      return i < 0 ? -1 - i : 2 * n - 1 - i;
  }
  return -1;
}

}  // namespace

void stencil_operator::diagonal(double* d) const {
  const std::int64_t n[3] = {extent_.nx, extent_.ny, extent_.nz};
  std::int64_t at = 0;
  for (std::int64_t k = 0; k < n[2]; ++k)
    for (std::int64_t j = 0; j < n[1]; ++j)
      for (std::int64_t i = 0; i < n[0]; ++i, ++at) {
        const std::int64_t idx[3] = {i, j, k};
        double sum = 0;
        for (const stencil_point& p : stencil_.points()) {
          const int off[3] = {p.dx, p.dy, p.dz};
          bool self = true;
          for (int a = 0; a < 3 && self; ++a)
            self = source_index(idx[a] + off[a], n[a], bc_.lo[a], bc_.hi[a]) == idx[a];
          if (self) sum += p.coeff;
        }
        d[at] = sum;
      }
}

void spmv(double alpha, const stencil_operator& a, const_view x, double beta, view y) { a.apply(alpha, x, beta, y); }

}  // namespace mixprec
