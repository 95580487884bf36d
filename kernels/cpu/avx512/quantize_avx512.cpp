// AVX-512 quantize / dequantize for rows with unit column stride: 16 elements per step, the
// rule of quant_math.hpp in vector form (one f32 division, round to nearest even, NaN to the
// zero point, clamp, narrow). Each row's scales and zero points are expanded once per
// parameter row into a per-thread buffer, so every granularity runs the same loop.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "internal/parallel.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern::avx512 {
namespace {

/// The parameters of one row, one per column.
struct row_params {
  std::vector<float> scale, zero_point;
  std::int64_t for_row = -1;  // the parameter row they were expanded for
  void expand(const detail::quant_args& a, std::int64_t i) {
    const std::int64_t prow = i / a.row_div;
    if (prow == for_row && std::int64_t(scale.size()) == a.cols) return;
    scale.resize(std::size_t(a.cols));
    zero_point.resize(std::size_t(a.cols));
    const float* s = a.scale + prow * a.grid_cols;
    const std::int32_t* z = a.zero_point + prow * a.grid_cols;
    const std::int64_t step = std::min(a.col_div, a.cols);  // columns sharing one parameter
    for (std::int64_t j0 = 0, g = 0; j0 < a.cols; j0 += step, ++g) {
      const std::int64_t j1 = std::min(a.cols, j0 + step);
      std::fill(scale.begin() + j0, scale.begin() + j1, s[g]);
      std::fill(zero_point.begin() + j0, zero_point.begin() + j1, float(z[g]));
    }
    for_row = prow;
  }
};

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

/// Calls step(i, scale, zero_point, j, mask, full) for every row i and every 16 columns
/// j of it, rows split among threads, with the row's expanded parameters: full vectors
/// first (plain loads and stores: masked ones streamed at half the rate here), then the
/// masked tail.
template <class Step>
void over_row_vectors(const detail::exec_args& ex, const detail::quant_args& a, Step&& step) {
  const int chunks = detail::chunk_count(a.rows * a.cols, ex.threads, 1 << 15);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t r0, r1;
    detail::chunk_range(a.rows, chunks, c, 1, &r0, &r1);
    row_params rp;
    for (std::int64_t i = r0; i < r1; ++i) {
      rp.expand(a, i);
      const float* scale = rp.scale.data();
      const float* zero_point = rp.zero_point.data();
      std::int64_t j = 0;
      for (; j + 16 <= a.cols; j += 16) step(i, scale, zero_point, j, __mmask16(0xffff), true);
      if (j < a.cols) step(i, scale, zero_point, j, __mmask16((1u << (a.cols - j)) - 1), false);
    }
  });
}

template <class X, class Q>
void quantize(const detail::exec_args& ex, const detail::quant_args& a) {
  constexpr bool is_signed = std::is_same_v<Q, std::int8_t>;
  const __m512 lo = _mm512_set1_ps(is_signed ? -128.0f : 0.0f), hi = _mm512_set1_ps(is_signed ? 127.0f : 255.0f);
  over_row_vectors(ex, a, [&](std::int64_t i, const float* scale, const float* zero_point, std::int64_t j, __mmask16 m,
                              bool full) {
    const X* x = static_cast<const X*>(a.src) + i * a.srs + j;
    Q* q = static_cast<Q*>(a.dst) + i * a.drs + j;
    const __m512 xv = full ? load_x(x) : load_x(x, m);
    const __m512 ratio = _mm512_div_ps(xv, _mm512_maskz_loadu_ps(m, scale + j));
    __m512 r = _mm512_roundscale_ps(ratio, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);  // NaN -> 0
    r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, zero_point + j));
    r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    const __m512i v = _mm512_cvtps_epi32(r);
    const __m128i bytes = is_signed ? _mm512_cvtsepi32_epi8(v) : _mm512_cvtusepi32_epi8(v);
    if (full) _mm_storeu_si128(reinterpret_cast<__m128i*>(q), bytes);
    else _mm_mask_storeu_epi8(q, m, bytes);
  });
}

template <class Q>
void dequantize(const detail::exec_args& ex, const detail::quant_args& a) {
  over_row_vectors(ex, a, [&](std::int64_t i, const float* scale, const float* zero_point, std::int64_t j, __mmask16 m,
                              bool full) {
    const Q* q = static_cast<const Q*>(a.src) + i * a.srs + j;
    float* x = static_cast<float*>(a.dst) + i * a.drs + j;
    const __m128i bytes = full ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)) : _mm_maskz_loadu_epi8(m, q);
    const __m512i wide = std::is_same_v<Q, std::int8_t> ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
    // q - zero point is exact in f32 (both are small integers); then one rounding
    const __m512 centred = _mm512_sub_ps(_mm512_cvtepi32_ps(wide), _mm512_maskz_loadu_ps(m, zero_point + j));
    const __m512 v = _mm512_mul_ps(centred, _mm512_maskz_loadu_ps(m, scale + j));
    if (full) _mm512_storeu_ps(x, v);
    else _mm512_mask_storeu_ps(x, m, v);
  });
}

}  // namespace

const quant_table quant_kernels = {
    {&quantize<float, std::int8_t>, &quantize<float, std::uint8_t>, &quantize<bfloat16, std::int8_t>,
     &quantize<bfloat16, std::uint8_t>, &quantize<half, std::int8_t>, &quantize<half, std::uint8_t>},
    {&dequantize<std::int8_t>, &dequantize<std::uint8_t>}};

}  // namespace mixprec::kern::avx512
