// AVX2 GEMM kernels for f64, f32, f16 (B widened by vcvtph2ps as it is loaded; f32 FMA,
// nothing rounds to f16 before the epilogue), bf16 (k pairs split into two f32 FMAs) and
// u8/s8 x s8 (k quads split into 16-bit pairs for vpmaddwd, exact),
// for CPUs with FMA but not AVX-512: the shared driver (kernels/common/gemm_driver.hpp)
// with a 256-bit microkernel. A family's B panel is NR = four ymm vectors wide (the layout
// is the family's, the same for every ISA, so one packed weight serves whichever kernel
// runs). With 16 ymm registers an M x NR tile holds M = 3 rows for f64/f32/f16: 12
// accumulators, 3 broadcasts of A and one vector of B at a time, 12 FMAs against 7 loads
// per k; and M = 2 for bf16 and int8, whose split groups take twice the registers.
#include <immintrin.h>

#include <cstring>

#include "kernels/common/gemm_driver.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {

template <class F, class Ops, int MR, std::int64_t KC, std::int64_t MC, std::int64_t NC>
struct gemm_micro_4y {
  using PA = typename F::packed_a;
  using PB = typename F::packed_b;
  using ACC = typename F::acc;
  static constexpr int mr = MR;
  static constexpr std::int64_t kc = KC, mc = MC, nc = NC;
  static constexpr int lanes = F::nr / 4;  // accumulator lanes per vector

  template <int M>
  static void tile(std::int64_t groups, const PA* a, const PB* b, std::int64_t bstep, ACC* c, std::int64_t ldc,
                   bool accumulate) {
    using vec = typename Ops::vec;
    vec acc[M][4];
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[i][v] = Ops::zero();
    for (std::int64_t g = 0; g < groups; ++g) {
      decltype(Ops::bcast_a(a)) ai[M];
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) ai[i] = Ops::bcast_a(a + i * F::kg);
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) {
        const auto bv = Ops::load_b(b, v);
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) acc[i][v] = Ops::madd(acc[i][v], ai[i], bv);
      }
      a += MR * F::kg;
      b += bstep;
    }
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) Ops::store(c + i * ldc + v * lanes, acc[i][v], accumulate);
  }
};

struct ops_f64 {
  using vec = __m256d;
  static vec zero() { return _mm256_setzero_pd(); }
  static vec load_b(const double* b, int v) { return _mm256_loadu_pd(b + 4 * v); }
  static vec bcast_a(const double* a) { return _mm256_broadcast_sd(a); }
  static vec madd(vec acc, vec a, vec b) { return _mm256_fmadd_pd(a, b, acc); }
  static void store(double* c, vec x, bool accumulate) {
    _mm256_storeu_pd(c, accumulate ? _mm256_add_pd(_mm256_loadu_pd(c), x) : x);
  }
};

struct ops_f32 {
  using vec = __m256;
  static vec zero() { return _mm256_setzero_ps(); }
  static vec load_b(const float* b, int v) { return _mm256_loadu_ps(b + 8 * v); }
  static vec bcast_a(const float* a) { return _mm256_broadcast_ss(a); }
  static vec madd(vec acc, vec a, vec b) { return _mm256_fmadd_ps(a, b, acc); }
  static void store(float* c, vec x, bool accumulate) {
    _mm256_storeu_ps(c, accumulate ? _mm256_add_ps(_mm256_loadu_ps(c), x) : x);
  }
};

struct ops_f16 : ops_f32 {
  static vec load_b(const half* b, int v) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 8 * v)));
  }
};

/// bf16 k pairs (k0 in the low half of each 32-bit lane, k1 in the high half) as two f32
/// vectors: the high half masked is k1's value exactly, the lane shifted up by 16 is k0's.
/// Each product is then exact and each sum rounded in f32 (k0's before k1's); bf16
/// subnormals are read as they are.
struct bf16_pairs {
  __m256 k0, k1;
};
MIXPREC_ALWAYS_INLINE bf16_pairs split_pairs(__m256i v) {
  return {_mm256_castsi256_ps(_mm256_slli_epi32(v, 16)),
          _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(std::int32_t(0xffff0000u))))};
}

