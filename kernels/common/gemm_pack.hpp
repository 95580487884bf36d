// Packing of GEMM operands into the panel layouts of kernels/common/gemm_layout.hpp, from
// any strides (so transposes and both storage orders go through the same code), converting
// each value to the family's packed type on the way.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/common/gemm_layout.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// A stored value as the family packs it: widened (f16 -> f32, exact), rounded (f16 -> bf16
/// in f16_mode::allow_bf16_inputs, to nearest even) or shifted (s8 -> u8 as a + 128).
template <class P, class Src>
MIXPREC_ALWAYS_INLINE P packed_value(Src v) {
  if constexpr (std::is_same_v<P, Src>) {
    return v;
  } else if constexpr (std::is_same_v<P, std::uint8_t>) {
    static_assert(std::is_same_v<Src, std::int8_t>, "integer A is u8 or s8");
    return std::uint8_t(std::int32_t(v) + 128);
  } else if constexpr (std::is_same_v<P, float>) {
    return float(v);
  } else {
    return P(float(v));
  }
}

/// One whole k-group of a full panel of a row-major B, interleaved with SIMD shuffles where
/// the folder is built with AVX2 (bf16 pairs, s8 quads: what the dot-product units read);
/// returns false where it does not apply, and the scalar loop does it.
template <class F, class Src>
MIXPREC_ALWAYS_INLINE bool interleave_group(const Src* rows, std::int64_t rs, std::int64_t cs, int jn, bool full_group,
                                            typename F::packed_b* dst) {
#if defined(__AVX2__)
  using P = typename F::packed_b;
  if (cs != 1 || jn != F::nr || !full_group) return false;
  if constexpr (F::kg == 2 && F::nr == 32 && std::is_same_v<Src, P> && sizeof(P) == 2) {
    for (int h = 0; h < 2; ++h) {  // columns 16h .. 16h + 15
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + 16 * h));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + rs + 16 * h));
      const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);  // per 128-bit lane
      auto* out = reinterpret_cast<__m256i*>(dst + 32 * h);
      _mm256_storeu_si256(out, _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    return true;
  } else if constexpr (F::kg == 4 && F::nr == 32 && std::is_same_v<Src, P> && sizeof(P) == 1) {
    const auto row = [&](int t) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + t * rs)); };
    const __m256i r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3);
    const __m256i lo01 = _mm256_unpacklo_epi8(r0, r1), hi01 = _mm256_unpackhi_epi8(r0, r1);
    const __m256i lo23 = _mm256_unpacklo_epi8(r2, r3), hi23 = _mm256_unpackhi_epi8(r2, r3);
    const __m256i q0 = _mm256_unpacklo_epi16(lo01, lo23), q1 = _mm256_unpackhi_epi16(lo01, lo23);
    const __m256i q2 = _mm256_unpacklo_epi16(hi01, hi23), q3 = _mm256_unpackhi_epi16(hi01, hi23);
    auto* out = reinterpret_cast<__m256i*>(dst);  // quads of columns 0-7, 8-15, 16-23, 24-31
    _mm256_storeu_si256(out, _mm256_permute2x128_si256(q0, q1, 0x20));
    _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(q2, q3, 0x20));
    _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(q0, q1, 0x31));
    _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(q2, q3, 0x31));
    return true;
  }
#endif
  (void)rows, (void)rs, (void)cs, (void)jn, (void)full_group, (void)dst;
  return false;
}

