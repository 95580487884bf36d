// The row-wise NN ops (mixprec/nn.hpp) as lane bodies, for the CPU's reference kernels and
// the CUDA kernels alike: one row's columns are dealt to `lanes` workers, lane l taking
// j = l, l + lanes, ...; a step that needs the whole row (its max, a sum) returns the lane's
// part, and the caller merges the parts before the next step. The CPU reference runs four
// lanes in turn, merging in lane order; CUDA runs a block of threads with a block reduction
// between steps. Every element is computed by nn_rows.hpp's lane1 math (vexp, verfc,
// vactivate) in the same order, so the two differ only in how a row's parts are merged.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <limits>

#include "internal/registry.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// A the statistics' type: float, or double for accumulation::f64.
template <class A>
struct nn_lanes {
  using L = lane1<A>;
  using idx = std::int64_t;

  // ---- element-wise -----------------------------------------------------------------------

  template <class T>
  MIXPREC_KI static void eltwise_element(const detail::eltwise_args& g, idx i, idx j) {
    using K = detail::eltwise_kind;
    const L x = L::load(static_cast<const T*>(g.a) + i * g.lda + j);
    L r;
    if (g.kind == K::add || g.kind == K::mul || g.kind == K::swiglu) {
      const L b = L::load(static_cast<const T*>(g.b) + i * g.ldb + j * g.bcs);
      r = g.kind == K::add ? x + b : g.kind == K::mul ? x * b : vsilu(x) * b;
    } else if (g.kind == K::scale) {
      r = L::broadcast(A(g.alpha)) * x;
    } else {
      r = vactivate(g.kind, x);
    }
    r.store(static_cast<T*>(g.y) + i * g.ldy + j);
  }

  // ---- softmax: max, sum of exp(z - max), store --------------------------------------------

  /// Columns of row i that are not causally masked: [0, length).
  MIXPREC_KI static idx softmax_length(const detail::softmax_args& g, idx i) {
    if (!g.causal) return g.cols;
    const idx e = i + g.causal_offset + 1;
    return e < 0 ? 0 : e > g.cols ? g.cols : e;
  }

  /// z = scale * x + mask at (i, j).
  template <class T>
  MIXPREC_KI static L softmax_logit(const detail::softmax_args& g, idx i, idx j) {
    L z = L::load(static_cast<const T*>(g.x) + i * g.ldx + j) * L::broadcast(A(g.scale));
    if (g.mask) z = z + L::load(static_cast<const T*>(g.mask) + i * g.ldm + j);
    return z;
  }

  /// The lane's max of z over [0, len); merged by max_of (a NaN wins).
  template <class T>
  MIXPREC_KI static A softmax_lane_max(const detail::softmax_args& g, idx i, idx len, idx lane, idx lanes) {
    L m = L::broadcast(-std::numeric_limits<A>::infinity());
    for (idx j = lane; j < len; j += lanes) m = L::max(m, softmax_logit<T>(g, i, j));
    return m.v;
  }
  MIXPREC_KI static A max_of(A a, A b) { return L::max(L{a}, L{b}).v; }

  /// The lane's sum of exp(z - max) over [0, len); max is the row's, finite.
  template <class T>
  MIXPREC_KI static A softmax_lane_sum(const detail::softmax_args& g, idx i, idx len, A max, idx lane, idx lanes) {
    const L m = L::broadcast(max);
    L s = L::zero();
    for (idx j = lane; j < len; j += lanes) s = s + vexp(softmax_logit<T>(g, i, j) - m);
    return s.v;
  }

  /// Stores the lane's columns of row i from the row's max and sum. A row whose every logit
  /// is -inf (max -inf) is no distribution: it gets 0 (log: -inf), as do masked columns.
  template <class T>
  MIXPREC_KI static void softmax_lane_store(const detail::softmax_args& g, idx i, idx len, A max, A sum, idx lane,
                                            idx lanes) {
    T* y = static_cast<T*>(g.y) + i * g.ldy;
    const A neg_inf = -std::numeric_limits<A>::infinity();
    const bool empty = max == neg_inf;
    const L fill = L::broadcast(g.log ? neg_inf : A(0));
    const L m = L::broadcast(max);
    const L shift = L::broadcast(empty ? A(0) : max + A(MIXPREC_MATH(log)(sum)));
    const L inv = L::broadcast(A(1) / sum);
    for (idx j = lane; j < g.cols; j += lanes) {
      L r = fill;
      if (j < len && !empty) r = g.log ? softmax_logit<T>(g, i, j) - shift : vexp(softmax_logit<T>(g, i, j) - m) * inv;
      r.store(y + j);
    }
  }

  // ---- rms_norm / layer_norm: input sum, centred squares (layer), store -------------------

  /// Column j's input: x, or x + residual rounded to T once, stored to sum and read back (the
  /// statistics see exactly what was stored).
  template <class T>
  MIXPREC_KI static A norm_input(const detail::norm_args& g, idx i, idx j) {
    const L x = L::load(static_cast<const T*>(g.x) + i * g.ldx + j);
    if (!g.residual) return x.v;
    T* s = static_cast<T*>(g.sum) + i * g.lds + j;
    (x + L::load(static_cast<const T*>(g.residual) + i * g.ldr + j)).store(s);
    return L::load(s).v;
  }
  /// Column j's input once norm_lane_first has run for it (the same lane reads what it stored).
  template <class T>
  MIXPREC_KI static A norm_stored(const detail::norm_args& g, idx i, idx j) {
    const T* in = g.sum ? static_cast<const T*>(g.sum) + i * g.lds : static_cast<const T*>(g.x) + i * g.ldx;
    return L::load(in + j).v;
  }

