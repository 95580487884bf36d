// 03_int8_inference: a small MLP (three layers, bias + GELU between them) run three ways on
// the same generated weights: f32, bf16 (weights and activations in bf16, f32 accumulation)
// and int8 (weights quantized per output channel to s8, activations quantized per tensor
// to u8 with a zero point, chosen from the data at each layer; s32 accumulation, dequantized
// in the epilogue). Weights are packed once (mixprec::packed_matrix), as an inference engine
// keeps them. Prints the time per forward pass and how far the bf16 and int8 outputs are
// from the f32 one, relative to the largest f32 output.
//
// Its own check: a working low-precision pipeline stays within a few quantization steps of
// f32. Each layer's int8 error is about one step of 1/127 of the weight and 1/255 of the
// activation range, growing by sqrt(k) as random rounding errors do, and shrinking again
// relative to an output that grows by the same sqrt(k): about 1 % per layer. The program
// fails if int8 deviates by more than 5 % or bf16 by more than 2 % (bf16 keeps 8 bits).
//
// Usage: 03_int8_inference [tokens] [repeats]      (default: 32 20)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

struct layer {
  std::int64_t in, out;
  std::vector<float> weight;  // in x out, row-major (k x n)
  std::vector<float> bias;    // out
};

std::vector<layer> make_mlp(const std::vector<std::int64_t>& widths) {
  std::mt19937 gen(42);
  std::vector<layer> net;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    layer L{widths[l], widths[l + 1], {}, {}};
    std::normal_distribution<float> w(0.0f, 1.0f / std::sqrt(float(L.in)));
    L.weight.resize(std::size_t(L.in * L.out));
    for (auto& v : L.weight) v = w(gen);
    std::normal_distribution<float> b(0.0f, 0.1f);
    L.bias.resize(std::size_t(L.out));
    for (auto& v : L.bias) v = b(gen);
    net.push_back(std::move(L));
  }
  return net;
}

/// Per precision: packed weights and what the epilogues need.
struct f32_layer {
  packed_matrix w;
  const layer* src;
};
struct bf16_layer {
  packed_matrix w;
  const layer* src;
};
struct int8_layer {
  packed_matrix w;
  std::vector<float> w_scale;  // per output channel
  const layer* src;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> forward_f32(const std::vector<f32_layer>& net, const std::vector<float>& x0, std::int64_t m) {
  std::vector<float> x = x0;
  for (std::size_t l = 0; l < net.size(); ++l) {
    const layer& L = *net[l].src;
    std::vector<float> y(std::size_t(m * L.out));
    gemm_options o;
    o.epilogue.bias = make_view(L.bias.data(), L.out);
    if (l + 1 < net.size()) o.epilogue.act = activation::gelu_erf;
    gemm(trans::no, 1.0, make_view(x.data(), {m, L.in}), net[l].w, 0.0, make_view(y.data(), {m, L.out}), o);
    x.swap(y);
  }
  return x;
}

std::vector<float> forward_bf16(const std::vector<bf16_layer>& net, const std::vector<float>& x0, std::int64_t m) {
  std::vector<bfloat16> x(x0.size());
  convert(make_view(x0.data(), std::int64_t(x0.size())), make_view(x.data(), std::int64_t(x.size())));
  std::vector<float> out;
  for (std::size_t l = 0; l < net.size(); ++l) {
    const layer& L = *net[l].src;
    gemm_options o;
    o.epilogue.bias = make_view(L.bias.data(), L.out);
    if (l + 1 < net.size()) {
      o.epilogue.act = activation::gelu_erf;
      std::vector<bfloat16> y(std::size_t(m * L.out));
      gemm(trans::no, 1.0, make_view(x.data(), {m, L.in}), net[l].w, 0.0, make_view(y.data(), {m, L.out}), o);
      x.swap(y);
    } else {  // the last layer writes f32 logits
      out.resize(std::size_t(m * L.out));
      gemm(trans::no, 1.0, make_view(x.data(), {m, L.in}), net[l].w, 0.0, make_view(out.data(), {m, L.out}), o);
    }
  }
  return out;
}

std::vector<float> forward_int8(const std::vector<int8_layer>& net, const std::vector<float>& x0, std::int64_t m) {
  std::vector<float> x = x0;
  std::vector<std::uint8_t> xq;
  for (std::size_t l = 0; l < net.size(); ++l) {
    const layer& L = *net[l].src;
    // dynamic activation quantization: one scale and zero point for this layer's input
    const auto xv = make_view(x.data(), {m, L.in});
    const quant_params p = choose_quant_params(xv, quant_scheme{dtype::u8, false});
    xq.resize(x.size());
    quantize(xv, p, make_view(xq.data(), {m, L.in}));
    std::vector<float> y(std::size_t(m * L.out));
    gemm_options o;
    o.a_zero_point = p.zero_point[0];
    o.epilogue.scale = make_view(net[l].w_scale.data(), L.out);  // alpha * scale[j] dequantizes
    o.epilogue.bias = make_view(L.bias.data(), L.out);
    if (l + 1 < net.size()) o.epilogue.act = activation::gelu_erf;
    gemm(trans::no, double(p.scale[0]), make_view(xq.data(), {m, L.in}), net[l].w, 0.0, make_view(y.data(), {m, L.out}),
         o);
    x.swap(y);
  }
  return x;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float e : v) m = std::max(m, double(std::fabs(e)));
  return m;
}
double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

