// Scaled dot-product attention (mixprec/attention.hpp), tiled as flash attention is, written
// once over a vector type V with the interface of kernels/common/nn_rows.hpp: the AVX-512
// and AVX2 folders instantiate it with their f32 vectors, the reference and portable kernels
// with lane1<float>.
//
// A tile is V::width query rows of one KV head (rows ordered token by token, the group's
// query heads within a token: decode's rows are the group's heads, so the KV head's keys
// are read once for all of them). The tile walks the keys in blocks of kv_block: the block's
// keys are widened to f32 in L1 and the scores of every row come from broadcasting one key
// entry against a vector of the rows' query entries (Q^T, rows in lanes: no horizontal
// sums) -- or, for the few rows of a decode step, as dot products straight from the cache;
// the running maximum and sum are updated lane-wise, and the output rows (in L1, f32) are
// rescaled and accumulate P * V, with the values read straight from the cache where the head
// fills whole vectors. When there are fewer tiles than threads, each tile's keys are split
// into segments whose partial results are merged at the end (flash-decoding). A folder with
// narrower dot products than f32 FMAs passes them as Products for the lane-filling tiles.
#pragma once

#include <algorithm>
#include <array>

#include "kernels/common/nn_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// s[r * stride + k] = the sum of acc[r][k]'s lanes. The vector folders overload it for the
/// shapes they reduce faster together (found by argument-dependent lookup).
template <class V, int Rows, int Keys>
MIXPREC_ALWAYS_INLINE void store_row_sums(const V (&acc)[Rows][Keys], float* s, std::int64_t stride) {
  for (int r = 0; r < Rows; ++r)
    for (int k = 0; k < Keys; ++k) s[r * stride + k] = acc[r][k].reduce_add();
}

/// The products of a tile whose query rows fill the lanes (prefill) when nothing narrower
/// applies: f32 multiply-adds on blocks widened to f32. A folder with bf16 dot products
/// passes its own (kernels/cpu/avx512_bf16/attention_avx512_bf16.cpp): applies<T, K> says
/// for which q and KV dtypes, and its pack_queries, scores and accumulate_pv replace the
/// f32 ones.
struct f32_products {
  template <class T, class K>
  static constexpr bool applies = false;
};

template <class V, class Products = f32_products>
struct attention_tiles {
  using idx = std::int64_t;
  static constexpr idx w = V::width;
  /// Keys per step: with head_dim 128, the f32 K and V blocks take 32 KiB of L1.
  static constexpr idx kv_block = 32;

  /// Per-thread scratch, 64-byte aligned: Q^T (dp x w), the query rows (w x dp), the output
  /// rows (w x dp), the K and V blocks (kv_block x dp each), the block's probabilities
  /// (kv_block x w).
  struct scratch {
    local_vector<float> storage;
    float *qt, *qr, *o, *kf, *vf, *p;
    explicit scratch(idx dp) {
      const idx parts[] = {dp * w, w * dp, w * dp, kv_block * dp, kv_block * dp, kv_block * w};
      idx total = 16;
      for (idx n : parts) total += (n + 15) / 16 * 16;
      storage.assign(std::size_t(total), 0.0f);
      float* at = storage.data();
      at += (16 - (reinterpret_cast<std::uintptr_t>(at) / sizeof(float)) % 16) % 16;
      float** dst[] = {&qt, &qr, &o, &kf, &vf, &p};
      for (int i = 0; i < 6; ++i) {
        *dst[i] = at;
        at += (parts[i] + 15) / 16 * 16;
      }
    }
  };

  /// The padded row length: head_dim rounded up to four vectors (P * V runs four at a time).
  static idx padded(idx head_dim) { return (head_dim + 4 * w - 1) / (4 * w) * (4 * w); }

