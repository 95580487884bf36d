// Row-wise NN benchmarks: nn/<op>/<dtype>/<shape>[/onednn]. Memory-bound ops, reported as a
// fraction of the in-run triad (bytes: every input read and every output written once), with
// oneDNN's softmax, layer normalization and eltwise primitives as peers in the same run
// (oneDNN has no RMSNorm). FLOP counts are nominal: the arithmetic a plain implementation does
// per element (an exp, erf or division counted as one).
#include <string>
#include <unordered_map>

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"

#if defined(MIXPREC_BENCH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace mixprec::bench {
namespace {

constexpr std::int64_t rows = 4096, cols = 4096;           // softmax and norms: 16M elements
constexpr std::int64_t eltwise_n = std::int64_t(1) << 24;  // activations: 16M elements

/// Values in [-4, 4) that are the same in every dtype, so each run starts from one input.
void fill_ramp(buffer& b) {
  std::vector<float> v(std::size_t(b.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % 64) - 32) * 0.125f;
  convert(make_view(v.data(), std::int64_t(v.size())), b.as_view());
}

view matrix(buffer& b) { return view(b.data(), b.type(), {rows, cols}, {cols, 1}, b.ctx()); }

enum class nn_op { softmax, rms_norm, layer_norm, gelu_erf, silu, swiglu };
const char* name_of_op(nn_op op) {
  switch (op) {
    case nn_op::softmax:
      return "softmax";
    case nn_op::rms_norm:
      return "rms_norm";
    case nn_op::layer_norm:
      return "layer_norm";
    case nn_op::gelu_erf:
      return "gelu_erf";
    case nn_op::silu:
      return "silu";
    case nn_op::swiglu:
      return "swiglu";
  }
  return "?";
}
/// Nominal FLOPs per element.
double flops_per_element(nn_op op) {
  switch (op) {
    case nn_op::softmax:
      return 6;  // scale, max, subtract, exp, sum, multiply
    case nn_op::rms_norm:
      return 4;
    case nn_op::layer_norm:
      return 7;
    case nn_op::gelu_erf:
      return 4;
    case nn_op::silu:
      return 4;
    case nn_op::swiglu:
      return 5;
  }
  return 0;
}
bool is_row_op(nn_op op) { return op == nn_op::softmax || op == nn_op::rms_norm || op == nn_op::layer_norm; }

void bench_mixprec(benchmark::State& state, nn_op op, dtype t) {
  const std::int64_t n = is_row_op(op) ? rows * cols : eltwise_n;
  buffer x(t, n), y(t, n), up(t, op == nn_op::swiglu ? n : 0);
  fill_ramp(x);
  if (op == nn_op::swiglu) fill_ramp(up);
  std::vector<float> gamma(std::size_t(cols), 1.5f), beta(std::size_t(cols), 0.25f);
  const const_view g = make_view(gamma.data(), cols), b = make_view(beta.data(), cols);
  softmax_options so;
  so.scale = 0.125;
  auto run = [&] {
    switch (op) {
      case nn_op::softmax:
        return softmax(matrix(x), matrix(y), so);
      case nn_op::rms_norm:
        return rms_norm(matrix(x), g, matrix(y));
      case nn_op::layer_norm:
        return layer_norm(matrix(x), g, b, matrix(y));
      case nn_op::gelu_erf:
        return activate(activation::gelu_erf, x.as_view(), y.as_view());
      case nn_op::silu:
        return activate(activation::silu, x.as_view(), y.as_view());
      case nn_op::swiglu:
        return swiglu(x.as_view(), up.as_view(), y.as_view());
    }
  };
  run();
  loop_timer timer;
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  const double bytes = double(x.bytes() + y.bytes() + up.bytes());
  set_counters(state, timer, bytes, flops_per_element(op) * double(n));
}

/// y = x W^T with W n x k in a GGUF block format: bytes are the weights' (what bounds
/// decode), FLOPs 2 m n k. The loop cycles through copies of W, so that it streams them
/// from memory as a model larger than the caches does.
void bench_block_matmul(benchmark::State& state, block_format f, std::int64_t m) {
  const std::int64_t n = 4096, k = 4096;
  std::vector<float> w(std::size_t(n * k)), x(std::size_t(m * k)), y(std::size_t(m * n));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 61) - 30) * 0.03f;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.1f;
  const block_matrix W = block_matrix::quantize(make_view(w.data(), {n, k}), f);
  std::vector<block_matrix> copies(std::size_t(weight_copies_beyond_cache(W.bytes())), W);
  const const_view xv = make_view(x.data(), {m, k});
  const view yv = make_view(y.data(), {m, n});
  run_cycling(
      state, copies, [&](const block_matrix& c) { matmul(xv, c, yv); }, double(W.bytes()), 2.0 * double(m * n * k),
      "weight_copies");
}

