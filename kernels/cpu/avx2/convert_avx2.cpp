// AVX2 + F16C conversions between f32 and the 16-bit floats, eight lanes at a time: for
// CPUs without AVX-512. vcvtps2ph with an explicit round-to-nearest-even immediate rounds
// like the contract (subnormals and overflow included); bf16 rounds with integer adds.
#include <immintrin.h>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {

using detail::exec_args;

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

template <class Src, class Dst>
struct convert {
  static void run(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
    const Src* x = static_cast<const Src*>(xv);
    Dst* y = static_cast<Dst*>(yv);
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + 8 <= e; i += 8) store8(y + i, load8(x + i));
      convert_range(i, e, x, 1, y, 1);  // the tail, element by element
    });
  }
};

}  // namespace

#define MIXPREC_DEFINE(S, SN, D, DN) const detail::convert_fn convert_##SN##_##DN = &convert<S, D>::run;
MIXPREC_AVX2_CONVERT_PAIRS(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx2
