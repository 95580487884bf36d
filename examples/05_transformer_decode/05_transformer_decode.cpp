// 05_transformer_decode: a llama-style decoder run end to end on mixprec alone — token
// embedding, RMSNorm, Q/K/V projections, rotary embedding, grouped-query attention over a
// KV cache, output projection and residual, RMSNorm, SwiGLU MLP and residual, final norm,
// vocabulary projection, greedy choice. Random weights from a fixed seed, run four ways:
//   f32   weights packed for the f32 GEMM, f32 KV cache;
//   bf16  weights packed as bf16 (activations rounded to bf16 per GEMM), bf16 KV cache;
//   q8_0  weights (and the embedding table) in GGUF's Q8_0 blocks, bf16 KV cache;
//   q4_0  the same in Q4_0.
// Each run prefills a prompt (all its tokens at once) and then decodes greedily, one token at
// a time. Printed per run: prefill and decode tokens/s, weight memory, the deviation of its
// logits from the f32 run's while both have decoded the same tokens (the largest, also
// relative to the largest f32 logit, and the RMS relative to the f32 logits' RMS), and the
// fraction of decoded tokens equal to the f32 run's.
//
// Its own check: the low-precision runs compute what the f32 run computes up to their
// rounding. A weight rounded with relative step q carries an error of about q / sqrt(12) of
// its size, and so does each projection's output; the errors of the layers add like random
// ones. bf16 (q = 2^-7, activations rounded too) keeps the logits within 2 % RMS of the f32
// ones; Q8_0 (a step of 1/127 of a block's largest weight, about 1/50 of a typical one, and
// activations quantized alike) within 4 %; Q4_0 within 35 %: its step, 1/8 of the block's
// largest weight, is about 0.29 of a Gaussian weight's RMS, so each projection is off by about
// 0.29 / sqrt(12) = 8 % RMS, a sublayer chains two projections, and four layers and the
// vocabulary projection add up to about three times that (25 %). Random weights give nearly flat logits, so greedy
// tokens part where two candidates are closer than that: the agreement is printed, not
// checked.
//
// Usage: 05_transformer_decode [layers d_model vocabulary prompt decode]
//        (default 4 1024 8192 128 64: 16 query heads and 4 KV heads of 64, MLP 2816)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

struct config {
  std::int64_t layers = 4, d_model = 1024, vocab = 8192, prompt = 128, decode = 64;
  std::int64_t head_dim = 64, heads = 16, kv_heads = 4, ffn = 2816;
  std::int64_t q_dim() const { return heads * head_dim; }
  std::int64_t kv_dim() const { return kv_heads * head_dim; }
};

/// An n x k weight matrix (y = x W^T), f32, row-major.
struct weight {
  std::int64_t n, k;
  std::vector<float> w;
};

struct layer_weights {
  weight wq, wk, wv, wo, gate, up, down;
  std::vector<float> attn_norm, ffn_norm;
};

struct model_weights {
  weight embedding, lm_head;
  std::vector<float> final_norm;
  std::vector<layer_weights> layers;
};

weight random_weight(std::mt19937& gen, std::int64_t n, std::int64_t k) {
  std::normal_distribution<float> d(0.0f, 1.0f / std::sqrt(float(k)));
  weight m{n, k, std::vector<float>(static_cast<std::size_t>(n * k))};
  for (auto& x : m.w) x = d(gen);
  return m;
}

std::vector<float> random_gamma(std::mt19937& gen, std::int64_t n) {
  std::uniform_real_distribution<float> d(0.8f, 1.2f);
  std::vector<float> g(static_cast<std::size_t>(n));
  for (auto& x : g) x = d(gen);
  return g;
}

model_weights make_model(const config& c) {
  std::mt19937 gen(2024);
  model_weights m;
  m.embedding = random_weight(gen, c.vocab, c.d_model);
  for (auto& x : m.embedding.w) x *= std::sqrt(float(c.d_model));  // embedding rows of unit RMS
  for (std::int64_t l = 0; l < c.layers; ++l) {
    layer_weights L;
    L.wq = random_weight(gen, c.q_dim(), c.d_model);
    L.wk = random_weight(gen, c.kv_dim(), c.d_model);
    L.wv = random_weight(gen, c.kv_dim(), c.d_model);
    L.wo = random_weight(gen, c.d_model, c.q_dim());
    L.gate = random_weight(gen, c.ffn, c.d_model);
    L.up = random_weight(gen, c.ffn, c.d_model);
    L.down = random_weight(gen, c.d_model, c.ffn);
    L.attn_norm = random_gamma(gen, c.d_model);
    L.ffn_norm = random_gamma(gen, c.d_model);
    m.layers.push_back(std::move(L));
  }
  m.final_norm = random_gamma(gen, c.d_model);
  m.lm_head = random_weight(gen, c.vocab, c.d_model);
  return m;
}

