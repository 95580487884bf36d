// The multigrid V-cycle: levels of grids with zero halos (the Dirichlet boundary), each
// with its scaled stencil, and the three multigrid ops (smooth, restrict, prolong)
// dispatched like every other op.
#include "mixprec/multigrid.hpp"

#include <chrono>
#include <cmath>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/blas1.hpp"

namespace mixprec {

const char* name_of(mg_restriction r) { return r == mg_restriction::injection ? "injection" : "full_weighting"; }

/// One level: its extent, stencil, and grids u (correction), f (right-hand side) and r
/// (residual, full weighting only), each over a buffer of its own whose halo stays zero.
struct multigrid_preconditioner::level {
  grid_extent extent;
  std::vector<detail::stencil_offset> offsets;
  std::vector<double> coeffs;
  stencil shape;
  double inv_center = 0;
  int colors = 2;
  buffer u_mem, f_mem, r_mem;
  grid u, f, r;
  std::shared_ptr<const halo_exchanger> halos;  // null on one process: halos stay zero
  // A gathered level (its blocks could halve no more): the rest of the cycle, on the
  // process that holds the whole grid, and the whole grid's right-hand side and correction.
  bool gathered = false;
  int tail_levels = 0;
  std::unique_ptr<multigrid_preconditioner> tail;
  buffer whole_f, whole_u;

