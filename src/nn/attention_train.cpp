// Attention for training (mixprec/train.hpp), unfused so that its backward can be taken from
// the saved probabilities: per query head, GEMM -> softmax -> GEMM forward and GEMM ->
// softmax backward -> GEMMs backward, all in f32 on widened copies of the operands (exact
// for bf16 and f16 inputs). The fused, tiled attention of mixprec/attention.hpp is the
// inference path; this one trades its memory (heads x m x L probabilities) for a backward.
// Every step is an op of the library on buffers in the operands' memory, so it runs wherever
// they live (the CPU, or a CUDA device) without copies across the bus.
#include <cmath>

#include "internal/error_macros.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/train.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

using detail::rows_view;

/// The shapes every call checks: q (m x heads * hd), k and v (L x kv_heads * hd).
struct attention_shape {
  std::int64_t m = 0, L = 0, heads = 0, kv_heads = 0, hd = 0;
  double scale = 1;
};

attention_shape check_shapes(const char* op, const rows_view& q, const rows_view& k, const rows_view& v,
                             std::int64_t head_dim, const attention_options& o) {
  if (head_dim < 1) MIXPREC_THROW(invalid_argument, op, "head_dim ", head_dim, " < 1");
  detail::check_same_shape(op, k, v);
  detail::check_together(op, q, k);
  detail::check_together(op, k, v);
  if (q.cols % head_dim != 0 || q.cols == 0)
    MIXPREC_THROW(shape_mismatch, op, "q has ", q.cols, " columns, not a whole number (>= 1) of heads of ", head_dim);
  if (k.cols % head_dim != 0 || k.cols == 0)
    MIXPREC_THROW(shape_mismatch, op, "k has ", k.cols, " columns, not a whole number (>= 1) of heads of ", head_dim);
  attention_shape s;
  s.m = q.rows, s.L = k.rows, s.hd = head_dim, s.heads = q.cols / head_dim, s.kv_heads = k.cols / head_dim;
  if (s.heads % s.kv_heads != 0)
    MIXPREC_THROW(invalid_argument, op, "q's ", s.heads, " heads are not a multiple of the ", s.kv_heads, " KV heads");
  if (s.m > s.L)
    MIXPREC_THROW(shape_mismatch, op, "q has ", s.m, " tokens but there are only ", s.L,
                  " keys (the queries are the last tokens)");
  if (!(o.scale >= 0) || !std::isfinite(o.scale))
    MIXPREC_THROW(invalid_argument, op, "scale ", o.scale, "; it must be finite and >= 0 (0: 1/sqrt(head_dim))");
  s.scale = o.scale > 0 ? o.scale : 1.0 / std::sqrt(double(head_dim));
  return s;
}

/// An operand that is not a row view (probs, a gradient) in the memory of q's context.
void check_memory(const char* op, const char* name, const context& c, const context& q) {
  if (!c.same_memory(q))
    MIXPREC_THROW(invalid_argument, op, name, " lives in ", name_of(c.kind()), ":", c.device(), " memory but q in ",
                  name_of(q.kind()), ":", q.device(), " memory");
}

/// probs: heads x m x L contiguous f32 (rank 3, or rank 2 of heads * m rows), in q's memory.
float* probs_of(const char* op, const const_view& p, const attention_shape& s, const context& q) {
  if (p.ctx().empty() || p.type() != dtype::f32 || !p.is_contiguous() || p.size() != s.heads * s.m * s.L)
    MIXPREC_THROW(invalid_argument, op, "probs must be ", s.heads, " x ", s.m, " x ", s.L,
                  " contiguous f32 values (heads x queries x keys)");
  check_memory(op, "probs", p.ctx(), q);
  return static_cast<float*>(const_cast<void*>(p.data()));
}

/// Row i of a row operand as a vector view.
const_view row_of(const rows_view& x, std::int64_t i) {
  return const_view(static_cast<const char*>(x.data) + std::size_t(i * x.ld) * size_of(x.type), x.type, {x.cols}, {1},
                    x.ctx);
}

/// A dense f32 copy of a row operand in its memory (exact for every NN storage dtype): one
/// conversion when its rows are contiguous, else one per row.
buffer widened(const rows_view& x) {
  buffer out(dtype::f32, x.rows * x.cols, x.ctx);
  if (x.ld == x.cols || x.rows <= 1) {
    convert(const_view(x.data, x.type, {x.rows * x.cols}, {1}, x.ctx), out.as_view());
  } else {
    for (std::int64_t i = 0; i < x.rows; ++i)
      convert(row_of(x, i), view(static_cast<float*>(out.data()) + i * x.cols, dtype::f32, {x.cols}, {1}, x.ctx));
  }
  return out;
}

/// rows x cols f32 values from p (in ctx's memory), rows ld apart.
view block(float* p, std::int64_t rows, std::int64_t cols, std::int64_t ld, const context& ctx) {
  return view(p, dtype::f32, {rows, cols}, {ld, 1}, ctx);
}
view block(buffer& b, std::int64_t offset, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  return block(static_cast<float*>(b.data()) + offset, rows, cols, ld, b.ctx());
}

/// An f32 gradient output of the given shape, dense, in q's memory.
float* gradient_of(const char* op, const char* name, const view& g, std::int64_t rows, std::int64_t cols,
                   const context& q) {
  if (g.ctx().empty() || g.type() != dtype::f32 || !g.is_contiguous() || g.size() != rows * cols)
    MIXPREC_THROW(invalid_argument, op, name, " must be ", rows, " x ", cols, " contiguous f32 values");
  check_memory(op, name, g.ctx(), q);
  return static_cast<float*>(g.data());
}

}  // namespace

