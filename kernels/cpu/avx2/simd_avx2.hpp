// AVX2 + F16C building blocks shared by this folder's kernels: eight f32 lanes loaded from
// or stored to f32, f16 or bf16. vcvtps2ph with an explicit round-to-nearest-even immediate
// rounds like the contract (subnormals and overflow included); bf16 rounds with integer
// adds. Include only from translation units built with this folder's flags.
#pragma once

#include <immintrin.h>

#include "mixprec/float16.hpp"

namespace mixprec::kern::avx2 {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const half* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load8(const bfloat16* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

inline void store8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store8(half* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
inline void store8(bfloat16* p, __m256 v) {
  // Round to nearest even on the bits; NaN lanes are made quiet instead (no carry into inf).
  const __m256i b = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
  // Pack the eight 32-bit lanes' low halves: packus works per 128-bit lane, then reorder.
  const __m256i packed = _mm256_packus_epi32(r, r);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
}

}  // namespace mixprec::kern::avx2