enum class precision { f32, bf16, q8_0, q4_0 };
const char* name_of(precision p) {
  switch (p) {
    case precision::f32:
      return "f32";
    case precision::bf16:
      return "bf16";
    case precision::q8_0:
      return "q8_0";
    default:
      return "q4_0";
  }
}

/// One weight matrix as the run keeps it, and y = x W^T on it (x, y f32, row-major).
class linear {
 public:
  linear(const weight& w, precision p) : p_(p), n_(w.n), k_(w.k) {
    const const_view wv = make_view(w.w.data(), {w.n, w.k});
    if (p == precision::f32) {
      packed_ = packed_matrix::pack(wv, trans::yes);
    } else if (p == precision::bf16) {
      std::vector<bfloat16> wb(w.w.size());
      convert(make_view(w.w.data(), std::int64_t(w.w.size())), make_view(wb.data(), std::int64_t(wb.size())));
      packed_ = packed_matrix::pack(make_view(wb.data(), {w.n, w.k}), trans::yes);
    } else {
      blocks_ = block_matrix::quantize(wv, p == precision::q8_0 ? block_format::q8_0 : block_format::q4_0);
    }
  }
  std::size_t bytes() const { return packed_.empty() ? blocks_.bytes() : packed_.bytes(); }

  void operator()(const std::vector<float>& x, std::int64_t m, std::vector<float>& y) const {
    y.resize(static_cast<std::size_t>(m * n_));
    const view yv = make_view(y.data(), {m, n_});
    if (p_ == precision::f32) {
      gemm(trans::no, 1.0, make_view(x.data(), {m, k_}), packed_, 0.0, yv);
    } else if (p_ == precision::bf16) {
      x_bf16_.resize(static_cast<std::size_t>(m * k_));
      convert(make_view(x.data(), m * k_), make_view(x_bf16_.data(), m * k_));
      gemm(trans::no, 1.0, make_view(x_bf16_.data(), {m, k_}), packed_, 0.0, yv);
    } else {
      matmul(make_view(x.data(), {m, k_}), blocks_, yv);
    }
  }

 private:
  precision p_;
  std::int64_t n_, k_;
  packed_matrix packed_;
  block_matrix blocks_;
  mutable std::vector<bfloat16> x_bf16_;
};

struct layer_state {
  linear wq, wk, wv, wo, gate, up, down;
  const layer_weights* src;
  kv_cache cache;
};

/// A model in one precision with its caches, run token chunk by token chunk.
class decoder {
 public:
  decoder(const config& c, const model_weights& m, precision p) : c_(c), m_(m), p_(p), lm_head_(m.lm_head, p) {
    const dtype cache_type = p == precision::f32 ? dtype::f32 : dtype::bf16;
    for (const layer_weights& L : m.layers)
      layers_.push_back(layer_state{linear(L.wq, p), linear(L.wk, p), linear(L.wv, p), linear(L.wo, p),
                                    linear(L.gate, p), linear(L.up, p), linear(L.down, p), &L,
                                    kv_cache(c.prompt + c.decode, c.kv_heads, c.head_dim, cache_type)});
    const const_view table = make_view(m.embedding.w.data(), {c.vocab, c.d_model});
    if (p == precision::bf16) {
      table_bf16_.resize(m.embedding.w.size());
      convert(make_view(m.embedding.w.data(), std::int64_t(m.embedding.w.size())),
              make_view(table_bf16_.data(), std::int64_t(table_bf16_.size())));
    } else if (p != precision::f32) {
      table_blocks_ = block_matrix::quantize(table, p == precision::q8_0 ? block_format::q8_0 : block_format::q4_0);
    }
  }