void attention_forward_saved(const_view qv, const_view kv, const_view vv, view outv, view probs, std::int64_t head_dim,
                             const attention_options& o) {
  constexpr const char* op = "attention_forward_saved";
  const rows_view q = detail::rows_of(op, "q", qv), k = detail::rows_of(op, "k", kv), v = detail::rows_of(op, "v", vv);
  const rows_view out = detail::rows_of(op, "out", outv);
  const attention_shape s = check_shapes(op, q, k, v, head_dim, o);
  detail::check_same_shape(op, q, out);
  detail::check_together(op, q, out);
  detail::check_alias(op, out, k);
  detail::check_alias(op, out, v);
  detail::check_alias(op, out, q);
  float* p = probs_of(op, probs, s, q.ctx);
  const context& ctx = q.ctx;
  buffer q32 = widened(q), k32 = widened(k), v32 = widened(v), o32(dtype::f32, s.m * s.heads * s.hd, ctx);
  const std::int64_t group = s.heads / s.kv_heads, qw = s.heads * s.hd, kw = s.kv_heads * s.hd;
  softmax_options so;
  so.causal = o.causal;
  so.causal_offset = s.L - s.m;
  for (std::int64_t h = 0; h < s.heads; ++h) {
    const std::int64_t g = h / group;
    const view ph = block(p + h * s.m * s.L, s.m, s.L, s.L, ctx);
    gemm(trans::no, trans::yes, s.scale, block(q32, h * s.hd, s.m, s.hd, qw), block(k32, g * s.hd, s.L, s.hd, kw), 0.0,
         ph);
    softmax(ph, ph, so);
    gemm(trans::no, trans::no, 1.0, ph, block(v32, g * s.hd, s.L, s.hd, kw), 0.0, block(o32, h * s.hd, s.m, s.hd, qw));
  }
  for (std::int64_t i = 0; i < s.m; ++i)
    convert(const_view(static_cast<const float*>(o32.data()) + i * qw, dtype::f32, {qw}, {1}, ctx),
            view(static_cast<char*>(out.data) + std::size_t(i * out.ld) * size_of(out.type), out.type, {qw}, {1},
                 outv.ctx()));
}

void attention_backward(const_view qv, const_view kv, const_view vv, const_view probs, const_view d_out, view dq,
                        view dk, view dv, std::int64_t head_dim, const attention_options& o) {
  constexpr const char* op = "attention_backward";
  const rows_view q = detail::rows_of(op, "q", qv), k = detail::rows_of(op, "k", kv), v = detail::rows_of(op, "v", vv);
  const rows_view dout = detail::rows_of(op, "d_out", d_out);
  const attention_shape s = check_shapes(op, q, k, v, head_dim, o);
  detail::check_same_shape(op, q, dout);
  check_memory(op, "d_out", dout.ctx, q.ctx);
  const float* p = probs_of(op, probs, s, q.ctx);
  const std::int64_t group = s.heads / s.kv_heads, qw = s.heads * s.hd, kw = s.kv_heads * s.hd;
  float* dq32 = gradient_of(op, "dq", dq, s.m, qw, q.ctx);
  float* dk32 = gradient_of(op, "dk", dk, s.L, kw, q.ctx);
  float* dv32 = gradient_of(op, "dv", dv, s.L, kw, q.ctx);
  const auto span_of = [](const view& g) {
    const char* b = static_cast<const char*>(g.data());
    return std::make_pair(b, b + g.size() * 4);
  };
  const view* outs[] = {&dq, &dk, &dv};
  for (int a = 0; a < 3; ++a)
    for (int b = a + 1; b < 3; ++b) {
      const auto x = span_of(*outs[a]), y = span_of(*outs[b]);
      if (x.first < y.second && y.first < x.second)
        MIXPREC_THROW(invalid_argument, op, "dq, dk and dv must not overlap");
    }
  // Every input is read (widened) before the first gradient is written.
  const context& ctx = q.ctx;
  buffer q32 = widened(q), k32 = widened(k), v32 = widened(v), do32 = widened(dout), dp(dtype::f32, s.m * s.L, ctx);
  fill(dk, 0.0);
  fill(dv, 0.0);
  for (std::int64_t h = 0; h < s.heads; ++h) {
    const std::int64_t g = h / group;
    const view ph = block(const_cast<float*>(p) + h * s.m * s.L, s.m, s.L, s.L, ctx);
    const view doh = block(do32, h * s.hd, s.m, s.hd, qw);
    const view dps = block(dp, 0, s.m, s.L, s.L);
    // dV_g += P^T dO;  dP = dO V^T;  dS = softmax backward (P, dP);  dQ = scale dS K;
    // dK_g += scale dS^T Q
    gemm(trans::yes, trans::no, 1.0, ph, doh, 1.0, block(dv32 + g * s.hd, s.L, s.hd, kw, ctx));
    gemm(trans::no, trans::yes, 1.0, doh, block(v32, g * s.hd, s.L, s.hd, kw), 0.0, dps);
    softmax_backward(ph, dps, dps);
    gemm(trans::no, trans::no, s.scale, dps, block(k32, g * s.hd, s.L, s.hd, kw), 0.0,
         block(dq32 + h * s.hd, s.m, s.hd, qw, ctx));
    gemm(trans::yes, trans::no, s.scale, dps, block(q32, h * s.hd, s.m, s.hd, qw), 1.0,
         block(dk32 + g * s.hd, s.L, s.hd, kw, ctx));
  }
}

}  // namespace mixprec
