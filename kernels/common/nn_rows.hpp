// The row-wise NN kernels (eltwise, softmax, norm; mixprec/nn.hpp), written once over a
// vector type V: the AVX2 and AVX-512 folders instantiate them with their f32 vectors, the
// portable kernels with lane1<float> (or lane1<double> for f64 statistics). lane1 and the
// element math (vexp, verfc, vactivate) are host and device code: the reference and CUDA
// kernels run them through kernels/common/nn_lanes.hpp.
//
// V provides: scalar, width, zero(), broadcast(s), load<T>(p), load_tail<T>(p, k) (other
// lanes 0), store<T>(p), store_tail<T>(p, k) (rounding once to T), + - * /, fma(a, b, c),
// min(a, b) and max(a, b) (the second operand when either is NaN), select_lt(a, b, x, y)
// (a < b ? x : y per lane), tail_or(v, k, s) (lanes >= k set to s), sqrt(v), pow2_from_magic(t)
// (2^n from t = n + 1.5 * 2^23 as f32), reduce_add(), reduce_max().
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// One lane of A (float or double), with V's interface.
template <class A>
struct lane1 {
  using scalar = A;
  static constexpr int width = 1;
  A v;
  MIXPREC_KI static lane1 zero() { return {A(0)}; }
  MIXPREC_KI static lane1 broadcast(A a) { return {a}; }
  template <class T>
  MIXPREC_KI static lane1 load(const T* p) {
    return {A(widen(*p))};
  }
  template <class T>
  MIXPREC_KI static lane1 load_tail(const T* p, std::int64_t k) {
    return k > 0 ? load(p) : zero();
  }
  template <class T>
  MIXPREC_KI void store(T* p) const {
    if constexpr (std::is_same_v<T, A>)
      *p = v;
    else
      *p = T(v);  // one rounding from A (half/bfloat16 round from f64 directly)
  }
  template <class T>
  MIXPREC_KI void store_tail(T* p, std::int64_t k) const {
    if (k > 0) store(p);
  }
  MIXPREC_KI friend lane1 operator+(lane1 a, lane1 b) { return {a.v + b.v}; }
  MIXPREC_KI friend lane1 operator-(lane1 a, lane1 b) { return {a.v - b.v}; }
  MIXPREC_KI friend lane1 operator*(lane1 a, lane1 b) { return {a.v * b.v}; }
  MIXPREC_KI friend lane1 operator/(lane1 a, lane1 b) { return {a.v / b.v}; }
  MIXPREC_KI static lane1 fma(lane1 a, lane1 b, lane1 c) { return {a.v * b.v + c.v}; }
  MIXPREC_KI static lane1 sqrt(lane1 a) { return {MIXPREC_MATH(sqrt)(a.v)}; }
  MIXPREC_KI static lane1 min(lane1 a, lane1 b) { return {b.v < a.v || b.v != b.v ? b.v : a.v}; }
  MIXPREC_KI static lane1 max(lane1 a, lane1 b) { return {b.v > a.v || b.v != b.v ? b.v : a.v}; }
  MIXPREC_KI static lane1 select_lt(lane1 a, lane1 b, lane1 x, lane1 y) { return a.v < b.v ? x : y; }
  MIXPREC_KI static lane1 tail_or(lane1 v, std::int64_t k, A s) { return k > 0 ? v : lane1{s}; }
  MIXPREC_KI static lane1 pow2_from_magic(lane1 t) {
    static_assert(std::is_same_v<A, float>, "the f32 exp reduction only");
    std::uint32_t bits;
    std::memcpy(&bits, &t.v, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float p;
    std::memcpy(&p, &bits, sizeof p);
    return {p};
  }
  MIXPREC_KI A reduce_add() const { return v; }
  MIXPREC_KI A reduce_max() const { return v; }
};

// ---- vector math: f32 fits (a Cody-Waite exp, Numerical Recipes' erfcc), FMA by FMA; f64 by libm --

template <class V>
MIXPREC_KI V vexp(V x) {
  using A = typename V::scalar;
  if constexpr (std::is_same_v<A, double>) {
    return V{MIXPREC_MATH(exp)(x.v)};  // lane1<double> only
  } else {
    // Reduction by ln 2 = hi + lo and a degree-6 polynomial (~1 ulp); exp(x) = 0 below -87
    // (a masked logit gives exactly 0).
    const V c = V::min(V::broadcast(88.0f), V::max(V::broadcast(-87.0f), x));  // NaN passes
    const V magic = V::broadcast(12582912.0f);
    const V shifted = V::fma(c, V::broadcast(1.44269504088896341f), magic);
    const V n = shifted - magic;
    const V r = V::fma(n, V::broadcast(-1.428606765330187e-06f), V::fma(n, V::broadcast(-0.693145751953125f), c));
    // exp(r) - 1 by Estrin's scheme (a chain of 3 FMAs after r^2 and r^4, not Horner's 6), so
    // that the core overlaps more vectors; 1 is added last, so r's low bits are not rounded
    // away first.
    const V r2 = r * r, r4 = r2 * r2;
    const V low = V::fma(V::fma(r, V::broadcast(1.0f / 6), V::broadcast(0.5f)), r2, r);
    const V high = V::fma(r2, V::broadcast(1.0f / 720), V::fma(r, V::broadcast(1.0f / 120), V::broadcast(1.0f / 24)));
    const V p = V::fma(high, r4, low) + V::broadcast(1.0f);
    return V::select_lt(x, V::broadcast(-87.0f), V::zero(), p * V::pow2_from_magic(shifted));
  }
}

template <class V>
MIXPREC_KI V verfc(V x) {
  using A = typename V::scalar;
  if constexpr (std::is_same_v<A, double>) {
    return V{MIXPREC_MATH(erfc)(x.v)};
  } else {
    const V z = V::max(V::zero() - x, x);
    const V t = V::broadcast(1.0f) / V::fma(V::broadcast(0.5f), z, V::broadcast(1.0f));
    // Numerical Recipes' degree-9 polynomial in t by Estrin's scheme: pairs, then t^2, t^4 and
    // t^8 (a chain of 4 FMAs, not Horner's 9).
    auto pair = [&](float c0, float c1) { return V::fma(V::broadcast(c1), t, V::broadcast(c0)); };
    const V t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    const V p0 = V::fma(pair(0.37409196f, 0.09678418f), t2, pair(-1.26551223f, 1.00002368f));
    const V p1 = V::fma(pair(-1.13520398f, 1.48851587f), t2, pair(-0.18628806f, 0.27886807f));
    const V p = V::fma(pair(-0.82215223f, 0.17087277f), t8, V::fma(p1, t4, p0));
    const V ans = t * vexp(p - z * z);
    return V::select_lt(x, V::zero(), V::broadcast(2.0f) - ans, ans);
  }
}

template <class V>
MIXPREC_KI V negative_tail(V x, V r);

template <class V>
MIXPREC_KI V vsilu(V x) {
  return negative_tail(x, x / (V::broadcast(1) + vexp(V::zero() - x)));
}

/// Below -80 the smooth activations are under 2^-100 in magnitude (the contract's absolute
/// floor) and give -0: the formulas would make -inf or NaN of -inf there.
template <class V>
MIXPREC_KI V negative_tail(V x, V r) {
  using A = typename V::scalar;
  return V::select_lt(x, V::broadcast(A(-80)), V::broadcast(A(-0.0)), r);
}

template <class V>
MIXPREC_KI V vactivate(detail::eltwise_kind k, V x) {
  using A = typename V::scalar;
  switch (k) {
    case detail::eltwise_kind::relu:
      return V::max(V::zero(), x);  // NaN passes
    case detail::eltwise_kind::gelu_erf:
      return negative_tail(x, V::broadcast(A(0.5)) * x * verfc(x * V::broadcast(A(-0.70710678118654752440))));
    case detail::eltwise_kind::gelu_tanh: {
      const V y = V::broadcast(A(0.79788456080286535588)) * V::fma(V::broadcast(A(0.044715)) * x, x * x, x);
      return negative_tail(x, x / (V::broadcast(1) + vexp(V::broadcast(-2) * y)));
    }
    case detail::eltwise_kind::silu:
      return vsilu(x);
    default:
      return x;
  }
}

/// n <= V::width elements from p: a whole vector, or the first n (other lanes 0).
template <class V, class T>
MIXPREC_ALWAYS_INLINE V load_n(const T* p, std::int64_t n) {
  return n == V::width ? V::load(p) : V::load_tail(p, n);
}
/// Stores the first n <= V::width lanes of v to p, each rounded once to T.
template <class V, class T>
MIXPREC_ALWAYS_INLINE void store_n(V v, T* p, std::int64_t n) {
  if (n == V::width)
    v.store(p);
  else
    v.store_tail(p, n);
}

/// Whether V has its own load_pair / store_pair for T.
template <class V, class T, class = void>
struct has_pair_io : std::false_type {};
template <class V, class T>
struct has_pair_io<
    V, T, std::void_t<decltype(V::load_pair(std::declval<const T*>(), std::declval<V*>(), std::declval<V*>()))>>
    : std::true_type {};

/// 2 * V::width consecutive elements from p as two vectors, and back: the first half and the
/// second, unless V deals them between the two its own way (the AVX512-BF16 folder's f32x16
/// takes bf16's even and odd elements: no widening shuffle in, one shuffle out). Element-wise
/// ops do not see the order: every operand is dealt alike and store_pair undoes it.
template <class V, class T>
MIXPREC_ALWAYS_INLINE void load_pair(const T* p, V* first, V* second) {
  if constexpr (has_pair_io<V, T>::value) {
    V::load_pair(p, first, second);
  } else {
    *first = V::load(p);
    *second = V::load(p + V::width);
  }
}
/// Where element j of a row read in blocks of 2 * V::width by load_pair (from the row's
/// start) sits once the block's two vectors are stored back to back in order.
template <class V, class T>
constexpr std::int64_t pair_position(std::int64_t j) {
  if constexpr (has_pair_io<V, T>::value) {
    const std::int64_t block = 2 * V::width;
    return j - j % block + V::pair_slot(int(j % block));
  } else {
    return j;
  }
}
template <class V, class T>
MIXPREC_ALWAYS_INLINE void store_pair(T* p, V first, V second) {
  if constexpr (has_pair_io<V, T>::value) {
    V::store_pair(p, first, second);
  } else {
    first.store(p);
    second.store(p + V::width);
  }
}

/// Spread over a pass that steps through a row w elements at a time: asks for the line of
/// the next row that element j starts (when it starts one), so the whole next row is asked
/// for, a line per line consumed, while this row computes. Locality 2 (prefetcht1) stops in
/// L2, for a next row that would not fit L1 beside the current one's working set.
template <int Locality = 3, class T>
MIXPREC_ALWAYS_INLINE void prefetch_next_row_line(const T* next_row, std::int64_t j) {
  if (j % (64 / std::int64_t(sizeof(T))) == 0) __builtin_prefetch(next_row + j, 0, Locality);
}

template <class V>
struct nn_rows {
  using A = typename V::scalar;
  using idx = std::int64_t;
  static constexpr idx w = V::width;

