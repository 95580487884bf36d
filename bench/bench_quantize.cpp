// Quantization benchmarks: quant/<op>/<dtypes>/<granularity>/<n>, memory-bound, reported
// as a fraction of the triad (bytes: the input read and the output written once).
// quant/quantize/f32<format>/block/<n>: weights into GGUF blocks (block_matrix::quantize),
// what a model loader does once per f32 checkpoint.
#include <string>

#include "mixprec/block_quant.hpp"

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"

namespace mixprec::bench {
namespace {

struct quant_case {
  const char* name;
  quant_scheme scheme;
};
const quant_case cases[] = {
    {"per_tensor", {dtype::i8, true, quant_granularity::per_tensor}},
    {"per_channel", {dtype::i8, true, quant_granularity::per_channel, 1}},
    {"group64", {dtype::u8, false, quant_granularity::per_group, 1, 64}},
};
constexpr std::int64_t rows = 4096, cols = 4096;  // 16M elements

void bench_quantize(benchmark::State& state, const quant_case* c, dtype in) {
  buffer x(in, rows * cols), q(c->scheme.target, rows * cols);
  fill(x.as_view(), 0.25);
  const const_view xv(x.data(), in, {rows, cols}, {cols, 1}, x.ctx());
  const view qv(q.data(), c->scheme.target, {rows, cols}, {cols, 1}, q.ctx());
  const quant_params p = choose_quant_params(xv, c->scheme);
  loop_timer timer;
  for (auto _ : state) {
    quantize(xv, p, qv);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, double(x.bytes() + q.bytes()), 0.0);
}

void bench_dequantize(benchmark::State& state, const quant_case* c) {
  buffer q(c->scheme.target, rows * cols), x(dtype::f32, rows * cols);
  fill(q.as_view(), 3.0);
  const view xv(x.data(), dtype::f32, {rows, cols}, {cols, 1}, x.ctx());
  const const_view qv(q.data(), c->scheme.target, {rows, cols}, {cols, 1}, q.ctx());
  const quant_params p = make_quant_params(rows, cols, c->scheme);
  loop_timer timer;
  for (auto _ : state) {
    dequantize(qv, p, xv);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, double(x.bytes() + q.bytes()), 0.0);
}

void bench_block_quantize(benchmark::State& state, block_format f) {
  buffer x(dtype::f32, rows * cols);
  fill(x.as_view(), 0.25);
  const const_view xv(x.data(), dtype::f32, {rows, cols}, {cols, 1}, x.ctx());
  std::size_t out_bytes = 0;
  loop_timer timer;
  for (auto _ : state) {
    const block_matrix w = block_matrix::quantize(xv, f);
    out_bytes = w.bytes();
    benchmark::DoNotOptimize(w);
  }
  set_counters(state, timer, double(x.bytes() + out_bytes), 0.0);
}

int register_all() {
  const std::string shape = "/" + std::to_string(rows) + "x" + std::to_string(cols);
  for (const quant_case& c : cases) {
    for (dtype in : {dtype::f32, dtype::bf16}) {
      const std::string name =
          std::string("quant/quantize/") + name_of(in) + name_of(c.scheme.target) + "/" + c.name + shape;
      benchmark::RegisterBenchmark(name.c_str(), [&c, in](benchmark::State& st) { bench_quantize(st, &c, in); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    const std::string name = std::string("quant/dequantize/") + name_of(c.scheme.target) + "f32/" + c.name + shape;
    benchmark::RegisterBenchmark(name.c_str(), [&c](benchmark::State& st) { bench_dequantize(st, &c); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (block_format f : {block_format::q8_0, block_format::q4_0}) {
    const std::string name = std::string("quant/quantize/f32") + name_of(f) + "/block" + shape;
    benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State& st) { bench_block_quantize(st, f); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
