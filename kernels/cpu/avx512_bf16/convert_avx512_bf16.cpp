// f32 -> bf16 with the AVX512-BF16 instruction vcvtneps2bf16 (one instruction for sixteen
// lanes, round to nearest even), by avx512::ps_to_bf16_bits built with this folder's flags:
// a vector holding an f32 subnormal, which the instruction would flush to zero and the
// contract does not allow, takes the integer rounding instead.
#include <immintrin.h>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {
namespace {

using avx512::ps_to_bf16_bits;
using detail::exec_args;

void f32_to_bf16(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
  const float* x = static_cast<const float*>(xv);
  auto* y = static_cast<bfloat16*>(yv);
  for_chunks<true>(ex, n, [&](idx b, idx e) {
    idx i = b;
    for (; i + 16 <= e; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), ps_to_bf16_bits(_mm512_loadu_ps(x + i)));
    if (i < e) {
      const __mmask16 m = avx512::tail_mask16(e - i);
      _mm256_mask_storeu_epi16(y + i, m, ps_to_bf16_bits(_mm512_maskz_loadu_ps(m, x + i)));
    }
  });
}

}  // namespace

const detail::convert_fn convert_f32_bf16 = &f32_to_bf16;

}  // namespace mixprec::kern::avx512_bf16