  /// Folds step(acc, j, n) over the vectors of [0, len) (n < w only for the last), with four
  /// accumulators over whole vectors: one chain of dependent adds or maxima held a row that
  /// sits in L1 to a quarter of the load rate. Returns the four combined by `merge`.
  template <class Step, class Merge>
  static V fold4(idx len, V init, Step&& step, Merge&& merge) {
    V a0 = init, a1 = init, a2 = init, a3 = init;
    idx j = 0;
    for (; j + 4 * w <= len; j += 4 * w) {
      a0 = step(a0, j, w);
      a1 = step(a1, j + w, w);
      a2 = step(a2, j + 2 * w, w);
      a3 = step(a3, j + 3 * w, w);
    }
    for (; j < len; j += w) a0 = step(a0, j, std::min(w, len - j));
    return merge(merge(a0, a1), merge(a2, a3));
  }
  /// As fold4, for a row read by read(j, n) a vector at a time or by read_pair(j, &v0, &v1)
  /// two at a time (load_pair's order): blocks of 4 w as two pairs, the rest a vector at a
  /// time. step(acc, v, j, n) gets each vector read and where it sits, so a pass that keeps
  /// its vectors by j keeps them in the order map_pairs_like_fold reads them back.
  template <class Read, class ReadPair, class Step, class Merge>
  static V fold4_pairs(idx len, V init, Read&& read, ReadPair&& read_pair, Step&& step, Merge&& merge) {
    V a0 = init, a1 = init, a2 = init, a3 = init;
    idx j = 0;
    for (; j + 4 * w <= len; j += 4 * w) {
      V v0, v1, v2, v3;
      read_pair(j, &v0, &v1);
      read_pair(j + 2 * w, &v2, &v3);
      a0 = step(a0, v0, j, w);
      a1 = step(a1, v1, j + w, w);
      a2 = step(a2, v2, j + 2 * w, w);
      a3 = step(a3, v3, j + 3 * w, w);
    }
    for (; j < len; j += w) {
      const idx n = std::min(w, len - j);
      a0 = step(a0, read(j, n), j, n);
    }
    return merge(merge(a0, a1), merge(a2, a3));
  }
  /// y = f(v, j) for the vectors of [0, len), read and stored in fold4_pairs' order.
  template <class T, class Read, class ReadPair, class F>
  static void map_pairs_like_fold(T* y, idx len, Read&& read, ReadPair&& read_pair, F&& f) {
    const idx paired = len / (4 * w) * (4 * w);
    for (idx j = 0; j < paired; j += 2 * w) {
      V v0, v1;
      read_pair(j, &v0, &v1);
      store_pair(y + j, f(v0, j), f(v1, j + w));
    }
    for (idx j = paired; j < len; j += w) {
      const idx n = std::min(w, len - j);
      store_n(f(read(j, n), j), y + j, n);
    }
  }
  /// y = f(v) over [0, len) for the vectors a fold4_pairs pass kept at `kept` by their j.
  template <class T, class F>
  static void map_kept(T* y, idx len, const A* kept, F&& f) {
    map_pairs_like_fold(
        y, len, [&](idx j, idx) { return V::load(kept + j); },
        [&](idx j, V* v0, V* v1) {
          *v0 = V::load(kept + j);
          *v1 = V::load(kept + j + w);
        },
        [&](V v, idx) { return f(v); });
  }
  static V add(V a, V b) { return a + b; }
  static V max_of(V a, V b) { return V::max(a, b); }