#if defined(__AVX512F__)
/// Eight rows of eight k (rows rs apart, k contiguous) into a panel of MR rows per k:
/// d[k * MR + r] = src[r * rs + k]. Rows from `nrows` on are neither read nor written.
/// Packing row by row stores one element per MR (a scatter) and reads 14 short runs
/// of A; this reads eight rows at once and stores whole k-slices: 2.2x on a 32 MiB f64 A.
template <int MR>
MIXPREC_ALWAYS_INLINE void transpose_8x8_into_panel(const double* src, std::int64_t rs, int nrows, double* d) {
  __m512d r[8];
  for (int i = 0; i < 8; ++i) r[i] = i < nrows ? _mm512_loadu_pd(src + i * rs) : _mm512_setzero_pd();
  // pairs of rows per k (k even in lo, odd in hi), then quads, then the two 256-bit halves
  const __m512d t0 = _mm512_unpacklo_pd(r[0], r[1]), t1 = _mm512_unpackhi_pd(r[0], r[1]);
  const __m512d t2 = _mm512_unpacklo_pd(r[2], r[3]), t3 = _mm512_unpackhi_pd(r[2], r[3]);
  const __m512d t4 = _mm512_unpacklo_pd(r[4], r[5]), t5 = _mm512_unpackhi_pd(r[4], r[5]);
  const __m512d t6 = _mm512_unpacklo_pd(r[6], r[7]), t7 = _mm512_unpackhi_pd(r[6], r[7]);
  const __m512i even = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0), odd = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  const __m512d u0 = _mm512_permutex2var_pd(t0, even, t2), u1 = _mm512_permutex2var_pd(t1, even, t3);
  const __m512d u2 = _mm512_permutex2var_pd(t0, odd, t2), u3 = _mm512_permutex2var_pd(t1, odd, t3);
  const __m512d u4 = _mm512_permutex2var_pd(t4, even, t6), u5 = _mm512_permutex2var_pd(t5, even, t7);
  const __m512d u6 = _mm512_permutex2var_pd(t4, odd, t6), u7 = _mm512_permutex2var_pd(t5, odd, t7);
  const __mmask8 rows = __mmask8((1u << nrows) - 1);
  _mm512_mask_storeu_pd(d + 0 * MR, rows, _mm512_shuffle_f64x2(u0, u4, 0x44));
  _mm512_mask_storeu_pd(d + 1 * MR, rows, _mm512_shuffle_f64x2(u1, u5, 0x44));
  _mm512_mask_storeu_pd(d + 2 * MR, rows, _mm512_shuffle_f64x2(u2, u6, 0x44));
  _mm512_mask_storeu_pd(d + 3 * MR, rows, _mm512_shuffle_f64x2(u3, u7, 0x44));
  _mm512_mask_storeu_pd(d + 4 * MR, rows, _mm512_shuffle_f64x2(u0, u4, 0xEE));
  _mm512_mask_storeu_pd(d + 5 * MR, rows, _mm512_shuffle_f64x2(u1, u5, 0xEE));
  _mm512_mask_storeu_pd(d + 6 * MR, rows, _mm512_shuffle_f64x2(u2, u6, 0xEE));
  _mm512_mask_storeu_pd(d + 7 * MR, rows, _mm512_shuffle_f64x2(u3, u7, 0xEE));
}