/// The bf16 pre-packed GEMM at the same shape, the comparison the block formats must beat.
void bench_bf16_packed(benchmark::State& state, std::int64_t m) {
  const std::int64_t n = 4096, k = 4096;
  buffer w(dtype::bf16, k * n), x(dtype::bf16, m * k), y(dtype::f32, m * n);
  fill_ramp(w);
  fill_ramp(x);
  std::vector<packed_matrix> copies;
  for (int c = weight_copies_beyond_cache(w.bytes()); c > 0; --c)
    copies.push_back(packed_matrix::pack(const_view(w.data(), dtype::bf16, {k, n}, {n, 1}, w.ctx())));
  const const_view xv(x.data(), dtype::bf16, {m, k}, {k, 1}, x.ctx());
  const view yv(y.data(), dtype::f32, {m, n}, {n, 1}, y.ctx());
  run_cycling(
      state, copies, [&](const packed_matrix& c) { gemm(trans::no, 1.0, xv, c, 0.0, yv); }, double(w.bytes()),
      2.0 * double(m * n * k), "weight_copies");
}

#if defined(MIXPREC_BENCH_ONEDNN)
dnnl::memory::data_type dnnl_type_of(dtype t) {
  return t == dtype::bf16  ? dnnl::memory::data_type::bf16
         : t == dtype::f16 ? dnnl::memory::data_type::f16
                           : dnnl::memory::data_type::f32;
}

/// The same op by oneDNN's primitive (softmax_v2, layer_normalization with scale and shift,
/// eltwise gelu_erf / swish), on the same buffers.
void bench_onednn(benchmark::State& state, nn_op op, dtype t) {
  using namespace dnnl;
  const std::int64_t n = is_row_op(op) ? rows * cols : eltwise_n;
  buffer x(t, n), y(t, n);
  fill_ramp(x);
  std::vector<float> gamma(std::size_t(cols), 1.5f), beta(std::size_t(cols), 0.25f);
  try {
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const memory::dims dims = is_row_op(op) ? memory::dims{rows, cols} : memory::dims{n};
    const memory::desc md(dims, dnnl_type_of(t), is_row_op(op) ? memory::format_tag::ab : memory::format_tag::a);
    memory xm(md, eng, x.data()), ym(md, eng, y.data());
    primitive prim;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}};
    std::string impl;
    if (op == nn_op::softmax) {
      // oneDNN's softmax has no input scale: the scale is left out of its run (it does less).
      const softmax_v2_forward::primitive_desc pd(
          softmax_v2_forward::desc(prop_kind::forward_inference, algorithm::softmax_accurate, md, md, 1), eng);
      prim = softmax_v2_forward(pd);
      impl = pd.impl_info_str();
    } else if (op == nn_op::layer_norm) {
      const layer_normalization_forward::primitive_desc pd(
          layer_normalization_forward::desc(prop_kind::forward_inference, md, 1e-6f,
                                            normalization_flags::use_scale | normalization_flags::use_shift),
          eng);
      const memory::desc wd({cols}, memory::data_type::f32, memory::format_tag::a);
      args.insert({DNNL_ARG_SCALE, memory(wd, eng, gamma.data())});
      args.insert({DNNL_ARG_SHIFT, memory(wd, eng, beta.data())});
      prim = layer_normalization_forward(pd);
      impl = pd.impl_info_str();
    } else {
      const algorithm alg = op == nn_op::gelu_erf ? algorithm::eltwise_gelu_erf : algorithm::eltwise_swish;
      const eltwise_forward::primitive_desc pd(
          eltwise_forward::desc(prop_kind::forward_inference, alg, md, op == nn_op::silu ? 1.0f : 0.0f), eng);
      prim = eltwise_forward(pd);
      impl = pd.impl_info_str();
    }
    prim.execute(strm, args);
    strm.wait();
    loop_timer timer;
    for (auto _ : state) {
      prim.execute(strm, args);
      strm.wait();
    }
    set_counters(state, timer, double(x.bytes() + y.bytes()), flops_per_element(op) * double(n));
    state.SetLabel("dnnl " + impl);
  } catch (const dnnl::error& e) {
    state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
  }
}
#endif

int register_all() {
  for (nn_op op : {nn_op::softmax, nn_op::rms_norm, nn_op::layer_norm, nn_op::gelu_erf, nn_op::silu, nn_op::swiglu})
    for (dtype t : {dtype::f32, dtype::bf16}) {
      const std::string shape = is_row_op(op) ? std::to_string(rows) + "x" + std::to_string(cols) : "n16M";
      const std::string base = std::string("nn/") + name_of_op(op) + "/" + name_of(t) + "/" + shape;
      register_wall_ms(base, [op, t](benchmark::State& st) { bench_mixprec(st, op, t); });
#if defined(MIXPREC_BENCH_ONEDNN)
      if (op != nn_op::rms_norm && op != nn_op::swiglu)
        register_wall_ms(base + "/onednn", [op, t](benchmark::State& st) { bench_onednn(st, op, t); });
#endif
    }
  for (std::int64_t m : {1, 8}) {
    const std::string shape = "/m" + std::to_string(m) + "_n4096_k4096";
    for (block_format f : {block_format::q8_0, block_format::q4_0})
      register_wall_ms(std::string("nn/matmul/") + name_of(f) + shape,
                       [f, m](benchmark::State& st) { bench_block_matmul(st, f, m); });
    register_wall_ms("nn/matmul/bf16_packed" + shape, [m](benchmark::State& st) { bench_bf16_packed(st, m); });
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
