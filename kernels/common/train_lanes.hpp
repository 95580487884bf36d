// The backward row ops, the fused cross-entropy, the optimizer step and the gradient unscale
// (mixprec/train.hpp) as lane bodies, for the CPU's reference kernels and the CUDA kernels
// alike, in the manner of nn_lanes.hpp: a row's columns dealt to lanes, each step returning
// the lane's part for the caller to merge. The norm backward is split so that no step writes
// what a later one reads: per-row coefficients, then the weight gradients column by column
// (rows summed in order), then dx element by element (dx may replace x or dy). Elements are
// computed by train_rows.hpp's lane1 math, in the same order.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/nn_lanes.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/scalar.hpp"
#include "kernels/common/train_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// One row's sums for the norm backward: of x (layer) or x^2 (rms), of gd = dy * gamma, and
/// of gd * x.
struct norm_backward_sums {
  float x, gd, gdx;
  MIXPREC_KI norm_backward_sums merged(const norm_backward_sums& o) const { return {x + o.x, gd + o.gd, gdx + o.gdx}; }
};

/// One row's coefficients: xhat = (x - mean) * r, dx = r * (dy gamma - c_gd - xhat c_gdx).
struct norm_backward_row {
  float mean, r, c_gd, c_gdx;
};

struct train_lanes {
  using L = lane1<float>;
  using idx = std::int64_t;

  // ---- activation backward ----

  template <class T>
  MIXPREC_KI static void eltwise_backward_element(const detail::eltwise_backward_args& g, idx i, idx j) {
    const L x = L::load(static_cast<const T*>(g.a) + i * g.lda + j);
    const L d = L::load(static_cast<const T*>(g.dy) + i * g.lddy + j);
    T* da = static_cast<T*>(g.da) + i * g.ldda + j;
    if (g.kind != detail::eltwise_kind::swiglu) {
      (d * vderivative(g.kind, x)).store(da);
      return;
    }
    const L up = L::load(static_cast<const T*>(g.b) + i * g.ldb + j);
    const L ds = vderivative(detail::eltwise_kind::silu, x);
    const L s = vsilu(x);
    (d * up * ds).store(da);
    (d * s).store(static_cast<T*>(g.db) + i * g.lddb + j);
  }

  // ---- softmax backward: sum(dy * y) (log: sum(dy)), then dx ----

