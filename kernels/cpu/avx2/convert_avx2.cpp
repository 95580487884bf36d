// AVX2 + F16C conversions between every pair of float dtypes, eight lanes at a time through
// f32 registers: for CPUs without AVX-512 (the lane conversions are in simd_avx2.hpp). f64
// sources are narrowed to f32 rounding to nearest (f32 targets) or to odd (f16/bf16
// targets), so that the final rounding to 16 bits is still one correct rounding from f64.
#include <immintrin.h>

#include <type_traits>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {

using detail::exec_args;

/// The low 32 bits of each 64-bit lane of a comparison mask: four 32-bit masks.
inline __m128i narrow_mask(__m256d m) {
  const __m256i low_dwords = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(m), low_dwords));
}

/// f64 -> f32 rounding to odd: the value rounded toward zero, its last bit set if anything
/// was cut off. From the round-to-nearest result: step one ulp back toward zero where it
/// rounded away, then set the last bit where it was inexact (NaN stays NaN; values beyond
/// f32's range become FLT_MAX with the odd bit, which rounds on to infinity).
inline __m128 pd_to_ps_round_to_odd(__m256d v) {
  const __m128 nearest = _mm256_cvtpd_ps(v);
  const __m256d back = _mm256_cvtps_pd(nearest);
  const __m256d magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  const __m128i inexact = narrow_mask(_mm256_cmp_pd(back, v, _CMP_NEQ_UQ));
  const __m128i away =
      narrow_mask(_mm256_cmp_pd(_mm256_and_pd(back, magnitude), _mm256_and_pd(v, magnitude), _CMP_GT_OQ));
  __m128i bits = _mm_add_epi32(_mm_castps_si128(nearest), away);  // away lanes are -1
  bits = _mm_or_si128(bits, _mm_and_si128(inexact, _mm_set1_epi32(1)));
  return _mm_castsi128_ps(bits);
}

/// Eight source values as f32 lanes, exactly (16-bit and f32 sources) or rounded once as
/// Dst needs (f64 sources).
template <class Src, class Dst>
inline __m256 load8_for(const Src* p) {
  if constexpr (std::is_same_v<Src, double>) {
    const __m256d lo = _mm256_loadu_pd(p), hi = _mm256_loadu_pd(p + 4);
    if constexpr (std::is_same_v<Dst, float>)
      return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
    else
      return _mm256_set_m128(pd_to_ps_round_to_odd(hi), pd_to_ps_round_to_odd(lo));
  } else {
    return load8(p);
  }
}

template <class Dst>
inline void store8_to(Dst* p, __m256 v) {
  if constexpr (std::is_same_v<Dst, double>) {
    _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  } else {
    store8(p, v);
  }
}

template <class Src, class Dst>
struct convert {
  static void run(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
    const Src* x = static_cast<const Src*>(xv);
    Dst* y = static_cast<Dst*>(yv);
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + 8 <= e; i += 8) store8_to(y + i, load8_for<Src, Dst>(x + i));
      convert_range(i, e, x, 1, y, 1);  // the tail, element by element
    });
  }
};

}  // namespace

#define MIXPREC_DEFINE(S, SN, D, DN) const detail::convert_fn convert_##SN##_##DN = &convert<S, D>::run;
MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx2
