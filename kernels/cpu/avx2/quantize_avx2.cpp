// AVX2 quantize / dequantize for rows with unit column stride, for CPUs without AVX-512
// (which ran the portable kernels: a libm call and an integer division per element): 8
// elements per step, the rule of quant_math.hpp in vector form (one f32 division, round to
// nearest even, NaN to the zero point, clamp, narrow), parameters read as the AVX-512
// kernels read them (kernels/common/quant_rows.hpp). Columns past the last whole vector of a
// block take the scalar rule itself.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/common/quant_math.hpp"
#include "kernels/common/quant_rows.hpp"
#include "kernels/common/scalar.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern::avx2 {
namespace {

/// Calls vector(j, scale, zero_point) for every whole 8 columns j of a block of a row of n
/// and scalar(j, scale, zero_point) for the columns left in the block, with the columns'
/// parameters (vectors, resp. values).
template <class Vector, class Scalar>
MIXPREC_ALWAYS_INLINE void over_columns(std::int64_t n, quant_param_row p, Vector&& vector, Scalar&& scalar) {
  // p by value: the callers' byte stores may alias anything reached through a reference.
  const float* s = p.scale;
  const std::int32_t* z = p.zero_point;
  if (p.block == 1) {
    std::int64_t j = 0;
    for (; j + 8 <= n; j += 8)
      vector(j, _mm256_loadu_ps(s + j),
             _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(z + j))));
    for (; j < n; ++j) scalar(j, s[j], z[j]);
    return;
  }
  const std::int64_t block = p.block;
  for (std::int64_t j0 = 0, g = 0; j0 < n; j0 += block, ++g) {
    const __m256 scale = _mm256_set1_ps(s[g]), zero_point = _mm256_set1_ps(float(z[g]));
    const std::int64_t j1 = std::min(n, j0 + block);
    std::int64_t j = j0;
    for (; j + 8 <= j1; j += 8) vector(j, scale, zero_point);
    for (; j < j1; ++j) scalar(j, s[g], z[g]);
  }
}

template <class X>
__m256 load8(const X* p) {
  if constexpr (std::is_same_v<X, float>) {
    return _mm256_loadu_ps(p);
  } else if constexpr (std::is_same_v<X, half>) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {  // bf16: the upper half of an f32
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
}

/// Eight 32-bit integers already within Q's range, as eight bytes.
template <class Q>
std::uint64_t narrow8(__m256i v) {
  const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i bytes = std::is_same_v<Q, std::int8_t> ? _mm_packs_epi16(words, words) : _mm_packus_epi16(words, words);
  return std::uint64_t(_mm_cvtsi128_si64(bytes));
}

/// The row functions quant_kernels_of (kernels/common/quant_rows.hpp) makes kernels of.
struct rows {
  /// q = saturate(round_half_even(x / scale) + zero_point), NaN to the zero point, for R rows
  /// sharing parameters (x and q rows xs and qs apart); pointers in locals, as the AVX-512
  /// kernel's, so the byte stores do not force reloads.
  template <int R, class X, class Q>
  static void quantize(const X* x, std::int64_t xs, Q* q, std::int64_t qs, const quant_param_row& p, std::int64_t n) {
    constexpr bool is_signed = std::is_same_v<Q, std::int8_t>;
    const __m256 lo = _mm256_set1_ps(is_signed ? -128.0f : 0.0f), hi = _mm256_set1_ps(is_signed ? 127.0f : 255.0f);
    over_columns(
        n, p,
        [=](std::int64_t j, __m256 scale, __m256 zero_point) {
#pragma GCC unroll 4
          for (int k = 0; k < R; ++k) {
            __m256 r = _mm256_round_ps(_mm256_div_ps(load8(x + k * xs + j), scale),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));  // NaN -> 0
            r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(r, zero_point), lo), hi);
            const std::uint64_t bytes = narrow8<Q>(_mm256_cvtps_epi32(r));
            std::memcpy(q + k * qs + j, &bytes, 8);
          }
        },
        [=](std::int64_t j, float scale, std::int32_t zero_point) {
          for (int k = 0; k < R; ++k) q[k * qs + j] = requantize<Q>(float(widen(x[k * xs + j])), scale, zero_point);
        });
  }

  /// x = (q - zero_point) * scale for R rows sharing parameters: q - zero_point is exact in
  /// f32 (both small integers), then one rounding.
  template <int R, class Q>
  static void dequantize(const Q* q, std::int64_t qs, float* x, std::int64_t xs, const quant_param_row& p,
                         std::int64_t n) {
    over_columns(
        n, p,
        [=](std::int64_t j, __m256 scale, __m256 zero_point) {
#pragma GCC unroll 4
          for (int k = 0; k < R; ++k) {
            const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + k * qs + j));
            const __m256i wide =
                std::is_same_v<Q, std::int8_t> ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
            _mm256_storeu_ps(x + k * xs + j, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(wide), zero_point), scale));
          }
        },
        [=](std::int64_t j, float scale, std::int32_t zero_point) {
          for (int k = 0; k < R; ++k) x[k * xs + j] = dequantize_value(q[k * qs + j], scale, zero_point);
        });
  }
};

}  // namespace

const detail::quant_kernel_table quant_kernels = quant_kernels_of<8, rows>::table();

}  // namespace mixprec::kern::avx2