  template <class T>
  MIXPREC_KI static float softmax_backward_lane_sum(const detail::softmax_backward_args& g, idx i, idx lane,
                                                    idx lanes) {
    const T* y = static_cast<const T*>(g.y) + i * g.ldy;
    const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
    L s = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L d = L::load(dy + j);
      s = g.log ? s + d : L::fma(d, L::load(y + j), s);
    }
    return s.v;
  }

  template <class T>
  MIXPREC_KI static void softmax_backward_lane_store(const detail::softmax_backward_args& g, idx i, float sum, idx lane,
                                                     idx lanes) {
    const T* y = static_cast<const T*>(g.y) + i * g.ldy;
    const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
    T* dx = static_cast<T*>(g.dx) + i * g.lddx;
    const L s = L::broadcast(sum), scale = L::broadcast(g.scale);
    for (idx j = lane; j < g.cols; j += lanes) {
      const L yv = L::load(y + j), d = L::load(dy + j);
      (g.log ? scale * (d - vexp(yv) * s) : scale * yv * (d - s)).store(dx + j);
    }
  }

  // ---- norm backward: row coefficients, weight gradients by column, dx by element ----

  MIXPREC_KI static L gamma_at(const detail::norm_backward_args& g, idx j) {
    return g.gamma ? L::load(g.gamma + j) : L::broadcast(1.0f);
  }

  template <class T>
  MIXPREC_KI static norm_backward_sums norm_backward_lane_sums(const detail::norm_backward_args& g, idx i, idx lane,
                                                               idx lanes) {
    const T* x = static_cast<const T*>(g.x) + i * g.ldx;
    const T* dy = static_cast<const T*>(g.dy) + i * g.lddy;
    const bool rms = g.kind == detail::norm_kind::rms;
    L sx = L::zero(), sgd = L::zero(), sgdx = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L xv = L::load(x + j), gd = L::load(dy + j) * gamma_at(g, j);
      sx = rms ? L::fma(xv, xv, sx) : sx + xv;
      sgd = sgd + gd;
      sgdx = L::fma(gd, xv, sgdx);
    }
    return {sx.v, sgd.v, sgdx.v};
  }

  /// Layer norm: the lane's sum of (x - mean)^2, mean = the merged sums' x / cols.
  template <class T>
  MIXPREC_KI static float norm_backward_lane_centered(const detail::norm_backward_args& g, idx i, float mean, idx lane,
                                                      idx lanes) {
    const T* x = static_cast<const T*>(g.x) + i * g.ldx;
    L a = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L d = L::load(x + j) - L::broadcast(mean);
      a = L::fma(d, d, a);
    }
    return a.v;
  }

  MIXPREC_KI static float norm_backward_mean(const detail::norm_backward_args& g, const norm_backward_sums& s) {
    return g.kind == detail::norm_kind::rms ? 0.0f : s.x * (1.0f / float(g.cols));
  }

  /// The row's coefficients from its merged sums and (layer norm) merged centred squares.
  MIXPREC_KI static norm_backward_row norm_backward_coefficients(const detail::norm_backward_args& g,
                                                                 const norm_backward_sums& s, float centered) {
    const float inv_n = 1.0f / float(g.cols);
    const bool rms = g.kind == detail::norm_kind::rms;
    const float mean = norm_backward_mean(g, s);
    const float var = rms ? s.x * inv_n : centered * inv_n;
    const float r = 1.0f / MIXPREC_MATH(sqrt)(var + g.eps);
    return {mean, r, rms ? 0.0f : s.gd * inv_n, r * (s.gdx - mean * s.gd) * inv_n};
  }

  /// dgamma[j] += sum over rows of dy * xhat, dbeta[j] += sum of dy, rows in order.
  template <class T>
  MIXPREC_KI static void norm_backward_weight_column(const detail::norm_backward_args& g, idx j,
                                                     const norm_backward_row* rows) {
    L sg = L::zero(), sb = L::zero();
    for (idx i = 0; i < g.rows; ++i) {
      const L d = L::load(static_cast<const T*>(g.dy) + i * g.lddy + j);
      const L xhat =
          (L::load(static_cast<const T*>(g.x) + i * g.ldx + j) - L::broadcast(rows[i].mean)) * L::broadcast(rows[i].r);
      sg = L::fma(d, xhat, sg);
      sb = d + sb;
    }
    if (g.dgamma) g.dgamma[j] += sg.v;
    if (g.dbeta) g.dbeta[j] += sb.v;
  }

  template <class T>
  MIXPREC_KI static void norm_backward_dx_element(const detail::norm_backward_args& g, idx i, idx j,
                                                  const norm_backward_row& c) {
    const L d = L::load(static_cast<const T*>(g.dy) + i * g.lddy + j);
    const L xhat = (L::load(static_cast<const T*>(g.x) + i * g.ldx + j) - L::broadcast(c.mean)) * L::broadcast(c.r);
    const L dx = L::broadcast(c.r) * (d * gamma_at(g, j) - L::broadcast(c.c_gd) - xhat * L::broadcast(c.c_gdx));
    dx.store(static_cast<T*>(g.dx) + i * g.lddx + j);
  }

  // ---- fused softmax cross-entropy: max and sum of z, sum of exp(z - max), loss and dz ----

  struct ce_sums {
    float max, sum;
  };
  MIXPREC_KI static ce_sums ce_merged(const ce_sums& a, const ce_sums& b) {
    return {nn_lanes<float>::max_of(a.max, b.max), a.sum + b.sum};
  }

  template <class T>
  MIXPREC_KI static ce_sums ce_lane_max_sum(const detail::cross_entropy_args& g, idx i, idx lane, idx lanes) {
    const T* z = static_cast<const T*>(g.logits) + i * g.ldl;
    L m = L::broadcast(-std::numeric_limits<float>::infinity()), s = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) {
      const L v = L::load(z + j);
      s = s + v;
      m = L::max(m, v);
    }
    return {m.v, s.v};
  }

  template <class T>
  MIXPREC_KI static float ce_lane_sumexp(const detail::cross_entropy_args& g, idx i, float max, idx lane, idx lanes) {
    const T* z = static_cast<const T*>(g.logits) + i * g.ldl;
    L s = L::zero();
    for (idx j = lane; j < g.cols; j += lanes) s = s + vexp(L::load(z + j) - L::broadcast(max));
    return s.v;
  }

  /// The lane's share of row i's outputs: its gradient columns, and the loss if it holds the
  /// label's column (which it reads before writing: dlogits may replace the logits). An
  /// ignored row gets loss 0 (lane 0) and a zero gradient.
  template <class T>
  MIXPREC_KI static void ce_lane_finish(const detail::cross_entropy_args& g, idx i, const ce_sums& row, float sumexp,
                                        idx lane, idx lanes) {
    const T* z = static_cast<const T*>(g.logits) + i * g.ldl;
    T* dz = g.dlogits ? static_cast<T*>(g.dlogits) + i * g.ldd : nullptr;
    const std::int32_t label = g.labels[i];
    if (label == g.ignore_index) {
      if (lane == 0) g.loss[i] = 0.0f;
      for (idx j = lane; dz && j < g.cols; j += lanes) L::zero().store(dz + j);
      return;
    }
    const float s = g.smoothing;
    const float cols = float(g.cols);
    if (label % lanes == lane) {
      const float lse = row.max + MIXPREC_MATH(log)(sumexp);
      const float zl = L::load(z + label).v;
      g.loss[i] = (1.0f - s) * (lse - zl) + s * (lse - row.sum / cols);
    }
    if (!dz) return;
    const L inv = L::broadcast(g.grad_scale / sumexp), off = L::broadcast(g.grad_scale * s / cols);
    for (idx j = lane; j < g.cols; j += lanes) {
      const L e = vexp(L::load(z + j) - L::broadcast(row.max));
      if (j == label)
        L{g.grad_scale * (e.v / sumexp - (1.0f - s) - s / cols)}.store(dz + j);
      else
        L::fma(e, inv, L::zero() - off).store(dz + j);
    }
  }

  // ---- optimizer step ----

  /// Element j of tensor t: SGD or AdamW on the f32 master value (or the model's), the new
  /// value written to master and rounded to the model copy (stochastically when asked).
  template <class G, class M>
  MIXPREC_KI static void optimizer_element(const detail::optimizer_args& g, const detail::optimizer_tensor& t, idx j) {
    M* model = static_cast<M*>(t.model);
    const L gv = L::load(static_cast<const G*>(t.grad) + j) * L::broadcast(g.grad_scale);
    L p = t.master ? L::load(t.master + j) : L::load(model + j);
    if (g.kind == detail::optimizer_kind::adamw) {
      p = p * L::broadcast(g.decay);
      const L m = L::fma(L::broadcast(g.beta1), L::load(t.m + j), L::broadcast(g.one_minus_beta1) * gv);
      const L v = L::fma(L::broadcast(g.beta2), L::load(t.v + j), L::broadcast(g.one_minus_beta2) * gv * gv);
      m.store(t.m + j);
      v.store(t.v + j);
      const L step = L::broadcast(g.lr / g.bias_correction1);
      const L inv_sqrt_bc2 = L::broadcast(1.0f / MIXPREC_MATH(sqrt)(g.bias_correction2));
      p = p - step * m / L::fma(L::sqrt(v), inv_sqrt_bc2, L::broadcast(g.eps));
    } else {
      L d = L::fma(L::broadcast(g.weight_decay), p, gv);
      if (g.momentum != 0.0f) {
        const L buf = g.first_step
                          ? d
                          : L::fma(L::broadcast(g.momentum), L::load(t.m + j), L::broadcast(g.one_minus_dampening) * d);
        buf.store(t.m + j);
        d = g.nesterov ? L::fma(L::broadcast(g.momentum), buf, d) : buf;
      }
      p = p - L::broadcast(g.lr) * d;
    }
    if (t.master) p.store(t.master + j);
    if (!model) return;
    if constexpr (std::is_same_v<M, bfloat16>) {
      if (g.stochastic_rounding) {
        model[j] = round_bf16_stochastic(p.v, g.seed, t.first + std::uint64_t(j));
        return;
      }
    }
    p.store(model + j);
  }

  // ---- unscale ----

  /// x[j] *= scale; whether the result is NaN or +-inf (x * 0 is 0 only for a finite x).
  template <class T>
  MIXPREC_KI static bool unscale_element(const detail::unscale_args& g, idx j) {
    T* x = static_cast<T*>(g.x) + j;
    const L v = L::load(x) * L::broadcast(g.scale);
    v.store(x);
    const float probe = v.v * 0.0f;
    return probe != probe;
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