  void exchange(grid& g) const {
    if (halos) halos->exchange(g);
  }
};

namespace {

constexpr const char* op_name = "multigrid_preconditioner";

/// A zero grid with a halo of 1 over a buffer of its own (so that it can be zeroed whole).
grid zero_grid(buffer& mem, dtype t, const grid_extent& e, const context& ctx) {
  const std::int64_t sy = e.nx + 2, sz = sy * (e.ny + 2), planes = e.dims == 3 ? e.nz + 2 : 1;
  mem = buffer(t, sz * planes, ctx);
  fill(mem.as_view(), 0.0);
  const std::int64_t origin = 1 + sy + (e.dims == 3 ? sz : 0);
  return grid::wrap(static_cast<char*>(mem.data()) + origin * std::int64_t(size_of(t)), t, e, 1, sy, sz, ctx);
}

bool is_star(const stencil& s) {
  for (const stencil_point& p : s.points())
    if ((p.dx != 0) + (p.dy != 0) + (p.dz != 0) > 1) return false;
  return true;
}

grid_extent coarse_of(const grid_extent& e) {
  return e.dims == 3 ? grid_extent(e.nx / 2, e.ny / 2, e.nz / 2) : grid_extent(e.nx / 2, e.ny / 2);
}

template <detail::op_id Op, class F>
void run_mg(const grid& g, const std::string& shape, F&& call) {
  detail::dispatch<Op>(*detail::state_of(g.ctx()), g.type(), g.type(), nullptr, accumulation::standard, call,
                       [&] { return std::make_pair(std::string(name_of(g.type())), shape); });
}

std::string extent_text(const grid_extent& e) { return detail::cat(e.nx, "x", e.ny, "x", e.nz); }

}  // namespace

namespace {

/// What every V-cycle's stencil and options must satisfy.
void check_multigrid(const stencil& s, const multigrid_options& o) {
  if (s.radius() != 1)
    MIXPREC_THROW(unsupported, op_name, "stencil radius ", s.radius(), ": the smoother and transfers need radius 1");
  if (s.center() == 0.0) MIXPREC_THROW(numerical_breakdown, op_name, "the stencil's center coefficient is 0");
  if (o.storage != dtype::f64 && o.storage != dtype::f32)
    MIXPREC_THROW(unsupported, op_name, "storage ", name_of(o.storage), " (f64 or f32)");
  if (o.levels < 1 || o.pre_smooth < 0 || o.post_smooth < 0 || o.coarse_smooth < 1)
    MIXPREC_THROW(invalid_argument, op_name, "levels = ", o.levels, ", pre_smooth = ", o.pre_smooth,
                  ", post_smooth = ", o.post_smooth, ", coarse_smooth = ", o.coarse_smooth,
                  " (levels >= 1, sweeps >= 0, coarse sweeps >= 1)");
  if (!(o.coarse_scale >= 0) || !std::isfinite(o.coarse_scale))
    MIXPREC_THROW(invalid_argument, op_name, "coarse_scale = ", o.coarse_scale);
}

}  // namespace

multigrid_preconditioner::multigrid_preconditioner(const stencil_operator& a, multigrid_options o)
    : linear_operator(a.rows(), a.cols(), a.ctx()), options_(o) {
  check_multigrid(a.shape(), o);
  for (int ax = 0; ax < a.extent().dims; ++ax)
    for (const face_condition& fc : {a.boundaries().lo[ax], a.boundaries().hi[ax]})
      if (fc.kind != boundary::dirichlet || fc.value != 0.0)
        MIXPREC_THROW(unsupported, op_name, "axis ", "xyz"[ax], " has a ", name_of(fc.kind), " face (value ", fc.value,
                      "): multigrid here takes zero Dirichlet boundaries");
  build(a.shape(), a.extent(), nullptr);
}

multigrid_preconditioner::multigrid_preconditioner(const stencil& s, const grid_extent& local,
                                                   std::shared_ptr<const halo_exchanger> halos, multigrid_options o)
    : linear_operator(local.points(), local.points(), context::cpu()), options_(o) {
  check_multigrid(s, o);
  if (s.dims() != local.dims)
    MIXPREC_THROW(shape_mismatch, op_name, "a ", s.dims(), "D stencil on a ", local.dims, "D block");
  build(s, local, std::move(halos));
}

void multigrid_preconditioner::build(const stencil& s, grid_extent e, std::shared_ptr<const halo_exchanger> halos) {
  const multigrid_options& o = options_;
  if (o.coarse_scale == 0) options_.coarse_scale = o.restriction == mg_restriction::full_weighting ? 0.25 : 1.0;
  const int colors = is_star(s) ? 2 : (e.dims == 3 ? 8 : 4);
  double scale = 1;
  for (int l = 0; l < o.levels; ++l) {
    if (l > 0) {
      if (halos) {
        // Collective: every process asks, whatever its own block's size.
        std::shared_ptr<const halo_exchanger> next = halos->coarsened();
        if (!next) {
          gather_rest(levels_.back(), o.levels - l + 1);
          break;
        }
        halos = std::move(next);
      } else {
        const grid_extent c = coarse_of(e);
        if (c.nx < 1 || c.ny < 1 || c.nz < 1) break;
      }
      e = coarse_of(e);
      scale *= options_.coarse_scale;
    }
    level lv;
    lv.extent = e;
    lv.halos = halos;
    std::vector<stencil_point> pts = s.points();
    for (stencil_point& p : pts) {
      p.coeff *= scale;
      lv.offsets.push_back({p.dx, p.dy, p.dz});
      lv.coeffs.push_back(p.coeff);
    }
    lv.shape = stencil(s.dims(), pts);
    lv.inv_center = 1.0 / (s.center() * scale);
    lv.colors = colors;
    lv.u = zero_grid(lv.u_mem, o.storage, e, ctx());
    lv.f = zero_grid(lv.f_mem, o.storage, e, ctx());
    if (o.restriction == mg_restriction::full_weighting) lv.r = zero_grid(lv.r_mem, o.storage, e, ctx());
    levels_.push_back(std::move(lv));
  }
}

void multigrid_preconditioner::gather_rest(level& lv, int levels) {
  // The one-process cycle from this level on: the same extents and coefficients (the
  // level's stencil is already scaled; the coarse scales are powers of two, so scaling
  // again level by level rounds nothing).
  const grid_extent whole = lv.halos->whole_extent();
  multigrid_options rest = options_;
  rest.levels = levels;
  grid_extent e = whole;
  int tail_levels = 1;
  for (int l = 1; l < levels; ++l) {
    const grid_extent c = coarse_of(e);
    if (c.nx < 1 || c.ny < 1 || c.nz < 1) break;
    e = c;
    ++tail_levels;
  }
  // A whole grid that could not coarsen either: this level is the coarsest, smoothed
  // across the processes as one process would smooth it.
  if (tail_levels == 1) return;
  lv.gathered = true;
  lv.tail_levels = tail_levels;
  if (!lv.halos->holds_whole()) return;
  const stencil_operator whole_op(lv.shape, whole, boundary_conditions::all(boundary::dirichlet, 0.0), ctx());
  lv.tail = std::make_unique<multigrid_preconditioner>(whole_op, rest);
  lv.whole_f = buffer(options_.storage, whole.points(), ctx());
  lv.whole_u = buffer(options_.storage, whole.points(), ctx());
}

multigrid_preconditioner::~multigrid_preconditioner() = default;

int multigrid_preconditioner::levels() const {
  const level& last = levels_.back();
  return int(levels_.size()) + (last.gathered ? last.tail_levels - 1 : 0);
}

std::string multigrid_preconditioner::describe() const {
  std::string s = detail::cat("multigrid ", levels_.size(), " levels ", extent_text(levels_.front().extent));
  for (std::size_t l = 1; l < levels_.size(); ++l) s += "/" + extent_text(levels_[l].extent);
  if (levels_.back().gathered)
    s += detail::cat(" then gathered: ", extent_text(levels_.back().halos->whole_extent()), " and ",
                     levels_.back().tail_levels - 1, " coarser on one process");
  return s + detail::cat(" ", name_of(options_.storage), ", SGS ", options_.pre_smooth, "/", options_.post_smooth,
                         ", coarse ", options_.coarse_smooth, ", ", name_of(options_.restriction), ", ",
                         levels_.front().colors, " colors");
}

void multigrid_preconditioner::sgs(level& lv, int sweeps) const {
  detail::mg_smooth_args a{};
  a.nx = lv.extent.nx;
  a.ny = lv.extent.ny;
  a.nz = lv.extent.nz;
  a.npoints = int(lv.offsets.size());
  a.offsets = lv.offsets.data();
  a.coeffs = lv.coeffs.data();
  a.inv_center = lv.inv_center;
  a.u = lv.u.origin();
  a.usy = lv.u.stride_y();
  a.usz = lv.u.stride_z();
  a.f = lv.f.origin();
  a.fsy = lv.f.stride_y();
  a.fsz = lv.f.stride_z();
  a.colors = lv.colors;
  const std::string shape = detail::cat(extent_text(lv.extent), ":pts", a.npoints, ":colors", a.colors);
  for (int s = 0; s < sweeps; ++s)
    for (int pass = 0; pass < 2; ++pass)  // colors forward, then backward: symmetric
      for (int c = 0; c < lv.colors; ++c) {
        a.color = pass == 0 ? c : lv.colors - 1 - c;
        lv.exchange(lv.u);  // the neighbours' points of the other colors, as updated
        run_mg<detail::op_id::mg_smooth>(
            lv.u, shape, [&](detail::mg_smooth_fn kernel, const detail::exec_args& ex) { kernel(ex, a); });
      }
}

void multigrid_preconditioner::vcycle(std::size_t l) const {
  level& lv = levels_[l];
  fill(lv.u_mem.as_view(), 0.0);
  if (lv.gathered) {
    const bool root = lv.halos->holds_whole();
    lv.halos->gather(lv.f, root ? lv.whole_f.data() : nullptr);
    if (root) lv.tail->apply(lv.whole_f.as_view(), lv.whole_u.as_view());
    lv.halos->scatter(root ? lv.whole_u.data() : nullptr, lv.u);
    return;
  }
  if (l + 1 == levels_.size()) {
    sgs(lv, options_.coarse_smooth);
    return;
  }
  sgs(lv, options_.pre_smooth);

  level& next = levels_[l + 1];
  const bool injection = options_.restriction == mg_restriction::injection;
  detail::mg_restrict_args ra{};
  ra.kind = injection ? detail::mg_transfer::injection : detail::mg_transfer::full_weighting;
  ra.nx = lv.extent.nx;
  ra.ny = lv.extent.ny;
  ra.nz = lv.extent.nz;
  ra.cx = next.extent.nx;
  ra.cy = next.extent.ny;
  ra.cz = next.extent.nz;
  ra.npoints = int(lv.offsets.size());
  ra.offsets = lv.offsets.data();
  ra.coeffs = lv.coeffs.data();
  ra.u = lv.u.origin();
  ra.usy = lv.u.stride_y();
  ra.usz = lv.u.stride_z();
  lv.exchange(lv.u);  // the residual reads u across the block's faces
  if (injection) {
    ra.f = lv.f.origin();
  } else {
    stencil_apply(lv.shape, -1.0, lv.u, 0.0, lv.r, &lv.f, 1.0);  // r = f - S(u)
    lv.exchange(lv.r);                                           // full weighting reads r across the block's faces
    ra.f = lv.r.origin();
  }
  ra.fsy = lv.f.stride_y();  // f and r share their layout
  ra.fsz = lv.f.stride_z();
  ra.out = next.f.origin();
  ra.osy = next.f.stride_y();
  ra.osz = next.f.stride_z();
  const std::string shape =
      detail::cat(extent_text(lv.extent), "->", extent_text(next.extent), ":", name_of(options_.restriction));
  run_mg<detail::op_id::mg_restrict>(
      lv.u, shape, [&](detail::mg_restrict_fn kernel, const detail::exec_args& ex) { kernel(ex, ra); });

  vcycle(l + 1);

  next.exchange(next.u);  // interpolation reads the coarse correction across faces
  detail::mg_prolong_args pa{};
  pa.kind = ra.kind;
  pa.nx = ra.nx;
  pa.ny = ra.ny;
  pa.nz = ra.nz;
  pa.cx = ra.cx;
  pa.cy = ra.cy;
  pa.cz = ra.cz;
  pa.uc = next.u.origin();
  pa.csy = next.u.stride_y();
  pa.csz = next.u.stride_z();
  pa.u = lv.u.origin();
  pa.usy = lv.u.stride_y();
  pa.usz = lv.u.stride_z();
  run_mg<detail::op_id::mg_prolong>(lv.u, shape,
                                    [&](detail::mg_prolong_fn kernel, const detail::exec_args& ex) { kernel(ex, pa); });
  sgs(lv, options_.post_smooth);
}

void multigrid_preconditioner::apply(double alpha, const_view r, double beta, view z) const {
  check_vectors("multigrid_preconditioner::apply", r, z);
  if (rows() == 0) return;
  const std::lock_guard<std::mutex> turn(apply_mutex_);
  level& top = levels_.front();
  const grid_extent& e = top.extent;
  const grid rg = grid::wrap(const_cast<void*>(r.data()), r.type(), e, 0, e.nx, e.nx * e.ny, ctx());
  copy_interior(rg, top.f);
  vcycle(0);
  if (alpha == 1.0 && beta == 0.0) {
    grid zg = grid::wrap(z.data(), z.type(), e, 0, e.nx, e.nx * e.ny, ctx());
    copy_interior(top.u, zg);
    return;
  }
  if (out_.size() != rows() || out_.type() != z.type()) out_ = buffer(z.type(), rows(), ctx());
  grid og = grid::wrap(out_.data(), z.type(), e, 0, e.nx, e.nx * e.ny, ctx());
  copy_interior(top.u, og);
  axpby(alpha, out_.as_view(), beta, z);
}

}  // namespace mixprec