struct ops_bf16 {
  using vec = __m256;
  static vec zero() { return _mm256_setzero_ps(); }
  static bf16_pairs load_b(const bfloat16* b, int v) {
    return split_pairs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * v)));
  }
  static bf16_pairs bcast_a(const bfloat16* a) {
    std::int32_t pair;
    std::memcpy(&pair, a, 4);
    return split_pairs(_mm256_set1_epi32(pair));
  }
  static vec madd(vec acc, const bf16_pairs& a, const bf16_pairs& b) {
    return _mm256_fmadd_ps(a.k1, b.k1, _mm256_fmadd_ps(a.k0, b.k0, acc));
  }
  static void store(float* c, vec x, bool accumulate) { ops_f32::store(c, x, accumulate); }
};

/// s8 k quads of B (one column per 32-bit lane) as 16-bit pairs: k0 and k2 sign-extended
/// from the even bytes, k1 and k3 from the odd ones. vpmaddwd against A's u8 pairs (0..255,
/// exact in 16 bits) gives k0 + k2 and k1 + k3 per column, each product and pair sum exact
/// in 32 bits; the accumulation wraps as vpdpbusd's does. (vpmaddubsw would saturate.)
struct int8_pairs {
  __m256i even, odd;
};

struct ops_int8 {
  using vec = __m256i;
  static vec zero() { return _mm256_setzero_si256(); }
  static int8_pairs load_b(const std::int8_t* b, int v) {
    const __m256i quads = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32 * v));
    return {_mm256_srai_epi16(_mm256_slli_epi16(quads, 8), 8), _mm256_srai_epi16(quads, 8)};
  }
  static int8_pairs bcast_a(const std::uint8_t* a) {
    std::uint32_t quad;
    std::memcpy(&quad, a, 4);
    return {_mm256_set1_epi32(std::int32_t(quad & 0x00ff00ffu)),
            _mm256_set1_epi32(std::int32_t((quad >> 8) & 0x00ff00ffu))};
  }
  static vec madd(vec acc, const int8_pairs& a, const int8_pairs& b) {
    return _mm256_add_epi32(_mm256_add_epi32(acc, _mm256_madd_epi16(b.even, a.even)), _mm256_madd_epi16(b.odd, a.odd));
  }
  static void store(std::int32_t* c, vec x, bool accumulate) {
    __m256i* p = reinterpret_cast<__m256i*>(c);
    _mm256_storeu_si256(p, accumulate ? _mm256_add_epi32(_mm256_loadu_si256(p), x) : x);
  }
};

// Block sizes as the AVX-512 kernels' (B micro-panel of KC x NR in half of L1, A block in
// L2), MC a multiple of the 3-row tile.
using micro_f64 = gemm_micro_4y<gemm_f64, ops_f64, 3, 256, 168, 2048>;
using micro_f32 = gemm_micro_4y<gemm_f32, ops_f32, 3, 256, 336, 2048>;
using micro_f16 = gemm_micro_4y<gemm_f16, ops_f16, 3, 256, 336, 2048>;
using micro_bf16 = gemm_micro_4y<gemm_bf16, ops_bf16, 2, 256, 336, 2048>;
using micro_int8 = gemm_micro_4y<gemm_int8, ops_int8, 2, 256, 336, 2048>;

}  // namespace

const detail::gemm_fn gemm_kernel_f64 = &gemm_driver<kern::gemm_f64, micro_f64>::run;
const detail::gemm_fn gemm_kernel_f32 = &gemm_driver<kern::gemm_f32, micro_f32>::run;
const detail::gemm_fn gemm_kernel_f16 = &gemm_driver<kern::gemm_f16, micro_f16>::run;
const detail::gemm_fn gemm_kernel_bf16 = &gemm_driver<kern::gemm_bf16, micro_bf16>::run;
const detail::gemm_fn gemm_kernel_int8 = &gemm_driver<kern::gemm_int8, micro_int8>::run;

}  // namespace mixprec::kern::avx2
