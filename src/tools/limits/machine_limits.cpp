// Peak measurement: each thread runs 16 independent dependency chains of one instruction
// (enough to cover the latency of two pipes), on registers only. Functions carry their own
// target attributes: the tools are built for the baseline, and call them only after the CPU
// says it has the instructions. The triad: STREAM's kernel on OpenMP threads.
#include "tools/limits/machine_limits.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "mixprec/array.hpp"
#include "mixprec/context.hpp"

namespace mixprec::limits {
namespace {

constexpr int chains = 16;
constexpr std::int64_t iterations = 1 << 24;  // ~40 ms: thread start-up skew stays small

// The chains are written in assembly: what is measured must be exactly 16 independent
// chains of one instruction, whatever the compiler: a compiler may put register copies and
// stack stores into an intrinsic loop, which understates the unit's rate and makes GEMMs
// appear to exceed their peak (docs/performance-notes.md, "The int8 peak"). AT&T order:
// `insn b, a, c` is c = c + a.b for every instruction used here.
#define MIXPREC_PEAK_CHAINS8(insn, c0, c1, c2, c3, c4, c5, c6, c7)                                            \
  asm volatile(insn " %[b], %[a], %[x0]\n\t" insn " %[b], %[a], %[x1]\n\t" insn " %[b], %[a], %[x2]\n\t" insn \
                    " %[b], %[a], %[x3]\n\t" insn " %[b], %[a], %[x4]\n\t" insn " %[b], %[a], %[x5]\n\t" insn \
                    " %[b], %[a], %[x6]\n\t" insn " %[b], %[a], %[x7]"                                        \
               : [x0] "+v"(c0), [x1] "+v"(c1), [x2] "+v"(c2), [x3] "+v"(c3), [x4] "+v"(c4), [x5] "+v"(c5),    \
                 [x6] "+v"(c6), [x7] "+v"(c7)                                                                 \
               : [a] "v"(a), [b] "v"(b))

// Runs the chains (16 named registers: an array would live in memory) and returns the sum of
// their lanes, so that nothing is optimised away. `start(j)` gives chain j's first value.
#define MIXPREC_PEAK_LOOP(vec, insn, start, reduce)                                                                    \
  vec c0 = start(0), c1 = start(1), c2 = start(2), c3 = start(3), c4 = start(4), c5 = start(5), c6 = start(6),         \
      c7 = start(7), c8 = start(8), c9 = start(9), c10 = start(10), c11 = start(11), c12 = start(12), c13 = start(13), \
      c14 = start(14), c15 = start(15);                                                                                \
  for (std::int64_t it = 0; it < iterations; ++it) {                                                                   \
    MIXPREC_PEAK_CHAINS8(insn, c0, c1, c2, c3, c4, c5, c6, c7);                                                        \
    MIXPREC_PEAK_CHAINS8(insn, c8, c9, c10, c11, c12, c13, c14, c15);                                                  \
  }                                                                                                                    \
  return double(reduce(c0)) + reduce(c1) + reduce(c2) + reduce(c3) + reduce(c4) + reduce(c5) + reduce(c6) +            \
         reduce(c7) + reduce(c8) + reduce(c9) + reduce(c10) + reduce(c11) + reduce(c12) + reduce(c13) + reduce(c14) +  \
         reduce(c15)

__attribute__((target("avx512f"))) double chains_f64() {
  const __m512d a = _mm512_set1_pd(0.999999), b = _mm512_set1_pd(1e-6);
  MIXPREC_PEAK_LOOP(__m512d, "vfmadd231pd", _mm512_set1_pd, _mm512_reduce_add_pd);
}

__attribute__((target("avx512f"))) double chains_f32() {
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  MIXPREC_PEAK_LOOP(__m512, "vfmadd231ps", _mm512_set1_ps, _mm512_reduce_add_ps);
}

__attribute__((target("avx512f,avx512bf16"))) double chains_bf16() {
  const __m512i a = _mm512_set1_epi16(0x3f80), b = _mm512_set1_epi16(0x3c00);  // bf16 pairs of 1 and 2^-7
  MIXPREC_PEAK_LOOP(__m512, "vdpbf16ps", _mm512_set1_ps, _mm512_reduce_add_ps);
}

__attribute__((target("avx512f,avx512vnni"))) double chains_int8() {
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(-1);  // u8 1 times s8 -1
  MIXPREC_PEAK_LOOP(__m512i, "vpdpbusd", _mm512_set1_epi32, _mm512_reduce_add_epi32);
}

#undef MIXPREC_PEAK_LOOP
#undef MIXPREC_PEAK_CHAINS8

/// Operations one instruction of each unit does: lanes x products x 2.
double ops_per_instruction(compute_unit u) {
  switch (u) {
    case compute_unit::fma_f64:
      return 8 * 2;
    case compute_unit::fma_f32:
      return 16 * 2;
    case compute_unit::dot_bf16:
      return 16 * 2 * 2;
    case compute_unit::dot_int8:
      return 16 * 4 * 2;
  }
  return 0;
}

double measure(compute_unit u) {
  const cpu_features& f = cpu_info();
  if (!f.avx512f || (u == compute_unit::dot_bf16 && !f.avx512_bf16) || (u == compute_unit::dot_int8 && !f.avx512_vnni))
    return 0;
  const int threads = context::cpu().threads();
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
      switch (u) {
        case compute_unit::fma_f64:
          sink += chains_f64();
          break;
        case compute_unit::fma_f32:
          sink += chains_f32();
          break;
        case compute_unit::dot_bf16:
          sink += chains_bf16();
          break;
        case compute_unit::dot_int8:
          sink += chains_int8();
          break;
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (sink == 0.123) std::printf("%g\n", sink);  // keeps the loops alive
    const double rate = double(threads) * double(iterations) * chains * ops_per_instruction(u) / s;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace

const char* name_of(compute_unit u) {
  switch (u) {
    case compute_unit::fma_f64:
      return "avx512_fma_f64";
    case compute_unit::fma_f32:
      return "avx512_fma_f32";
    case compute_unit::dot_bf16:
      return "avx512_dpbf16ps";
    case compute_unit::dot_int8:
      return "avx512_vpdpbusd";
  }
  return "?";
}

double measure_triad() {
  const std::int64_t n = std::int64_t(1) << 25;
  array<double> a(n), b(n), c(n);
  double* pa = a.data();
  double* pb = b.data();
  double* pc = c.data();
  const int threads = context::cpu().threads();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < n; ++i) {
    pa[i] = 0;
    pb[i] = 1;
    pc[i] = 2;
  }
  double best = 1e30;
  for (int rep = 0; rep < 11; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t i = 0; i < n; ++i) pa[i] = pb[i] + 3.0 * pc[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep > 0) best = std::min(best, s);
  }
  if (pa[n - 1] != 7.0) std::fprintf(stderr, "triad verification failed\n");
  return 24.0 * double(n) / best;
}

double triad_bytes_per_second() {
  static const double triad = measure_triad();
  return triad;
}

double measured_peak(compute_unit u) {
  static double peaks[4] = {-1, -1, -1, -1};
  double& p = peaks[int(u)];
  if (p < 0) p = measure(u);
  return p;
}

}  // namespace mixprec::limits
