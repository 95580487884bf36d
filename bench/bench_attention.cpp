// Attention benchmarks (mixprec/attention.hpp), llama-style shapes: 32 query heads of 128,
// 8 KV heads.
//
//   nn/attention/decode/<cache dtype>/L4096   one token against 4096 cached ones; bytes: the
//       cache's keys, values and scales (what bounds decode), reported against the triad.
//       The loop cycles through copies of the cache, so that each call reads it from memory.
//   nn/attention/decode/bf16/L4096/kv1         the same with multi-query heads (8 query heads,
//       one KV head): one task, its keys split over the threads and merged.
//   nn/attention/prefill/bf16/m2048            a 2048-token causal prompt; FLOPs: 4 d per
//       (query, visible key) pair and head, the unmasked half only.
//   nn/attention/prefill/bf16/m2048/unfused    the same by our GEMM, softmax and GEMM per
//       head (scores formed in full, masked by the softmax): the peer; its counter
//       gemm_FLOP/s is the rate of its two GEMMs alone (full m x m, masked half included).
#include <chrono>
#include <cmath>
#include <vector>

#include "bench_common.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/nn.hpp"

namespace mixprec::bench {
namespace {

constexpr std::int64_t heads = 32, kv_heads = 8, head_dim = 128;
constexpr std::int64_t q_dim = heads * head_dim, kv_dim = kv_heads * head_dim;

/// Deterministic values in about [-1, 1] of dtype t.
void fill_wave(buffer& b, double phase) {
  std::vector<float> host(static_cast<std::size_t>(b.size()));
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = float(std::sin(0.37 * double(i) + phase));
  convert(make_view(host.data(), b.size()), b.as_view());
}

view rows_of(buffer& b, std::int64_t rows, std::int64_t cols) {
  return view(b.data(), b.type(), {rows, cols}, {cols, 1}, b.ctx());
}

void bench_decode(benchmark::State& state, dtype storage, std::int64_t heads = mixprec::bench::heads,
                  std::int64_t kv_heads = mixprec::bench::kv_heads) {
  const std::int64_t L = 4096, q_dim = heads * head_dim, kv_dim = kv_heads * head_dim;
  buffer k(dtype::f32, L * kv_dim), v(dtype::f32, L * kv_dim), q(dtype::f32, q_dim), out(dtype::f32, q_dim);
  fill_wave(k, 0.0);
  fill_wave(v, 1.0);
  fill_wave(q, 2.0);
  std::vector<kv_cache> caches;
  const std::size_t one = kv_cache(L, kv_heads, head_dim, storage).bytes();
  for (int c = weight_copies_beyond_cache(one); c > 0; --c) {
    caches.emplace_back(L, kv_heads, head_dim, storage);
    caches.back().append(rows_of(k, L, kv_dim), rows_of(v, L, kv_dim));
  }
  const view qv = rows_of(q, 1, q_dim), ov = rows_of(out, 1, q_dim);
  run_cycling(
      state, caches, [&](const kv_cache& c) { attention(qv, c, ov); }, double(one), 4.0 * double(heads * head_dim * L),
      "cache_copies");
}

/// FLOPs of causal attention over m tokens counting visible (query, key) pairs only.
double causal_flops(std::int64_t m) { return 4.0 * double(head_dim * heads) * double(m) * double(m + 1) / 2; }

void bench_prefill(benchmark::State& state, std::int64_t m) {
  buffer q(dtype::bf16, m * q_dim), k(dtype::bf16, m * kv_dim), v(dtype::bf16, m * kv_dim), out(dtype::bf16, m * q_dim);
  fill_wave(q, 0.0);
  fill_wave(k, 1.0);
  fill_wave(v, 2.0);
  kv_cache cache(m, kv_heads, head_dim, dtype::bf16);
  cache.append(rows_of(k, m, kv_dim), rows_of(v, m, kv_dim));
  const view qv = rows_of(q, m, q_dim), ov = rows_of(out, m, q_dim);
  attention(qv, cache, ov);
  loop_timer timer;
  for (auto _ : state) {
    attention(qv, cache, ov);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, double(q.bytes() + k.bytes() + v.bytes() + out.bytes()), causal_flops(m));
}

/// Per head: S = scale Q_h K_g^T (f32), P = softmax(S, causal) rounded to bf16, O_h = P V_g.
void bench_prefill_unfused(benchmark::State& state, std::int64_t m) {
  buffer q(dtype::bf16, m * q_dim), k(dtype::bf16, m * kv_dim), v(dtype::bf16, m * kv_dim), out(dtype::f32, m * q_dim);
  buffer s(dtype::f32, m * m), p(dtype::bf16, m * m);
  fill_wave(q, 0.0);
  fill_wave(k, 1.0);
  fill_wave(v, 2.0);
  const double scale = 1.0 / std::sqrt(double(head_dim));
  softmax_options so;
  so.causal = true;
  const view sv = rows_of(s, m, m), pv = rows_of(p, m, m);
  double gemm_seconds = 0;
  auto run = [&] {
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t g = h / (heads / kv_heads);
      auto* qh = static_cast<bfloat16*>(q.data()) + h * head_dim;
      auto* kg = static_cast<bfloat16*>(k.data()) + g * head_dim;
      auto* vg = static_cast<bfloat16*>(v.data()) + g * head_dim;
      auto* oh = static_cast<float*>(out.data()) + h * head_dim;
      const auto t0 = std::chrono::steady_clock::now();
      gemm(trans::no, trans::yes, scale, make_view(qh, {m, head_dim}, {q_dim, 1}),
           make_view(kg, {m, head_dim}, {kv_dim, 1}), 0.0, sv);
      const auto t1 = std::chrono::steady_clock::now();
      softmax(sv, sv, so);
      convert(sv, pv);
      const auto t2 = std::chrono::steady_clock::now();
      gemm(trans::no, trans::no, 1.0, pv, make_view(vg, {m, head_dim}, {kv_dim, 1}), 0.0,
           make_view(oh, {m, head_dim}, {q_dim, 1}));
      const auto t3 = std::chrono::steady_clock::now();
      gemm_seconds += std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count();
    }
  };
  run();
  gemm_seconds = 0;
  loop_timer timer;
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, double(q.bytes() + k.bytes() + v.bytes() + out.bytes()), causal_flops(m));
  state.counters["gemm_FLOP/s"] = 4.0 * double(head_dim * heads) * double(m) * double(m) * double(state.iterations()) /
                                  std::max(gemm_seconds, 1e-9);
}

int register_all() {
  for (dtype t : {dtype::f32, dtype::bf16, dtype::f16, dtype::i8})
    register_wall_ms(std::string("nn/attention/decode/") + name_of(t) + "/L4096",
                     [t](benchmark::State& st) { bench_decode(st, t); });
  register_wall_ms("nn/attention/decode/bf16/L4096/kv1",
                   [](benchmark::State& st) { bench_decode(st, dtype::bf16, 8, 1); });
  register_wall_ms("nn/attention/prefill/bf16/m2048", [](benchmark::State& st) { bench_prefill(st, 2048); });
  register_wall_ms("nn/attention/prefill/bf16/m2048/unfused",
                   [](benchmark::State& st) { bench_prefill_unfused(st, 2048); });
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
