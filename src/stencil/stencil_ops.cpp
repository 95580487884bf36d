// Stencil front ends: check the grids, fold the constants of the call into the stencil's
// coefficients, and dispatch one sweep, k blocked sweeps, or sweeps with halo fills.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/grid_access.hpp"
#include "mixprec/stencil.hpp"

namespace mixprec {
namespace {

using detail::stencil_args;

void check_same(const char* op, const char* what, const grid& ref, const grid& g) {
  if (g.ctx().empty()) MIXPREC_THROW(invalid_argument, op, what, " is an empty grid");
  if (g.type() != ref.type())
    MIXPREC_THROW(invalid_argument, op, what, " is ", name_of(g.type()), " but u is ", name_of(ref.type()));
  if (g.extent() != ref.extent())
    MIXPREC_THROW(shape_mismatch, op, what, " is ", g.nx(), "x", g.ny(), "x", g.nz(), " but u is ", ref.nx(), "x",
                  ref.ny(), "x", ref.nz());
  if (!g.ctx().same_memory(ref.ctx())) MIXPREC_THROW(invalid_argument, op, what, " and u live in different memory");
}

/// Checks u, out (and f, scratch) for a stencil `s`; out must not share u's storage.
void check_grids(const char* op, const stencil& s, const grid& u, const grid& out, const grid* f) {
  if (u.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "u is an empty grid");
  if (s.points().empty()) MIXPREC_THROW(invalid_argument, op, "the stencil is empty");
  if (s.dims() != u.dims()) MIXPREC_THROW(shape_mismatch, op, "a ", s.dims(), "D stencil on a ", u.dims(), "D grid");
  if (u.halo() < s.radius())
    MIXPREC_THROW(invalid_argument, op, "u has a halo of ", u.halo(), " but the stencil reaches ", s.radius());
  check_same(op, "out", u, out);
  if (f) check_same(op, "f", u, *f);
  if (out.origin() == u.origin())
    MIXPREC_THROW(invalid_argument, op, "out and u are the same grid; stencils write a separate output");
}

/// The point list of a constant stencil after folding: alpha*S + beta*I, zeros dropped.
struct folded {
  std::vector<detail::stencil_offset> offsets;
  std::vector<double> coeffs;

  folded(const stencil& s, double alpha, double beta) {
    bool has_center = false;
    for (const auto& p : s.points()) {
      double c = alpha * p.coeff;
      if (p.dx == 0 && p.dy == 0 && p.dz == 0) {
        c += beta;
        has_center = true;
      }
      add(p, c);
    }
    if (!has_center) add({0, 0, 0, 0.0}, beta);
    if (offsets.empty()) add({0, 0, 0, 0.0}, 0.0);  // out = 0
  }