  /// Keys (or values) [t0, t0 + n) of one KV head as f32 rows of dp entries, zeros past hd;
  /// rows before `end` one block ahead are prefetched on the way.
  template <class K>
  static void widen_block(const K* src, idx token_stride, const float* scales, idx t0, idx n, idx end, idx hd, idx dp,
                          float* dst) {
    for (idx t = 0; t < n; ++t) {
      const K* row = src + (t0 + t) * token_stride;
      if (t0 + t + kv_block < end) prefetch_row(row + kv_block * token_stride, hd);
      float* out = dst + t * dp;
      const V s = V::broadcast(std::is_same_v<K, std::int8_t> ? scales[t0 + t] : 1.0f);
      for (idx d = 0; d < hd; d += w) {
        const idx c = std::min(w, hd - d);
        const V x = load_n<V>(row + d, c);
        store_n(std::is_same_v<K, std::int8_t> ? x * s : x, out + d, c);
      }
      for (idx d = hd; d < dp; ++d) out[d] = 0.0f;
    }
  }

  /// Asks for one key (or value) row ahead of its use. Rows are read once and then computed
  /// on: without prefetching, a block's misses start only when its loads do (decode then ran
  /// at a fifth of the memory bandwidth); with a whole block asked for at once, the prefetch
  /// instructions themselves stall once the core's miss buffers are full. One row ahead per
  /// row consumed keeps a steady number of misses in flight.
  template <class K>
  static void prefetch_row(const K* row, idx hd) {
    const char* bytes = reinterpret_cast<const char*>(row);
    for (idx b = 0; b < hd * idx(sizeof(K)); b += 64) __builtin_prefetch(bytes + b);
  }

  /// prefetch_row spread over a loop that steps through the row w elements at a time: the
  /// lines that begin within elements [d, d + w) of the row.
  template <class K>
  MIXPREC_ALWAYS_INLINE static void prefetch_step(const K* row, idx d) {
    constexpr idx step = w * idx(sizeof(K));
    const char* at = reinterpret_cast<const char*>(row + d);
    if constexpr (step >= 64) {
      for (idx b = 0; b < step; b += 64) __builtin_prefetch(at + b);
    } else {
      if (d * idx(sizeof(K)) % 64 == 0) __builtin_prefetch(at);
    }
  }

  /// s[t] (a vector over the tile's rows) = Q^T . key t, for t < n; eight keys at a time
  /// keep both FMA pipes busy through the dependent chains.
  static void scores(const float* qt, const float* kf, idx n, idx hd, idx dp, float* s) {
    idx t = 0;
    for (; t + 8 <= n; t += 8) {
      V acc[8];
      for (auto& x : acc) x = V::zero();
      const float* k = kf + t * dp;
      for (idx d = 0; d < hd; ++d) {
        const V q = V::load(qt + d * w);
        for (int j = 0; j < 8; ++j) acc[j] = V::fma(V::broadcast(k[j * dp + d]), q, acc[j]);
      }
      for (int j = 0; j < 8; ++j) acc[j].store(s + (t + j) * w);
    }
    for (; t < n; ++t) {
      V acc = V::zero();
      const float* k = kf + t * dp;
      for (idx d = 0; d < hd; ++d) acc = V::fma(V::broadcast(k[d]), V::load(qt + d * w), acc);
      acc.store(s + t * w);
    }
  }

  /// Up to this many query rows a tile takes its scores as dot products along the head
  /// (decode: the group's heads): Q^T's lanes would be mostly idle.
  static constexpr int dot_rows = 4;

  /// Keys the dot-product path takes at a time: four (sixteen accumulators, summed together by
  /// one transposing reduction) where there are 32 registers, one otherwise.
  static constexpr int dot_keys = w >= 16 ? 4 : 1;