/// Eight rows of eight 32-bit lanes, transposed into a panel of MR lanes per column:
/// d[c * MR + r] = lane c of r[r], for rows below `nrows`.
template <int MR>
MIXPREC_ALWAYS_INLINE void store_transposed_8x8(const __m256 (&r)[8], int nrows, float* d) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);  // columns 0|4, 1|5
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);  // columns 2|6, 3|7
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __mmask8 rows = __mmask8((1u << nrows) - 1);
  _mm256_mask_storeu_ps(d + 0 * MR, rows, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_mask_storeu_ps(d + 1 * MR, rows, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_mask_storeu_ps(d + 2 * MR, rows, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_mask_storeu_ps(d + 3 * MR, rows, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_mask_storeu_ps(d + 4 * MR, rows, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_mask_storeu_ps(d + 5 * MR, rows, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_mask_storeu_ps(d + 6 * MR, rows, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_mask_storeu_ps(d + 7 * MR, rows, _mm256_permute2f128_ps(u3, u7, 0x31));
}

MIXPREC_ALWAYS_INLINE __m256 load_8_as_f32(const float* p) { return _mm256_loadu_ps(p); }
MIXPREC_ALWAYS_INLINE __m256 load_8_as_f32(const half* p) {  // exact
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

/// The same as for f64 into an f32 panel, from f32 or f16 rows (eight k per row load).
template <int MR, class Src>
MIXPREC_ALWAYS_INLINE void transpose_8x8_into_panel(const Src* src, std::int64_t rs, int nrows, float* d) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = i < nrows ? load_8_as_f32(src + i * rs) : _mm256_setzero_ps();
  store_transposed_8x8<MR>(r, nrows, d);
}

/// Eight rows of eight 4-byte k-groups (bf16 pairs, int8 quads; row_bytes apart, any byte
/// alignment) into a panel of MR groups per k-group, each XORed with `flip` (s8 -> u8).
template <int MR>
MIXPREC_ALWAYS_INLINE void transpose_8x8_groups_into_panel(const unsigned char* src, std::int64_t row_bytes, int nrows,
                                                           std::uint32_t flip, void* d) {
  const __m256i f = _mm256_set1_epi32(int(flip));
  __m256 r[8];
  for (int i = 0; i < 8; ++i)
    r[i] = i < nrows ? _mm256_castsi256_ps(_mm256_xor_si256(
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i * row_bytes)), f))
                     : _mm256_setzero_ps();
  store_transposed_8x8<MR>(r, nrows, static_cast<float*>(d));  // moves only: every bit pattern kept
}
#endif

/// B with k contiguous in each column (rs == 1: op(B) = W^T, as a linear layer stores W):
/// the panel's first k-groups, eight columns by eight groups transposed in registers as A's
/// rows are (element by element, each group was a load from another row of W: the forward
/// and dW GEMMs of training ran at 0.64-0.75 of the plain one). Returns the k-groups done;
/// the caller packs the rest. Columns jn..nr of those groups are zeroed, col_sums updated.
template <class F, class Src>
std::int64_t pack_b_columns_transposed(const Src* b, std::int64_t rs, std::int64_t cs, std::int64_t k0, std::int64_t kc,
                                       std::int64_t jbase, int jn, typename F::packed_b* d, std::int32_t* col_sums) {
  (void)b, (void)rs, (void)cs, (void)k0, (void)kc, (void)jbase, (void)jn, (void)d, (void)col_sums;
#if defined(__AVX512F__)
  using P = typename F::packed_b;
  constexpr int nr = F::nr, kg = F::kg;
  constexpr bool words = kg > 1 && sizeof(Src) == sizeof(P) && sizeof(P) * kg == 4 && std::is_same_v<Src, P>;
  constexpr bool lanes = kg == 1 && ((std::is_same_v<Src, P> && std::is_floating_point_v<P>) ||
                                     (std::is_same_v<Src, half> && std::is_same_v<P, float>));
  if constexpr (words || lanes) {
    if (rs != 1 || jn <= 0) return 0;
    const std::int64_t full = kc / kg / 8 * 8;
    for (std::int64_t g = 0; g < full; g += 8)
      for (int c0 = 0; c0 < jn; c0 += 8) {
        const Src* src = b + (k0 + g * kg) + (jbase + c0) * cs;
        const int count = std::min(8, jn - c0);
        if constexpr (words)
          transpose_8x8_groups_into_panel<nr>(reinterpret_cast<const unsigned char*>(src),
                                              cs * std::int64_t(sizeof(Src)), count, 0u, d + (g * nr + c0) * kg);
        else
          transpose_8x8_into_panel<nr>(src, cs, count, d + g * nr + c0);
      }
    for (std::int64_t g = 0; g < full; ++g)
      for (int jj = jn; jj < nr; ++jj)
        for (int t = 0; t < kg; ++t) d[(g * nr + jj) * kg + t] = P(0.0f);
    if constexpr (std::is_integral_v<P>) {
      if (col_sums)
        for (int jj = 0; jj < jn; ++jj)
          for (std::int64_t k = 0; k < full * kg; ++k) col_sums[jj] += std::int32_t(b[(k0 + k) + (jbase + jj) * cs]);
    }
    return full;
  }
#endif
  return 0;
}

/// Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) of B (element (k, j) at b[k*rs + j*cs])
/// into panels `panel_stride` elements apart, zero-padding k to a multiple of KG and the
/// last panel to NR columns. With col_sums (integer B), adds each column's sum over these
/// k to col_sums[j - j0].
template <class F, class Src>
void pack_b_block(const Src* b, std::int64_t rs, std::int64_t cs, std::int64_t k0, std::int64_t kc, std::int64_t j0,
                  std::int64_t nc, typename F::packed_b* dst, std::int64_t panel_stride, std::int32_t* col_sums) {
  using P = typename F::packed_b;
  constexpr int nr = F::nr, kg = F::kg;
  const std::int64_t groups = (kc + kg - 1) / kg;
  for (std::int64_t p = 0; p * nr < nc; ++p) {
    P* d = dst + p * panel_stride;
    const std::int64_t jbase = j0 + p * nr;
    const int jn = int(std::min<std::int64_t>(nr, j0 + nc - jbase));
    const std::int64_t first =
        pack_b_columns_transposed<F>(b, rs, cs, k0, kc, jbase, jn, d, col_sums ? col_sums + p * nr : nullptr);
    for (std::int64_t g = first; g < groups; ++g) {
      P* dg = d + g * nr * kg;
      if (interleave_group<F>(b + (k0 + g * kg) * rs + jbase, rs, cs, jn, g * kg + kg <= kc, dg)) {
        if constexpr (std::is_integral_v<P>) {
          if (col_sums)
            for (int t = 0; t < kg; ++t)
              for (int jj = 0; jj < nr; ++jj)
                col_sums[p * nr + jj] += std::int32_t(b[(k0 + g * kg + t) * rs + jbase + jj]);
        }
        continue;
      }
      for (int t = 0; t < kg; ++t) {
        const std::int64_t k = g * kg + t;
        if (k >= kc) {
          for (int jj = 0; jj < nr; ++jj) dg[jj * kg + t] = P(0.0f);
          continue;
        }
        const Src* src = b + (k0 + k) * rs + jbase * cs;
        if (cs == 1) {
          for (int jj = 0; jj < jn; ++jj) dg[jj * kg + t] = packed_value<P>(src[jj]);
        } else {
          for (int jj = 0; jj < jn; ++jj) dg[jj * kg + t] = packed_value<P>(src[jj * cs]);
        }
        for (int jj = jn; jj < nr; ++jj) dg[jj * kg + t] = P(0.0f);
        if constexpr (std::is_integral_v<P>) {
          if (col_sums)
            for (int jj = 0; jj < jn; ++jj) col_sums[p * nr + jj] += std::int32_t(src[jj * cs]);
        }
      }
    }
  }
}

/// Packs rows [i0, i0 + mc) x k in [k0, k0 + kc) of A (element (i, k) at a[i*rs + k*cs])
/// into panels of MR rows, kpad * MR elements apart (kpad = kc rounded up to KG). Rows past
/// the last are left unwritten: microkernels for M < MR rows never read them.
template <class F, int MR, class Src>
void pack_a_block(const Src* a, std::int64_t rs, std::int64_t cs, std::int64_t i0, std::int64_t mc, std::int64_t k0,
                  std::int64_t kc, typename F::packed_a* dst) {
  using P = typename F::packed_a;
  constexpr int kg = F::kg;
  const std::int64_t groups = (kc + kg - 1) / kg;
  const std::int64_t kpad = groups * kg;
  if (rs == 1) {
    // A stored with k as the slow index (op(A) = A^T, as dW = dY^T X reads dY): each k is
    // one contiguous run over all the block's rows, read once and dealt to the panels (a
    // panel at a time, each k was a short read from another row, pages apart).
    for (std::int64_t k = 0; k < kpad; ++k) {
      const Src* src = a + i0 + (k0 + k) * cs;
      for (std::int64_t p = 0; p * MR < mc; ++p) {
        P* dk = dst + p * kpad * MR + (k / kg) * MR * kg + k % kg;
        const int in = int(std::min<std::int64_t>(MR, mc - p * MR));
        if (k < kc)
          for (int ii = 0; ii < in; ++ii) dk[ii * kg] = packed_value<P>(src[p * MR + ii]);
        else
          for (int ii = 0; ii < in; ++ii) dk[ii * kg] = P(0.0f);
      }
    }
    return;
  }
  for (std::int64_t p = 0; p * MR < mc; ++p) {
    P* d = dst + p * kpad * MR;
    const std::int64_t ibase = i0 + p * MR;
    const int in = int(std::min<std::int64_t>(MR, i0 + mc - ibase));
    const Src* rows = a + ibase * rs + k0 * cs;

#if defined(__AVX512F__)
    constexpr bool transposable = kg == 1 && ((std::is_same_v<Src, P> && std::is_floating_point_v<P>) ||
                                              (std::is_same_v<Src, half> && std::is_same_v<P, float>));
    if constexpr (transposable) {
      if (cs == 1) {  // rows with k contiguous: transposed eight by eight, the k tail one by one
        const std::int64_t full = kc / 8 * 8;
        for (std::int64_t k = 0; k < full; k += 8)
          for (int r0 = 0; r0 < in; r0 += 8)
            transpose_8x8_into_panel<MR>(rows + r0 * rs + k, rs, std::min(8, in - r0), d + k * MR + r0);
        for (int ii = 0; ii < in; ++ii)
          for (std::int64_t k = full; k < kc; ++k) d[k * MR + ii] = packed_value<P>(rows[ii * rs + k]);
        continue;
      }
    }
#endif
    // Rows with k contiguous and stored as packed (or s8 shifted to u8): a k-group is one
    // word to move (4 or 8 bytes), copied whole instead of element by element.
    constexpr bool word_copy =
        sizeof(Src) == sizeof(P) && sizeof(P) * kg >= 4 && (std::is_same_v<Src, P> || std::is_same_v<P, std::uint8_t>);
    if constexpr (word_copy) {
      if (cs == 1) {
        using W = std::conditional_t<sizeof(P) * kg == 8, std::uint64_t, std::uint32_t>;
        constexpr W flip = std::is_same_v<Src, P> ? W(0) : W(0x8080808080808080ull);  // s8 -> u8: + 128
        const std::int64_t full = kc / kg;
        std::int64_t transposed = 0;  // k-groups done eight by eight in registers
#if defined(__AVX512F__)
        if constexpr (sizeof(W) == 4) {
          transposed = full / 8 * 8;
          for (std::int64_t g = 0; g < transposed; g += 8)
            for (int r0 = 0; r0 < in; r0 += 8)
              transpose_8x8_groups_into_panel<MR>(reinterpret_cast<const unsigned char*>(rows + r0 * rs + g * kg),
                                                  rs * std::int64_t(sizeof(Src)), std::min(8, in - r0), flip,
                                                  d + (g * MR + r0) * kg);
        }
#endif
        for (int ii = 0; ii < in; ++ii) {
          const Src* row = rows + ii * rs;
          for (std::int64_t g = transposed; g < full; ++g) {
            W w;
            std::memcpy(&w, row + g * kg, sizeof(W));
            w ^= flip;
            std::memcpy(d + (g * MR + ii) * kg, &w, sizeof(W));
          }
          for (std::int64_t k = full * kg; k < kpad; ++k)
            d[(full * MR + ii) * kg + (k - full * kg)] = k < kc ? packed_value<P>(row[k]) : P(0.0f);
        }
        continue;
      }
    }
    for (int ii = 0; ii < in; ++ii) {
      const Src* row = rows + ii * rs;
      for (std::int64_t g = 0; g < groups; ++g)
        for (int t = 0; t < kg; ++t) {
          const std::int64_t k = g * kg + t;
          d[(g * MR + ii) * kg + t] = k < kc ? packed_value<P>(row[k * cs]) : P(0.0f);
        }
    }
  }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
