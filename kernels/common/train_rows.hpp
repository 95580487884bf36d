// The training kernels (mixprec/train.hpp), written once over a vector type V as the NN row
// kernels are (kernels/common/nn_rows.hpp, whose V interface and vector math they share):
// activation, softmax and norm backward, the fused softmax cross-entropy, the gradient
// unscale-and-check, and the SGD / AdamW step. f32 arithmetic throughout; gradients stored
// in the storage dtype, weight gradients (dgamma, dbeta) and optimizer state in f32.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

// ---- stochastic rounding --------------------------------------------------------------------

/// The splitmix64 finaliser: a bijective 64-bit mix, the noise of stochastic rounding as a
/// function of (seed, element index) alone, so that a result does not depend on how the
/// elements were split among threads.
MIXPREC_KI std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// f rounded to bf16 stochastically: up with probability equal to the fraction of the gap
/// below f (16 random low bits added, then truncated), so the rounding is unbiased. NaN and
/// +-inf are rounded to nearest (they stay what they are).
MIXPREC_KI bfloat16 round_bf16_stochastic(float f, std::uint64_t seed, std::uint64_t index) {
  std::uint32_t bits = detail::bit_cast<std::uint32_t>(f);
  if ((bits & 0x7F800000u) == 0x7F800000u) return bfloat16(f);
  bits += std::uint32_t(mix64(seed ^ mix64(index))) & 0xFFFFu;
  return bfloat16::from_bits(std::uint16_t(bits >> 16));
}

// ---- activation derivatives -----------------------------------------------------------------

/// Past +-80 the smooth activations' derivatives are 0 and 1 to within 2^-100; the formulas
/// would make NaN of inf * 0 there.
template <class V>
MIXPREC_KI V derivative_tails(V x, V d) {
  using A = typename V::scalar;
  d = V::select_lt(x, V::broadcast(A(-80)), V::zero(), d);
  return V::select_lt(V::broadcast(A(80)), x, V::broadcast(A(1)), d);
}

template <class V>
MIXPREC_KI V vsigmoid(V x) {
  return V::broadcast(1) / (V::broadcast(1) + vexp(V::zero() - x));
}

/// f'(x) for relu, gelu_erf, gelu_tanh and silu.
template <class V>
MIXPREC_KI V vderivative(detail::eltwise_kind k, V x) {
  using A = typename V::scalar;
  switch (k) {
    case detail::eltwise_kind::relu:
      return V::select_lt(V::zero(), x, V::broadcast(A(1)), V::zero());
    case detail::eltwise_kind::gelu_erf: {  // Phi(x) + x phi(x)
      const V cdf = V::broadcast(A(0.5)) * verfc(x * V::broadcast(A(-0.70710678118654752440)));
      const V pdf = V::broadcast(A(0.39894228040143267794)) * vexp(V::broadcast(A(-0.5)) * x * x);
      return derivative_tails(x, V::fma(x, pdf, cdf));
    }
    case detail::eltwise_kind::gelu_tanh: {
      // t = tanh(u), u = k (x + c x^3); f' = (1 + t) / 2 + x / 2 (1 - t^2) du/dx with
      // (1 + t) / 2 = sigmoid(2u) and (1 - t) / 2 = sigmoid(-2u), each exact to a few ulp:
      // 1 + t formed from t cancels to nothing where t is near -1.
      const V k = V::broadcast(A(0.79788456080286535588)), c = V::broadcast(A(0.044715));
      const V x2 = x * x;
      const V u2 = V::broadcast(A(2)) * k * V::fma(c * x, x2, x);
      const V s = vsigmoid(u2), sc = vsigmoid(V::zero() - u2);
      const V du = k * V::fma(V::broadcast(A(3)) * c, x2, V::broadcast(A(1)));
      return derivative_tails(x, V::fma(V::broadcast(A(2)) * x * s * sc, du, s));
    }
    case detail::eltwise_kind::silu: {  // s (1 + x (1 - s))
      const V s = vsigmoid(x);
      return derivative_tails(x, s * V::fma(x, V::broadcast(A(1)) - s, V::broadcast(A(1))));
    }
    default:
      return V::broadcast(A(1));
  }
}

template <class V>
struct train_rows {
  using A = typename V::scalar;
  using idx = std::int64_t;
  using R = nn_rows<V>;
  static constexpr idx w = V::width;