  /// Runs body(b, e) over [0, total) cut into chunks of at least min_chunk, on the
  /// context's threads (Parallel) or one.
  template <bool Parallel, class Body>
  static void split(const detail::exec_args& ex, idx total, idx min_chunk, Body&& body) {
    const int chunks = Parallel ? detail::chunk_count(total, ex.threads, min_chunk) : 1;
    detail::parallel_chunks(chunks, [&](int c) {
      idx b, e;
      detail::chunk_range(total, chunks, c, 1, &b, &e);
      body(b, e);
    });
  }

  /// For j in [j0, j1) of one row: y = f(a, b) two vectors a step, f the same for all: two
  /// independent chains of an activation's dependent FMAs, division and exp for the core to
  /// overlap, where one vector a step left it waiting on the chain. b: null for a unary f
  /// (which then gets zeros). The pairs are dealt by load_pair, so f must be element-wise.
  template <class T, class F>
  static void map_span(const T* a, const T* b, T* y, idx j0, idx j1, F&& f) {
    idx j = j0;
    for (; j + 2 * w <= j1; j += 2 * w) {
      V a0, a1, b0 = V::zero(), b1 = V::zero();
      load_pair(a + j, &a0, &a1);
      if (b) load_pair(b + j, &b0, &b1);
      store_pair(y + j, f(a0, b0), f(a1, b1));
    }
    for (; j < j1; j += w) {
      const idx n = std::min(w, j1 - j);
      store_n(f(load_n<V>(a + j, n), b ? load_n<V>(b + j, n) : V::zero()), y + j, n);
    }
  }

