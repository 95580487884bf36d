// CUDA multigrid kernels (the mg_* args in registry.hpp): the point bodies of
// kernels/common/multigrid_points.hpp, which the CPU's reference kernels run too, a thread
// per point. The smoother's threads take only the points of the pass's color; the stencil's
// offsets and coefficients, host arrays in the args, travel by value in the parameters.
#include "kernels/common/multigrid_points.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

/// The points of one color: along each axis whose parity the color fixes, every other
/// index from `first`; the other axes (x for two colors, whose parity follows from the row)
/// whole.
struct color_lattice {
  idx first[3], count[3];
  bool row_parity;  // two colors: x's first index is (color + j + k) & 1

  MIXPREC_HOST_DEVICE idx points() const { return count[0] * count[1] * count[2]; }
};

color_lattice lattice_of(const detail::mg_smooth_args& a) {
  color_lattice l{};
  if (a.colors == 2) {
    l = {{0, 0, 0}, {(a.nx + 1) / 2, a.ny, a.nz}, true};
  } else {
    const idx ci = a.color & 1, cj = (a.color >> 1) & 1, ck = (a.color >> 2) & 1;
    l.first[0] = ci;
    l.first[1] = cj;
    l.first[2] = a.colors == 8 ? ck : 0;
    l.count[0] = (a.nx - ci + 1) / 2;
    l.count[1] = (a.ny - cj + 1) / 2;
    l.count[2] = a.colors == 8 ? (a.nz - ck + 1) / 2 : a.nz;
    l.row_parity = false;
  }
  return l;
}

template <class T, int NP>
__global__ void smooth_kernel(detail::mg_smooth_args a, kern::stencil_table<typename kern::multigrid_points<T>::C> st,
                              color_lattice l) {
  using P = kern::multigrid_points<T>;
  MIXPREC_GRID_STRIDE(t, l.points()) {
    const idx h = t % l.count[0], r = t / l.count[0];
    idx j = r % l.count[1], k = r / l.count[1], i;
    if (l.row_parity) {
      i = 2 * h + ((a.color + j + k) & 1);
    } else {
      i = l.first[0] + 2 * h;
      j = l.first[1] + 2 * j;
      k = a.colors == 8 ? l.first[2] + 2 * k : k;
    }
    if (i < a.nx && P::color_of(a.colors, i, j, k) == a.color) P::template smooth_point<NP>(a, st, i, j, k);
  }
}

template <class T>
void smooth(const exec_args& ex, const detail::mg_smooth_args& a) {
  using C = typename kern::multigrid_points<T>::C;
  const kern::stencil_table<C> st(a.npoints, a.offsets, a.coeffs, a.usy, a.usz);
  const color_lattice l = lattice_of(a);
  if (l.points() == 0) return;
  const cudaStream_t stream = state_of(ex).stream;
  const int blocks = grid_for(l.points());
  if (a.npoints == 7)
    smooth_kernel<T, 7><<<blocks, block_threads, 0, stream>>>(a, st, l);
  else if (a.npoints == 27)
    smooth_kernel<T, 27><<<blocks, block_threads, 0, stream>>>(a, st, l);
  else
    smooth_kernel<T, 0><<<blocks, block_threads, 0, stream>>>(a, st, l);
  check_launch("mg_smooth");
}

/// A thread per point (i, j, k) of an nx x ny x nz box, each running point(i, j, k).
template <class Point>
__global__ void per_point_kernel(idx nx, idx ny, idx nz, Point point) {
  MIXPREC_GRID_STRIDE(t, nx * ny * nz) { point(t % nx, (t / nx) % ny, t / (nx * ny)); }
}

template <class Point>
void launch_per_point(const exec_args& ex, idx nx, idx ny, idx nz, const Point& point, const char* what) {
  if (nx * ny * nz == 0) return;
  per_point_kernel<<<grid_for(nx * ny * nz), block_threads, 0, state_of(ex).stream>>>(nx, ny, nz, point);
  check_launch(what);
}

// The transfers' point bodies as functors over coarse (injection) or fine (trilinear) points.
template <class T, int NP>
struct injected_residual {
  detail::mg_restrict_args a;
  kern::stencil_table<typename kern::multigrid_points<T>::C> st;
  __device__ void operator()(idx I, idx J, idx K) const {
    kern::multigrid_points<T>::template inject_point<NP>(a, st, I, J, K);
  }
};
template <class T>
struct full_weighting {
  detail::mg_restrict_args a;
  __device__ void operator()(idx I, idx J, idx K) const { kern::multigrid_points<T>::full_weighting_point(a, I, J, K); }
};
template <class T>
struct injected_correction {
  detail::mg_prolong_args a;
  __device__ void operator()(idx I, idx J, idx K) const {
    kern::multigrid_points<T>::prolong_injection_point(a, I, J, K);
  }
};
template <class T>
struct trilinear_correction {
  detail::mg_prolong_args a;
  __device__ void operator()(idx i, idx j, idx k) const {
    kern::multigrid_points<T>::prolong_trilinear_point(a, i, j, k);
  }
};

template <class T>
void restrict_residual(const exec_args& ex, const detail::mg_restrict_args& a) {
  using C = typename kern::multigrid_points<T>::C;
  if (a.kind == detail::mg_transfer::full_weighting)
    return launch_per_point(ex, a.cx, a.cy, a.cz, full_weighting<T>{a}, "mg_restrict");
  const kern::stencil_table<C> st(a.npoints, a.offsets, a.coeffs, a.usy, a.usz);
  if (a.npoints == 7)
    launch_per_point(ex, a.cx, a.cy, a.cz, injected_residual<T, 7>{a, st}, "mg_restrict");
  else if (a.npoints == 27)
    launch_per_point(ex, a.cx, a.cy, a.cz, injected_residual<T, 27>{a, st}, "mg_restrict");
  else
    launch_per_point(ex, a.cx, a.cy, a.cz, injected_residual<T, 0>{a, st}, "mg_restrict");
}

template <class T>
void prolong(const exec_args& ex, const detail::mg_prolong_args& a) {
  if (a.kind == detail::mg_transfer::injection)
    launch_per_point(ex, a.cx, a.cy, a.cz, injected_correction<T>{a}, "mg_prolong");
  else
    launch_per_point(ex, a.nx, a.ny, a.nz, trilinear_correction<T>{a}, "mg_prolong");
}

}  // namespace

void register_multigrid_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  const detail::multigrid_kernel_table t{{&smooth<double>, &smooth<float>},
                                         {&restrict_residual<double>, &restrict_residual<float>},
                                         {&prolong<double>, &prolong<float>}};
  kern::add_multigrid_table(sink, v, t);
}

}  // namespace mixprec::cuda
