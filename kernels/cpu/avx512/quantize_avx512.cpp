// AVX-512 quantize / dequantize for rows with unit column stride: 16 elements per step, the
// rule of quant_math.hpp in vector form (one f32 division, round to nearest even, NaN to the
// zero point, clamp, narrow). A row's parameters are read where they lie
// (kernels/common/quant_rows.hpp): one per column as vectors, one per block of a multiple
// of 16 columns broadcast once per block.
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "kernels/common/quant_rows.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern::avx512 {
namespace {

/// Calls step(j, mask, full, scale, zero_point) for every 16 columns j of a row of n, with
/// the parameters of those columns as vectors: full vectors with full = true (plain loads
/// and stores: masked ones streamed at half the rate here), a block's tail masked.
template <class Step>
MIXPREC_ALWAYS_INLINE void over_vectors(std::int64_t n, quant_param_row p, Step&& step) {
  // p by value: the callers' byte stores may alias anything reached through a reference.
  auto tail = [](std::int64_t left) { return __mmask16((1u << left) - 1); };
  const float* s = p.scale;
  const std::int32_t* z = p.zero_point;
  if (p.block == 1) {
    std::int64_t j = 0;
    for (; j + 16 <= n; j += 16)
      step(j, __mmask16(0xffff), true, _mm512_loadu_ps(s + j), _mm512_cvtepi32_ps(_mm512_loadu_si512(z + j)));
    if (j < n) {
      const __mmask16 m = tail(n - j);
      step(j, m, false, _mm512_maskz_loadu_ps(m, s + j), _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, z + j)));
    }
    return;
  }
  const std::int64_t block = p.block;
  for (std::int64_t j0 = 0, g = 0; j0 < n; j0 += block, ++g) {
    const __m512 scale = _mm512_set1_ps(s[g]), zero_point = _mm512_set1_ps(float(z[g]));
    const std::int64_t j1 = std::min(n, j0 + block);
    std::int64_t j = j0;
    for (; j + 16 <= j1; j += 16) step(j, __mmask16(0xffff), true, scale, zero_point);
    if (j < j1) step(j, tail(j1 - j), false, scale, zero_point);
  }
}

template <class X>
__m512 load_x(const X* p) {
  if constexpr (std::is_same_v<X, float>) {
    return _mm512_loadu_ps(p);
  } else if constexpr (std::is_same_v<X, half>) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  } else {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
}
template <class X>
__m512 load_x(const X* p, __mmask16 m) {
  if constexpr (std::is_same_v<X, float>) {
    return _mm512_maskz_loadu_ps(m, p);
  } else if constexpr (std::is_same_v<X, half>) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  } else {  // bf16: the upper half of an f32
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
  }
}

/// The row functions quant_kernels_of (kernels/common/quant_rows.hpp) makes kernels of.
struct rows {
  /// q = saturate(round_half_even(x / scale) + zero_point), NaN to the zero point, for R rows
  /// (x and q rows xs and qs apart) sharing parameters. A function of its own on purpose:
  /// with the pointers and bounds in locals, the byte stores (which may alias anything) do
  /// not force the loop to reload them from the argument struct every step (that cost 1.4x).
  template <int R, class X, class Q>
  static void quantize(const X* x, std::int64_t xs, Q* q, std::int64_t qs, const quant_param_row& p, std::int64_t n) {
    constexpr bool is_signed = std::is_same_v<Q, std::int8_t>;
    const __m512 lo = _mm512_set1_ps(is_signed ? -128.0f : 0.0f), hi = _mm512_set1_ps(is_signed ? 127.0f : 255.0f);
    over_vectors(n, p, [=](std::int64_t j, __mmask16 m, bool full, __m512 scale, __m512 zero_point) {
#pragma GCC unroll 4
      for (int k = 0; k < R; ++k) {
        const X* xk = x + k * xs + j;
        Q* qk = q + k * qs + j;
        const __m512 xv = full ? load_x(xk) : load_x(xk, m);
        __m512 r = _mm512_roundscale_ps(_mm512_div_ps(xv, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);  // NaN -> 0
        r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, zero_point), lo), hi);
        const __m512i v = _mm512_cvtps_epi32(r);
        const __m128i bytes = is_signed ? _mm512_cvtsepi32_epi8(v) : _mm512_cvtusepi32_epi8(v);
        if (full)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(qk), bytes);
        else
          _mm_mask_storeu_epi8(qk, m, bytes);
      }
    });
  }

  /// x = (q - zero_point) * scale for R rows sharing parameters: q - zero_point is exact in
  /// f32 (both small integers), then one rounding.
  template <int R, class Q>
  static void dequantize(const Q* q, std::int64_t qs, float* x, std::int64_t xs, const quant_param_row& p,
                         std::int64_t n) {
    over_vectors(n, p, [=](std::int64_t j, __mmask16 m, bool full, __m512 scale, __m512 zero_point) {
#pragma GCC unroll 4
      for (int k = 0; k < R; ++k) {
        const Q* qk = q + k * qs + j;
        float* xk = x + k * xs + j;
        const __m128i bytes =
            full ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(qk)) : _mm_maskz_loadu_epi8(m, qk);
        const __m512i wide = std::is_same_v<Q, std::int8_t> ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
        const __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(wide), zero_point), scale);
        if (full)
          _mm512_storeu_ps(xk, v);
        else
          _mm512_mask_storeu_ps(xk, m, v);
      }
    });
  }
};

}  // namespace

const detail::quant_kernel_table quant_kernels = quant_kernels_of<16, rows>::table();

}  // namespace mixprec::kern::avx512
