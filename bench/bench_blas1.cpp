// BLAS-1 and conversion benchmarks: blas1/<op>/<dtype>/<n>, convert/<src><dst>/<n>, each
// verified before it is timed and reported as a fraction of the triad measured in the run.
// Bytes counted are what the op must move: dot reads x and y; axpy reads x, y and writes y.
#include <cmath>
#include <cstdio>

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"
#if defined(MIXPREC_BENCH_OPENBLAS)
#include <cblas.h>
#endif

namespace mixprec::bench {
namespace {

std::string stream_name(const char* op, dtype t, std::int64_t n) {
  return std::string("blas1/") + op + "/" + name_of(t) + "/" + size_name(n);
}

void bench_dot(benchmark::State& state, dtype t, std::int64_t n) {
  buffer x(t, n), y(t, n);
  fill(x.as_view(), 1.0);
  fill(y.as_view(), 0.5);
  const double want = 0.5 * double(n);
  if (dot(x.as_view(), y.as_view()) != want) {
    state.SkipWithError("dot verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) benchmark::DoNotOptimize(dot(x.as_view(), y.as_view()));
  set_counters(state, timer, 2.0 * double(n) * double(size_of(t)), 2.0 * double(n));
}

void bench_axpy(benchmark::State& state, dtype t, std::int64_t n) {
  buffer x(t, n), y(t, n);
  fill(x.as_view(), 1.0);
  fill(y.as_view(), 0.0);
  axpy(0.5, x.as_view(), y.as_view());
  if (asum(y.as_view(), accumulation::f64) != 0.5 * double(n)) {
    state.SkipWithError("axpy verification failed");
    return;
  }
  // y = 1e-30 x + y leaves y = 0.5 unchanged in every precision, yet no kernel can skip
  // the work (alpha = 0 would let a BLAS return early).
  loop_timer timer;
  for (auto _ : state) {
    axpy(1e-30, x.as_view(), y.as_view());
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, 3.0 * double(n) * double(size_of(t)), 2.0 * double(n));
}

void bench_nrm2(benchmark::State& state, dtype t, std::int64_t n) {
  buffer x(t, n);
  fill(x.as_view(), 2.0);
  if (std::fabs(nrm2(x.as_view()) - 2.0 * std::sqrt(double(n))) > 1e-3 * std::sqrt(double(n))) {
    state.SkipWithError("nrm2 verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) benchmark::DoNotOptimize(nrm2(x.as_view()));
  set_counters(state, timer, double(n) * double(size_of(t)), 2.0 * double(n));
}

void bench_convert(benchmark::State& state, dtype from, dtype to, std::int64_t n) {
  buffer x(from, n), y(to, n);
  fill(x.as_view(), 1.5);
  convert(x.as_view(), y.as_view());
  if (asum(y.as_view(), accumulation::f64) != 1.5 * double(n)) {
    state.SkipWithError("convert verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    convert(x.as_view(), y.as_view());
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, double(n) * double(size_of(from) + size_of(to)), 0.0);
}

#if defined(MIXPREC_BENCH_OPENBLAS)
void peer_openblas_ddot(benchmark::State& state, std::int64_t n) {
  array<double> x(n), y(n);
  fill(x, 1.0);
  fill(y, 0.5);
  if (cblas_ddot(int(n), x.data(), 1, y.data(), 1) != 0.5 * double(n)) state.SkipWithError("verification failed");
  loop_timer timer;
  for (auto _ : state) benchmark::DoNotOptimize(cblas_ddot(int(n), x.data(), 1, y.data(), 1));
  set_counters(state, timer, 16.0 * double(n), 2.0 * double(n));
}
void peer_openblas_daxpy(benchmark::State& state, std::int64_t n) {
  array<double> x(n), y(n);
  fill(x, 1.0);
  fill(y, 0.5);
  loop_timer timer;
  for (auto _ : state) {
    cblas_daxpy(int(n), 1e-30, x.data(), 1, y.data(), 1);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, 24.0 * double(n), 2.0 * double(n));
}
#endif

int register_all() {
  const dtype floats[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  for (std::int64_t n : {std::int64_t(1) << 24, std::int64_t(1) << 26}) {
    for (dtype t : floats) {
      benchmark::RegisterBenchmark(stream_name("dot", t, n).c_str(), bench_dot, t, n)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(stream_name("axpy", t, n).c_str(), bench_axpy, t, n)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(stream_name("nrm2", t, n).c_str(), bench_nrm2, t, n)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    for (dtype a : floats)
      for (dtype b : floats)
        if (a != b)
          benchmark::RegisterBenchmark((std::string("convert/") + name_of(a) + name_of(b) + "/" + size_name(n)).c_str(),
                                       bench_convert, a, b, n)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
#if defined(MIXPREC_BENCH_OPENBLAS)
    benchmark::RegisterBenchmark(("peer/openblas_ddot/f64/" + size_name(n)).c_str(), peer_openblas_ddot, n)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("peer/openblas_daxpy/f64/" + size_name(n)).c_str(), peer_openblas_daxpy, n)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
  }
  // What one call costs when the vector is tiny (an inference engine's small ops, a small
  // solver's short vectors): validation, kernel choice, and the kernel on 8 elements, with
  // OpenBLAS's call at the same size beside it.
  benchmark::RegisterBenchmark("dispatch/dot/f64/n8", bench_dot, dtype::f64, 8)->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("dispatch/axpy/f64/n8", bench_axpy, dtype::f64, 8)->Unit(benchmark::kNanosecond);
#if defined(MIXPREC_BENCH_OPENBLAS)
  benchmark::RegisterBenchmark("peer/openblas_ddot/f64/n8", peer_openblas_ddot, 8)->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("peer/openblas_daxpy/f64/n8", peer_openblas_daxpy, 8)->Unit(benchmark::kNanosecond);
#endif
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
