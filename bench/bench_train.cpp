// Training benchmarks: train/<op>/<dtype>/<shape>[/peer]. The row ops and the optimizer are
// memory-bound and reported as a fraction of the in-run triad (bytes: every input read and
// every output written once); the fused cross-entropy against the same computation built
// from our own unfused ops; the norm, softmax and GELU backward against oneDNN's backward
// primitives in the same run; the linear layer's backward GEMMs (dX = dY W, dW += dY^T X)
// against the forward GEMM of the same size. FLOP counts are nominal.
#include <cmath>
#include <string>
#include <unordered_map>

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"

#if defined(MIXPREC_BENCH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace mixprec::bench {
namespace {

constexpr std::int64_t rows = 4096, cols = 4096;            // norm and softmax backward: 16M elements
constexpr std::int64_t eltwise_n = std::int64_t(1) << 24;   // GELU backward
constexpr std::int64_t ce_rows = 4096, ce_classes = 32000;  // cross-entropy: 4096 tokens, 32k vocabulary
constexpr std::int64_t adamw_n = 100'000'000;               // AdamW: 10^8 parameters

/// Values in [-4, 4) that are the same in every dtype.
void fill_ramp(buffer& b, int period = 64) {
  std::vector<float> v(std::size_t(b.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % std::size_t(period)) - period / 2) * 0.125f;
  convert(make_view(v.data(), std::int64_t(v.size())), b.as_view());
}

view matrix(buffer& b, std::int64_t r, std::int64_t c) { return view(b.data(), b.type(), {r, c}, {c, 1}, b.ctx()); }

/// f(T*) with T the C++ type of an f32 or bf16 buffer.
template <class F>
void with_storage_ptr(buffer& b, F&& f) {
  if (b.type() == dtype::bf16)
    f(static_cast<bfloat16*>(b.data()));
  else
    f(static_cast<float*>(b.data()));
}

template <class F>
void time_loop(benchmark::State& state, F&& run, double bytes, double flops) {
  run();
  loop_timer timer;
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, bytes, flops);
}

// ---- the row ops' backward ----

enum class backward_op { rms_norm, layer_norm, softmax, gelu_erf };
const char* name_of_op(backward_op op) {
  switch (op) {
    case backward_op::rms_norm:
      return "rms_norm_backward";
    case backward_op::layer_norm:
      return "layer_norm_backward";
    case backward_op::softmax:
      return "softmax_backward";
    case backward_op::gelu_erf:
      return "gelu_erf_backward";
  }
  return "?";
}

/// x (or softmax's y) and dy read, dx written; nominal FLOPs per element.
void bench_backward(benchmark::State& state, backward_op op, dtype t) {
  const bool rowwise = op != backward_op::gelu_erf;
  const std::int64_t n = rowwise ? rows * cols : eltwise_n;
  buffer x(t, n), dy(t, n), dx(t, n);
  fill_ramp(x);
  fill_ramp(dy, 17);
  std::vector<float> gamma(std::size_t(cols), 1.5f), dgamma(static_cast<std::size_t>(cols)),
      dbeta(static_cast<std::size_t>(cols));
  const const_view g = make_view(gamma.data(), cols);
  if (op == backward_op::softmax) softmax(matrix(x, rows, cols), matrix(x, rows, cols));  // y: a distribution
  auto run = [&] {
    switch (op) {
      case backward_op::rms_norm:
        return rms_norm_backward(matrix(x, rows, cols), g, matrix(dy, rows, cols), matrix(dx, rows, cols),
                                 make_view(dgamma.data(), cols));
      case backward_op::layer_norm:
        return layer_norm_backward(matrix(x, rows, cols), g, matrix(dy, rows, cols), matrix(dx, rows, cols),
                                   make_view(dgamma.data(), cols), make_view(dbeta.data(), cols));
      case backward_op::softmax:
        return softmax_backward(matrix(x, rows, cols), matrix(dy, rows, cols), matrix(dx, rows, cols));
      case backward_op::gelu_erf:
        return activate_backward(activation::gelu_erf, x.as_view(), dy.as_view(), dx.as_view());
    }
  };
  const double per_element = op == backward_op::gelu_erf ? 12 : op == backward_op::softmax ? 4 : 10;
  time_loop(state, run, double(x.bytes() + dy.bytes() + dx.bytes()), per_element * double(n));
}

