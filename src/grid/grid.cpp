// Grids: padded layout, wrapping, halo fill and interior copies.
#include <chrono>
#include <cstring>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/parallel.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/grid.hpp"

namespace mixprec {

const char* name_of(boundary b) {
  switch (b) {
    case boundary::dirichlet:
      return "dirichlet";
    case boundary::periodic:
      return "periodic";
    case boundary::neumann:
      return "neumann";
  }
  return "?";
}

namespace {

void check_extent(const char* op, const grid_extent& e, int halo) {
  if (e.dims != 2 && e.dims != 3) MIXPREC_THROW(invalid_argument, op, "a grid has 2 or 3 dimensions, not ", e.dims);
  if (e.nx < 0 || e.ny < 0 || e.nz < 0)
    MIXPREC_THROW(invalid_argument, op, "negative extent ", e.nx, " x ", e.ny, " x ", e.nz);
  if (e.dims == 2 && e.nz != 1) MIXPREC_THROW(invalid_argument, op, "a 2D grid has nz = 1, not ", e.nz);
  if (halo < 0) MIXPREC_THROW(invalid_argument, op, "negative halo ", halo);
}

void check_float(const char* op, dtype t) {
  if (t != dtype::f64 && t != dtype::f32 && t != dtype::f16 && t != dtype::bf16)
    MIXPREC_THROW(unsupported, op, "grids store f64, f32, f16 or bf16, not ", name_of(t));
}

std::int64_t round_up(std::int64_t n, std::int64_t m) { return (n + m - 1) / m * m; }

}  // namespace

grid::grid(dtype type, grid_extent extent, int halo, const context& ctx)
    : ctx_(ctx), type_(type), extent_(extent), halo_(halo), host_(ctx.kind() == backend::cpu) {
  check_extent("grid", extent, halo);
  check_float("grid", type);
  // Rows padded so that x = 0 of every row starts a 64-byte line: aligned SIMD loads and
  // stores on the interior.
  const std::int64_t line = 64 / std::int64_t(size_of(type));
  const std::int64_t left = round_up(halo, line);
  stride_y_ = round_up(left + extent.nx + halo, line);
  const std::int64_t rows = extent.ny + 2 * halo;
  stride_z_ = stride_y_ * rows;
  const std::int64_t planes = extent.dims == 3 ? extent.nz + 2 * halo : 1;
  auto storage = std::make_shared<buffer>(type, stride_z_ * planes, ctx);
  fill(storage->as_view(), 0.0);
  const std::int64_t z_halo = extent.dims == 3 ? halo : 0;
  origin_ = static_cast<char*>(storage->data()) +
            (left + halo * stride_y_ + z_halo * stride_z_) * std::int64_t(size_of(type));
  storage_ = std::move(storage);
}

grid grid::wrap(void* origin, dtype type, grid_extent extent, int halo, std::int64_t stride_y, std::int64_t stride_z,
                const context& ctx) {
  check_extent("grid::wrap", extent, halo);
  check_float("grid::wrap", type);
  if (!origin && extent.points() > 0) MIXPREC_THROW(invalid_argument, "grid::wrap", "origin is null");
  if (stride_y < extent.nx + 2 * halo)
    MIXPREC_THROW(invalid_argument, "grid::wrap", "stride_y ", stride_y, " leaves no room for ", extent.nx,
                  " points and a halo of ", halo, " on both sides");
  if (extent.dims == 3 && stride_z < stride_y * (extent.ny + 2 * halo))
    MIXPREC_THROW(invalid_argument, "grid::wrap", "stride_z ", stride_z,
                  " is less than stride_y * (ny + 2*halo) = ", stride_y * (extent.ny + 2 * halo));
  grid g;
  g.ctx_ = ctx;
  g.host_ = ctx.kind() == backend::cpu;
  g.type_ = type;
  g.extent_ = extent;
  g.halo_ = halo;
  g.stride_y_ = stride_y;
  g.stride_z_ = extent.dims == 3 ? stride_z : stride_y * (extent.ny + 2 * halo);
  g.origin_ = origin;
  return g;
}

grid grid::to(const context& target) const {
  grid out(type_, extent_, halo_, target);
  // Plane by plane from the first halo row to the last: the padding between is copied too.
  const std::size_t es = size_of(type_);
  const std::int64_t h = halo_, zh = extent_.dims == 3 ? h : 0;
  for (std::int64_t k = -zh; k < extent_.nz + zh; ++k)
    for (std::int64_t j = -h; j < extent_.ny + h; ++j) {
      const auto* src = static_cast<const char*>(origin_) + offset(-h, j, k) * std::int64_t(es);
      auto* dst = static_cast<char*>(out.origin_) + out.offset(-h, j, k) * std::int64_t(es);
      detail::copy_bytes(*detail::state_of(ctx_), src, *detail::state_of(target), dst,
                         std::size_t(extent_.nx + 2 * h) * es);
    }
  return out;
}

view grid::interior() {
  if (extent_.dims == 2) return view(origin_, type_, {extent_.ny, extent_.nx}, {stride_y_, 1}, ctx_);
  return view(origin_, type_, {extent_.nz, extent_.ny, extent_.nx}, {stride_z_, stride_y_, 1}, ctx_);
}
const_view grid::interior() const {
  if (extent_.dims == 2) return const_view(origin_, type_, {extent_.ny, extent_.nx}, {stride_y_, 1}, ctx_);
  return const_view(origin_, type_, {extent_.nz, extent_.ny, extent_.nx}, {stride_z_, stride_y_, 1}, ctx_);
}

void fill_halo(grid& g, const boundary_conditions& bc) {
  constexpr const char* op = "fill_halo";
  if (g.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the grid is empty (default-constructed)");
  const char* axis_name[3] = {"x", "y", "z"};
  const std::int64_t n[3] = {g.nx(), g.ny(), g.nz()};
  detail::halo_args args{};
  for (int a = 0; a < 3; ++a) {
    const face_condition lo = bc.lo[a], hi = bc.hi[a];
    if (a < g.dims()) {
      if ((lo.kind == boundary::periodic) != (hi.kind == boundary::periodic))
        MIXPREC_THROW(invalid_argument, op, "axis ", axis_name[a], " is periodic on one face only (lo ",
                      name_of(lo.kind), ", hi ", name_of(hi.kind), ")");
      const bool mirrors = lo.kind != boundary::dirichlet || hi.kind != boundary::dirichlet;
      if (mirrors && n[a] < g.halo())
        MIXPREC_THROW(invalid_argument, op, "axis ", axis_name[a], " has ", n[a], " points, fewer than the halo ",
                      g.halo(), " that ", name_of(lo.kind == boundary::dirichlet ? hi.kind : lo.kind),
                      " conditions copy from");
    }
    args.kind[a][0] = std::uint8_t(lo.kind);
    args.kind[a][1] = std::uint8_t(hi.kind);
    args.value[a][0] = lo.value;
    args.value[a][1] = hi.value;
  }
  if (g.halo() == 0 || g.points() == 0) return;
  const detail::context_state& st = *detail::state_of(g.ctx());
  const detail::grid_args ga{g.origin(), g.nx(), g.ny(), g.nz(), g.stride_y(), g.stride_z(), g.halo(), g.dims()};
  detail::dispatch<detail::op_id::halo_fill>(
      st, g.type(), g.type(), nullptr, accumulation::standard,
      [&](detail::halo_fill_fn kernel, const detail::exec_args& ex) { kernel(ex, ga, args); },
      [&] {
        return std::make_pair(std::string(name_of(g.type())),
                              detail::cat(g.nx(), "x", g.ny(), "x", g.nz(), ":h", g.halo()));
      });
}

void copy_interior(const grid& src, grid& dst) {
  constexpr const char* op = "copy_interior";
  if (src.ctx().empty() || dst.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "a grid is empty");
  if (src.extent() != dst.extent())
    MIXPREC_THROW(shape_mismatch, op, "src is ", src.nx(), "x", src.ny(), "x", src.nz(), " but dst is ", dst.nx(), "x",
                  dst.ny(), "x", dst.nz());
  if (!src.ctx().same_memory(dst.ctx()))
    MIXPREC_THROW(invalid_argument, op, "src and dst must live in one memory space; use grid::to first");
  if (src.points() == 0) return;
  const detail::context_state& st = *detail::state_of(dst.ctx());
  if (dst.ctx().kind() != backend::cpu) {  // a device: the whole interior in one launch
    const detail::grid_args s{const_cast<void*>(src.origin()),
                              src.nx(),
                              src.ny(),
                              src.nz(),
                              src.stride_y(),
                              src.stride_z(),
                              src.halo(),
                              src.dims()};
    const detail::grid_args d{dst.origin(),   dst.nx(),       dst.ny(),   dst.nz(),
                              dst.stride_y(), dst.stride_z(), dst.halo(), dst.dims()};
    detail::dispatch<detail::op_id::convert_grid>(
        st, src.type(), dst.type(), nullptr, accumulation::standard,
        [&](detail::convert_grid_fn kernel, const detail::exec_args& ex) { kernel(ex, s, d); },
        [&] {
          return std::make_pair(detail::cat(name_of(src.type()), ":", name_of(dst.type())),
                                detail::cat(src.nx(), "x", src.ny(), "x", src.nz()));
        });
    return;
  }
  // On the CPU: one convert kernel, chosen once, row by row (its ISA variants take
  // contiguous rows best); the rows are split over the threads (one thread per row range,
  // the kernel itself single-threaded).
  const detail::blas1_problem p{src.nx(), 1, 1, accumulation::standard};
  const std::size_t ss = size_of(src.type()), ds = size_of(dst.type());
  const std::int64_t rows = src.ny() * src.nz();
  detail::dispatch<detail::op_id::convert>(
      st, src.type(), dst.type(), &p, accumulation::standard,
      [&](detail::convert_fn kernel, detail::exec_args ex) {
        const int threads = ex.threads;
        ex.threads = 1;
        auto copy_rows = [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t r = begin; r < end; ++r) {
            const std::int64_t y = r % src.ny(), z = r / src.ny();
            kernel(ex, src.nx(), static_cast<const char*>(src.origin()) + src.offset(0, y, z) * std::int64_t(ss), 1,
                   static_cast<char*>(dst.origin()) + dst.offset(0, y, z) * std::int64_t(ds), 1);
          }
        };
        const int chunks = detail::chunk_count(rows * src.nx(), threads, 1 << 15);
        detail::parallel_chunks(chunks, [&](int c) {
          std::int64_t b, e;
          detail::chunk_range(rows, chunks, c, 1, &b, &e);
          copy_rows(b, e);
        });
      },
      [&] {
        return std::make_pair(detail::cat(name_of(src.type()), ":", name_of(dst.type())),
                              detail::cat(src.nx(), "x", src.ny(), "x", src.nz()));
      });
}

void grid::refuse_at(dtype t, std::int64_t i, std::int64_t j, std::int64_t k) const {
  constexpr const char* op = "grid::at";
  if (!origin_) MIXPREC_THROW(invalid_argument, op, "the grid is empty");
  if (!host_) MIXPREC_THROW(invalid_argument, op, "the grid lives in CUDA memory; copy it to the CPU (grid::to) first");
  if (t != type_) MIXPREC_THROW(invalid_argument, op, "the grid holds ", name_of(type_), ", not ", name_of(t));
  MIXPREC_THROW(invalid_argument, op, "(", i, ", ", j, ", ", k, ") is outside the ", nx(), " x ", ny(), " x ", nz(),
                " grid with halo ", halo_, extent_.dims == 2 ? " (2D: k must be 0)" : "");
}

}  // namespace mixprec
