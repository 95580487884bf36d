// mixprec/attention.hpp — scaled dot-product attention over a KV cache, for prefill and decode.
//
//   mixprec::kv_cache cache(4096, 8, 128, mixprec::dtype::bf16);  // capacity, KV heads, head dim
//   cache.append(k, v);                        // m tokens x (8 * 128) keys and values (after RoPE)
//   mixprec::attention(q, cache, out);         // q, out: m x (32 * 128); causal, 32 query heads
//
// The m queries are the cache's last m tokens: query i sits at position size() - m + i and,
// causally, sees keys 0 .. that position (decode is m = 1; prefill appends the prompt's m
// keys first). Query heads share KV heads in groups (grouped-query attention): query head h
// reads KV head h / (heads / kv_heads). The kernels walk the keys in blocks with an online
// softmax (running maximum and sum per query, the output rescaled as they change), so no
// m x L score matrix is ever formed and memory does not grow with the sequence.
//
// Numerics: logits scale * (q . k), the softmax and P * V all accumulated in f32, whatever
// q's and the cache's storage (f32, bf16, f16, or i8 with one f32 scale per token and head).
// There is no f16-accumulation mode: it loses real models' long-range scores, and no CPU
// unit runs it faster. With bf16 q and a bf16 cache, a CPU with bf16 dot products
// (AVX512-BF16) multiplies q . k as stored, and rounds each probability to bf16 for P * V,
// as flash attention does on GPUs; both then run on the dot-product units at twice the
// f32 rate (prefill: query rows in tiles; decode steps keep f32 probabilities).
// attention_options::f32_probabilities keeps P in f32. With u = 2^-24, u_T out's unit
// roundoff, u_P = 2^-8 where P may be rounded to bf16 (else 0), s_j = scale (q . k_j) and
// p_j its exp:
//   |out - exact| <= u_T |exact| + (2 delta + (L + 8) u + u_P) * sum_j p_j |v_j| / sum_j p_j,
//   delta = max_j ((d + 4) u scale sum_i |q_i k_ji| + 8 u)
// for exact the f64 attention of q and the values as stored (an i8 cache stores each value
// within half its scale of the appended one), d the head dimension. The bf16 dot products
// read subnormal inputs (|x| < 2^-126) as zero and flush subnormal probabilities, which adds
// at most scale d 2^-126 (max|q| + max|k| + 1) to a logit and L 2^-126 max|v| / sum_j p_j
// to an output.
#pragma once

#include <cstdint>

#include "mixprec/array.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// The keys and values of one sequence, per KV head: [head][token][head_dim] each, in one
/// storage dtype (f32, bf16, f16, or i8 with an f32 scale per token and head: max|x| / 127),
/// in ctx's memory (a CUDA context's: the device's), where the appended rows and attention's
/// q and out must live too.
class kv_cache {
 public:
  kv_cache() = default;
  kv_cache(std::int64_t capacity, std::int64_t kv_heads, std::int64_t head_dim, dtype storage,
           const context& ctx = context::cpu());

  /// Stores m more tokens: k and v are m x (kv_heads * head_dim) row-major views (f32, bf16
  /// or f16; unit column stride), rounded once to the storage dtype. Refused, with the cache
  /// unchanged, when it would pass capacity() or a value is NaN or infinite.
  void append(const_view k, const_view v);
  /// Forgets all tokens from position `tokens` on (0: empty). Capacity is kept.
  void truncate(std::int64_t tokens);
  void clear() { truncate(0); }

  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t kv_heads() const { return kv_heads_; }
  std::int64_t head_dim() const { return head_dim_; }
  dtype storage() const { return storage_; }
  const context& ctx() const { return ctx_; }
  /// Bytes held for keys, values and scales at full capacity.
  std::size_t bytes() const;

  /// The stored keys and values of KV head `head` (their f32 values), size() x head_dim each,
  /// in CPU memory (copied from a device cache).
  void read(std::int64_t head, view keys, view values) const;

  /// Where the kernels read the cache (element offsets: head * capacity * head_dim + token * head_dim).
  const void* key_data() const { return k_.data(); }
  const void* value_data() const { return v_.data(); }
  /// i8 storage: the scales, [head][token]; null otherwise.
  const float* key_scales() const;
  const float* value_scales() const;

 private:
  std::int64_t capacity_ = 0, kv_heads_ = 0, head_dim_ = 0, size_ = 0;
  dtype storage_ = dtype::f32;
  context ctx_;
  buffer k_, v_, k_scale_, v_scale_;
};

struct attention_options {
  double scale = 0;    // logits scale * (q . k); 0: 1 / sqrt(head_dim)
  bool causal = true;  // query i sees keys up to its position (else all keys)
  /// bf16 q and cache only: true multiplies P * V with f32 probabilities (f32 multiply-adds)
  /// where they would be rounded to bf16 for the dot-product units (see Numerics above).
  bool f32_probabilities = false;
};

/// out = softmax(scale q K^T [causal]) V per query head, over the cache's size() tokens; the
/// m rows of q are its last m. q and out: m x (heads * head_dim), row-major with unit column
/// stride, one dtype (f32, bf16, f16); heads a multiple of kv_heads. out may be q (in place).
void attention(const_view q, const kv_cache& cache, view out, const attention_options& o = {});

/// The same over keys and values given as views, L x (kv_heads * head_dim) each (f32, bf16
/// or f16, one dtype): the m queries are positions L - m .. L - 1. kv_heads follows from k's
/// width and head_dim, heads from q's.
void attention(const_view q, const_view k, const_view v, view out, std::int64_t head_dim,
               const attention_options& o = {});

}  // namespace mixprec

MIXPREC_PUBLIC_END
