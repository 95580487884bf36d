// GEMM kernels on the AVX512-BF16 and VNNI dot products: bf16 pairs into f32
// (vdpbf16ps: products exact, sums rounded to nearest even in f32, bf16 subnormal inputs read
// as zero) and u8 x s8 quads into s32 (vpdpbusd: exact, wrapping). The shared driver packs
// k in pairs / quads to match (kernels/common/gemm_layout.hpp).
#include <cstring>

#include "kernels/common/gemm_driver.hpp"
#include "kernels/cpu/avx512/gemm_micro_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {
namespace {

std::int32_t load_u32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

struct ops_bf16 {
  using vec = __m512;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load_b(const bfloat16* b, int h) { return _mm512_castsi512_ps(_mm512_loadu_si512(b + 32 * h)); }
  static vec bcast_a(const bfloat16* a) { return _mm512_castsi512_ps(_mm512_set1_epi32(load_u32(a))); }
  static vec madd(vec acc, vec a, vec b) { return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b); }
  static vec add(vec x, vec y) { return _mm512_add_ps(x, y); }
  static void store(float* c, vec v, bool accumulate) {
    _mm512_storeu_ps(c, accumulate ? _mm512_add_ps(_mm512_loadu_ps(c), v) : v);
  }
};

struct ops_int8 {
  using vec = __m512i;
  static vec zero() { return _mm512_setzero_si512(); }
  static vec load_b(const std::int8_t* b, int h) { return _mm512_loadu_si512(b + 64 * h); }
  static vec bcast_a(const std::uint8_t* a) { return _mm512_set1_epi32(load_u32(a)); }
  static vec madd(vec acc, vec a, vec b) { return _mm512_dpbusd_epi32(acc, a, b); }
  static vec add(vec x, vec y) { return _mm512_add_epi32(x, y); }
  static void store(std::int32_t* c, vec v, bool accumulate) {
    _mm512_storeu_si512(c, accumulate ? _mm512_add_epi32(_mm512_loadu_si512(c), v) : v);
  }
};

// k blocks of 64-128 KiB of B panel: longer than L1 holds, but faster than L1-sized ones
// (fewer passes over the accumulator and the A blocks; docs/performance-notes.md).
using micro_bf16 = gemm_micro_2v<gemm_bf16, ops_bf16, 14, 2048, 336, 1024>;
using micro_int8 = gemm_micro_2v<gemm_int8, ops_int8, 14, 2048, 336, 1024>;

}  // namespace

const detail::gemm_fn gemm_kernel_bf16 = &gemm_driver<kern::gemm_bf16, micro_bf16>::run;
const detail::gemm_fn gemm_kernel_int8 = &gemm_driver<kern::gemm_int8, micro_int8>::run;

}  // namespace mixprec::kern::avx512_bf16