  /// For j in [j0, j1) of one row: y = f(a[, b]), the kind chosen once per span.
  template <class T>
  static void eltwise_span(const detail::eltwise_args& g, const T* a, const T* b, T* y, idx j0, idx j1) {
    using K = detail::eltwise_kind;
    const K k = g.kind;
    if (k == K::add || k == K::mul || k == K::swiglu) {
      // b: a row (or the one row broadcast to all), or one value for the row (bcs 0)
      const bool one_value = g.bcs == 0;
      const V b_all = one_value ? V::broadcast(A(widen(*b))) : V::zero();
      const T* b_row = one_value ? nullptr : b;
      auto other = [&](V bx) { return one_value ? b_all : bx; };
      if (k == K::add) return map_span(a, b_row, y, j0, j1, [&](V x, V bx) { return x + other(bx); });
      if (k == K::mul) return map_span(a, b_row, y, j0, j1, [&](V x, V bx) { return x * other(bx); });
      return map_span(a, b_row, y, j0, j1, [&](V x, V bx) { return vsilu(x) * other(bx); });
    }
    const T* const none = nullptr;  // unary: no b
    switch (k) {
      case K::scale: {
        const V alpha = V::broadcast(A(g.alpha));
        return map_span(a, none, y, j0, j1, [&](V x, V) { return alpha * x; });
      }
      case K::relu:
        return map_span(a, none, y, j0, j1, [](V x, V) { return vactivate(K::relu, x); });
      case K::gelu_erf:
        return map_span(a, none, y, j0, j1, [](V x, V) { return vactivate(K::gelu_erf, x); });
      case K::gelu_tanh:
        return map_span(a, none, y, j0, j1, [](V x, V) { return vactivate(K::gelu_tanh, x); });
      case K::silu:
        return map_span(a, none, y, j0, j1, [](V x, V) { return vactivate(K::silu, x); });
      default:
        return map_span(a, none, y, j0, j1, [](V x, V) { return x; });
    }
  }