 private:
  void add(const stencil_point& p, double c) {
    if (c == 0.0) return;
    offsets.push_back({p.dx, p.dy, p.dz});
    coeffs.push_back(c);
  }
};

stencil_args base_args(const stencil& s, const grid& u, const grid* f, grid& out) {
  stencil_args a{};
  a.nx = u.nx();
  a.ny = u.ny();
  a.nz = u.nz();
  a.dims = u.dims();
  a.radius = s.radius();
  a.center = -1;
  a.u = u.origin();
  a.usy = u.stride_y();
  a.usz = u.stride_z();
  a.f = f ? f->origin() : nullptr;
  a.fsy = f ? f->stride_y() : 0;
  a.fsz = f ? f->stride_z() : 0;
  a.out = out.origin();
  a.osy = out.stride_y();
  a.osz = out.stride_z();
  a.alpha = 1.0;
  a.beta = 0.0;
  a.gamma = 0.0;
  a.omega = 1.0;
  a.mode = detail::stencil_mode::combine;
  return a;
}

detail::stencil_problem problem_of(const stencil_args& a, bool variable) {
  detail::stencil_problem p;
  p.npoints = a.npoints;
  p.radius = a.radius;
  p.dims = a.dims;
  p.variable = variable;
  p.mode = a.mode;
  return p;
}

std::string shape_of(const stencil_args& a, int sweeps) {
  return detail::cat(a.nx, "x", a.ny, "x", a.nz, ":pts", a.npoints, ":r", a.radius,
                     sweeps > 1 ? detail::cat(":sweeps", sweeps) : std::string());
}

void run_stencil(const grid& u, const stencil_args& a, bool variable) {
  const detail::context_state& st = *detail::state_of(u.ctx());
  const detail::stencil_problem p = problem_of(a, variable);
  detail::dispatch<detail::op_id::stencil>(
      st, u.type(), u.type(), &p, accumulation::standard,
      [&](detail::stencil_fn kernel, const detail::exec_args& ex) { kernel(ex, a); },
      [&] { return std::make_pair(std::string(name_of(u.type())), shape_of(a, 1)); });
}

/// Jacobi as a folded constant stencil: out = (-omega/c0)*S(u) + u + (omega/c0)*f.
folded jacobi_fold(const char* op, const stencil& s, double omega) {
  const double c0 = s.center();
  if (c0 == 0.0) MIXPREC_THROW(numerical_breakdown, op, "the stencil's center coefficient is 0; Jacobi divides by it");
  if (!std::isfinite(omega)) MIXPREC_THROW(invalid_argument, op, "omega is ", omega);
  return folded(s, -omega / c0, 1.0);
}

detail::halo_args halo_of(const boundary_conditions& bc) {
  detail::halo_args h{};
  for (int a = 0; a < 3; ++a) {
    h.kind[a][0] = std::uint8_t(bc.lo[a].kind);
    h.kind[a][1] = std::uint8_t(bc.hi[a].kind);
    h.value[a][0] = bc.lo[a].value;
    h.value[a][1] = bc.hi[a].value;
  }
  return h;
}

/// k sweeps of a folded constant stencil from u; returns the grid holding the result.
grid& run_sweeps(const char* op, const stencil& s, const folded& fo, double gamma, grid& u, const grid* f,
                 grid& scratch, const boundary_conditions& bc, int sweeps) {
  check_grids(op, s, u, scratch, f);
  if (scratch.halo() < s.radius())
    MIXPREC_THROW(invalid_argument, op, "scratch has a halo of ", scratch.halo(), " but the stencil reaches ",
                  s.radius());
  if (sweeps < 0) MIXPREC_THROW(invalid_argument, op, "sweeps = ", sweeps, " is negative");
  fill_halo(u, bc);
  if (sweeps == 0 || u.points() == 0) return u;

  const bool periodic_yz = bc.periodic(1) || (u.dims() == 3 && bc.periodic(2));
  const detail::halo_args h = halo_of(bc);
  grid* src = &u;
  grid* dst = &scratch;
  int left = sweeps;
  while (left > 0) {
    stencil_args a = base_args(s, *src, f, *dst);
    a.npoints = int(fo.offsets.size());
    a.offsets = fo.offsets.data();
    a.coeffs = fo.coeffs.data();
    a.gamma = gamma;
    detail::stencil_problem p = problem_of(a, false);
    p.periodic_yz = periodic_yz;
    const int step = std::min(left, 32);
    if (step == 1 || u.dims() != 3 || periodic_yz) {
      // Not blockable here: one sweep, then the halo of its output.
      run_stencil(*src, a, false);
      fill_halo(*dst, bc);
      std::swap(src, dst);
      --left;
      continue;
    }
    const detail::context_state& st = *detail::state_of(u.ctx());
    int done = 0;
    detail::dispatch<detail::op_id::stencil_sweeps>(
        st, u.type(), u.type(), &p, accumulation::standard,
        [&](detail::stencil_sweeps_fn kernel, const detail::exec_args& ex) { done = kernel(ex, a, h, step); },
        [&] { return std::make_pair(std::string(name_of(u.type())), shape_of(a, done)); });
    if (done < 1 || done > step)
      MIXPREC_THROW(internal, op, "the stencil_sweeps kernel ran ", done, " of ", step, " sweeps");
    fill_halo(*dst, bc);
    std::swap(src, dst);
    left -= done;
  }
  return *src;
}

}  // namespace

void stencil_apply(const stencil& s, double alpha, const grid& u, double beta, grid& out, const grid* f, double gamma) {
  constexpr const char* op = "stencil_apply";
  check_grids(op, s, u, out, f);
  if (u.points() == 0) return;
  const folded fo(s, alpha, beta);
  stencil_args a = base_args(s, u, f, out);
  a.npoints = int(fo.offsets.size());
  a.offsets = fo.offsets.data();
  a.coeffs = fo.coeffs.data();
  a.gamma = gamma;
  run_stencil(u, a, false);
}

void stencil_apply(const stencil& s, double alpha, const grid& u, double beta, grid& out) {
  stencil_apply(s, alpha, u, beta, out, nullptr, 0.0);
}

void jacobi_sweep(const stencil& s, const grid& u, const grid* f, grid& out, double omega) {
  constexpr const char* op = "jacobi_sweep";
  check_grids(op, s, u, out, f);
  const folded fo = jacobi_fold(op, s, omega);
  if (u.points() == 0) return;
  stencil_args a = base_args(s, u, f, out);
  a.npoints = int(fo.offsets.size());
  a.offsets = fo.offsets.data();
  a.coeffs = fo.coeffs.data();
  a.gamma = omega / s.center();
  run_stencil(u, a, false);
}

grid& jacobi_sweeps(const stencil& s, grid& u, const grid* f, grid& scratch, const boundary_conditions& bc, int sweeps,
                    double omega) {
  constexpr const char* op = "jacobi_sweeps";
  const folded fo = jacobi_fold(op, s, omega);
  return run_sweeps(op, s, fo, omega / s.center(), u, f, scratch, bc, sweeps);
}

grid& heat_steps(grid& u, grid& scratch, double r, const boundary_conditions& bc, int steps) {
  constexpr const char* op = "heat_steps";
  if (u.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "u is an empty grid");
  const double limit = 1.0 / (2.0 * u.dims());
  if (!(r >= 0.0) || r > limit)
    MIXPREC_THROW(invalid_argument, op, "r = kappa*dt/h^2 = ", r, " is outside the stable range [0, ", limit,
                  "] of explicit Euler in ", u.dims(), "D");
  // u + r*Laplacian(u) = (I - r*L) u with L the -Laplacian stencil.
  const stencil lap = u.dims() == 2 ? stencil::laplace_2d5() : stencil::laplace_3d7();
  const folded fo(lap, -r, 1.0);
  return run_sweeps(op, lap, fo, 0.0, u, nullptr, scratch, bc, steps);
}

// ---- variable coefficients ----

namespace {

void check_variable(const char* op, const variable_stencil& s, const grid& u) {
  if (s.coeffs.size() != s.shape.points().size())
    MIXPREC_THROW(invalid_argument, op, "the stencil has ", s.shape.points().size(), " points but ", s.coeffs.size(),
                  " coefficient grids");
  for (std::size_t p = 0; p < s.coeffs.size(); ++p) {
    check_same(op, "a coefficient grid", u, s.coeffs[p]);
    if (s.coeffs[p].stride_y() != s.coeffs[0].stride_y() || s.coeffs[p].stride_z() != s.coeffs[0].stride_z())
      MIXPREC_THROW(invalid_argument, op, "coefficient grid ", p, " has other strides than grid 0");
  }
}

stencil_args variable_args(const variable_stencil& s, const grid& u, const grid* f, grid& out,
                           std::vector<detail::stencil_offset>& offsets, std::vector<const void*>& grids) {
  stencil_args a = base_args(s.shape, u, f, out);
  for (std::size_t p = 0; p < s.coeffs.size(); ++p) {
    const stencil_point& q = s.shape.points()[p];
    offsets.push_back({q.dx, q.dy, q.dz});
    grids.push_back(s.coeffs[p].origin());
    if (q.dx == 0 && q.dy == 0 && q.dz == 0) a.center = int(p);
  }
  a.npoints = int(offsets.size());
  a.offsets = offsets.data();
  a.coeff_grids = grids.data();
  a.csy = s.coeffs[0].stride_y();
  a.csz = s.coeffs[0].stride_z();
  return a;
}

}  // namespace

void stencil_apply(const variable_stencil& s, double alpha, const grid& u, double beta, grid& out) {
  constexpr const char* op = "stencil_apply";
  check_grids(op, s.shape, u, out, nullptr);
  check_variable(op, s, u);
  if (u.points() == 0) return;
  std::vector<detail::stencil_offset> offsets;
  std::vector<const void*> grids;
  stencil_args a = variable_args(s, u, nullptr, out, offsets, grids);
  a.alpha = alpha;
  a.beta = beta;
  run_stencil(u, a, true);
}

void jacobi_sweep(const variable_stencil& s, const grid& u, const grid* f, grid& out, double omega) {
  constexpr const char* op = "jacobi_sweep";
  check_grids(op, s.shape, u, out, f);
  check_variable(op, s, u);
  if (u.points() == 0) return;
  std::vector<detail::stencil_offset> offsets;
  std::vector<const void*> grids;
  stencil_args a = variable_args(s, u, f, out, offsets, grids);
  if (a.center < 0) MIXPREC_THROW(numerical_breakdown, op, "the stencil has no center point; Jacobi divides by it");
  // A zero on the diagonal would divide by zero somewhere in the sweep: find it first.
  if (u.ctx().kind() == backend::cpu) {
    const grid& d = s.coeffs[std::size_t(a.center)];
    for (std::int64_t z = 0; z < d.nz(); ++z)
      for (std::int64_t y = 0; y < d.ny(); ++y)
        for (std::int64_t x = 0; x < d.nx(); ++x)
          if (detail::load_f64(d, x, y, z) == 0.0)
            MIXPREC_THROW(numerical_breakdown, op, "the center coefficient is 0 at (", x, ",", y, ",", z, ")");
  }
  a.mode = detail::stencil_mode::jacobi;
  a.omega = omega;
  run_stencil(u, a, true);
}

}  // namespace mixprec
