// mixprec_bench: measures the machine's triad bandwidth first, records how the run was set
// up (ISA level, threads, pinning), then runs the registered benchmarks.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"
#include "tools/limits/machine_limits.hpp"

namespace mixprec::bench {
namespace {

/// The triad as a benchmark too, so that the table shows the roofline beside the kernels.
void stream_triad(benchmark::State& state) {
  const std::int64_t n = std::int64_t(1) << 25;
  array<double> a(n), b(n), c(n);
  fill(a, 0.0);
  fill(b, 1.0);
  fill(c, 2.0);
  double* pa = a.data();
  const double* pb = b.data();
  const double* pc = c.data();
  loop_timer timer;
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) pa[i] = pb[i] + 3.0 * pc[i];
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, 24.0 * double(n), 2.0 * double(n));
}
BENCHMARK(stream_triad)->Name("stream/triad/f64/n32M")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

double triad_bytes_per_second() { return limits::triad_bytes_per_second(); }

}  // namespace mixprec::bench

int main(int argc, char** argv) {
  using namespace mixprec;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const double triad = limits::triad_bytes_per_second();  // before any benchmark runs
  const cpu_features& f = cpu_info();
  const char* bind = std::getenv("OMP_PROC_BIND");
  const char* places = std::getenv("OMP_PLACES");
  benchmark::AddCustomContext("mixprec_cpu", f.model);
  benchmark::AddCustomContext("mixprec_isa", name_of(f.active));
  benchmark::AddCustomContext("mixprec_threads", std::to_string(context::cpu().threads()));
  benchmark::AddCustomContext("omp_proc_bind", bind ? bind : "(unset)");
  benchmark::AddCustomContext("omp_places", places ? places : "(unset)");
  benchmark::AddCustomContext("triad_GBps", std::to_string(triad / 1e9));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