  /// Bytes of every weight as this run keeps it (matrices, embedding table, norms).
  std::size_t weight_bytes() const {
    std::size_t b = lm_head_.bytes() + 4 * m_.final_norm.size();
    for (const layer_state& L : layers_)
      b += L.wq.bytes() + L.wk.bytes() + L.wv.bytes() + L.wo.bytes() + L.gate.bytes() + L.up.bytes() + L.down.bytes() +
           4 * (L.src->attn_norm.size() + L.src->ffn_norm.size());
    if (p_ == precision::f32) b += 4 * m_.embedding.w.size();
    if (p_ == precision::bf16) b += 2 * table_bf16_.size();
    if (p_ == precision::q8_0 || p_ == precision::q4_0) b += table_blocks_.bytes();
    return b;
  }

  /// Runs tokens at positions pos0 .. pos0 + m - 1 through the model; returns the logits of
  /// the last one.
  std::vector<float> forward(const std::vector<std::int32_t>& tokens, std::int64_t pos0) {
    const std::int64_t m = std::int64_t(tokens.size()), d = c_.d_model;
    std::vector<std::int32_t> pos(tokens.size());
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = std::int32_t(pos0 + std::int64_t(i));
    const const_view ids = make_view(tokens.data(), m), positions = make_view(pos.data(), m);
    h_.resize(static_cast<std::size_t>(m * d));
    const view h = make_view(h_.data(), {m, d});
    if (p_ == precision::f32)
      embedding(make_view(m_.embedding.w.data(), {c_.vocab, d}), ids, h);
    else if (p_ == precision::bf16)
      embedding(make_view(table_bf16_.data(), {c_.vocab, d}), ids, h);
    else
      embedding(table_blocks_, ids, h);
    xn_.resize(h_.size());
    const view xn = make_view(xn_.data(), {m, d});
    rope_options ro;
    for (layer_state& L : layers_) {
      rms_norm(h, make_view(L.src->attn_norm.data(), d), xn);
      L.wq(xn_, m, q_);
      L.wk(xn_, m, k_);
      L.wv(xn_, m, v_);
      const view q = make_view(q_.data(), {m, c_.q_dim()}), k = make_view(k_.data(), {m, c_.kv_dim()});
      rope(q, c_.head_dim, positions, ro);
      rope(k, c_.head_dim, positions, ro);
      L.cache.append(k, make_view(v_.data(), {m, c_.kv_dim()}));
      attention(q, L.cache, q);  // in place: q becomes the heads' outputs
      L.wo(q_, m, o_);
      // h += attention output; xn = RMSNorm(h): the fused pre-norm step.
      add_rms_norm(make_view(o_.data(), {m, d}), h, make_view(L.src->ffn_norm.data(), d), h, xn);
      L.gate(xn_, m, gate_);
      L.up(xn_, m, up_);
      const view g = make_view(gate_.data(), {m, c_.ffn});
      swiglu(g, make_view(up_.data(), {m, c_.ffn}), g);
      L.down(gate_, m, o_);
      add(h, make_view(o_.data(), {m, d}), h);
    }
    // Only the last token's logits are needed.
    std::vector<float> last(h_.end() - d, h_.end()), normed(static_cast<std::size_t>(d)), logits;
    rms_norm(make_view(last.data(), {1, d}), make_view(m_.final_norm.data(), d), make_view(normed.data(), {1, d}));
    lm_head_(normed, 1, logits);
    return logits;
  }

 private:
  const config& c_;
  const model_weights& m_;
  precision p_;
  linear lm_head_;
  std::vector<layer_state> layers_;
  std::vector<bfloat16> table_bf16_;
  block_matrix table_blocks_;
  std::vector<float> h_, xn_, q_, k_, v_, o_, gate_, up_;
};