  /// s[r][t] (row r's scores one after another, kv_block apart) = q_r . key t for t < n and
  /// the first dot_rows rows (rows past the tile's are zero): key rows loaded (and widened) in
  /// registers straight from the cache, a vector of partial sums per score, times key t's
  /// scale where the cache has scales (i8). A fixed row count keeps the accumulators in
  /// registers. Keys, and the values beside them, up to `ahead` rows on are prefetched one
  /// block ahead. Keys in the lanes let the softmax take a row's block in n / w vectors.
  template <class K>
  static void scores_dot(const float* qr, const K* keys, idx token_stride, const float* key_scales, const K* values,
                         idx v_stride, idx n, idx ahead, idx hd, idx dp, float* s) {
    idx t = 0;
    for (; t + dot_keys <= n; t += dot_keys)
      scores_of_keys<dot_keys>(qr, keys, token_stride, key_scales, values, v_stride, t, ahead, hd, dp, s);
    for (; t < n; ++t) scores_of_keys<1>(qr, keys, token_stride, key_scales, values, v_stride, t, ahead, hd, dp, s);
  }

  /// scores_dot's step: keys [t, t + Keys). Inlined, so that its accumulators stay in registers.
  template <int Keys, class K>
  MIXPREC_ALWAYS_INLINE static void scores_of_keys(const float* qr, const K* keys, idx token_stride,
                                                   const float* key_scales, const K* values, idx v_stride, idx t,
                                                   idx ahead, idx hd, idx dp, float* s) {
    V acc[dot_rows][Keys];
    for (auto& row : acc)
      for (auto& x : row) x = V::zero();
    // The prefetches go out a line or two per step, between the multiply-adds: issued all at
    // once, those past the core's free miss buffers were lost.
    const int prefetched = int(std::clamp<idx>(ahead - t - kv_block, 0, Keys));
    for (idx d = 0; d < hd; d += w) {
      const idx c = std::min(w, hd - d);
      for (int k = 0; k < prefetched; ++k) {
        prefetch_step(keys + (t + k + kv_block) * token_stride, d);
        prefetch_step(values + (t + k + kv_block) * v_stride, d);
      }
      V q[dot_rows];
      for (int r = 0; r < dot_rows; ++r) q[r] = V::load(qr + r * dp + d);
      for (int k = 0; k < Keys; ++k) {
        const V key = load_n<V>(keys + (t + k) * token_stride + d, c);
        for (int r = 0; r < dot_rows; ++r) acc[r][k] = V::fma(key, q[r], acc[r][k]);
      }
    }
    store_row_sums(acc, s + t, kv_block);
    if (key_scales)
      for (int r = 0; r < dot_rows; ++r)
        for (int k = 0; k < Keys; ++k) s[r * kv_block + t + k] *= key_scales[t + k];
  }

  /// Rows P * V takes at a time: four (sixteen accumulators) where there are 32 registers,
  /// two (eight, and the loads, within AVX2's sixteen) otherwise.
  static constexpr int pv_rows = w >= 16 ? 4 : 2;

  /// o[r] = o[r] * corr[r] + sum_t p[t][r] v[t] for the tile's nr rows: pv_rows rows and four
  /// vectors of the head at a time, each V vector loaded once for all of them. p[t][r] is
  /// p[t * key_step + r * row_step]. Value row t starts at vf + t * v_stride: the widened
  /// block in L1, or the cache itself where its rows need no widening beyond what a vector
  /// load does (then dp is the head dimension).
  template <class K>
  static void accumulate_pv(float* o, const float* p, idx key_step, idx row_step, const K* vf, idx v_stride,
                            const float* corr, idx n, idx nr, idx dp) {
    for (idx r = 0; r < nr; r += pv_rows) {
      idx rows[pv_rows];  // past the last row, the last row again: computed twice, stored alike
      for (int i = 0; i < pv_rows; ++i) rows[i] = std::min(r + i, nr - 1);
      for (idx d0 = 0; d0 < dp; d0 += 4 * w) {
        V acc[pv_rows][4];
        for (int i = 0; i < pv_rows; ++i) {
          const V c = V::broadcast(corr[rows[i]]);
          for (int j = 0; j < 4; ++j) acc[i][j] = V::load(o + rows[i] * dp + d0 + j * w) * c;
        }
        for (idx t = 0; t < n; ++t) {
          const K* vt = vf + t * v_stride + d0;
          const V x[4] = {V::load(vt), V::load(vt + w), V::load(vt + 2 * w), V::load(vt + 3 * w)};
          for (int i = 0; i < pv_rows; ++i) {
            const V pr = V::broadcast(p[t * key_step + rows[i] * row_step]);
            for (int j = 0; j < 4; ++j) acc[i][j] = V::fma(pr, x[j], acc[i][j]);
          }
        }
        for (int i = pv_rows - 1; i >= 0; --i)
          for (int j = 0; j < 4; ++j) acc[i][j].store(o + rows[i] * dp + d0 + j * w);
      }
    }
  }