  template <class T, bool Parallel>
  static void eltwise(const detail::exec_args& ex, const detail::eltwise_args& g) {
    if (g.rows == 0 || g.cols == 0) return;
    const T* a = static_cast<const T*>(g.a);
    const T* b = static_cast<const T*>(g.b);
    T* y = static_cast<T*>(g.y);
    // Flat element ranges, so that one long row still splits among threads.
    split<Parallel>(ex, g.rows * g.cols, idx(1) << 14, [&](idx b0, idx e0) {
      for (idx i = b0 / g.cols; i * g.cols < e0; ++i) {
        const idx j0 = std::max(b0 - i * g.cols, idx(0)), j1 = std::min(e0 - i * g.cols, g.cols);
        eltwise_span<T>(g, a + i * g.lda, b ? b + i * g.ldb : nullptr, y + i * g.ldy, j0, j1);
      }
    });
  }

  /// z = scale * x + mask for columns [j, j + n).
  template <class T>
  static V logits(const T* x, const T* m, idx j, idx n, V scale) {
    V z = load_n<V>(x + j, n) * scale;
    if (m) z = z + load_n<V>(m + j, n);
    return z;
  }
  /// The same for columns [j, j + 2 w), dealt by load_pair.
  template <class T>
  static void logits_pair(const T* x, const T* m, idx j, V scale, V* z0, V* z1) {
    load_pair(x + j, z0, z1);
    *z0 = *z0 * scale;
    *z1 = *z1 * scale;
    if (m) {
      V m0, m1;
      load_pair(m + j, &m0, &m1);
      *z0 = *z0 + m0;
      *z1 = *z1 + m1;
    }
  }

