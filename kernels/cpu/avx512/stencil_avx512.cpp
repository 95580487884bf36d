// Stencil kernels built with AVX-512 flags: the shared row engine (auto-vectorised to
// 512-bit FMAs here) with f16/bf16 rows widened and narrowed by vcvtph2ps/vcvtps2ph and
// the bf16 bit conversions of simd_avx512.hpp; box stencils shift their rows in registers
// (stencil_box_avx512.hpp).
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512/stencil_box_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

struct simd_rows {
  static constexpr bool register_shifts = true;
  template <int R, bool Middle, class C, class Dst, class Line, class Done>
  static void sum_box(const C* const* in, const C* k, idx n, idx rows, idx in_sy, kern::row_prefetch pf, idx pf_sy,
                      Dst&& dst, Line&& line, Done&& done) {
    sum_rows_box<R, Middle>(in, k, n, rows, in_sy, pf, pf_sy, dst, line, done);
  }
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

  /// Non-temporal stores of whole 64-byte lines; the unaligned head and the tail go through
  /// the cache.
  template <class S>
  static void stream(const compute_t<S>* src, S* dst, idx n) {
    constexpr idx per_line = idx(64 / sizeof(S));  // elements per cache line
    idx head = idx((64 - (reinterpret_cast<std::uintptr_t>(dst) & 63)) & 63) / idx(sizeof(S));
    if (reinterpret_cast<std::uintptr_t>(dst) % sizeof(S) != 0 || head > n) head = n;
    store(src, dst, head);
    idx i = head;
    for (; i + per_line <= n; i += per_line) {
      if constexpr (std::is_same_v<S, double>) {
        _mm512_stream_pd(dst + i, _mm512_loadu_pd(src + i));
      } else if constexpr (std::is_same_v<S, float>) {
        _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
      } else {  // 32 half-precision values: two conversions of 16
        __m256i lo, hi;
        if constexpr (std::is_same_v<S, half>) {
          lo = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          hi = _mm512_cvtps_ph(_mm512_loadu_ps(src + i + 16), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        } else {
          lo = ps_to_bf16_bits(_mm512_loadu_ps(src + i));
          hi = ps_to_bf16_bits(_mm512_loadu_ps(src + i + 16));
        }
        _mm512_stream_si512(reinterpret_cast<__m512i*>(dst + i), _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
      }
    }
    store(src + i, dst + i, n - i);
  }
  template <class C>
  static void stream_line(const C* src, C* dst) {
    if constexpr (std::is_same_v<C, double>)
      _mm512_stream_pd(dst, _mm512_loadu_pd(src));
    else
      _mm512_stream_ps(dst, _mm512_loadu_ps(src));
  }
  static void stream_fence() { _mm_sfence(); }
};

using kernels = stencil_kernels<simd_rows>;

}  // namespace

const detail::stencil_kernel_table stencil_set = stencil_table_of<kernels>();

}  // namespace mixprec::kern::avx512
