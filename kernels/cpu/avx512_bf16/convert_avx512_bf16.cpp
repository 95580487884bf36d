// f32 -> bf16 with the AVX512-BF16 instruction vcvtneps2bf16 (one instruction for sixteen
// lanes, round to nearest even). The instruction treats subnormal inputs as zero, which
// the contract does not allow, so lanes holding an f32 subnormal take the integer-rounding
// result instead: correct for every input, at the cost of one compare and blend.
#include <immintrin.h>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {
namespace {

using detail::exec_args;

inline __m256i to_bf16(__m512 v) {
  const __m256i hw = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
  const __m512 a = _mm512_abs_ps(v);
  const __mmask16 subnormal = _mm512_cmp_ps_mask(a, _mm512_set1_ps(1.17549435e-38f), _CMP_LT_OQ) &
                              _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_OQ);
  if (!subnormal) return hw;
  return _mm256_mask_blend_epi16(subnormal, hw, avx512::ps_to_bf16_bits(v));
}

void f32_to_bf16(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
  const float* x = static_cast<const float*>(xv);
  auto* y = static_cast<bfloat16*>(yv);
  for_chunks<true>(ex, n, [&](idx b, idx e) {
    idx i = b;
    for (; i + 16 <= e; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), to_bf16(_mm512_loadu_ps(x + i)));
    if (i < e) {
      const __mmask16 m = avx512::tail_mask16(e - i);
      _mm256_mask_storeu_epi16(y + i, m, to_bf16(_mm512_maskz_loadu_ps(m, x + i)));
    }
  });
}

}  // namespace

const detail::convert_fn convert_f32_bf16 = &f32_to_bf16;

}  // namespace mixprec::kern::avx512_bf16
