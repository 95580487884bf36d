// Stencil benchmarks: stencil/<op>/<dtype>/<grid>, with the plain OpenMP 7-point loop as the
// peer in the same run.
//
//   stencil/jacobi7/<dtype>/256          one Jacobi sweep of the 7-point Laplacian (f = 0)
//   stencil/jacobi7_8sweeps/<dtype>/256  8 sweeps through jacobi_sweeps (time-blocked)
//   stencil/jacobi7_rhs[_8sweeps]/...    the same with a right-hand side f (solver smoothing)
//   stencil/hpcg27/<dtype>/128           one application of HPCG's 27-point operator
//   stencil/diffusion7/<dtype>/256       one application of -div(k grad u), variable coefficients
//   peer/plain_omp_jacobi7/<dtype>/256   the textbook loop: omp parallel for over z and y
//
// Bytes are those a sweep must move: the input and output interiors once (2 * sizeof(dtype)
// per point, 3 with f; halos and write-allocate not counted), times the sweeps, so
// triad_frac above 1 means the kernel moved less than one pass over memory per sweep.
// `points/s` counts point updates (sweeps included), the rate the targets compare.
#include <cmath>
#include <cstring>
#include <string>

#include "bench_common.hpp"
#include "mixprec/stencil.hpp"

namespace mixprec::bench {
namespace {

constexpr std::int64_t jacobi_n = 256, hpcg_n = 128;

/// A grid of ones with a dirichlet-1 halo: every Jacobi sweep and every application of a
/// zero-row-sum operator has a known answer (1, resp. 0), checked once per run.
grid ones(dtype t, std::int64_t n, boundary_conditions* bc) {
  grid g(t, grid_extent(n, n, n), 1);
  *bc = boundary_conditions::all(boundary::dirichlet, 1.0);
  grid o(dtype::f64, grid_extent(n, n, n), 0);
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < n; ++i) o.at<double>(i, j, k) = 1.0;
  copy_interior(o, g);
  fill_halo(g, *bc);
  return g;
}

/// Every interior point within a few roundings of the storage dtype of `value`.
bool all_near(const grid& g, double value) {
  const double tol = g.type() == dtype::f64 ? 1e-13 : g.type() == dtype::f32 ? 1e-5 : 2e-2;
  grid o(dtype::f64, g.extent(), 0);
  copy_interior(g, o);
  for (std::int64_t k = 0; k < g.nz(); ++k)
    for (std::int64_t j = 0; j < g.ny(); ++j)
      for (std::int64_t i = 0; i < g.nx(); ++i)
        if (!(std::abs(o.at<double>(i, j, k) - value) <= tol)) return false;
  return true;
}

void set_stencil_counters(benchmark::State& state, const loop_timer& timer, const grid& g, int sweeps,
                          double flops_per_point, int arrays = 2) {
  const double points = double(g.points()) * sweeps;
  set_counters(state, timer, points * double(arrays) * double(size_of(g.type())), points * flops_per_point);
  state.counters["points/s"] = benchmark::Counter(points * double(state.iterations()), benchmark::Counter::kIsRate);
}

void jacobi7(benchmark::State& state, dtype t, int sweeps, bool rhs) {
  boundary_conditions bc;
  grid u = ones(t, jacobi_n, &bc), v = u.like();
  const grid zeros = u.like();  // f = 0 keeps the answer 1; the kernels read it all the same
  const grid* f = rhs ? &zeros : nullptr;
  const stencil lap = stencil::laplace_3d7();
  fill_halo(v, bc);
  auto once = [&]() -> const grid& {
    if (sweeps == 1) {
      jacobi_sweep(lap, u, f, v);
      return v;
    }
    return jacobi_sweeps(lap, u, f, v, bc, sweeps);
  };
  if (!all_near(once(), 1.0)) {
    state.SkipWithError("jacobi7 verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    once();
    benchmark::ClobberMemory();
  }
  // 6 neighbours summed and scaled: 7 FLOP per point update (nominal, as the plain loop),
  // and 2 more for f.
  set_stencil_counters(state, timer, u, sweeps, rhs ? 9.0 : 7.0, rhs ? 3 : 2);
}

void hpcg27(benchmark::State& state, dtype t) {
  boundary_conditions bc;
  grid u = ones(t, hpcg_n, &bc), v = u.like();
  const stencil a = stencil::hpcg_27();
  // Every point sees 26 ones around a 26: zero.
  stencil_apply(a, 1.0, u, 0.0, v);
  if (!all_near(v, 0.0)) {
    state.SkipWithError("hpcg27 verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    stencil_apply(a, 1.0, u, 0.0, v);
    benchmark::ClobberMemory();
  }
  set_stencil_counters(state, timer, u, 1, 2.0 * 27);
}

void diffusion7(benchmark::State& state, dtype t) {
  boundary_conditions bc;
  const grid k = ones(t, jacobi_n, &bc);  // conductivity 1, halo included
  const variable_stencil s = variable_stencil::diffusion(k);
  grid u = ones(t, jacobi_n, &bc), v = u.like();
  // -div(grad u) of a constant is 0.
  stencil_apply(s, 1.0, u, 0.0, v);
  if (!all_near(v, 0.0)) {
    state.SkipWithError("diffusion7 verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    stencil_apply(s, 1.0, u, 0.0, v);
    benchmark::ClobberMemory();
  }
  // 7 coefficient grids, u and the output once per point; 7 multiply-adds.
  set_stencil_counters(state, timer, u, 1, 14.0, 9);
}

/// The peer: the loop a simulation code writes, on the same padded grid memory.
template <class T>
void plain_omp_jacobi7(benchmark::State& state) {
  boundary_conditions bc;
  grid u = ones(dtype_of<T>, jacobi_n, &bc), v = u.like();
  const std::int64_t n = jacobi_n, sy = u.stride_y(), sz = u.stride_z();
  const T* in = static_cast<const T*>(u.origin());
  T* out = static_cast<T*>(v.origin());
  auto sweep = [&] {
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t k = 0; k < n; ++k)
      for (std::int64_t j = 0; j < n; ++j) {
        const T* c = in + j * sy + k * sz;
        T* o = out + j * sy + k * sz;
        for (std::int64_t i = 0; i < n; ++i)
          o[i] = (c[i - 1] + c[i + 1] + c[i - sy] + c[i + sy] + c[i - sz] + c[i + sz]) * T(1.0 / 6.0);
      }
  };
  sweep();
  if (!all_near(v, 1.0)) {
    state.SkipWithError("plain loop verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    sweep();
    benchmark::ClobberMemory();
  }
  set_stencil_counters(state, timer, u, 1, 7.0);
}

int register_all() {
  const std::string n = std::to_string(jacobi_n);
  for (bool rhs : {false, true})
    for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      const std::string op = rhs ? "jacobi7_rhs" : "jacobi7", tail = std::string(name_of(t)) + "/" + n;
      benchmark::RegisterBenchmark(("stencil/" + op + "/" + tail).c_str(), jacobi7, t, 1, rhs)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("stencil/" + op + "_8sweeps/" + tail).c_str(), jacobi7, t, 8, rhs)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  benchmark::RegisterBenchmark(("peer/plain_omp_jacobi7/f64/" + n).c_str(), plain_omp_jacobi7<double>)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("peer/plain_omp_jacobi7/f32/" + n).c_str(), plain_omp_jacobi7<float>)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (dtype t : {dtype::f64, dtype::f32})
    benchmark::RegisterBenchmark(("stencil/diffusion7/" + std::string(name_of(t)) + "/" + n).c_str(), diffusion7, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  for (dtype t : {dtype::f64, dtype::f32})
    benchmark::RegisterBenchmark(("stencil/hpcg27/" + std::string(name_of(t)) + "/" + std::to_string(hpcg_n)).c_str(),
                                 hpcg27, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
