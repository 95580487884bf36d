// mixprec/nn.hpp — the row-wise layers of a transformer: activations and element-wise ops,
// softmax, RMS and layer normalization.
//
//   mixprec::add_rms_norm(h, attn_out, gamma, h, normed);  // h += attn_out; normed = RMSNorm(h) * gamma
//   mixprec::swiglu(gate, up, act);                       // act = silu(gate) * up
//   mixprec::softmax_options o;
//   o.scale = 1 / std::sqrt(128.0);
//   o.causal = true;                                      // row i sees columns 0..i
//   mixprec::softmax(scores, probs, o);
//
// Operands are rank-1 (one row) or rank-2 row-major views of one storage dtype, f32, bf16
// or f16, with unit column stride and any row stride. Computation is in f32 whatever the
// storage (statistics in f32 or, on request, f64), and each output is rounded once to its
// dtype. y may be the same view as an input (in place); any other overlap is an error.
//
// Accuracy (u_T: the storage's unit roundoff, u: f32's, n: the row length):
//   activations: |y - f(x)| <= (u_T + (32 + 2 x^2) u) |f(x)| + 2^-100 for x as stored (the
//                rounding of exp's argument, up to x^2 in size, of a rounded x; below -80
//                the smooth ones give -0);
//   softmax:     (u_T + (n + 8 + 2 |z_j| + 6 max|z|) u) y_j, z = scale x + mask (u: the
//                statistics' precision); log-softmax u_T |y_j| + (n + 12 + 2 |z_j| + 8 max|z|) u;
//   rms_norm:    (u_T + (n/2 + 8) u) |y_j|;
//   layer_norm:  u_T |y_j| + (n + 8) u |gamma_j| (|x_j - mean| + 2 mean|x|) / sigma + u |beta_j|;
// each plus half T's smallest subnormal where a result underflows.
#pragma once

#include <cstdint>

#include "mixprec/blas1.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

// ---- activations and element-wise ops ------------------------------------------------------

/// y = act(x) element-wise: relu, gelu_erf, gelu_tanh, silu (activation::none copies).
/// relu keeps NaN; every activation propagates NaN and maps +-inf to its limits.
void activate(activation act, const_view x, view y);
/// y = silu(gate) * up (the SwiGLU of llama-style MLPs); all three of one shape.
void swiglu(const_view gate, const_view up, view y);
/// y = a + b and y = a * b. b has a's shape, or broadcasts: one row (1 x cols, or a rank-1
/// view of cols) added to every row, or one column (rows x 1) to every column.
void add(const_view a, const_view b, view y);
void mul(const_view a, const_view b, view y);
/// y = alpha * x.
void scale(double alpha, const_view x, view y);

// ---- softmax ---------------------------------------------------------------------------------

struct softmax_options {
  double scale = 1.0;              // logits z = scale * x + mask
  const_view mask;                 // optional additive mask of x's shape and dtype (or one row)
  bool causal = false;             // z(i, j) = -inf for j > i + causal_offset
  std::int64_t causal_offset = 0;  // the row's position minus its index (a KV cache's length before the rows)
  bool log = false;                // log-softmax: z - max - log(sum exp(z - max))
  accumulation acc = accumulation::standard;  // f32 max and sum; accumulation::f64 sums in f64
};

/// y = softmax(z) along each row (max-subtracted). A row whose every logit is -inf (all
/// masked) gives zeros (log: -inf), never NaN; a NaN logit makes its row NaN.
void softmax(const_view x, view y, const softmax_options& o = {});

// ---- normalization ---------------------------------------------------------------------------

struct norm_options {
  double eps = 1e-6;                          // added to the mean square / variance
  accumulation acc = accumulation::standard;  // f32 statistics; accumulation::f64 for f64
};

/// y = x / sqrt(mean(x^2) + eps) * gamma, per row. gamma: cols f32 values (or an empty view
/// for none).
void rms_norm(const_view x, const_view gamma, view y, const norm_options& o = {});
/// y = (x - mean) / sqrt(var + eps) * gamma + beta, per row (var: the population variance,
/// from a second pass over x - mean). gamma and beta: cols f32 values, or empty views.
void layer_norm(const_view x, const_view gamma, const_view beta, view y, const norm_options& o = {});
/// The pre-norm block's fusion: sum = x + residual (rounded to the storage dtype, as it is
/// stored), then y = rms_norm(sum) or layer_norm(sum); one pass over the inputs. sum may be
/// x or residual (in place).
void add_rms_norm(const_view x, const_view residual, const_view gamma, view sum, view y, const norm_options& o = {});
void add_layer_norm(const_view x, const_view residual, const_view gamma, const_view beta, view sum, view y,
                    const norm_options& o = {});

// ---- rotary position embedding and embedding lookup --------------------------------------

/// Which entries of a head form a rotated pair: (k, k + rot/2) as in GPT-NeoX and Hugging
/// Face llama, or (2k, 2k + 1) as in GPT-J and GGUF's original llama layout.
enum class rope_layout : std::uint8_t { half_split, adjacent };

struct rope_options {
  double theta = 10000.0;  // base: pair k turns by pos * theta^(-2k/rot)
  rope_layout layout = rope_layout::half_split;
  std::int64_t rotary_dims = 0;  // entries of each head rotated (even); 0: all
};

/// Rotates Q or K in place: x is tokens x (heads * head_dim), row-major (unit column
/// stride), and row i is at position positions[i] (an i32 view of one entry per row).
/// Angles and their sines are computed in f64 and rounded once; the rotation is f32:
/// |y - exact| <= u_T |exact| + 4 u (|a| + |b|) for each pair (a, b).
void rope(view x, std::int64_t head_dim, const_view positions, const rope_options& o = {});

/// out row t = table row ids[t], converted to out's dtype (f32, bf16 or f16): table is
/// vocabulary x d (f32, bf16, f16, or i8 with row_scales: one f32 scale per row, the row
/// being scale * q, the product in f32); ids an i32 view. All in one memory (the host's or a
/// device's). An id outside [0, vocabulary) is refused, naming it and its position, before
/// anything is written.
void embedding(const_view table, const_view ids, view out, const_view row_scales = {});

}  // namespace mixprec

MIXPREC_PUBLIC_END