  /// The online softmax's step over a block of n scores s[t * w + r] (rows in the lanes):
  /// keys past a row's position (pos, when given) masked, the block's maximum merged into
  /// run_max, the scores replaced by their exps (times the values' scales, when given), their
  /// sums added to run_sum, and corr[r] = the factor the rows' earlier output takes.
  static void softmax_rows_in_lanes(float* s, idx n, idx t0, const V* pos, const float* value_scales, V& run_max,
                                    V& run_sum, float* corr) {
    const V neg_inf = V::broadcast(-std::numeric_limits<float>::infinity());
    V block_max = neg_inf;
    for (idx t = 0; t < n; ++t) {
      V x = V::load(s + t * w);
      if (pos) x = V::select_lt(*pos, V::broadcast(float(t0 + t)), neg_inf, x);
      x.store(s + t * w);
      block_max = V::max(block_max, x);
    }
    const V shift = rescale(block_max, run_max, run_sum, corr);
    for (idx t = 0; t < n; ++t) {
      const V e = vexp(V::load(s + t * w) - shift);
      (value_scales ? e * V::broadcast(value_scales[t]) : e).store(s + t * w);
      run_sum = run_sum + e;
    }
  }

  /// The same step over the scores of the first nr rows laid out row by row, s[r * kv_block
  /// + t] (the dot-product path's few rows): a row's block takes n / w vectors, so the exps
  /// cost a quarter of what rows in the lanes cost a decode step of four heads.
  static void softmax_keys_in_lanes(float* s, idx n, idx nr, idx t0, const float* pos, const float* value_scales,
                                    V& run_max, V& run_sum, float* corr) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    alignas(64) float lane[w], row_max[w], row_sum[w], shift[w];
    for (idx i = 0; i < w; ++i) {
      lane[i] = float(i);
      row_max[i] = neg_inf;
      row_sum[i] = 0.0f;
    }
    const V lanes = V::load(lane);
    for (idx r = 0; r < nr; ++r) {
      // Keys [0, visible) of the block are the row's: the rest (masked, or past n) get -inf.
      const idx visible = pos ? std::clamp<idx>(idx(pos[r]) - t0 + 1, 0, n) : n;
      V m = V::broadcast(neg_inf);
      for (idx j = 0; j < n; j += w) {
        const V x =
            V::select_lt(lanes, V::broadcast(float(visible - j)), V::load(s + r * kv_block + j), V::broadcast(neg_inf));
        x.store(s + r * kv_block + j);
        m = V::max(m, x);
      }
      row_max[r] = m.reduce_max();
    }
    rescale(V::load(row_max), run_max, run_sum, corr).store(shift);
    for (idx r = 0; r < nr; ++r) {
      V total = V::zero();
      for (idx j = 0; j < n; j += w) {
        const V e = vexp(V::load(s + r * kv_block + j) - V::broadcast(shift[r]));
        total = total + e;
        (value_scales ? e * load_n<V>(value_scales + j, std::min(w, n - j)) : e).store(s + r * kv_block + j);
      }
      row_sum[r] = total.reduce_add();
    }
    run_sum = run_sum + V::load(row_sum);
  }

  /// Merges a block's maxima into run_max: run_sum and (through corr) the output rows are
  /// rescaled to the new maxima, which are returned as the shift the block's exps take.
  static V rescale(V block_max, V& run_max, V& run_sum, float* corr) {
    const V new_max = V::max(run_max, block_max);
    // A row that has seen only masked keys keeps max -inf: subtract 0 instead (no inf - inf).
    const V shift = V::select_lt(new_max, V::broadcast(-std::numeric_limits<float>::max()), V::zero(), new_max);
    const V c = vexp(run_max - shift);
    run_sum = run_sum * c;
    run_max = new_max;
    c.store(corr);
    return shift;
  }

  /// Rows [r0, r0 + nr) of KV head g (row r: query token r / group, head g * group + r % group).
  template <class T, class K>
  /// The keys the tile's rows see are cut into `segments` runs of whole blocks; this call
  /// takes run `segment` of them. With one segment the rows are finished and stored; with more,
  /// the run's unnormalized output, running maximum and sum go to `part` for merge_segments.
  static void tile(const detail::attention_args& a, idx g, idx r0, idx nr, scratch& b, idx segment = 0,
                   idx segments = 1, float* part = nullptr) {
    const idx hd = a.head_dim, dp = padded(hd), group = a.heads / a.kv_heads;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const T* q = static_cast<const T*>(a.q);
    alignas(64) float pos[w], corr[w], sum[w];
    // Few rows (a decode step's group of heads) take their scores as dot products from the
    // query rows (qr); more fill the lanes of Q^T (qt).
    const bool dot = nr <= std::min<idx>(dot_rows, w / 4);
    // Values need no copy when a vector load widens them and the head fills whole vectors;
    // an i8 value's scale then goes into its probability.
    const bool direct_values = hd % (4 * w) == 0;
    // Query rows and keys as stored, multiplied on narrower dot-product units where the
    // folder has them; P is then rounded as those units take it (see attention.hpp).
    bool narrow = false;
    if constexpr (Products::template applies<T, K>) narrow = !dot && !a.f32_probabilities && hd % 2 == 0;
    const T* lane_rows[w];
    for (idx r = 0; r < w; ++r) {
      const idx row = r0 + std::min(r, nr - 1);  // spare lanes repeat the last row
      const idx i = row / group, h = g * group + row % group;
      pos[r] = float(a.kv_len - a.m + i);
      const T* src = q + i * a.ldq + h * hd;
      lane_rows[r] = r < nr ? src : nullptr;
      for (idx d = 0; d < dp && !narrow; ++d) {
        // Spare lanes and rows hold zeros: the dot-product path computes all dot_rows rows.
        const float x = r < nr && d < hd ? a.scale * float(widen(src[d])) : 0.0f;
        if (dot)
          b.qr[r * dp + d] = x;
        else
          b.qt[d * w + r] = x;
      }
    }
    if constexpr (Products::template applies<T, K>)
      if (narrow) Products::pack_queries(lane_rows, hd, b.qt);
    std::fill(b.o, b.o + w * dp, 0.0f);
    const idx last_pos = idx(pos[w - 1]), first_pos = idx(pos[0]);
    const idx visible = a.causal ? last_pos + 1 : a.kv_len;
    const idx blocks = (visible + kv_block - 1) / kv_block;
    const idx begin = std::min(visible, blocks * segment / segments * kv_block);
    const idx end = std::min(visible, blocks * (segment + 1) / segments * kv_block);
    const K* kbase = static_cast<const K*>(a.k) + g * a.k_head_stride;
    const K* vbase = static_cast<const K*>(a.v) + g * a.v_head_stride;
    const float* ks = a.k_scales ? a.k_scales + g * a.scale_head_stride : nullptr;
    const float* vs = a.v_scales ? a.v_scales + g * a.scale_head_stride : nullptr;
    const V vpos = V::load(pos);
    // Where the block's probabilities lie: key-major with the rows in the lanes, or (dot)
    // row-major with the keys in the lanes.
    const idx key_step = dot ? 1 : w, row_step = dot ? kv_block : 1;
    V run_max = V::broadcast(neg_inf), run_sum = V::zero();
    for (idx t0 = begin; t0 < end; t0 += kv_block) {
      const idx n = std::min(kv_block, end - t0);
      if (narrow) {
        if constexpr (Products::template applies<T, K>)
          Products::scores(b.qt, kbase + t0 * a.k_token_stride, a.k_token_stride, n, end - t0, hd, a.scale, b.p);
      } else if (dot) {
        scores_dot(b.qr, kbase + t0 * a.k_token_stride, a.k_token_stride, ks ? ks + t0 : nullptr,
                   vbase + t0 * a.v_token_stride, a.v_token_stride, n, end - t0, hd, dp, b.p);
      } else {
        widen_block(kbase, a.k_token_stride, ks, t0, n, end, hd, dp, b.kf);
        scores(b.qt, b.kf, n, hd, dp, b.p);
      }
      // The dot path has prefetched the values with the keys; the others do it here.
      if (!direct_values && !narrow) widen_block(vbase, a.v_token_stride, vs, t0, n, dot ? 0 : end, hd, dp, b.vf);
      const bool masked = a.causal && t0 + n - 1 > first_pos;
      const float* value_scales = direct_values && vs ? vs + t0 : nullptr;
      if (dot)
        softmax_keys_in_lanes(b.p, n, nr, t0, masked ? pos : nullptr, value_scales, run_max, run_sum, corr);
      else
        softmax_rows_in_lanes(b.p, n, t0, masked ? &vpos : nullptr, value_scales, run_max, run_sum, corr);
      if (narrow) {
        if constexpr (Products::template applies<T, K>)
          Products::accumulate_pv(b.o, b.p, vbase + t0 * a.v_token_stride, a.v_token_stride, corr, n, end - t0, nr, hd,
                                  dp, b.kf, b.vf);
      } else if (direct_values) {
        for (idx t = 0; !dot && t + kv_block < end - t0 && t < n; ++t)
          prefetch_row(vbase + (t0 + t + kv_block) * a.v_token_stride, hd);
        accumulate_pv(b.o, b.p, key_step, row_step, vbase + t0 * a.v_token_stride, a.v_token_stride, corr, n, nr, dp);
      } else {
        accumulate_pv(b.o, b.p, key_step, row_step, b.vf, dp, corr, n, nr, dp);
      }
    }
    if (segments > 1) {
      std::copy(b.o, b.o + w * dp, part);
      run_max.store(part + w * dp);
      run_sum.store(part + w * dp + w);
      return;
    }
    run_sum.store(sum);
    store_rows<T>(a, g, r0, nr, b.o, sum);
  }

  /// Output rows [r0, r0 + nr) of KV head g: o[r] / sum[r], rounded once to T.
  template <class T>
  static void store_rows(const detail::attention_args& a, idx g, idx r0, idx nr, const float* o, const float* sum) {
    const idx hd = a.head_dim, dp = padded(hd), group = a.heads / a.kv_heads;
    T* out = static_cast<T*>(a.out);
    for (idx r = 0; r < nr; ++r) {
      const idx row = r0 + r, i = row / group, h = g * group + row % group;
      const V inv = V::broadcast(1.0f / sum[r]);
      T* dst = out + i * a.ldo + h * hd;
      for (idx d = 0; d < hd; d += w) {
        const idx c = std::min(w, hd - d);
        store_n(V::load(o + r * dp + d) * inv, dst + d, c);
      }
    }
  }

  /// Floats one segment's partial state takes: the output rows, then the maxima and sums.
  static idx part_size(idx dp) { return w * dp + 2 * w; }

  /// Merges the segments' partial states of one tile (flash-decoding): each is rescaled from
  /// its own maximum to the largest, then outputs and sums are added. Every row sees key 0,
  /// so the largest maximum is finite.
  template <class T>
  static void merge_segments(const detail::attention_args& a, idx g, idx r0, idx nr, const float* parts, idx segments,
                             scratch& b) {
    const idx dp = padded(a.head_dim), size = part_size(dp);
    V top = V::load(parts + w * dp);
    for (idx s = 1; s < segments; ++s) top = V::max(top, V::load(parts + s * size + w * dp));
    alignas(64) float weight[w], sum[w];
    V total = V::zero();
    std::fill(b.o, b.o + w * dp, 0.0f);
    for (idx s = 0; s < segments; ++s) {
      const float* part = parts + s * size;
      // A row that saw only masked keys in this segment has maximum -inf and weight 0.
      const V e = vexp(V::max(V::load(part + w * dp), V::broadcast(-std::numeric_limits<float>::max())) - top);
      total = V::fma(e, V::load(part + w * dp + w), total);
      e.store(weight);
      for (idx r = 0; r < nr; ++r) {
        const V c = V::broadcast(weight[r]);
        for (idx d = 0; d < dp; d += w)
          V::fma(c, V::load(part + r * dp + d), V::load(b.o + r * dp + d)).store(b.o + r * dp + d);
      }
    }
    total.store(sum);
    store_rows<T>(a, g, r0, nr, b.o, sum);
  }

  /// Every (KV head, tile) task; with Parallel, thread c takes tasks c, c + threads, ...:
  /// tiles are ordered by position, so each thread gets causal tiles of every length.
  template <class T, class K, bool Parallel>
  static void run(const detail::exec_args& ex, const detail::attention_args& a) {
    if (a.m == 0 || a.heads == 0) return;
    const idx rows = a.m * (a.heads / a.kv_heads);
    const idx tiles = (rows + w - 1) / w, tasks = tiles * a.kv_heads;
    const idx threads = Parallel ? std::max(1, ex.threads) : 1;
    // Fewer tasks than threads (decode with fewer KV heads than threads: multi-query heads)
    // split each task's keys into segments of at least two blocks, merged after.
    const idx segments =
        tasks >= threads ? 1 : std::max<idx>(1, std::min((threads + tasks - 1) / tasks, a.kv_len / (2 * kv_block)));
    const idx items = tasks * segments, dp = padded(a.head_dim);
    local_vector<float> parts(std::size_t(segments > 1 ? items * part_size(dp) : 0));
    const int chunks = int(std::min(items, threads));
    auto place = [&](idx task, idx& g, idx& r0, idx& nr) {
      g = task % a.kv_heads;
      r0 = task / a.kv_heads * w;
      nr = std::min(w, rows - r0);
    };
    detail::parallel_chunks(chunks, [&](int c) {
      scratch b(dp);
      for (idx item = c; item < items; item += chunks) {
        idx g, r0, nr;
        place(item / segments, g, r0, nr);
        tile<T, K>(a, g, r0, nr, b, item % segments, segments,
                   segments > 1 ? parts.data() + item * part_size(dp) : nullptr);
      }
    });
    if (segments == 1) return;
    scratch b(dp);
    for (idx task = 0; task < tasks; ++task) {
      idx g, r0, nr;
      place(task, g, r0, nr);
      merge_segments<T>(a, g, r0, nr, parts.data() + task * segments * part_size(dp), segments, b);
    }
  }
};

/// An attention_kernel_table of attention_tiles<V> for every (q/out, KV) dtype pair.
template <class V, bool Parallel>
constexpr detail::attention_kernel_table attention_table_of() {
  using A = attention_tiles<V>;
  detail::attention_kernel_table t{};
  auto row = [](auto tag) {
    using T = decltype(tag);
    return std::array<detail::attention_fn, 4>{
        &A::template run<T, float, Parallel>, &A::template run<T, bfloat16, Parallel>,
        &A::template run<T, half, Parallel>, &A::template run<T, std::int8_t, Parallel>};
  };
  const std::array<detail::attention_fn, 4> rows[] = {row(float{}), row(bfloat16{}), row(half{})};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) t.fn[i][j] = rows[i][j];
  return t;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