#if defined(MIXPREC_BENCH_ONEDNN)
dnnl::memory::data_type dnnl_type_of(dtype t) {
  return t == dtype::bf16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

/// oneDNN's backward primitive for the same op on the same buffers (layer normalization with
/// scale and shift and the forward's saved statistics; softmax_v2; eltwise gelu_erf).
void bench_onednn_backward(benchmark::State& state, backward_op op, dtype t) {
  using namespace dnnl;
  const bool rowwise = op != backward_op::gelu_erf;
  const std::int64_t n = rowwise ? rows * cols : eltwise_n;
  buffer x(t, n), dy(t, n), dx(t, n), y(t, n);
  fill_ramp(x);
  fill_ramp(dy, 17);
  std::vector<float> gamma(std::size_t(cols), 1.5f), beta(std::size_t(cols), 0.25f),
      dgamma(static_cast<std::size_t>(cols)), dbeta(static_cast<std::size_t>(cols)),
      mean(static_cast<std::size_t>(rows)), var(static_cast<std::size_t>(rows));
  try {
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const memory::desc md(rowwise ? memory::dims{rows, cols} : memory::dims{n}, dnnl_type_of(t),
                          rowwise ? memory::format_tag::ab : memory::format_tag::a);
    memory xm(md, eng, x.data()), dym(md, eng, dy.data()), dxm(md, eng, dx.data()), ym(md, eng, y.data());
    primitive prim;
    std::unordered_map<int, memory> args;
    std::string impl;
    if (op == backward_op::layer_norm) {
      const auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
      const layer_normalization_forward::primitive_desc fwd(
          layer_normalization_forward::desc(prop_kind::forward_training, md, 1e-6f, flags), eng);
      const memory::desc wd({cols}, memory::data_type::f32, memory::format_tag::a);
      memory sm(wd, eng, gamma.data()), shm(wd, eng, beta.data());
      memory mm(fwd.mean_desc(), eng, mean.data()), vm(fwd.variance_desc(), eng, var.data());
      layer_normalization_forward(fwd).execute(strm, {{DNNL_ARG_SRC, xm},
                                                      {DNNL_ARG_DST, ym},
                                                      {DNNL_ARG_SCALE, sm},
                                                      {DNNL_ARG_SHIFT, shm},
                                                      {DNNL_ARG_MEAN, mm},
                                                      {DNNL_ARG_VARIANCE, vm}});
      const layer_normalization_backward::primitive_desc pd(
          layer_normalization_backward::desc(prop_kind::backward, md, md, 1e-6f, flags), eng, fwd);
      args = {{DNNL_ARG_SRC, xm},
              {DNNL_ARG_DIFF_DST, dym},
              {DNNL_ARG_MEAN, mm},
              {DNNL_ARG_VARIANCE, vm},
              {DNNL_ARG_SCALE, sm},
              {DNNL_ARG_SHIFT, shm},  // not read, but oneDNN refuses to run without it
              {DNNL_ARG_DIFF_SRC, dxm},
              {DNNL_ARG_DIFF_SCALE, memory(wd, eng, dgamma.data())},
              {DNNL_ARG_DIFF_SHIFT, memory(wd, eng, dbeta.data())}};
      prim = layer_normalization_backward(pd);
      impl = pd.impl_info_str();
    } else if (op == backward_op::softmax) {
      const softmax_v2_forward::primitive_desc fwd(
          softmax_v2_forward::desc(prop_kind::forward_training, algorithm::softmax_accurate, md, md, 1), eng);
      softmax_v2_forward(fwd).execute(strm, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}});
      const softmax_v2_backward::primitive_desc pd(
          softmax_v2_backward::desc(algorithm::softmax_accurate, md, md, md, 1), eng, fwd);
      args = {{DNNL_ARG_DST, ym}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_SRC, dxm}};
      prim = softmax_v2_backward(pd);
      impl = pd.impl_info_str();
    } else {
      const eltwise_forward::primitive_desc fwd(
          eltwise_forward::desc(prop_kind::forward_training, algorithm::eltwise_gelu_erf, md, 0.0f), eng);
      const eltwise_backward::primitive_desc pd(eltwise_backward::desc(algorithm::eltwise_gelu_erf, md, md, 0.0f), eng,
                                                fwd);
      args = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_SRC, dxm}};
      prim = eltwise_backward(pd);
      impl = pd.impl_info_str();
    }
    strm.wait();
    const double per_element = op == backward_op::gelu_erf ? 12 : op == backward_op::softmax ? 4 : 10;
    time_loop(
        state,
        [&] {
          prim.execute(strm, args);
          strm.wait();
        },
        double(x.bytes() + dy.bytes() + dx.bytes()), per_element * double(n));
    state.SetLabel("dnnl " + impl);
  } catch (const dnnl::error& e) {
    state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
  }
}
#endif