  // ---- activation backward ----

  template <class T, bool Parallel>
  static void eltwise_backward(const detail::exec_args& ex, const detail::eltwise_backward_args& g) {
    if (g.rows == 0 || g.cols == 0) return;
    const bool swiglu = g.kind == detail::eltwise_kind::swiglu;
    R::template split<Parallel>(ex, g.rows * g.cols, idx(1) << 14, [&](idx b0, idx e0) {
      for (idx i = b0 / g.cols; i * g.cols < e0; ++i) {
        const idx j0 = std::max(b0 - i * g.cols, idx(0)), j1 = std::min(e0 - i * g.cols, g.cols);
        const T* a = static_cast<const T*>(g.a) + i * g.lda;
        const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
        T* da = static_cast<T*>(g.da) + i * g.ldda;
        if (swiglu)
          swiglu_backward_span(a, static_cast<const T*>(g.b) + i * g.ldb, dy, da, static_cast<T*>(g.db) + i * g.lddb,
                               j0, j1);
        else
          activation_backward_span(g.kind, a, dy, da, j0, j1);
      }
    });
  }

  /// da = dy * f'(a) over [j0, j1) of a row, the activation chosen once per span and two
  /// vectors a step (nn_rows::map_span), as the forward ops run.
  template <class T>
  static void activation_backward_span(detail::eltwise_kind kind, const T* a, const T* dy, T* da, idx j0, idx j1) {
    using K = detail::eltwise_kind;
    switch (kind) {
      case K::relu:
        return R::map_span(a, dy, da, j0, j1, [](V x, V d) { return d * vderivative(K::relu, x); });
      case K::gelu_erf:
        return R::map_span(a, dy, da, j0, j1, [](V x, V d) { return d * vderivative(K::gelu_erf, x); });
      case K::gelu_tanh:
        return R::map_span(a, dy, da, j0, j1, [](V x, V d) { return d * vderivative(K::gelu_tanh, x); });
      case K::silu:
        return R::map_span(a, dy, da, j0, j1, [](V x, V d) { return d * vderivative(K::silu, x); });
      default:
        return R::map_span(a, dy, da, j0, j1, [](V, V d) { return d * V::broadcast(A(1)); });
    }
  }

  /// SwiGLU's backward over [j0, j1) of a row: da = dy * up * silu'(a), db = dy * silu(a), two
  /// vectors a step, every operand dealt by load_pair.
  template <class T>
  static void swiglu_backward_span(const T* a, const T* up, const T* dy, T* da, T* db, idx j0, idx j1) {
    auto step = [](V x, V u, V d, V* dx, V* dup) {
      const V ds = vderivative(detail::eltwise_kind::silu, x);
      *dx = d * u * ds;
      *dup = d * vsilu(x);
    };
    idx j = j0;
    for (; j + 2 * w <= j1; j += 2 * w) {
      V x0, x1, u0, u1, d0, d1, da0, da1, db0, db1;
      load_pair(a + j, &x0, &x1);
      load_pair(up + j, &u0, &u1);
      load_pair(dy + j, &d0, &d1);
      step(x0, u0, d0, &da0, &db0);
      step(x1, u1, d1, &da1, &db1);
      store_pair(da + j, da0, da1);
      store_pair(db + j, db0, db1);
    }
    for (; j < j1; j += w) {
      const idx n = std::min(w, j1 - j);
      V dx, dup;
      step(load_n<V>(a + j, n), load_n<V>(up + j, n), load_n<V>(dy + j, n), &dx, &dup);
      store_n(dx, da + j, n);
      store_n(dup, db + j, n);
    }
  }

  // ---- softmax backward ----

  template <class T>
  static void softmax_backward_row(const detail::softmax_backward_args& g, idx i) {
    const T* y = static_cast<const T*>(g.y) + i * g.ldy;
    const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
    T* dx = static_cast<T*>(g.dx) + i * g.lddx;
    const V sum = R::fold4(
        g.cols, V::zero(),
        [&](V acc, idx j, idx n) {
          const V d = load_n<V>(dy + j, n);
          return g.log ? acc + d : V::fma(d, load_n<V>(y + j, n), acc);
        },
        R::add);
    const V s = V::broadcast(sum.reduce_add()), scale = V::broadcast(A(g.scale));
    for (idx j = 0; j < g.cols; j += w) {
      const idx n = std::min(w, g.cols - j);
      const V yv = load_n<V>(y + j, n), d = load_n<V>(dy + j, n);
      const V r = g.log ? scale * (d - vexp(yv) * s) : scale * yv * (d - s);
      store_n(r, dx + j, n);
    }
  }

