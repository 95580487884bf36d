// CUDA stencil kernels: one thread per output point running the CPU reference's body
// (kernels/common/stencil_point.hpp), the halo fill one thread per ghost point with the
// CPU's ghost_value (kernels/common/halo_fill.hpp), and grid-to-grid copies (copy_interior)
// one thread per point with convert_grid_point. The CPU tests cover the three bodies.
// No library offers stencils; these stay a few lines around the shared bodies.
#include "kernels/common/convert_grid_point.hpp"
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/halo_fill.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/stencil_point.hpp"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

/// Points the kernel takes by value: a radius-2 box (125 points) keeps its parameters
/// under the 4 KiB every CUDA version accepts.
constexpr int max_points = 125;

struct point_table {
  detail::stencil_offset offsets[max_points];
  double coeffs[max_points];
  const void* grids[max_points];
  bool constant;
};

bool supports_points(const void* problem, const char** why) {
  const auto* p = static_cast<const detail::stencil_problem*>(problem);
  if (p->npoints <= max_points) return true;
  *why = "takes stencils of at most 125 points (a radius-2 box): the points travel in the kernel's parameters";
  return false;
}

template <class S>
__global__ void stencil_kernel(detail::stencil_args a, point_table t) {
  const kern::stencil_points pts{t.offsets, t.constant ? t.coeffs : nullptr, t.constant ? nullptr : t.grids};
  const idx points = a.nx * a.ny * a.nz;
  MIXPREC_GRID_STRIDE(i, points) {
    const idx x = i % a.nx, y = (i / a.nx) % a.ny, z = i / (a.nx * a.ny);
    kern::stencil_point<S>(a, pts, x, y, z);
  }
}

/// The ghost points of axis `axis`: over the axes before it their full extent (their halo
/// is filled already), over those after it their interior, as the CPU fill goes.
template <class S>
__global__ void halo_axis_kernel(detail::grid_args g, detail::halo_args bc, int axis) {
  S* o = static_cast<S*>(g.origin);
  const idx n[3] = {g.nx, g.ny, g.nz};
  const idx s[3] = {1, g.sy, g.sz};
  const idx h = g.halo;
  const int b = axis == 0 ? 1 : 0, c = axis == 2 ? 1 : 2;
  auto lo = [&](int ax) { return ax < axis && ax < g.dims ? -h : idx(0); };
  auto hi = [&](int ax) { return ax < axis && ax < g.dims ? n[ax] + h : n[ax]; };
  const idx b0 = lo(b), nb = hi(b) - b0, c0 = lo(c), nc = hi(c) - c0;
  const S lo_value = kern::from_f64<S>(bc.value[axis][0]), hi_value = kern::from_f64<S>(bc.value[axis][1]);
  const idx ghosts = nb * nc * h * 2;
  MIXPREC_GRID_STRIDE(i, ghosts) {
    const bool high = i % 2 == 1;
    const idx d = 1 + (i / 2) % h, line = i / (2 * h);
    S* row = o + (b0 + line % nb) * s[b] + (c0 + line / nb) * s[c];
    const idx ghost = high ? n[axis] - 1 + d : -d;
    row[ghost * s[axis]] =
        kern::ghost_value(row, s[axis], n[axis], ghost, bc.kind[axis][high ? 1 : 0], high ? hi_value : lo_value);
  }
}

template <class S, class D>
__global__ void convert_grid_kernel(detail::grid_args src, detail::grid_args dst) {
  MIXPREC_GRID_STRIDE(i, src.nx * src.ny * src.nz) { kern::convert_grid_point<S, D>(src, dst, i); }
}

/// copy_interior on a device: the whole interior in one launch.
template <class S, class D>
void convert_grid(const exec_args& ex, const detail::grid_args& src, const detail::grid_args& dst) {
  const idx points = src.nx * src.ny * src.nz;
  if (points == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  convert_grid_kernel<S, D><<<grid_for(points), block_threads, 0, st.stream>>>(src, dst);
  check_launch("convert_grid_kernel");
}

template <class S>
struct stencil_set {
  static void halo(const exec_args& ex, const detail::grid_args& g, const detail::halo_args& bc) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    for (int axis = 0; axis < g.dims; ++axis) {
      const idx n[3] = {g.nx, g.ny, g.nz};
      idx lines = 1;
      for (int other = 0; other < 3; ++other)
        if (other != axis) lines *= other < axis && other < g.dims ? n[other] + 2 * g.halo : n[other];
      halo_axis_kernel<S><<<grid_for(lines * g.halo * 2), block_threads, 0, st.stream>>>(g, bc, axis);
      if (!check_launch("halo_axis_kernel")) return;
    }
  }

  static void apply(const exec_args& ex, const detail::stencil_args& a) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    point_table t{};
    t.constant = a.coeffs != nullptr;
    for (int p = 0; p < a.npoints; ++p) {
      t.offsets[p] = a.offsets[p];
      if (t.constant)
        t.coeffs[p] = a.coeffs[p];
      else
        t.grids[p] = a.coeff_grids[p];
    }
    stencil_kernel<S><<<grid_for(a.nx * a.ny * a.nz), block_threads, 0, st.stream>>>(a, t);
    check_launch("stencil_kernel");
  }

  /// Sweeps alternate between a.u and a.out with halo fills between, as the CPU reference
  /// does; an even count ends in a.u and is copied over.
  static int sweeps(const exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc, int k) {
    for (int i = 0; i < k; ++i) {
      const detail::stencil_args step = kern::sweep_step(a, i);
      apply(ex, step);
      if (i + 1 < k) halo(ex, detail::grid_args{step.out, a.nx, a.ny, a.nz, step.osy, step.osz, a.radius, a.dims}, bc);
    }
    if (k % 2 == 0)
      convert_grid<S, S>(ex, detail::grid_args{const_cast<void*>(a.u), a.nx, a.ny, a.nz, a.usy, a.usz, 0, a.dims},
                         detail::grid_args{a.out, a.nx, a.ny, a.nz, a.osy, a.osz, 0, a.dims});
    return k;
  }
};

}  // namespace

void register_stencil_kernels(const detail::kernel_sink& sink) {
  // The halo fill takes no problem description; the stencils are checked for their size.
  const kern::variant_desc any{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  const kern::variant_desc sized{"cuda", backend::cuda, cpu_isa::generic, supports_points};
  auto one = [&](auto tag) {
    using S = decltype(tag);
    const dtype t = dtype_of<S>;
    kern::add_kernel<detail::op_id::halo_fill>(sink, any, t, t, &stencil_set<S>::halo);
    kern::add_kernel<detail::op_id::stencil>(sink, sized, t, t, &stencil_set<S>::apply);
    kern::add_kernel<detail::op_id::stencil_sweeps>(sink, sized, t, t, &stencil_set<S>::sweeps);
  };
  one(double{});
  one(float{});
  one(half{});
  one(bfloat16{});
#define MIXPREC_ADD(S, SN, D, DN) \
  kern::add_kernel<detail::op_id::convert_grid>(sink, any, dtype_of<S>, dtype_of<D>, &convert_grid<S, D>);
  MIXPREC_FOR_EACH_FLOAT_PAIR(MIXPREC_ADD)
#undef MIXPREC_ADD
}

}  // namespace mixprec::cuda