// ---- cross-entropy ----

/// Logits read, their gradient written in place; 4 FLOPs a logit (max, exp, sum, scale).
void bench_cross_entropy(benchmark::State& state, dtype t, bool fused) {
  buffer z(t, ce_rows * ce_classes), p(t, fused ? 0 : ce_rows * ce_classes), fresh(t, ce_rows * ce_classes);
  fill_ramp(fresh, 97);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(ce_rows));
  for (std::int64_t i = 0; i < ce_rows; ++i) labels[std::size_t(i)] = std::int32_t((i * 7919) % ce_classes);
  const const_view lv = make_view(labels.data(), ce_rows);
  std::vector<float> at_label(static_cast<std::size_t>(ce_rows));
  copy(fresh.as_view(), z.as_view());
  double sink = 0;
  auto run = [&] {
    if (fused) {
      sink += cross_entropy(matrix(z, ce_rows, ce_classes), lv, matrix(z, ce_rows, ce_classes));
      return;
    }
    // The same from our own ops: softmax to probabilities, the loss from the labels' entries,
    // the gradient (p - onehot) / rows by a scale pass and a fix at each label.
    softmax(matrix(z, ce_rows, ce_classes), matrix(p, ce_rows, ce_classes));
    double loss = 0;
    with_storage_ptr(p, [&](auto* pp) {
      for (std::int64_t i = 0; i < ce_rows; ++i) loss -= std::log(double(pp[i * ce_classes + labels[std::size_t(i)]]));
    });
    scale(1.0 / double(ce_rows), matrix(p, ce_rows, ce_classes), matrix(z, ce_rows, ce_classes));
    with_storage_ptr(z, [&](auto* zp) {
      using T = std::remove_pointer_t<decltype(zp)>;
      for (std::int64_t i = 0; i < ce_rows; ++i) {
        T& e = zp[i * ce_classes + labels[std::size_t(i)]];
        e = T(float(e) - 1.0f / float(ce_rows));
      }
    });
    sink += loss / double(ce_rows);
  };
  // Each pass overwrites the logits with their gradient: from the second pass on it works on
  // gradients, the same amount of memory and arithmetic (no value is special to it).
  time_loop(state, run, double(2 * z.bytes()), 4.0 * double(ce_rows * ce_classes));
  benchmark::DoNotOptimize(sink);
}

// ---- AdamW ----

