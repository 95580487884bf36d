// Shared pieces of mixprec_bench: the machine's STREAM-triad bandwidth measured in this
// run (the roofline every memory-bound benchmark is reported against), and counters.
#pragma once

#include <algorithm>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mixprec::bench {

/// Triad bandwidth in bytes/s (24 B per element, write-allocate not counted), measured once
/// at start-up by main() before any benchmark runs.
double triad_bytes_per_second();

/// Times the benchmark loop by wall clock, so that ratios to the triad can be reported
/// as plain numbers (Google Benchmark's rate counters would print them as "per second").
class loop_timer {
 public:
  loop_timer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

/// Sets bytes/s, FLOP/s and the fraction of the triad bandwidth for a run that moved
/// `bytes` and did `flops` per iteration, timed by `timer` around the loop.
inline void set_counters(benchmark::State& state, const loop_timer& timer, double bytes, double flops) {
  const double seconds = timer.seconds();
  const double iters = double(state.iterations());
  state.SetBytesProcessed(std::int64_t(bytes * iters));
  state.counters["FLOP/s"] = benchmark::Counter(flops * iters, benchmark::Counter::kIsRate);
  state.counters["triad_frac"] = bytes * iters / seconds / triad_bytes_per_second();
}

/// "n16M" for 2^24, "n1000" otherwise.
inline std::string size_name(std::int64_t n) {
  if (n % (1 << 20) == 0) return "n" + std::to_string(n >> 20) + "M";
  return "n" + std::to_string(n);
}

/// Copies of a weight set a decode-shape benchmark cycles through so that each pass reads
/// them from memory, not from the last level cache: 512 MiB in all.
inline int weight_copies_beyond_cache(std::size_t bytes) {
  const std::size_t total = std::size_t(512) << 20;
  return int(std::max<std::size_t>(1, (total + bytes - 1) / std::max<std::size_t>(bytes, 1)));
}

/// The benchmark loop over copies of an operand: call(copies[i]) with i cycling, after one
/// untimed warm-up call; then bytes, FLOPs and the triad fraction per call (set_counters)
/// and the number of copies as `copies_counter`.
template <class C, class F>
void run_cycling(benchmark::State& state, const std::vector<C>& copies, F&& call, double bytes, double flops,
                 const char* copies_counter) {
  call(copies[0]);
  std::size_t next = 0;
  loop_timer timer;
  for (auto _ : state) {
    call(copies[next]);
    next = (next + 1) % copies.size();
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, bytes, flops);
  state.counters[copies_counter] = double(copies.size());
}

/// Registers fn as a wall-clock benchmark reported in milliseconds (the memory-bound and
/// multi-threaded families).
template <class F>
void register_wall_ms(const std::string& name, F fn) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(fn))->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace mixprec::bench