std::int32_t argmax(const std::vector<float>& v) {
  return std::int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

struct run_result {
  std::vector<std::int32_t> tokens;        // decoded
  std::vector<std::vector<float>> logits;  // before each decoded token
  double prefill_s = 0, decode_s = 0;
  std::size_t weight_bytes = 0;
};

run_result run(const config& c, const model_weights& m, precision p, const std::vector<std::int32_t>& prompt) {
  decoder dec(c, m, p);
  run_result r;
  r.weight_bytes = dec.weight_bytes();
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  std::vector<float> logits = dec.forward(prompt, 0);
  const auto t1 = clock::now();
  r.prefill_s = std::chrono::duration<double>(t1 - t0).count();
  for (std::int64_t i = 0; i < c.decode; ++i) {
    const std::int32_t next = argmax(logits);
    r.logits.push_back(logits);
    r.tokens.push_back(next);
    if (i + 1 < c.decode) logits = dec.forward({next}, c.prompt + i);
  }
  r.decode_s = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  config c;
  if (argc > 1) {
    if (argc != 6) {
      std::fprintf(stderr, "usage: %s [layers d_model vocabulary prompt decode]\n", argv[0]);
      return 2;
    }
    c.layers = std::atoll(argv[1]);
    c.d_model = std::atoll(argv[2]);
    c.vocab = std::atoll(argv[3]);
    c.prompt = std::atoll(argv[4]);
    c.decode = std::atoll(argv[5]);
    c.heads = c.d_model / c.head_dim;
    c.kv_heads = std::max<std::int64_t>(1, c.heads / 4);
    c.ffn = (c.d_model * 11 / 4 + 31) / 32 * 32;  // about 8/3 d, as llama, whole Q4_0 blocks
  }
  if (c.layers < 1 || c.d_model < 64 || c.d_model % 64 != 0 || c.vocab < 2 || c.prompt < 1 || c.decode < 1) {
    std::fprintf(stderr, "need layers >= 1, d_model a multiple of 64, vocabulary >= 2, prompt and decode >= 1\n");
    return 2;
  }
  try {
    std::printf(
        "llama-style decoder: %lld layers, d_model %lld, %lld query heads and %lld KV heads of %lld, MLP %lld, "
        "vocabulary %lld; prompt %lld tokens, %lld decoded greedily\n",
        (long long)c.layers, (long long)c.d_model, (long long)c.heads, (long long)c.kv_heads, (long long)c.head_dim,
        (long long)c.ffn, (long long)c.vocab, (long long)c.prompt, (long long)c.decode);
    const model_weights m = make_model(c);
    std::mt19937 gen(7);
    std::uniform_int_distribution<std::int32_t> tok(0, std::int32_t(c.vocab - 1));
    std::vector<std::int32_t> prompt(static_cast<std::size_t>(c.prompt));
    for (auto& t : prompt) t = tok(gen);

    const precision all[] = {precision::f32, precision::bf16, precision::q8_0, precision::q4_0};
    const double limit[] = {0.0, 0.02, 0.04, 0.35};
    run_result ref;
    bool ok = true;
    std::printf("%-7s %10s %10s %12s %20s %11s %12s\n", "weights", "prefill/s", "decode/s", "weights MiB",
                "max logit dev", "RMS dev", "same tokens");
    for (int i = 0; i < 4; ++i) {
      run_result r = run(c, m, all[i], prompt);
      if (i == 0) ref = r;
      // Deviation over the steps whose context is the same as the f32 run's: the largest,
      // relative to the largest f32 logit, and the RMS relative to the f32 logits' RMS.
      double dev = 0, top = 0, err2 = 0, ref2 = 0;
      std::int64_t same = 0;
      bool context_same = true;
      for (std::size_t s = 0; s < r.tokens.size(); ++s) {
        if (context_same)
          for (std::size_t j = 0; j < r.logits[s].size(); ++j) {
            const double e = double(r.logits[s][j]) - double(ref.logits[s][j]), x = double(ref.logits[s][j]);
            dev = std::max(dev, std::fabs(e));
            top = std::max(top, std::fabs(x));
            err2 += e * e;
            ref2 += x * x;
          }
        if (r.tokens[s] == ref.tokens[s]) ++same;
        context_same = context_same && r.tokens[s] == ref.tokens[s];
      }
      const double rel_max = top > 0 ? dev / top : 0, rel_rms = ref2 > 0 ? std::sqrt(err2 / ref2) : 0;
      std::printf("%-7s %10.1f %10.1f %12.1f %9.2e (%4.1f%%) %10.2f%% %11.0f%%\n", name_of(all[i]),
                  double(c.prompt) / r.prefill_s, double(c.decode) / r.decode_s, double(r.weight_bytes) / (1 << 20),
                  dev, 100 * rel_max, 100 * rel_rms, 100.0 * double(same) / double(c.decode));
      if (rel_rms > limit[i]) {
        std::printf("FAIL: %s logits deviate from the f32 ones by %.2f%% RMS (limit %.0f%%)\n", name_of(all[i]),
                    100 * rel_rms, 100 * limit[i]);
        ok = false;
      }
    }
    std::printf(ok ? "OK\n" : "FAILED\n");
    return ok ? 0 : 1;
  } catch (const mixprec::error& e) {
    std::fprintf(stderr, "mixprec error: %s\n", e.what());
    return 1;
  }
}
