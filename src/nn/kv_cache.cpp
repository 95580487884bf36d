// The KV cache (mixprec/attention.hpp): per KV head, [token][head_dim] keys and values in the
// storage dtype; i8 with one f32 scale per token and head, in the cache's context's memory.
// Appends are checked whole (shape, dtype, capacity, finiteness) before the first value is
// stored, and stored by the append kernel of that memory (attention_lanes.hpp's bodies).
#include <algorithm>
#include <cmath>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/float16.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

bool is_cache_storage(dtype t) { return t == dtype::f32 || t == dtype::bf16 || t == dtype::f16 || t == dtype::i8; }

}  // namespace

kv_cache::kv_cache(std::int64_t capacity, std::int64_t kv_heads, std::int64_t head_dim, dtype storage,
                   const context& ctx)
    : capacity_(capacity), kv_heads_(kv_heads), head_dim_(head_dim), storage_(storage), ctx_(ctx) {
  const char* op = "kv_cache";
  if (capacity < 0 || kv_heads < 1 || head_dim < 1)
    MIXPREC_THROW(invalid_argument, op, "capacity ", capacity, ", kv_heads ", kv_heads, ", head_dim ", head_dim,
                  ": the capacity must be >= 0, the heads and head dimension >= 1");
  if (!is_cache_storage(storage))
    MIXPREC_THROW(unsupported, op, "storage ", name_of(storage), "; a KV cache stores f32, bf16, f16 or i8");
  if (ctx.empty()) MIXPREC_THROW(invalid_argument, op, "the context is empty");
  const std::int64_t n = capacity * kv_heads * head_dim;
  k_ = buffer(storage, n, ctx);
  v_ = buffer(storage, n, ctx);
  if (storage == dtype::i8) {
    k_scale_ = buffer(dtype::f32, capacity * kv_heads, ctx);
    v_scale_ = buffer(dtype::f32, capacity * kv_heads, ctx);
  }
}

std::size_t kv_cache::bytes() const { return k_.bytes() + v_.bytes() + k_scale_.bytes() + v_scale_.bytes(); }

const float* kv_cache::key_scales() const {
  return storage_ == dtype::i8 ? static_cast<const float*>(k_scale_.data()) : nullptr;
}
const float* kv_cache::value_scales() const {
  return storage_ == dtype::i8 ? static_cast<const float*>(v_scale_.data()) : nullptr;
}

void kv_cache::truncate(std::int64_t tokens) {
  if (tokens < 0 || tokens > size_)
    MIXPREC_THROW(invalid_argument, "kv_cache::truncate", "to ", tokens, " tokens; the cache holds ", size_);
  size_ = tokens;
}

void kv_cache::append(const_view k, const_view v) {
  const char* op = "kv_cache::append";
  if (kv_heads_ == 0) MIXPREC_THROW(invalid_argument, op, "the cache was default-constructed (no heads)");
  const detail::rows_view kr = detail::rows_of(op, "k", k), vr = detail::rows_of(op, "v", v);
  detail::check_same_shape(op, kr, vr);
  if (!kr.ctx.same_memory(ctx_) || !vr.ctx.same_memory(ctx_))
    MIXPREC_THROW(invalid_argument, op, "k and v must be in the cache's memory (", name_of(ctx_.kind()), ":",
                  ctx_.device(), ")");
  const std::int64_t kv_dim = kv_heads_ * head_dim_;
  if (kr.cols != kv_dim)
    MIXPREC_THROW(shape_mismatch, op, "k has ", kr.cols, " columns; the cache takes ", kv_heads_, " heads x ",
                  head_dim_, " = ", kv_dim);
  const std::int64_t m = kr.rows;
  if (m > capacity_ - size_)
    MIXPREC_THROW(invalid_argument, op, "appending ", m, " tokens to a cache holding ", size_, " of its capacity ",
                  capacity_, " would overflow it");
  detail::check_finite_rows(op, kr, head_dim_);
  detail::check_finite_rows(op, vr, head_dim_);
  if (m == 0) return;
  auto store = [&](const detail::rows_view& x, buffer& dst, buffer& scales) {
    const detail::kv_append_args a{
        m,         kv_heads_,  head_dim_,
        capacity_, size_,      x.data,
        x.ld,      dst.data(), storage_ == dtype::i8 ? static_cast<float*>(scales.data()) : nullptr};
    detail::dispatch<detail::op_id::kv_append>(
        *detail::state_of(ctx_), storage_, x.type, nullptr, accumulation::standard,
        [&](detail::kernel_fn_t<detail::op_id::kv_append> kernel, const detail::exec_args& ex) { kernel(ex, a); },
        [&] {
          return std::make_pair(detail::cat(name_of(storage_), "/", name_of(x.type)),
                                detail::cat("m", m, "_h", kv_heads_, "x", head_dim_));
        });
  };
  store(kr, k_, k_scale_);
  store(vr, v_, v_scale_);
  size_ += m;
}

void kv_cache::read(std::int64_t head, view keys, view values) const {
  const char* op = "kv_cache::read";
  if (head < 0 || head >= kv_heads_) MIXPREC_THROW(invalid_argument, op, "head ", head, " of ", kv_heads_);
  for (const view* x : {&keys, &values}) {
    if (x->type() != dtype::f32 || x->rank() != 2 || x->extent(0) != size_ || x->extent(1) != head_dim_ ||
        x->stride(1) != 1 || x->ctx().empty() || x->ctx().kind() != backend::cpu)
      MIXPREC_THROW(shape_mismatch, op, "keys and values must be ", size_, " x ", head_dim_,
                    " f32 row-major CPU views");
  }
  // The head's tokens, copied to the host first where the cache lives on a device.
  const context host = context::cpu();
  auto head_on_host = [&](const buffer& src, std::int64_t per_token) {
    const std::int64_t n = size_ * per_token;
    buffer out(src.type(), n, host);
    if (n > 0)
      copy(const_view(static_cast<const char*>(src.data()) + head * capacity_ * per_token * size_of(src.type()),
                      src.type(), {n}, {1}, ctx_),
           out.as_view());
    return out;
  };
  auto fill = [&](const buffer& src, const buffer& scales, const view& out) {
    const buffer x = head_on_host(src, head_dim_);
    const buffer s = storage_ == dtype::i8 ? head_on_host(scales, 1) : buffer();
    float* o = static_cast<float*>(out.data());
    for (std::int64_t t = 0; t < size_; ++t)
      for (std::int64_t d = 0; d < head_dim_; ++d) {
        const std::int64_t i = t * head_dim_ + d;
        float v;
        if (storage_ == dtype::i8)
          v = static_cast<const float*>(s.data())[t] * float(static_cast<const std::int8_t*>(x.data())[i]);
        else
          v = detail::with_storage(storage_, [&](auto tag) { return detail::at<decltype(tag)>(x.data(), i); });
        o[t * out.stride(0) + d] = v;
      }
  };
  fill(k_, k_scale_, keys);
  fill(v_, v_scale_, values);
}

}  // namespace mixprec
