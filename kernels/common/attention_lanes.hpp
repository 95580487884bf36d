// Attention and the KV cache's append (mixprec/attention.hpp) as lane bodies, for the CPU's
// reference kernels and the CUDA kernels alike, in the manner of nn_lanes.hpp: a step that
// needs the whole row returns the lane's part, and the caller merges the parts (four lanes
// in turn on the CPU, a block reduction on CUDA) before the next step.
//
// Attention: a row is one query row i and query head h. Its visible keys are walked in tiles
// of `lanes` keys with an online softmax: lane l scores key t0 + l, the lanes' maxima merge
// and move the running max, lane l's probability exp(s - max) is summed over the lanes, and
// each lane then rescales and accumulates P * V for its head entries d = l, l + lanes, ...
// Every lane holds the same running max and sum (each computes them from the merged parts),
// so no score matrix is formed and the row's state is its head_dim accumulators. Logits,
// softmax and P * V are f32, the probabilities kept in f32 (the header's bound, u_P = 0).
//
// Split keys: a row's visible keys may be cut into ranges (splits), each walked as above into
// its own running max, sum and unnormalised accumulators, then merged by merge_splits_lane.
// A decode step has too few rows to fill a GPU; its splits fill it (the reference splits long
// rows too, so the merge is checked on every machine).
//
// Append: a row is one token and KV head; for i8 storage the lanes' max |x| merges into the
// token's scale before each lane stores its entries.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

struct attention_lanes {
  using idx = std::int64_t;
  using L = lane1<float>;
  using args = detail::attention_args;
  static constexpr float neg_inf = -std::numeric_limits<float>::infinity();

  /// Keys query row i sees: [0, visible_keys).
  MIXPREC_KI static idx visible_keys(const args& a, idx i) { return a.causal ? a.kv_len - a.m + i + 1 : a.kv_len; }
  MIXPREC_KI static idx kv_head_of(const args& a, idx h) { return h / (a.heads / a.kv_heads); }

  /// A stored key, value or input entry as f32 (i8 before its scale).
  template <class K>
  MIXPREC_KI static float entry(const void* base, idx at) {
    const K v = static_cast<const K*>(base)[at];
    if constexpr (std::is_same_v<K, std::int8_t>)
      return float(v);
    else
      return float(widen(v));
  }

  /// The lane's entries of query row (i, h), widened, to q[0, head_dim).
  template <class T>
  MIXPREC_KI static void load_query(const args& a, idx i, idx h, float* q, idx lane, idx lanes) {
    for (idx d = lane; d < a.head_dim; d += lanes) q[d] = entry<T>(a.q, i * a.ldq + h * a.head_dim + d);
  }

  /// scale * (q . k_t) for key t of KV head g; an i8 key's dot product times its scale.
  template <class K>
  MIXPREC_KI static float logit(const args& a, idx g, idx t, const float* q) {
    const idx at = g * a.k_head_stride + t * a.k_token_stride;
    L s = L::zero();
    for (idx d = 0; d < a.head_dim; ++d) s = L::fma(L{q[d]}, L{entry<K>(a.k, at + d)}, s);
    if constexpr (std::is_same_v<K, std::int8_t>) s = s * L{a.k_scales[g * a.scale_head_stride + t]};
    return a.scale * s.v;
  }

  /// Tile step 1, keys [t0, t0 + lanes) below end: the lane's key's logit to p[lane] (-inf
  /// past end), returned as the lane's part of the tile's max (merged by max_of).
  template <class K>
  MIXPREC_KI static float score_lane(const args& a, idx g, idx t0, idx end, const float* q, float* p, idx lane) {
    const float s = t0 + lane < end ? logit<K>(a, g, t0 + lane, q) : neg_inf;
    p[lane] = s;
    return s;
  }
  /// The inputs are finite (the front ends check), so the logits are not NaN.
  MIXPREC_KI static float max_of(float x, float y) { return y > x ? y : x; }

  /// A row's online softmax so far: the max of its logits and the sum of exp(s - max).
  struct running {
    float max, sum;
  };
  MIXPREC_KI static running start() { return {neg_inf, 0.0f}; }

  /// Moves the running max to take in the tile's merged max; returns the factor that rescales
  /// what was summed and accumulated under the old max (0 before the first tile).
  MIXPREC_KI static float take_tile_max(running& r, float tile_max) {
    const float max = max_of(r.max, tile_max);
    const float c = r.max == neg_inf ? 0.0f : vexp(L{r.max - max}).v;
    r.max = max;
    return c;
  }

  /// Tile step 2: p[lane] = exp(s - max) (0 past end), returned as the lane's part of the sum.
  MIXPREC_KI static float probability_lane(float* p, const running& r, idx lane) {
    const float s = p[lane];
    const float e = s == neg_inf ? 0.0f : vexp(L{s - r.max}).v;
    p[lane] = e;
    return e;
  }
  /// With the tile's merged sum of probabilities.
  MIXPREC_KI static void take_tile_sum(running& r, float c, float tile_sum) { r.sum = r.sum * c + tile_sum; }