  template <class T, bool Parallel>
  static void softmax_backward(const detail::exec_args& ex, const detail::softmax_backward_args& g) {
    R::template split_rows<Parallel>(ex, g.rows, g.cols, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i) softmax_backward_row<T>(g, i);
    });
  }

  // ---- norm backward ----

  /// One row: dx, and dy * xhat (and dy) added into this chunk's dgamma (dbeta) partials.
  /// x and dy come from memory once, side by side, in the first pass (two streams; the
  /// statistics and both gradient sums at once); the later passes find the row in L1, and
  /// the last one asks for the next row's x and dy (prefetch_next) while it writes.
  template <class T>
  static void norm_backward_row(const detail::norm_backward_args& g, idx i, A* dgamma, A* dbeta, bool prefetch_next) {
    const T* x = static_cast<const T*>(g.x) + i * g.ldx;
    const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
    T* dx = static_cast<T*>(g.dx) + i * g.lddx;
    const idx cols = g.cols;
    const bool rms = g.kind == detail::norm_kind::rms;
    auto gamma = [&](idx j, idx n) { return g.gamma ? load_n<V>(g.gamma + j, n) : V::broadcast(A(1)); };
    // Pass 1: sum x (layer) or x^2 (rms), sum gd and sum gd x, gd = dy * gamma; two sets
    // of sums over alternate vectors, so that no add waits on the one before it.
    struct sums {
      V x = V::zero(), gd = V::zero(), gdx = V::zero();
    };
    auto add_vector = [&](sums& s, idx j, idx n) {
      const V xv = load_n<V>(x + j, n), gd = load_n<V>(dy + j, n) * gamma(j, n);
      s.x = rms ? V::fma(xv, xv, s.x) : s.x + xv;
      s.gd = s.gd + gd;
      s.gdx = V::fma(gd, xv, s.gdx);
    };
    sums s0, s1;
    idx j1 = 0;
    for (; j1 + 2 * w <= cols; j1 += 2 * w) {
      add_vector(s0, j1, w);
      add_vector(s1, j1 + w, w);
    }
    for (; j1 < cols; j1 += w) add_vector(s0, j1, std::min(w, cols - j1));
    const V s_x = s0.x + s1.x, s_gd = s0.gd + s1.gd, s_gdx = s0.gdx + s1.gdx;
    const A inv_n = A(1) / A(cols);
    A mean = 0, var;
    if (rms) {
      var = s_x.reduce_add() * inv_n;
    } else {  // the variance from the centred values (in L1), as the forward computes it
      mean = s_x.reduce_add() * inv_n;
      const V vm = V::broadcast(mean);
      var = R::fold4(
                cols, V::zero(),
                [&](V a, idx j, idx n) {
                  const V d = load_n<V>(x + j, n) - vm;
                  const V dd = n == w ? d : V::tail_or(d, n, A(0));  // lanes past the row add nothing
                  return V::fma(dd, dd, a);
                },
                R::add)
                .reduce_add() *
            inv_n;
    }
    const A r = A(1) / std::sqrt(var + A(g.eps));
    const V vr = V::broadcast(r), vm = V::broadcast(mean);
    // mean(gd xhat) = r (sum gd x - mean sum gd) / n
    const A sum_gd = s_gd.reduce_add();
    const V c_gd = V::broadcast(rms ? A(0) : sum_gd * inv_n);
    const V c_gdx = V::broadcast(r * (s_gdx.reduce_add() - mean * sum_gd) * inv_n);
    for (idx j = 0; j < cols; j += w) {
      const idx n = std::min(w, cols - j);
      if (prefetch_next) {
        prefetch_next_row_line(x + g.ldx, j);
        prefetch_next_row_line(dy + g.lddy, j);
      }
      const V d = load_n<V>(dy + j, n);
      const V xhat = (load_n<V>(x + j, n) - vm) * vr;
      store_n(vr * (d * gamma(j, n) - c_gd - xhat * c_gdx), dx + j, n);
      if (dgamma) store_n(V::fma(d, xhat, load_n<V>(dgamma + j, n)), dgamma + j, n);
      if (dbeta) store_n(d + load_n<V>(dbeta + j, n), dbeta + j, n);
    }
  }

  template <class T, bool Parallel>
  static void norm_backward(const detail::exec_args& ex, const detail::norm_backward_args& g) {
    if (g.rows == 0 || g.cols == 0) return;
    const idx min_rows = std::max(idx(1), (idx(1) << 14) / g.cols);
    const int chunks = Parallel ? detail::chunk_count(g.rows, ex.threads, min_rows) : 1;
    // Each chunk sums its rows' weight gradients apart; the chunks' sums are then added to
    // the caller's in chunk order (the same result for the same thread count).
    const bool weights = g.dgamma || g.dbeta;
    local_vector<A> partial(weights ? std::size_t(chunks) * 2 * std::size_t(g.cols) : 0, A(0));
    detail::parallel_chunks(chunks, [&](int c) {
      idx b, e;
      detail::chunk_range(g.rows, chunks, c, 1, &b, &e);
      A* dgamma = g.dgamma ? partial.data() + std::size_t(c) * 2 * std::size_t(g.cols) : nullptr;
      A* dbeta = g.dbeta ? partial.data() + (std::size_t(c) * 2 + 1) * std::size_t(g.cols) : nullptr;
      for (idx i = b; i < e; ++i) norm_backward_row<T>(g, i, dgamma, dbeta, i + 1 < e);
    });
    for (int c = 0; c < chunks && weights; ++c)
      for (idx j = 0; j < g.cols; ++j) {
        if (g.dgamma) g.dgamma[j] += float(partial[std::size_t(c) * 2 * std::size_t(g.cols) + std::size_t(j)]);
        if (g.dbeta) g.dbeta[j] += float(partial[(std::size_t(c) * 2 + 1) * std::size_t(g.cols) + std::size_t(j)]);
      }
  }

  // ---- softmax cross-entropy ----

  /// One row. Pass 1 streams the logits from memory; passes 2 and 3 find them in L2, and
  /// pass 2 (an exp per logit: compute-bound) asks for the next row's logits (prefetch_next)
  /// so that memory is busy while it computes.
  template <class T>
  static void cross_entropy_row(const detail::cross_entropy_args& g, idx i, bool prefetch_next) {
    const T* z = static_cast<const T*>(g.logits) + i * g.ldl;
    T* dz = g.dlogits ? static_cast<T*>(g.dlogits) + i * g.ldd : nullptr;
    const idx cols = g.cols;
    const std::int32_t label = g.labels[i];
    if (label == g.ignore_index) {
      g.loss[i] = 0.0f;
      for (idx j = 0; dz && j < cols; j += w) store_n(V::zero(), dz + j, std::min(w, cols - j));
      return;
    }
    const A neg_inf = -std::numeric_limits<A>::infinity();
    // Pass 1: the maximum and (for label smoothing) the sum of the logits. Blocks of 4 w are
    // read as pairs (load_pair: bf16 without widening shuffles), the rest in order; pass 2
    // keeps its exps in that order and pass 3 writes the row in it.
    auto read = [&](idx j, idx n) { return load_n<V>(z + j, n); };
    auto read_pair = [&](idx j, V* v0, V* v1) { load_pair(z + j, v0, v1); };
    auto visible = [&](V v, idx n) { return n == w ? v : V::tail_or(v, n, neg_inf); };
    V vsum = V::zero();
    const V vmax = R::fold4_pairs(
        cols, V::broadcast(neg_inf), read, read_pair,
        [&](V a, V v, idx, idx n) {
          vsum = vsum + v;
          return V::max(a, visible(v, n));
        },
        R::max_of);
    const A mx = vmax.reduce_max();
    const V vm = V::broadcast(mx);
    // Pass 2: exp(z - max), kept for pass 3 (one exp per logit), and their sum.
    thread_local local_vector<A> kept_storage;
    if (dz && kept_storage.size() < std::size_t(cols + w)) kept_storage.resize(std::size_t(cols + w));
    A* kept = kept_storage.data();
    const V vsumexp = R::fold4_pairs(
        cols, V::zero(), read, read_pair,
        [&](V a, V v, idx j, idx n) {
          if (prefetch_next) prefetch_next_row_line<2>(z + g.ldl, j);
          const V e = vexp(visible(v, n) - vm);
          if (dz) e.store(kept + j);
          return a + e;
        },
        R::add);
    const A sumexp = vsumexp.reduce_add();
    const A lse = mx + std::log(sumexp);
    const A zl = A(widen(z[label]));
    const A s = A(g.smoothing);
    g.loss[i] = float((A(1) - s) * (lse - zl) + s * (lse - vsum.reduce_add() / A(cols)));
    if (!dz) return;
    // Pass 3: grad_scale * (p - (1 - s) e_label - s / cols).
    const V inv = V::broadcast(A(g.grad_scale) / sumexp);
    const V off = V::broadcast(A(g.grad_scale) * s / A(cols));
    const bool label_paired = label < cols / (4 * w) * (4 * w);
    const A p_label = kept[label_paired ? pair_position<V, T>(label) : label] / sumexp;
    R::map_kept(dz, cols, kept, [&](V e) { return V::fma(e, inv, V::zero() - off); });
    const A at_label = A(g.grad_scale) * (p_label - (A(1) - s) - s / A(cols));
    lane1<A>{at_label}.store(dz + label);
  }

  template <class T, bool Parallel>
  static void cross_entropy(const detail::exec_args& ex, const detail::cross_entropy_args& g) {
    R::template split_rows<Parallel>(ex, g.rows, g.cols, [&](idx b, idx e) {
      for (idx i = b; i < e; ++i) cross_entropy_row<T>(g, i, i + 1 < e);
    });
  }

  // ---- unscale and check ----

  template <class T, bool Parallel>
  static void unscale(const detail::exec_args& ex, const detail::unscale_args& g) {
    if (g.n == 0) return;
    const int chunks = Parallel ? detail::chunk_count(g.n, ex.threads, idx(1) << 15) : 1;
    local_vector<char> found(std::size_t(chunks), 0);
    T* x = static_cast<T*>(g.x);
    const V scale = V::broadcast(A(g.scale));
    detail::parallel_chunks(chunks, [&](int c) {
      idx b, e;
      detail::chunk_range(g.n, chunks, c, w, &b, &e);
      // x * 0 is 0 for a finite x and NaN otherwise: the sum of them is NaN iff one was not.
      V probe = V::zero();
      for (idx j = b; j < e; j += w) {
        const idx n = std::min(w, e - j);
        const V v = load_n<V>(x + j, n) * scale;
        store_n(v, x + j, n);
        probe = V::fma(v, V::zero(), probe);
      }
      const A p = probe.reduce_add();
      found[std::size_t(c)] = p != p;
    });
    for (char f : found)
      if (f) *g.found = true;
  }

  // ---- optimizer step ----

  /// The step over elements [b, e) of one tensor.
  template <class G, class M>
  static void optimizer_span(const detail::optimizer_args& g, const detail::optimizer_tensor& t, idx b, idx e) {
    const G* grad = static_cast<const G*>(t.grad);
    M* model = static_cast<M*>(t.model);
    const bool adamw = g.kind == detail::optimizer_kind::adamw;
    const V gs = V::broadcast(A(g.grad_scale)), lr = V::broadcast(A(g.lr)), wd = V::broadcast(A(g.weight_decay));
    const V decay = V::broadcast(A(g.decay));
    const V b1 = V::broadcast(A(g.beta1)), c1 = V::broadcast(A(g.one_minus_beta1));
    const V b2 = V::broadcast(A(g.beta2)), c2 = V::broadcast(A(g.one_minus_beta2));
    const V eps = V::broadcast(A(g.eps)), inv_sqrt_bc2 = V::broadcast(A(1) / std::sqrt(A(g.bias_correction2)));
    const V step = V::broadcast(A(g.lr) / A(g.bias_correction1));
    const V mom = V::broadcast(A(g.momentum)), damp = V::broadcast(A(g.one_minus_dampening));
    const bool momentum = g.momentum != 0.0f;
    for (idx j = b; j < e; j += w) {
      const idx n = std::min(w, e - j);
      const V gv = load_n<V>(grad + j, n) * gs;
      V p = t.master ? load_n<V>(t.master + j, n) : load_n<V>(model + j, n);
      if (adamw) {
        p = p * decay;
        const V m = V::fma(b1, load_n<V>(t.m + j, n), c1 * gv);
        const V v = V::fma(b2, load_n<V>(t.v + j, n), c2 * gv * gv);
        store_n(m, t.m + j, n);
        store_n(v, t.v + j, n);
        p = p - step * m / V::fma(V::sqrt(v), inv_sqrt_bc2, eps);
      } else {
        V d = V::fma(wd, p, gv);
        if (momentum) {
          const V buf = g.first_step ? d : V::fma(mom, load_n<V>(t.m + j, n), damp * d);
          store_n(buf, t.m + j, n);
          d = g.nesterov ? V::fma(mom, buf, d) : buf;
        }
        p = p - lr * d;
      }
      if (t.master) store_n(p, t.master + j, n);
      if (!model) continue;
      if constexpr (std::is_same_v<M, bfloat16>) {
        if (g.stochastic_rounding) {
          A lanes[w];
          p.store(lanes);
          for (idx l = 0; l < n; ++l)
            model[j + l] = round_bf16_stochastic(float(lanes[l]), g.seed, t.first + std::uint64_t(j + l));
          continue;
        }
      }
      store_n(p, model + j, n);
    }
  }

  template <class G, class M, bool Parallel>
  static void optimizer(const detail::exec_args& ex, const detail::optimizer_args& g) {
    idx total = 0;
    for (idx t = 0; t < g.count; ++t) total += g.tensors[t].n;
    if (total == 0) return;
    // The tensors' values as one range, cut among threads (a list of many small tensors is
    // one parallel pass, not one per tensor).
    R::template split<Parallel>(ex, total, idx(1) << 14, [&](idx b, idx e) {
      idx start = 0;
      for (idx t = 0; t < g.count && start < e; ++t) {
        const idx n = g.tensors[t].n;
        const idx lo = std::max(b, start), hi = std::min(e, start + n);
        if (lo < hi) optimizer_span<G, M>(g, g.tensors[t], lo - start, hi - start);
        start += n;
      }
    });
  }
};

