// Stencil kernels built with AVX-512 flags: the shared row engine (auto-vectorised to
// 512-bit FMAs here) with f16/bf16 rows widened and narrowed by vcvtph2ps/vcvtps2ph and
// the bf16 bit conversions of simd_avx512.hpp.
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

struct simd_rows {
  template <class S>
  static void load(const S* src, compute_t<S>* dst, idx n) {
    if constexpr (std::is_same_v<S, half> || std::is_same_v<S, bfloat16>) {
      idx i = 0;
      for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, load16(src + i));
      if (i < n) _mm512_mask_storeu_ps(dst + i, tail_mask16(n - i), load16_tail(src + i, n - i));
    } else {
      scalar_rows::load(src, dst, n);
    }
  }
  template <class S>
  static void store(const compute_t<S>* src, S* dst, idx n) {
    if constexpr (std::is_same_v<S, half> || std::is_same_v<S, bfloat16>) {
      idx i = 0;
      for (; i + 16 <= n; i += 16) store16(dst + i, _mm512_loadu_ps(src + i));
      if (i < n) store16_tail(dst + i, _mm512_maskz_loadu_ps(tail_mask16(n - i), src + i), n - i);
    } else {
      scalar_rows::store(src, dst, n);
    }
  }
};

using kernels = stencil_kernels<simd_rows>;

}  // namespace

#define MIXPREC_DEFINE(T, N) \
  const stencil_table stencil_##N = {&kernels::halo<T>, &kernels::apply<T>, &kernels::sweeps<T>};
MIXPREC_AVX512_BLAS1_TYPES(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx512