  /// Tile step 3, once every p[j] is written: acc[d] = c acc[d] + sum_j p[j] v_{t0 + j}[d]
  /// over the tile's n keys, for the lane's entries d.
  template <class K>
  MIXPREC_KI static void accumulate_lane(const args& a, idx g, idx t0, idx n, const float* p, float c, float* acc,
                                         idx lane, idx lanes) {
    for (idx d = lane; d < a.head_dim; d += lanes) {
      L o = L{acc[d]} * L{c};
      for (idx j = 0; j < n; ++j) {
        const idx t = t0 + j;
        L v{entry<K>(a.v, g * a.v_head_stride + t * a.v_token_stride + d)};
        if constexpr (std::is_same_v<K, std::int8_t>) v = v * L{a.v_scales[g * a.scale_head_stride + t]};
        o = L::fma(L{p[j]}, v, o);
      }
      acc[d] = o.v;
    }
  }

  /// Output row (i, h): acc / sum for the lane's entries, rounded once to T.
  template <class T>
  MIXPREC_KI static void store_lane(const args& a, idx i, idx h, const float* acc, const running& r, idx lane,
                                    idx lanes) {
    T* out = static_cast<T*>(a.out) + i * a.ldo + h * a.head_dim;
    for (idx d = lane; d < a.head_dim; d += lanes) (L{acc[d]} / L{r.sum}).store(out + d);
  }

  // ---- split keys ----------------------------------------------------------------------------

  /// Keys [t0, t1) of split s of a row with `end` visible keys, `span` keys per split (the
  /// last splits of a short causal row are empty).
  MIXPREC_KI static void split_keys(idx end, idx span, idx s, idx* t0, idx* t1) {
    *t0 = s * span < end ? s * span : end;
    *t1 = *t0 + span < end ? *t0 + span : end;
  }

  /// Output row (i, h) from its splits' states parts[s] and accumulators part_acc[s *
  /// head_dim + d], for the lane's entries d: with M the largest split max and w_s =
  /// exp(max_s - M) (0 for an empty split), sum_s w_s acc_s / sum_s w_s sum_s, rounded once.
  template <class T>
  MIXPREC_KI static void merge_splits_lane(const args& a, idx i, idx h, const running* parts, const float* part_acc,
                                           idx splits, idx lane, idx lanes) {
    float top = neg_inf;
    for (idx s = 0; s < splits; ++s) top = max_of(top, parts[s].max);
    L sum = L::zero();
    for (idx s = 0; s < splits; ++s) sum = L::fma(L{split_weight(parts[s], top)}, L{parts[s].sum}, sum);
    T* out = static_cast<T*>(a.out) + i * a.ldo + h * a.head_dim;
    for (idx d = lane; d < a.head_dim; d += lanes) {
      L o = L::zero();
      for (idx s = 0; s < splits; ++s) o = L::fma(L{split_weight(parts[s], top)}, L{part_acc[s * a.head_dim + d]}, o);
      (o / sum).store(out + d);
    }
  }
  MIXPREC_KI static float split_weight(const running& part, float top) {
    return part.max == neg_inf ? 0.0f : vexp(L{part.max - top}).v;
  }

  // ---- the KV cache's append: per token and KV head ------------------------------------------

  /// The lane's max |x| over token t's head g (the i8 scale's part; merged by max_of).
  template <class T>
  MIXPREC_KI static float append_lane_amax(const detail::kv_append_args& a, idx t, idx g, idx lane, idx lanes) {
    float m = 0;
    for (idx d = lane; d < a.head_dim; d += lanes) {
      const float x = entry<T>(a.x, t * a.ldx + g * a.head_dim + d);
      m = max_of(m, x < 0 ? -x : x);
    }
    return m;
  }

  /// Stores the lane's entries of token t's head g in S (rounded once); i8 as round(x / s),
  /// s = amax / 127 stored by lane 0.
  template <class S, class T>
  MIXPREC_KI static void append_lane_store(const detail::kv_append_args& a, idx t, idx g, float amax, idx lane,
                                           idx lanes) {
    const idx token = a.first + t;
    S* dst = static_cast<S*>(a.dst) + (g * a.capacity + token) * a.head_dim;
    const float s = amax / 127.0f;
    if constexpr (std::is_same_v<S, std::int8_t>)
      if (lane == 0) a.scales[g * a.capacity + token] = s;
    for (idx d = lane; d < a.head_dim; d += lanes) {
      const float x = entry<T>(a.x, t * a.ldx + g * a.head_dim + d);
      if constexpr (std::is_same_v<S, std::int8_t>) {
        const float r = s == 0 ? 0.0f : round_ties_even(x / s);
        dst[d] = std::int8_t(r < -127.0f ? -127.0f : r > 127.0f ? 127.0f : r);
      } else {
        L{x}.store(dst + d);
      }
    }
  }

  // ---- the finiteness scan of the front ends ------------------------------------------------

  template <class T>
  MIXPREC_KI static bool finite_at(const detail::find_non_finite_args& a, idx i, idx j) {
    const float x = entry<T>(a.x, i * a.ld + j);
    return x - x == 0.0f;  // NaN and +-inf give NaN
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