  template <class T>
  static void softmax_row(const detail::softmax_args& g, idx i, bool prefetch_next) {
    const T* x = static_cast<const T*>(g.x) + i * g.ldx;
    const T* m = g.mask ? static_cast<const T*>(g.mask) + i * g.ldm : nullptr;
    T* y = static_cast<T*>(g.y) + i * g.ldy;
    const V scale = V::broadcast(A(g.scale));
    const A neg_inf = -std::numeric_limits<A>::infinity();
    // Columns past `len` are causally masked: they get 0 (log: -inf) without being read.
    idx len = g.cols;
    if (g.causal) len = std::max(idx(0), std::min(g.cols, i + g.causal_offset + 1));
    // Every logit -inf (all masked, or no column visible): no distribution; the row is 0
    // (log: -inf). A NaN logit: the max may or may not keep it, but its exp makes the sum, and
    // so the row, NaN.
    const V fill = V::broadcast(g.log ? neg_inf : A(0));
    auto fill_from = [&](idx j0) {
      for (idx j = j0; j < g.cols; j += w) store_n(fill, y + j, std::min(w, g.cols - j));
    };
    // Blocks of 4 w are read as pairs (bf16 without widening shuffles), the rest in order;
    // the exps are kept, and the row written, in that order.
    auto read = [&](idx j, idx n) { return logits(x, m, j, n, scale); };
    auto read_pair = [&](idx j, V* z0, V* z1) { logits_pair(x, m, j, scale, z0, z1); };
    auto visible = [&](V z, idx n) { return n == w ? z : V::tail_or(z, n, neg_inf); };
    const V vmax = fold4_pairs(
        len, V::broadcast(neg_inf), read, read_pair, [&](V a, V z, idx, idx n) { return V::max(a, visible(z, n)); },
        max_of);
    const A mx = vmax.reduce_max();
    if (mx == neg_inf) return fill_from(0);
    const V vm = V::broadcast(mx);
    // exp(z - max) is kept in an A-typed row buffer for the final scaling: one exp per
    // entry instead of two (the exps, not the memory, bound this loop).
    // 64-byte aligned: a full-width store across two cache lines costs about twice one within.
    thread_local local_vector<A> kept_storage;
    const bool keep = !g.log;
    constexpr std::size_t line = 64 / sizeof(A);
    if (keep && kept_storage.size() < std::size_t(len) + std::size_t(w) + line)
      kept_storage.resize(std::size_t(len) + std::size_t(w) + line);
    A* kept = kept_storage.data();
    kept += (line - (reinterpret_cast<std::uintptr_t>(kept) / sizeof(A)) % line) % line;
    // The exp pass is compute-bound: it asks for the next row's logits meanwhile.
    const V sum = fold4_pairs(
        len, V::zero(), read, read_pair,
        [&](V a, V z, idx j, idx n) {
          if (prefetch_next) prefetch_next_row_line<2>(x + g.ldx, j);
          const V e = vexp(visible(z, n) - vm);
          if (keep) e.store(kept + j);  // kept has w spare entries past len
          return a + e;
        },
        add);
    const A s = sum.reduce_add();
    if (g.log) {
      const V shift = V::broadcast(mx + A(std::log(s)));
      map_pairs_like_fold(y, len, read, read_pair, [&](V z, idx) { return z - shift; });
    } else {
      const V inv = V::broadcast(A(1) / s);
      map_kept(y, len, kept, [&](V e) { return e * inv; });
    }
    fill_from(len);
  }

