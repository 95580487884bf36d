// Front ends of attention (mixprec/attention.hpp): heads, shapes, dtypes, memory and
// finiteness checked here, then one kernel call over every KV head and query row.
#include <cmath>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/attention.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

using detail::rows_view;

struct attention_problem {};

/// Checks q and out against head_dim and kv_heads, and fills the query side of the args.
detail::attention_args query_side(const char* op, const rows_view& q, const rows_view& out, std::int64_t head_dim,
                                  std::int64_t kv_heads, std::int64_t kv_len, const attention_options& o) {
  detail::check_same_shape(op, q, out);
  detail::check_together(op, q, out);
  detail::check_alias(op, out, q);
  if (q.cols % head_dim != 0)
    MIXPREC_THROW(shape_mismatch, op, "q has ", q.cols, " columns, not a whole number of heads of ", head_dim);
  const std::int64_t heads = q.cols / head_dim;
  if (heads % kv_heads != 0)
    MIXPREC_THROW(invalid_argument, op, "q's ", heads, " heads are not a multiple of the ", kv_heads,
                  " KV heads (each KV head serves heads / kv_heads query heads)");
  if (q.rows > kv_len)
    MIXPREC_THROW(shape_mismatch, op, "q has ", q.rows, " tokens but there are only ", kv_len,
                  " keys: the queries are the last tokens, so their keys and values come first");
  if (!(o.scale >= 0) || !std::isfinite(o.scale))
    MIXPREC_THROW(invalid_argument, op, "scale ", o.scale, "; it must be finite and >= 0 (0: 1/sqrt(head_dim))");
  detail::check_finite_rows(op, q, head_dim);
  detail::attention_args a{};
  a.m = q.rows;
  a.heads = heads;
  a.kv_heads = kv_heads;
  a.head_dim = head_dim;
  a.kv_len = kv_len;
  a.q = q.data;
  a.ldq = q.ld;
  a.out = out.data;
  a.ldo = out.ld;
  a.scale = float(o.scale > 0 ? o.scale : 1.0 / std::sqrt(double(head_dim)));
  a.causal = o.causal;
  a.f32_probabilities = o.f32_probabilities;
  return a;
}

void run(const rows_view& q, dtype kv_type, const detail::attention_args& a) {
  const attention_problem problem;
  detail::dispatch<detail::op_id::attention>(
      *detail::state_of(q.ctx), kv_type, q.type, &problem, accumulation::standard,
      [&](detail::kernel_fn_t<detail::op_id::attention> kernel, const detail::exec_args& ex) { kernel(ex, a); },
      [&] {
        return std::make_pair(detail::cat(name_of(kv_type), "/", name_of(q.type)),
                              detail::cat("m", a.m, "_L", a.kv_len, "_h", a.heads, "/", a.kv_heads, "x", a.head_dim));
      });
}

}  // namespace

void attention(const_view qv, const kv_cache& cache, view outv, const attention_options& o) {
  const char* op = "attention";
  const rows_view q = detail::rows_of(op, "q", qv), out = detail::rows_of(op, "out", outv);
  if (cache.kv_heads() == 0) MIXPREC_THROW(invalid_argument, op, "the cache was default-constructed (no heads)");
  if (!q.ctx.same_memory(cache.ctx()))
    MIXPREC_THROW(invalid_argument, op, "q lives in another memory space than the cache");
  detail::attention_args a = query_side(op, q, out, cache.head_dim(), cache.kv_heads(), cache.size(), o);
  a.k = cache.key_data();
  a.v = cache.value_data();
  a.k_head_stride = a.v_head_stride = cache.capacity() * cache.head_dim();
  a.k_token_stride = a.v_token_stride = cache.head_dim();
  a.k_scales = cache.key_scales();
  a.v_scales = cache.value_scales();
  a.scale_head_stride = cache.capacity();
  run(q, cache.storage(), a);
}

void attention(const_view qv, const_view kv, const_view vv, view outv, std::int64_t head_dim,
               const attention_options& o) {
  const char* op = "attention";
  const rows_view q = detail::rows_of(op, "q", qv), out = detail::rows_of(op, "out", outv);
  const rows_view k = detail::rows_of(op, "k", kv), v = detail::rows_of(op, "v", vv);
  if (head_dim < 1) MIXPREC_THROW(invalid_argument, op, "head_dim ", head_dim, " < 1");
  detail::check_same_shape(op, k, v);
  detail::check_together(op, k, v);
  if (!q.ctx.same_memory(k.ctx)) MIXPREC_THROW(invalid_argument, op, "q lives in another memory space than k");
  detail::check_alias(op, out, k);
  detail::check_alias(op, out, v);
  if (k.cols % head_dim != 0 || k.cols == 0)
    MIXPREC_THROW(shape_mismatch, op, "k has ", k.cols, " columns, not a whole number (>= 1) of heads of ", head_dim);
  detail::attention_args a = query_side(op, q, out, head_dim, k.cols / head_dim, k.rows, o);
  detail::check_finite_rows(op, k, head_dim);
  detail::check_finite_rows(op, v, head_dim);
  a.k = k.data;
  a.v = v.data;
  a.k_head_stride = a.v_head_stride = head_dim;
  a.k_token_stride = k.ld;
  a.v_token_stride = v.ld;
  run(q, k.type, a);
}

}  // namespace mixprec
