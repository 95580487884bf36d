// mixprec/train.hpp — what a mixed-precision training loop needs: the backward passes of the
// layers of mixprec/nn.hpp and of a linear layer, the fused softmax cross-entropy, SGD and
// AdamW over lists of parameters with f32 master weights, and dynamic loss scaling.
//
//   mixprec::loss_scaler scaler;                        // 2^16, x2 per 2000 clean steps
//   mixprec::adamw opt;                                 // PyTorch's defaults
//   ...forward in bf16 or f16...
//   mixprec::cross_entropy_options ce;
//   ce.grad_scale = scaler.scale();                     // the gradient of scale * loss
//   double loss = mixprec::cross_entropy(logits, labels, dlogits, ce);
//   ...backward: linear_backward, activate_backward, rms_norm_backward...
//   const bool finite = scaler.unscale(grads);          // grads /= scale, and any inf/NaN?
//   opt.step(params, 1.0, !finite);                     // skipped when not finite
//   scaler.update();
//
// Operands are the NN ops' (mixprec/nn.hpp): rank-1 or rank-2 row-major views of f32, bf16
// or f16 with unit column stride. Arithmetic is in f32 whatever the storage; a gradient is
// rounded once to its dtype; weight gradients of the norms (dgamma, dbeta) and optimizer
// state are f32. An output may be the same view as an input (in place); any other overlap
// is an error, as are shape and dtype mismatches, all raised before anything is written.
//
// Accuracy (u_T: the storage's unit roundoff, u = 2^-24, n: the row length), each result
// against the exact derivative of the stored inputs:
//   activation backward: u_T |da| + ((40 + 4 a^2) u M(a) + 2^-100) |dy|, M(a) the sum of the
//                        magnitudes of f'(a)'s two terms (Phi(a) + |a| phi(a) for gelu_erf,
//                        s (1 + |a| (1 - s)) for silu, s = sigmoid(a); likewise gelu_tanh);
//                        relu: exact up to the rounding of dy to da's dtype;
//   softmax backward:    u_T |dx_j| + (n + 8) u |scale| |y_j| (|dy_j| + sum |dy y|)
//                        (log: (|dy_j| + exp(y_j) sum |dy|));
//   norm backward:       u_T |dx_j| + (n + 16) u r (|g_j| + A (1 + |xhat_j| + c)), g = dy gamma,
//                        r = 1 / sigma, c = |mean| r (0 for RMS), A = mean(|g| (1 + |xhat| + c));
//                        dgamma, dbeta: (rows + n + 16) u sum_i |dy| (1 + |xhat| + c);
//   cross-entropy:       per row (n + 12 + 2 max|z|) u; gradients u_T |g_j| +
//                        ((n + 12 + 2 max|z|) p_j + 2) u |grad_scale|;
//   optimizers:          the update in f32 as PyTorch computes it (a few u relative per
//                        operation), then the master weight rounded once to the model's dtype;
// each gradient bound plus half T's smallest subnormal where a result underflows.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mixprec/attention.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/nn.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

// ---- backward of the row-wise layers ---------------------------------------------------------

/// da = dy * act'(a), a the forward's input (relu: 1 for a > 0, else 0). da may be dy.
void activate_backward(activation act, const_view a, const_view dy, view da);
/// Backward of y = silu(gate) * up: d_gate = dy * up * silu'(gate), d_up = dy * silu(gate).
void swiglu_backward(const_view gate, const_view up, const_view dy, view d_gate, view d_up);
/// Backward of softmax(x, o) from its output y: dx = o.scale * y * (dy - sum(dy * y)) (log:
/// o.scale * (dy - exp(y) sum(dy))). Masked entries, whose y is 0, get 0. dx may be dy or y.
void softmax_backward(const_view y, const_view dy, view dx, const softmax_options& o = {});
/// Backward of rms_norm / layer_norm from the forward's x (statistics recomputed in f32):
/// dx, and dgamma (dbeta) += the sums over rows of dy * xhat (dy) when given (cols f32
/// values; empty views for none). gamma as in the forward (empty: 1).
void rms_norm_backward(const_view x, const_view gamma, const_view dy, view dx, view dgamma, const norm_options& o = {});
void layer_norm_backward(const_view x, const_view gamma, const_view dy, view dx, view dgamma, view dbeta,
                         const norm_options& o = {});

// ---- linear layer ----------------------------------------------------------------------------

/// Backward of y = x W^T + b (x: m x k, W: n x k, as nn.Linear stores it), on the GEMM:
/// dx = dy W (when dx is not empty), dW += dy^T x and db += the column sums of dy (when
/// given; f32 accumulators, as training keeps them). x, W and dy share one dtype.
void linear_backward(const_view x, const_view w, const_view dy, view dx, view dw, view db);

// ---- attention -------------------------------------------------------------------------------

/// Attention for training, unfused so that its backward can be taken: per query head h (KV
/// head h / (heads / kv_heads)), P_h = softmax(scale Q_h K^T [causal]) is stored in probs
/// (heads x m x L contiguous f32, what the backward needs) and out_h = P_h V. Shapes and
/// options as attention(q, k, v, out, head_dim); the arithmetic is f32 GEMMs on widened
/// copies (exact for bf16 and f16), out rounded once to its dtype. Memory grows with m x L:
/// for inference, the fused attention of mixprec/attention.hpp.
void attention_forward_saved(const_view q, const_view k, const_view v, view out, view probs, std::int64_t head_dim,
                             const attention_options& o = {});