  /// Runs body(b, e) over row ranges of about 2^14 elements (of row_elements each) or more.
  template <bool Parallel, class Body>
  static void split_rows(const detail::exec_args& ex, idx rows, idx row_elements, Body&& body) {
    split<Parallel>(ex, rows, std::max(idx(1), (idx(1) << 14) / std::max(row_elements, idx(1))), body);
  }

  template <class T, bool Parallel>
  static void softmax(const detail::exec_args& ex, const detail::softmax_args& g) {
    split_rows<Parallel>(ex, g.rows, g.cols, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i) softmax_row<T>(g, i, i + 1 < e);
    });
  }

  /// Loads columns [j, j + n) of the row's input: x, or x + residual rounded to T and
  /// stored to sum (the statistics then see exactly what was stored).
  template <class T>
  static V norm_input(const T* x, const T* r, T* s, idx j, idx n) {
    const V xv = load_n<V>(x + j, n);
    if (!r) return xv;
    const V t = xv + load_n<V>(r + j, n);
    if (n == w) {
      t.store(s + j);
      return V::load(s + j);
    }
    t.store_tail(s + j, n);
    return V::load_tail(s + j, n);
  }

  template <class T>
  static void norm_row(const detail::norm_args& g, idx i, bool prefetch_next) {
    const T* x = static_cast<const T*>(g.x) + i * g.ldx;
    const T* r = g.residual ? static_cast<const T*>(g.residual) + i * g.ldr : nullptr;
    T* s = g.sum ? static_cast<T*>(g.sum) + i * g.lds : nullptr;
    T* y = static_cast<T*>(g.y) + i * g.ldy;
    const idx cols = g.cols;
    // Pass 1 (and the residual sum): sum of squares (rms) or sum (layer).
    const bool rms = g.kind == detail::norm_kind::rms;
    const V acc = fold4(
        cols, V::zero(),
        [&](V a, idx j, idx n) {
          const V v = norm_input(x, r, s, j, n);
          return rms ? V::fma(v, v, a) : a + v;
        },
        add);
    // Later passes read the stored sum when there is one.
    const T* in = s ? s : x;
    auto load = [&](idx j, idx n) { return load_n<V>(in + j, n); };
    A mean = 0, inv;
    if (rms) {
      inv = A(1) / std::sqrt(acc.reduce_add() / A(cols) + A(g.eps));
    } else {
      mean = acc.reduce_add() / A(cols);
      const V vm = V::broadcast(mean);
      const V sq = fold4(
          cols, V::zero(),
          [&](V a, idx j, idx n) {
            const V d = n == w ? load(j, n) - vm : V::tail_or(load(j, n) - vm, n, A(0));
            return V::fma(d, d, a);
          },
          add);
      inv = A(1) / std::sqrt(sq.reduce_add() / A(cols) + A(g.eps));
    }
    const V vm = V::broadcast(mean), vinv = V::broadcast(inv);
    for (idx j = 0; j < cols; j += w) {
      const idx n = std::min(w, cols - j);
      if (prefetch_next) prefetch_next_row_line(x + g.ldx, j);
      V o = (load(j, n) - vm) * vinv;
      if (g.gamma) o = o * load_n<V>(g.gamma + j, n);
      if (g.beta) o = o + load_n<V>(g.beta + j, n);
      store_n(o, y + j, n);
    }
  }

  template <class T, bool Parallel>
  static void norm(const detail::exec_args& ex, const detail::norm_args& g) {
    split_rows<Parallel>(ex, g.rows, g.cols, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i) norm_row<T>(g, i, i + 1 < e);
    });
  }
};

/// The rotary frequencies theta^(-2k / rot_dims), k < rot_dims / 2, in f64 (the same for
/// every row: computed once per call and chunk, not per row).
inline local_vector<double> rope_frequencies(const detail::rope_args& g) {
  local_vector<double> f(static_cast<std::size_t>(g.rot_dims / 2));
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = std::pow(g.theta, -2.0 * double(k) / double(g.rot_dims));
  return f;
}