/// f32 master weights, moments and gradients, a bf16 model copy: 16 bytes read and 14
/// written per parameter; about 12 FLOPs each.
void bench_adamw(benchmark::State& state) {
  buffer master(dtype::f32, adamw_n), grad(dtype::f32, adamw_n), model(dtype::bf16, adamw_n);
  fill_ramp(master);
  fill_ramp(grad, 31);
  adamw opt;
  const std::vector<parameter> params = {{master.as_view(), model.as_view(), grad.as_view()}};
  time_loop(
      state, [&] { opt.step(params); }, 30.0 * double(adamw_n), 12.0 * double(adamw_n));
}

// ---- the linear layer's GEMMs ----

/// The three GEMMs of a linear layer of n outputs and k inputs over m rows, bf16 in, f32
/// accumulate: forward Y = X W^T, dX = dY W, dW += dY^T X.
enum class linear_gemm { forward, dx, dw };
void bench_linear(benchmark::State& state, linear_gemm which, std::int64_t m, std::int64_t n, std::int64_t k) {
  buffer x(dtype::bf16, m * k), w(dtype::bf16, n * k), dy(dtype::bf16, m * n), y(dtype::f32, m * n),
      dx(dtype::f32, m * k), dw(dtype::f32, n * k);
  fill_ramp(x);
  fill_ramp(w, 31);
  fill_ramp(dy, 17);
  fill(dw.as_view(), 0.0);
  auto run = [&] {
    switch (which) {
      case linear_gemm::forward:
        return gemm(trans::no, trans::yes, 1.0, matrix(x, m, k), matrix(w, n, k), 0.0, matrix(y, m, n));
      case linear_gemm::dx:
        return gemm(trans::no, trans::no, 1.0, matrix(dy, m, n), matrix(w, n, k), 0.0, matrix(dx, m, k));
      case linear_gemm::dw:
        return gemm(trans::yes, trans::no, 1.0, matrix(dy, m, n), matrix(x, m, k), 1.0, matrix(dw, n, k));
    }
  };
  run();
  loop_timer timer;
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  const double iters = double(state.iterations()), seconds = timer.seconds();
  state.counters["FLOP/s"] = 2.0 * double(m) * double(n) * double(k) * iters / seconds;
}

int register_all() {
  for (backward_op op : {backward_op::rms_norm, backward_op::layer_norm, backward_op::softmax, backward_op::gelu_erf})
    for (dtype t : {dtype::f32, dtype::bf16}) {
      const std::string shape =
          op == backward_op::gelu_erf ? "n16M" : std::to_string(rows) + "x" + std::to_string(cols);
      const std::string base = std::string("train/") + name_of_op(op) + "/" + name_of(t) + "/" + shape;
      register_wall_ms(base, [op, t](benchmark::State& st) { bench_backward(st, op, t); });
#if defined(MIXPREC_BENCH_ONEDNN)
      if (op != backward_op::rms_norm)
        register_wall_ms(base + "/onednn", [op, t](benchmark::State& st) { bench_onednn_backward(st, op, t); });
#endif
    }
  for (dtype t : {dtype::f32, dtype::bf16}) {
    const std::string base = std::string("train/cross_entropy/") + name_of(t) + "/4096x32000";
    register_wall_ms(base, [t](benchmark::State& st) { bench_cross_entropy(st, t, true); });
    register_wall_ms(base + "/unfused", [t](benchmark::State& st) { bench_cross_entropy(st, t, false); });
  }
  register_wall_ms("train/adamw/f32_master_bf16_copy/n100M", [](benchmark::State& st) { bench_adamw(st); });
  for (auto [which, name] :
       {std::pair{linear_gemm::forward, "forward"}, std::pair{linear_gemm::dx, "dx"}, std::pair{linear_gemm::dw, "dw"}})
    register_wall_ms(std::string("train/linear_") + name + "/bf16/m4096_n2048_k2048",
                     [which = which](benchmark::State& st) { bench_linear(st, which, 4096, 2048, 2048); });
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
