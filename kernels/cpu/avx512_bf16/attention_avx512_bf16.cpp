// Attention (mixprec/attention.hpp) with bf16 q and a bf16 cache on the AVX512-BF16 dot
// product (vdpbf16ps: bf16 pairs multiplied exactly, summed into f32 lanes). The tiles are
// those of kernels/common/attention_tiles.hpp on 16 f32 lanes; a tile whose query rows fill
// the lanes (prefill) takes its products from bf16_products below, at twice the f32 rate:
//   Q K^T: Q^T held as (q[r][2i], q[r][2i+1]) pairs per lane r, each key's pair broadcast
//          straight from the cache; the scale is applied to the f32 scores.
//   P V:   the block's probabilities rounded to bf16 and paired over consecutive keys,
//          (p[2t][r], p[2t+1][r]), against the values interleaved the same way in L1.
// Decode tiles (a few rows) keep the f32 dot-product path of the shared tiles.
#include <immintrin.h>

#include <cstring>

#include "kernels/common/attention_tiles.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {
namespace {

using idx = std::int64_t;
using avx512::f32x16;
constexpr idx lanes = 16;
constexpr idx kv_block = attention_tiles<f32x16>::kv_block;

std::uint32_t bits_of(bfloat16 x) {
  std::uint16_t b;
  std::memcpy(&b, &x, 2);
  return b;
}

MIXPREC_ALWAYS_INLINE __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/// The pair of bf16 at p as one 32-bit lane value, broadcast.
MIXPREC_ALWAYS_INLINE __m512i broadcast_pair(const bfloat16* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

struct bf16_products {
  template <class T, class K>
  static constexpr bool applies = std::is_same_v<T, bfloat16>&& std::is_same_v<K, bfloat16>;

  /// qt[i * 16 + r] = (q_r[2i], q_r[2i + 1]) for i < hd / 2 (hd even); lanes without a row
  /// (null) hold zeros.
  static void pack_queries(const bfloat16* const* rows, idx hd, float* qt) {
    for (idx i = 0; i < hd / 2; ++i)
      for (idx r = 0; r < lanes; ++r) {
        const std::uint32_t pair = rows[r] ? bits_of(rows[r][2 * i]) | bits_of(rows[r][2 * i + 1]) << 16 : 0;
        std::memcpy(qt + i * lanes + r, &pair, 4);
      }
  }

  /// s[t] (a vector over the tile's rows) = scale * Q^T . key t for t < n, Keys keys at a time:
  /// sixteen independent sums cover the dot product's latency on both pipes. The next block's
  /// keys (those before `ahead`) are prefetched a line per pair step.
  template <int Keys>
  MIXPREC_ALWAYS_INLINE static void scores_of_keys(const float* qt, const bfloat16* keys, idx stride, idx t, idx ahead,
                                                   idx hd, __m512 scale, float* s) {
    __m512 acc[Keys];
    for (auto& x : acc) x = _mm512_setzero_ps();
    const bfloat16* k = keys + t * stride;
    const idx lines = (hd * 2 + 63) / 64, prefetched = std::clamp<idx>(ahead - t - kv_block, 0, Keys) * lines;
    for (idx i = 0; i < hd / 2; ++i) {
      if (i < prefetched)
        __builtin_prefetch(reinterpret_cast<const char*>(k + (i / lines + kv_block) * stride) + i % lines * 64);
      const __m512i q = _mm512_load_si512(qt + i * lanes);
      for (int j = 0; j < Keys; ++j) acc[j] = dot_pairs(acc[j], q, broadcast_pair(k + j * stride + 2 * i));
    }
    for (int j = 0; j < Keys; ++j) _mm512_store_ps(s + (t + j) * lanes, _mm512_mul_ps(acc[j], scale));
  }

  static void scores(const float* qt, const bfloat16* keys, idx stride, idx n, idx ahead, idx hd, float scale,
                     float* s) {
    const __m512 sc = _mm512_set1_ps(scale);
    idx t = 0;
    for (; t + 16 <= n; t += 16) scores_of_keys<16>(qt, keys, stride, t, ahead, hd, sc, s);
    for (; t + 4 <= n; t += 4) scores_of_keys<4>(qt, keys, stride, t, ahead, hd, sc, s);
    for (; t < n; ++t) scores_of_keys<1>(qt, keys, stride, t, ahead, hd, sc, s);
  }

  /// pp[i * 16 + r] = (p[2i][r], p[2i + 1][r]) rounded to bf16 (a zero past the n-th key).
  static void pair_probabilities(const float* p, idx n, float* pp) {
    // After vcvtne2ps2bf16(b, a) the 16-bit lanes are a[0..15], b[0..15]; interleave them.
    alignas(64) static constexpr std::uint16_t interleave[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                                                 21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                                                 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i order = _mm512_load_si512(interleave);
    for (idx i = 0; 2 * i < n; ++i) {
      const __m512 a = _mm512_load_ps(p + 2 * i * lanes);
      const __m512 b = 2 * i + 1 < n ? _mm512_load_ps(p + (2 * i + 1) * lanes) : _mm512_setzero_ps();
      const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(b, a);
      _mm512_store_si512(pp + i * lanes, _mm512_permutexvar_epi16(order, both));
    }
  }

  /// vp[i * dp + d] = (v[2i][d], v[2i + 1][d]) for d < dp (zeros past hd and past the n-th
  /// key); the next block's values (those before `ahead`) are prefetched on the way.
  static void pair_values(const bfloat16* v, idx stride, idx n, idx ahead, idx hd, idx dp, float* vp) {
    alignas(64) static constexpr std::uint16_t low[32] = {0, 32, 1, 33, 2,  34, 3,  35, 4,  36, 5,  37, 6,  38, 7,  39,
                                                          8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
    alignas(64) static constexpr std::uint16_t high[32] = {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21,
                                                           53, 22, 54, 23, 55, 24, 56, 25, 57, 26, 58,
                                                           27, 59, 28, 60, 29, 61, 30, 62, 31, 63};
    const __m512i lo = _mm512_load_si512(low), hi = _mm512_load_si512(high);
    for (idx t = 0; t < n; ++t)
      if (t + kv_block < ahead) attention_tiles<f32x16>::prefetch_row(v + (t + kv_block) * stride, hd);
    for (idx i = 0; 2 * i < n; ++i) {
      const bfloat16* a = v + 2 * i * stride;
      const bfloat16* b = 2 * i + 1 < n ? a + stride : nullptr;
      for (idx d = 0; d < dp; d += 32) {
        // Past the head, zeros without a load (a masked load whose mask is all zero can be slow).
        const __mmask32 in = d >= hd ? 0 : hd - d >= 32 ? ~__mmask32(0) : (__mmask32(1) << (hd - d)) - 1;
        const __m512i x = in ? _mm512_maskz_loadu_epi16(in, a + d) : _mm512_setzero_si512();
        const __m512i y = b && in ? _mm512_maskz_loadu_epi16(in, b + d) : _mm512_setzero_si512();
        _mm512_store_si512(vp + i * dp + d, _mm512_permutex2var_epi16(x, lo, y));
        _mm512_store_si512(vp + i * dp + d + 16, _mm512_permutex2var_epi16(x, hi, y));
      }
    }
  }

  /// o[r] = o[r] * corr[r] + sum_t p[t][r] v[t] for the tile's nr rows, with p rounded to bf16:
  /// four rows and four vectors of the head at a time (sixteen sums), each value pair loaded
  /// once for the four rows. pp and vp are scratch for the paired probabilities and values.
  static void accumulate_pv(float* o, const float* p, const bfloat16* v, idx stride, const float* corr, idx n,
                            idx ahead, idx nr, idx hd, idx dp, float* pp, float* vp) {
    pair_probabilities(p, n, pp);
    pair_values(v, stride, n, ahead, hd, dp, vp);
    const idx pairs = (n + 1) / 2;
    for (idx r = 0; r < nr; r += 4) {
      idx rows[4];  // past the last row, the last row again: computed twice, stored alike
      for (int i = 0; i < 4; ++i) rows[i] = std::min(r + i, nr - 1);
      for (idx d0 = 0; d0 < dp; d0 += 4 * lanes) {
        __m512 acc[4][4];
        for (int i = 0; i < 4; ++i) {
          const __m512 c = _mm512_set1_ps(corr[rows[i]]);
          for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_mul_ps(_mm512_load_ps(o + rows[i] * dp + d0 + j * lanes), c);
        }
        for (idx t = 0; t < pairs; ++t) {
          const float* vt = vp + t * dp + d0;
          const __m512i x[4] = {_mm512_load_si512(vt), _mm512_load_si512(vt + lanes), _mm512_load_si512(vt + 2 * lanes),
                                _mm512_load_si512(vt + 3 * lanes)};
          for (int i = 0; i < 4; ++i) {
            // The pair's bits broadcast as a float (a move: the bits are kept).
            const __m512i pr = _mm512_castps_si512(_mm512_set1_ps(pp[t * lanes + rows[i]]));
            for (int j = 0; j < 4; ++j) acc[i][j] = dot_pairs(acc[i][j], x[j], pr);
          }
        }
        for (int i = 3; i >= 0; --i)
          for (int j = 0; j < 4; ++j) _mm512_store_ps(o + rows[i] * dp + d0 + j * lanes, acc[i][j]);
      }
    }
  }
};

}  // namespace

const detail::attention_fn attention_bf16 = &attention_tiles<f32x16, bf16_products>::run<bfloat16, bfloat16, true>;

}  // namespace mixprec::kern::avx512_bf16
