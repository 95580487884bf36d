// Peak measurement: each thread runs 16 independent dependency chains of one instruction
// (enough to cover the latency of two pipes; with 24, GCC's VNNI loop ran at 40 %), on
// registers only. Functions carry their own target attributes: the benchmark binary is
// built for the baseline, and calls them only after the CPU says it has the instructions.
#include "bench_peaks.hpp"

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "mixprec/context.hpp"

namespace mixprec::bench {
namespace {

constexpr int chains = 16;
constexpr std::int64_t iterations = 1 << 24;  // ~40 ms: thread start-up skew stays small

__attribute__((target("avx512f"))) double chains_f64() {
  __m512d acc[chains];
  for (int j = 0; j < chains; ++j) acc[j] = _mm512_set1_pd(double(j));
  const __m512d a = _mm512_set1_pd(0.999999), b = _mm512_set1_pd(1e-6);
  for (std::int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int j = 0; j < chains; ++j) acc[j] = _mm512_fmadd_pd(acc[j], a, b);
  double s = 0;
  for (int j = 0; j < chains; ++j) s += _mm512_reduce_add_pd(acc[j]);
  return s;
}

__attribute__((target("avx512f"))) double chains_f32() {
  __m512 acc[chains];
  for (int j = 0; j < chains; ++j) acc[j] = _mm512_set1_ps(float(j));
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  for (std::int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int j = 0; j < chains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  float s = 0;
  for (int j = 0; j < chains; ++j) s += _mm512_reduce_add_ps(acc[j]);
  return s;
}

__attribute__((target("avx512f,avx512bf16"))) double chains_bf16() {
  __m512 acc[chains];
  for (int j = 0; j < chains; ++j) acc[j] = _mm512_set1_ps(float(j));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3c00);  // 1, 2^-7
  for (std::int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int j = 0; j < chains; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  float s = 0;
  for (int j = 0; j < chains; ++j) s += _mm512_reduce_add_ps(acc[j]);
  return s;
}

__attribute__((target("avx512f,avx512vnni"))) double chains_int8() {
  __m512i acc[chains];
  for (int j = 0; j < chains; ++j) acc[j] = _mm512_set1_epi32(j);
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(-1);
  for (std::int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int j = 0; j < chains; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  std::int64_t s = 0;
  for (int j = 0; j < chains; ++j) s += _mm512_reduce_add_epi32(acc[j]);
  return double(s);
}

/// Operations one instruction of each unit does: lanes x products x 2.
double ops_per_instruction(compute_unit u) {
  switch (u) {
    case compute_unit::fma_f64: return 8 * 2;
    case compute_unit::fma_f32: return 16 * 2;
    case compute_unit::dot_bf16: return 16 * 2 * 2;
    case compute_unit::dot_int8: return 16 * 4 * 2;
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
        case compute_unit::fma_f64: sink += chains_f64(); break;
        case compute_unit::fma_f32: sink += chains_f32(); break;
        case compute_unit::dot_bf16: sink += chains_bf16(); break;
        case compute_unit::dot_int8: sink += chains_int8(); break;
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
    case compute_unit::fma_f64: return "avx512_fma_f64";
    case compute_unit::fma_f32: return "avx512_fma_f32";
    case compute_unit::dot_bf16: return "avx512_dpbf16ps";
    case compute_unit::dot_int8: return "avx512_vpdpbusd";
  }
  return "?";
}

double measured_peak(compute_unit u) {
  static double peaks[4] = {-1, -1, -1, -1};
  double& p = peaks[int(u)];
  if (p < 0) p = measure(u);
  return p;
}

}  // namespace mixprec::bench