/// Fills a train_kernel_table's entries for storage T at index i (f32 0, bf16 1, f16 2),
/// the optimizers for every model dtype with T gradients.
template <class V, bool Parallel, class T>
constexpr void fill_train_entries(detail::train_kernel_table& t, int i) {
  using R = train_rows<V>;
  t.eltwise_backward[i] = &R::template eltwise_backward<T, Parallel>;
  t.softmax_backward[i] = &R::template softmax_backward<T, Parallel>;
  t.norm_backward[i] = &R::template norm_backward<T, Parallel>;
  t.cross_entropy[i] = &R::template cross_entropy<T, Parallel>;
  t.unscale[i] = &R::template unscale<T, Parallel>;
  t.optimizer[i][0] = &R::template optimizer<T, float, Parallel>;
  t.optimizer[i][1] = &R::template optimizer<T, bfloat16, Parallel>;
  t.optimizer[i][2] = &R::template optimizer<T, half, Parallel>;
}

/// A train_kernel_table of train_rows<V> for f32, bf16, f16 storage.
template <class V, bool Parallel>
constexpr detail::train_kernel_table train_table_of() {
  detail::train_kernel_table t{};
  fill_train_entries<V, Parallel, float>(t, 0);
  fill_train_entries<V, Parallel, bfloat16>(t, 1);
  fill_train_entries<V, Parallel, half>(t, 2);
  return t;
}

/// As train_table_of, for the kernels that write bf16 only (bf16 storage, and the optimizers
/// that write a bf16 model copy; the other entries null, and not registered): for a folder
/// whose gain over the one below it is in rounding to bf16.
template <class V, bool Parallel>
constexpr detail::train_kernel_table train_bf16_table_of() {
  using R = train_rows<V>;
  detail::train_kernel_table t{};
  fill_train_entries<V, Parallel, bfloat16>(t, 1);
  t.optimizer[0][1] = &R::template optimizer<float, bfloat16, Parallel>;
  t.optimizer[2][1] = &R::template optimizer<half, bfloat16, Parallel>;
  return t;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
