// Stencil descriptions: validation, the named stencils, and the variable-coefficient
// diffusion operator.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "internal/error_macros.hpp"
#include "internal/grid_access.hpp"
#include "mixprec/stencil.hpp"

namespace mixprec {

stencil::stencil(int dims, std::vector<stencil_point> points) : dims_(dims), points_(std::move(points)) {
  constexpr const char* op = "stencil";
  if (dims != 2 && dims != 3) MIXPREC_THROW(invalid_argument, op, "dims must be 2 or 3, not ", dims);
  if (points_.empty()) MIXPREC_THROW(invalid_argument, op, "a stencil needs at least one point");
  if (points_.size() > 1024) MIXPREC_THROW(invalid_argument, op, points_.size(), " points; at most 1024");
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const stencil_point& p = points_[i];
    if (dims == 2 && p.dz != 0)
      MIXPREC_THROW(invalid_argument, op, "point ", i, " has dz = ", p.dz, " in a 2D stencil");
    if (!std::isfinite(p.coeff)) MIXPREC_THROW(invalid_argument, op, "point ", i, " has coefficient ", p.coeff);
    for (std::size_t j = 0; j < i; ++j)
      if (points_[j].dx == p.dx && points_[j].dy == p.dy && points_[j].dz == p.dz)
        MIXPREC_THROW(invalid_argument, op, "points ", j, " and ", i, " are both (", p.dx, ",", p.dy, ",", p.dz, ")");
    radius_ = std::max({radius_, std::abs(p.dx), std::abs(p.dy), std::abs(p.dz)});
  }
  if (radius_ > 16) MIXPREC_THROW(invalid_argument, op, "radius ", radius_, " is above the supported 16");
}

double stencil::center() const {
  for (const auto& p : points_)
    if (p.dx == 0 && p.dy == 0 && p.dz == 0) return p.coeff;
  return 0.0;
}

stencil stencil::star(int dims, const std::vector<double>& weights) {
  if (weights.empty()) MIXPREC_THROW(invalid_argument, "stencil::star", "needs the center weight at least");
  std::vector<stencil_point> pts{{0, 0, 0, weights[0]}};
  for (int d = 1; d < int(weights.size()); ++d)
    for (int axis = 0; axis < dims; ++axis)
      for (int sign : {-1, 1}) {
        stencil_point p{0, 0, 0, weights[d]};
        (axis == 0 ? p.dx : axis == 1 ? p.dy : p.dz) = sign * d;
        pts.push_back(p);
      }
  return stencil(dims, std::move(pts));
}

stencil stencil::box(int dims, int radius, const std::vector<double>& coeffs) {
  constexpr const char* op = "stencil::box";
  if (radius < 0) MIXPREC_THROW(invalid_argument, op, "negative radius ", radius);
  const std::size_t side = std::size_t(2 * radius + 1);
  const std::size_t want = dims == 2 ? side * side : side * side * side;
  if (coeffs.size() != want)
    MIXPREC_THROW(invalid_argument, op, "a ", dims, "D box of radius ", radius, " has ", want, " points, not ",
                  coeffs.size());
  std::vector<stencil_point> pts;
  std::size_t i = 0;
  const int zr = dims == 3 ? radius : 0;
  for (int dz = -zr; dz <= zr; ++dz)
    for (int dy = -radius; dy <= radius; ++dy)
      for (int dx = -radius; dx <= radius; ++dx) pts.push_back({dx, dy, dz, coeffs[i++]});
  return stencil(dims, std::move(pts));
}

stencil stencil::laplace_2d5() { return star(2, {4.0, -1.0}); }
stencil stencil::laplace_3d7() { return star(3, {6.0, -1.0}); }

stencil stencil::hpcg_27() {
  std::vector<double> c(27, -1.0);
  c[13] = 26.0;
  return box(3, 1, c);
}

variable_stencil variable_stencil::diffusion(const grid& k) {
  constexpr const char* op = "variable_stencil::diffusion";
  if (k.ctx().empty() || k.ctx().kind() != backend::cpu)
    MIXPREC_THROW(unsupported, op, "k must be a CPU grid (build the coefficients there, then copy with grid::to)");
  if (k.halo() < 1) MIXPREC_THROW(invalid_argument, op, "k needs a halo of at least 1 (the neighbours' k)");
  variable_stencil v;
  v.shape = k.dims() == 2 ? stencil::laplace_2d5() : stencil::laplace_3d7();
  for (std::size_t p = 0; p < v.shape.points().size(); ++p) v.coeffs.push_back(grid(k.type(), k.extent(), 0));
  for (std::int64_t z = 0; z < k.nz(); ++z)
    for (std::int64_t y = 0; y < k.ny(); ++y)
      for (std::int64_t x = 0; x < k.nx(); ++x) {
        const double kc = detail::load_f64(k, x, y, z);
        if (!(kc >= 0.0) || !std::isfinite(kc))
          MIXPREC_THROW(invalid_argument, op, "k(", x, ",", y, ",", z, ") = ", kc, "; k must be finite and >= 0");
        double diag = 0.0;
        for (std::size_t p = 1; p < v.shape.points().size(); ++p) {
          const stencil_point& o = v.shape.points()[p];
          const double kn = detail::load_f64(k, x + o.dx, y + o.dy, z + o.dz);
          if (!(kn >= 0.0) || !std::isfinite(kn))
            MIXPREC_THROW(invalid_argument, op, "k(", x + o.dx, ",", y + o.dy, ",", z + o.dz, ") = ", kn,
                          "; k must be finite and >= 0 (halo included: fill_halo first)");
          const double face = kc + kn > 0.0 ? 2.0 * kc * kn / (kc + kn) : 0.0;
          detail::store_f64(v.coeffs[p], x, y, z, -face);
          diag += face;
        }
        detail::store_f64(v.coeffs[0], x, y, z, diag);
      }
  return v;
}

}  // namespace mixprec