/// Its backward from the saved probabilities and d_out (q's shape): dV = sum over the group's
/// heads of P^T dO, dP = dO V^T, dS = softmax backward (P, dP), dQ = scale dS K, dK = sum of
/// scale dS^T Q. dq (q's shape), dk and dv (k's shape) are dense f32 outputs, overwritten.
void attention_backward(const_view q, const_view k, const_view v, const_view probs, const_view d_out, view dq, view dk,
                        view dv, std::int64_t head_dim, const attention_options& o = {});

// ---- loss ------------------------------------------------------------------------------------

enum class loss_reduction : std::uint8_t { mean, sum };

struct cross_entropy_options {
  std::int32_t ignore_index = -100;                 // rows with this label add no loss and get zero gradient
  double label_smoothing = 0.0;                     // in [0, 1]: target (1 - s) one-hot + s / classes
  loss_reduction reduction = loss_reduction::mean;  // mean over the rows not ignored
  double grad_scale = 1.0;                          // multiplies the gradient (a loss scale)
};

/// Softmax cross-entropy of logits (rows x classes; f32, bf16 or f16) against labels (an i32
/// view, one per row) forward and backward in one call, never storing the probabilities:
/// returns the reduced loss (0 when every row is ignored) and writes dlogits (same shape and
/// dtype; may be logits itself; an empty view computes the loss only). A label outside
/// [0, classes) that is not ignore_index is refused, naming it and its row.
double cross_entropy(const_view logits, const_view labels, view dlogits, const cross_entropy_options& o = {});

// ---- optimizers ------------------------------------------------------------------------------

/// One trained tensor: f32 master weights (or empty: the model copy is the parameter
/// itself), the model copy the forward reads (f32, bf16 or f16; or empty), and its
/// gradient (f32, bf16 or f16), all contiguous and of one element count.
struct parameter {
  view master;
  view model;
  const_view grad;
};

struct sgd_options {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // coupled: added to the gradient, as torch.optim.SGD
  bool nesterov = false;
  bool stochastic_rounding = false;  // bf16 models: round the new weights stochastically
  std::uint64_t seed = 0;
};

struct adamw_options {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // decoupled: p *= 1 - lr * weight_decay
  bool stochastic_rounding = false;
  std::uint64_t seed = 0;
};

namespace detail {
struct optimizer_state;
struct optimizer_args;
}  // namespace detail

/// What SGD and AdamW share: the list of parameters fixed by the first step (count, sizes and
/// dtypes; a later step with another list is refused before anything changes), f32 state
/// per parameter, the step count.
class optimizer {
 public:
  optimizer(const optimizer&) = delete;
  optimizer& operator=(const optimizer&) = delete;
  virtual ~optimizer();
  /// One step over every parameter in one pass: gradients multiplied by grad_scale first
  /// (1 / a loss scale, when they were not unscaled), new weights written to master and
  /// rounded to model. skip: nothing is read or written (a step whose gradients overflowed).
  void step(const std::vector<parameter>& params, double grad_scale = 1.0, bool skip = false);
  /// Steps taken (skipped ones not counted).
  std::int64_t steps() const;

 protected:
  optimizer();
  /// Checks the hyper-parameters (throwing invalid_argument naming a bad one) and writes
  /// them, for step number t (1 for the first), into the kernel's arguments.
  virtual void prepare(detail::optimizer_args& args, std::int64_t t) const = 0;
  /// f32 state vectors kept per parameter (momentum; AdamW's two moments).
  virtual int state_vectors() const = 0;

 private:
  std::unique_ptr<detail::optimizer_state> state_;
};

/// torch.optim.SGD's update: d = g + wd p; buf = d (first step) or momentum buf + (1 -
/// dampening) d; d = nesterov ? d + momentum buf : buf; p -= lr d.
class sgd final : public optimizer {
 public:
  explicit sgd(const sgd_options& o = {}) : o_(o) {}
  sgd_options& options() { return o_; }

 private:
  void prepare(detail::optimizer_args& args, std::int64_t t) const override;
  int state_vectors() const override { return o_.momentum != 0.0 ? 1 : 0; }
  sgd_options o_;
};

/// torch.optim.AdamW's update: p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class adamw final : public optimizer {
 public:
  explicit adamw(const adamw_options& o = {}) : o_(o) {}
  adamw_options& options() { return o_; }

 private:
  void prepare(detail::optimizer_args& args, std::int64_t t) const override;
  int state_vectors() const override { return 2; }
  adamw_options o_;
};

// ---- dynamic loss scaling --------------------------------------------------------------------

struct loss_scaler_options {
  double initial_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;  // clean steps in a row before the scale grows
};

/// The loss scale of f16 training: the loss is multiplied by scale() before the backward
/// pass so that small gradients do not underflow; unscale() divides the gradients back and
/// says whether they are all finite; update() then halves the scale after a non-finite step
/// (which the optimizer skips) or doubles it after growth_interval finite ones. The scale
/// stays within [2^-126, 2^127]: it never grows to infinity nor shrinks to zero.
class loss_scaler {
 public:
  explicit loss_scaler(const loss_scaler_options& o = {});
  double scale() const { return scale_; }
  /// grads *= 1 / scale() in place, in one pass per tensor that also looks for NaN and
  /// +-inf; returns true when every value is finite.
  bool unscale(const std::vector<view>& grads);
  /// The scale's update after the step the last unscale() judged.
  void update();
  std::int64_t skipped_steps() const { return skipped_; }

 private:
  loss_scaler_options o_;
  double scale_;
  std::int64_t clean_ = 0, skipped_ = 0;
  bool found_ = false, unscaled_ = false;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