/// The cos and sin of row i's rotary angles, computed in f64 and rounded once (an f32 angle
/// at position 10^5 would be off by 10^-2 rad).
template <class A>
void rope_angles(const detail::rope_args& g, const local_vector<double>& freq, std::int64_t i, A* c, A* s) {
  const double pos = double(g.positions[i]);
  for (std::size_t k = 0; k < freq.size(); ++k) {
    const double angle = pos * freq[k];
    c[k] = A(std::cos(angle));
    s[k] = A(std::sin(angle));
  }
}

template <class V>
struct nn_rope {
  using A = typename V::scalar;
  using idx = std::int64_t;
  static constexpr idx w = V::width;

  template <class T>
  static void row(const detail::rope_args& g, idx i, const A* c, const A* s) {
    const idx half = g.rot_dims / 2;
    for (idx h = 0; h < g.heads; ++h) {
      T* x = static_cast<T*>(g.x) + i * g.ldx + h * g.head_dim;
      if (g.adjacent) {
        for (idx k = 0; k < half; ++k) {
          const A a = A(widen(x[2 * k])), b = A(widen(x[2 * k + 1]));
          lane1<A>{a * c[k] - b * s[k]}.store(x + 2 * k);
          lane1<A>{a * s[k] + b * c[k]}.store(x + 2 * k + 1);
        }
        continue;
      }
      for (idx k = 0; k < half; k += w) {
        const idx n = std::min(w, half - k);
        auto ld = [&](const auto* p) { return load_n<V>(p, n); };
        const V a = ld(x + k), b = ld(x + half + k), cv = ld(c + k), sv = ld(s + k);
        const V lo = a * cv - b * sv, hi = a * sv + b * cv;
        store_n(lo, x + k, n);
        store_n(hi, x + half + k, n);
      }
    }
  }

  template <class T, bool Parallel>
  static void rope(const detail::exec_args& ex, const detail::rope_args& g) {
    nn_rows<V>::template split_rows<Parallel>(ex, g.rows, g.heads * g.rot_dims, [&](idx b, idx e) {
      const local_vector<double> freq = rope_frequencies(g);
      local_vector<A> table(std::size_t(g.rot_dims) + 2 * std::size_t(w));
      A* c = table.data();
      A* s = c + g.rot_dims / 2 + w;
      for (idx i = b; i < e; ++i) {
        rope_angles(g, freq, i, c, s);
        row<T>(g, i, c, s);
      }
    });
  }
};

/// An nn_kernel_table of nn_rows<V> for f32, bf16, f16 storage.
template <class V, bool Parallel>
constexpr detail::nn_kernel_table nn_table_of() {
  using R = nn_rows<V>;
  return {
      {&R::template eltwise<float, Parallel>, &R::template eltwise<bfloat16, Parallel>,
       &R::template eltwise<half, Parallel>},
      {&R::template softmax<float, Parallel>, &R::template softmax<bfloat16, Parallel>,
       &R::template softmax<half, Parallel>},
      {&R::template norm<float, Parallel>, &R::template norm<bfloat16, Parallel>, &R::template norm<half, Parallel>},
      {&nn_rope<V>::template rope<float, Parallel>, &nn_rope<V>::template rope<bfloat16, Parallel>,
       &nn_rope<V>::template rope<half, Parallel>}};
}

/// As nn_table_of, for bf16 storage only (entry 1; the others null, and not registered): for
/// a folder whose gain over the one below it is in rounding to bf16.
template <class V, bool Parallel>
constexpr detail::nn_kernel_table nn_bf16_table_of() {
  using R = nn_rows<V>;
  detail::nn_kernel_table t{};
  t.eltwise[1] = &R::template eltwise<bfloat16, Parallel>;
  t.softmax[1] = &R::template softmax<bfloat16, Parallel>;
  t.norm[1] = &R::template norm<bfloat16, Parallel>;
  t.rope[1] = &nn_rope<V>::template rope<bfloat16, Parallel>;
  return t;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