template <class F>
double time_per_pass(int repeats, F&& f) {
  f();  // warm: scratch buffers, page faults
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r) f();
  return seconds_since(t0) / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t m = argc > 1 ? std::atoll(argv[1]) : 32;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  if (m <= 0 || repeats <= 0) {
    std::fprintf(stderr, "usage: 03_int8_inference [tokens > 0] [repeats > 0]\n");
    return 2;
  }
  const std::vector<layer> mlp = make_mlp({1024, 4096, 4096, 1024});
  std::vector<f32_layer> net32;
  std::vector<bf16_layer> net16;
  std::vector<int8_layer> net8;
  for (const layer& L : mlp) {
    const auto w = make_view(L.weight.data(), {L.in, L.out});
    net32.push_back({packed_matrix::pack(w), &L});
    std::vector<bfloat16> wb(L.weight.size());
    convert(make_view(L.weight.data(), std::int64_t(wb.size())), make_view(wb.data(), std::int64_t(wb.size())));
    net16.push_back({packed_matrix::pack(make_view(wb.data(), {L.in, L.out})), &L});
    // weights: symmetric s8, one scale per output channel (column of k x n)
    const quant_params p = choose_quant_params(w, quant_scheme{dtype::i8, true, quant_granularity::per_channel, 1});
    std::vector<std::int8_t> wq(L.weight.size());
    quantize(w, p, make_view(wq.data(), {L.in, L.out}));
    net8.push_back({packed_matrix::pack(make_view(wq.data(), {L.in, L.out})), p.scale, &L});
  }
  std::mt19937 gen(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(std::size_t(m * mlp.front().in));
  for (auto& v : x) v = d(gen);

  std::printf("MLP 1024 -> 4096 -> 4096 -> 1024, GELU, %lld tokens, %s\n", static_cast<long long>(m),
              context::cpu().describe().c_str());
  std::vector<float> y32, y16, y8;
  const double t32 = time_per_pass(repeats, [&] { y32 = forward_f32(net32, x, m); });
  const double t16 = time_per_pass(repeats, [&] { y16 = forward_bf16(net16, x, m); });
  const double t8 = time_per_pass(repeats, [&] { y8 = forward_int8(net8, x, m); });
  const double scale = max_abs(y32);
  const double dev16 = max_diff(y16, y32) / scale, dev8 = max_diff(y8, y32) / scale;
  std::printf("  f32 : %8.3f ms per pass\n", t32 * 1e3);
  std::printf("  bf16: %8.3f ms per pass (%.2fx f32), max |y - y_f32| = %.3g of max |y_f32|\n", t16 * 1e3, t32 / t16,
              dev16);
  std::printf("  int8: %8.3f ms per pass (%.2fx f32), max |y - y_f32| = %.3g of max |y_f32|\n", t8 * 1e3, t32 / t8,
              dev8);
  if (!(dev16 < 0.02) || !(dev8 < 0.05)) {
    std::printf("FAILED: a low-precision output strays beyond its quantization budget\n");
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