  /// The lane's sum of squares (rms) or sum (layer) of the row's inputs; writes the fused sum.
  template <class T>
  MIXPREC_KI static A norm_lane_first(const detail::norm_args& g, idx i, idx lane, idx lanes) {
    const bool rms = g.kind == detail::norm_kind::rms;
    L a = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L v{norm_input<T>(g, i, j)};
      a = rms ? L::fma(v, v, a) : a + v;
    }
    return a.v;
  }

  /// Layer norm's mean from norm_lane_first's merged total.
  MIXPREC_KI static A norm_mean(const detail::norm_args& g, A total) { return total / A(g.cols); }

  /// Layer norm's second step: the lane's sum of (v - mean)^2.
  template <class T>
  MIXPREC_KI static A norm_lane_centered(const detail::norm_args& g, idx i, A mean, idx lane, idx lanes) {
    L a = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L d = L{norm_stored<T>(g, i, j)} - L::broadcast(mean);
      a = L::fma(d, d, a);
    }
    return a.v;
  }

  /// 1 / sqrt(total / cols + eps), total the row's sum of squares (centred for layer norm).
  MIXPREC_KI static A norm_inverse(const detail::norm_args& g, A total) {
    return A(1) / MIXPREC_MATH(sqrt)(total / A(g.cols) + A(g.eps));
  }

  /// y = (v - mean) * inv * gamma + beta for the lane's columns (mean 0 for rms).
  template <class T>
  MIXPREC_KI static void norm_lane_store(const detail::norm_args& g, idx i, A mean, A inv, idx lane, idx lanes) {
    T* y = static_cast<T*>(g.y) + i * g.ldy;
    for (idx j = lane; j < g.cols; j += lanes) {
      L o = (L{norm_stored<T>(g, i, j)} - L::broadcast(mean)) * L::broadcast(inv);
      if (g.gamma) o = o * L::load(g.gamma + j);
      if (g.beta) o = o + L::load(g.beta + j);
      o.store(y + j);
    }
  }

  // ---- rotary embedding --------------------------------------------------------------------

  /// Rotates pair k of head h in row i by pos * theta^(-2k / rot_dims), the angle in f64 and
  /// its cos and sin rounded once to A (as rope_angles does for the vector kernels).
  template <class T>
  MIXPREC_KI static void rope_pair(const detail::rope_args& g, idx i, idx h, idx k) {
    const double frequency = MIXPREC_MATH(pow)(g.theta, -2.0 * double(k) / double(g.rot_dims));
    const double angle = double(g.positions[i]) * frequency;
    const L c{A(MIXPREC_MATH(cos)(angle))}, s{A(MIXPREC_MATH(sin)(angle))};
    T* x = static_cast<T*>(g.x) + i * g.ldx + h * g.head_dim;
    T* pa = g.adjacent ? x + 2 * k : x + k;
    T* pb = g.adjacent ? x + 2 * k + 1 : x + g.rot_dims / 2 + k;
    const L a = L::load(pa), b = L::load(pb);
    (a * c - b * s).store(pa);
    (a * s + b * c).store(pb);
  }
};

/// Embedding lookup: whether position t's id is in the vocabulary (checked for every t
/// before any row is written), and entry j of output row t.
struct embedding_lanes {
  using idx = std::int64_t;
  MIXPREC_KI static bool id_in_range(const detail::embedding_args& g, idx t) {
    return g.ids[t] >= 0 && g.ids[t] < g.vocab;
  }
  /// S the table's type, T out's: one rounding from the stored value (i8: from its f32
  /// product with the row's scale).
  template <class S, class T>
  MIXPREC_KI static void element(const detail::embedding_args& g, idx t, idx j) {
    const idx row = g.ids[t];
    lane1<float> x;
    if constexpr (std::is_same_v<S, std::uint8_t>) {
      // GGUF blocks: Q8_0's j-th int8, or Q4_0's nibble (the low ones hold values 0-15).
      const std::uint8_t* block =
          static_cast<const std::uint8_t*>(g.table) + row * g.ldt + (j / 32) * (g.q4_0 ? 18 : 34);
      const int k = int(j % 32);
      std::uint16_t bits;
      std::memcpy(&bits, block, 2);
      int q;
      if (g.q4_0)
        q = (k < 16 ? block[2 + k] & 0x0F : block[2 + k - 16] >> 4) - 8;
      else
        q = std::int8_t(block[2 + k]);
      x = lane1<float>{float(q)} * lane1<float>{float(half::from_bits(bits))};
    } else {
      const S v = static_cast<const S*>(g.table)[row * g.ldt + j];
      if constexpr (std::is_same_v<S, std::int8_t>)
        x = lane1<float>{float(v)} * lane1<float>{g.row_scales[row]};
      else
        x = lane1<float>::load(&v);
    }
    x.store(static_cast<T*>(g.out) + t * g.ldo + j);
  }
};

/// How the CPU reference kernels run the lane steps: this many lanes in turn, so that the
/// tests exercise the column striding the CUDA kernels depend on.
inline constexpr std::int64_t reference_lanes = 4;

/// One step's parts part(0), ..., part(reference_lanes - 1) merged in lane order (CUDA
/// merges a block's parts by a tree instead).
template <class Part, class Merge>
auto merge_reference_lanes(Part&& part, Merge&& merge) {
  auto total = part(std::int64_t(0));
  for (std::int64_t l = 1; l < reference_lanes; ++l) total = merge(total, part(l));
  return total;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
