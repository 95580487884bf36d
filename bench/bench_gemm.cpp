// GEMM benchmarks: gemm/<A B C dtypes>/<kernel>/<m>x<n>x<k>, for mixprec (dispatch's pick,
// and with B pre-packed) and, in the same run, OpenBLAS (dgemm/sgemm) and oneDNN (matmul,
// plain and with weights reordered once) when found at configure time. Every row reports
// FLOP/s and the fraction of the measured peak of the unit the kernel uses; inference shapes
// (m <= 32) also the weight bytes streamed per second as a fraction of the triad, the bound
// for streaming weights that are not in cache. Those rows cycle through enough copies of
// the weights (512 MiB in all) that none is still in cache when it is used again, as the
// layers of a model that does not fit in cache; the copies are identical.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "mixprec/mixprec.hpp"
#include "tools/limits/machine_limits.hpp"

#if defined(MIXPREC_BENCH_OPENBLAS)
#include <cblas.h>
#endif
#if defined(MIXPREC_BENCH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace mixprec::bench {
namespace {

using limits::compute_unit;
using limits::measured_peak;

struct gemm_types {
  const char* name;
  dtype a, b, c;
  compute_unit unit;  // what the kernels of this machine run on
};
const gemm_types families[] = {
    {"f64f64f64", dtype::f64, dtype::f64, dtype::f64, compute_unit::fma_f64},
    {"f32f32f32", dtype::f32, dtype::f32, dtype::f32, compute_unit::fma_f32},
    {"f16f16f32", dtype::f16, dtype::f16, dtype::f32, compute_unit::fma_f32},
    {"bf16bf16f32", dtype::bf16, dtype::bf16, dtype::f32, compute_unit::dot_bf16},
    {"u8s8s32", dtype::u8, dtype::i8, dtype::i32, compute_unit::dot_int8},
    {"s8s8s32", dtype::i8, dtype::i8, dtype::i32, compute_unit::dot_int8},
};

struct gemm_shape {
  std::int64_t m, n, k;
};
const gemm_shape shapes[] = {{1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096},
                             {1, 4096, 4096},    {8, 4096, 4096},    {32, 4096, 4096}};

std::string shape_name(const gemm_shape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

/// Small values (exact in every dtype) in a fixed pseudo-random pattern.
void fill_values(buffer& b, std::uint32_t seed) {
  const std::int64_t n = b.size();
  auto value = [&](std::int64_t i) { return int((std::uint64_t(i) * 2654435761u + seed) % 31) - 15; };
  switch (b.type()) {
    case dtype::f64: {
      auto* p = static_cast<double*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = value(i) / 16.0;
      break;
    }
    case dtype::f32: {
      auto* p = static_cast<float*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = float(value(i)) / 16;
      break;
    }
    case dtype::f16: {
      auto* p = static_cast<half*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = half(float(value(i)) / 16);
      break;
    }
    case dtype::bf16: {
      auto* p = static_cast<bfloat16*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = bfloat16(float(value(i)) / 16);
      break;
    }
    case dtype::i8: {
      auto* p = static_cast<std::int8_t*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = std::int8_t(value(i));
      break;
    }
    case dtype::u8: {
      auto* p = static_cast<std::uint8_t*>(b.data());
      for (std::int64_t i = 0; i < n; ++i) p[i] = std::uint8_t(value(i) + 15);
      break;
    }
    default:
      std::memset(b.data(), 0, b.bytes());
  }
}

double value_at(const void* p, dtype t, std::int64_t i) {
  switch (t) {
    case dtype::f64:
      return static_cast<const double*>(p)[i];
    case dtype::f32:
      return static_cast<const float*>(p)[i];
    case dtype::f16:
      return double(float(static_cast<const half*>(p)[i]));
    case dtype::bf16:
      return double(float(static_cast<const bfloat16*>(p)[i]));
    case dtype::i8:
      return static_cast<const std::int8_t*>(p)[i];
    case dtype::u8:
      return static_cast<const std::uint8_t*>(p)[i];
    case dtype::i32:
      return static_cast<const std::int32_t*>(p)[i];
  }
  return 0;
}

/// Checks 16 entries of C = A * B (row-major, alpha 1, beta 0) exactly: fill_values' data
/// are multiples of 1/16 (or small integers), so every product and partial sum is exact in
/// every accumulator here, in any order. Returns false (and skips the benchmark) if not.
bool verify(benchmark::State& state, const buffer& a, const buffer& b, const void* c, dtype ct, const gemm_shape& s) {
  for (int probe = 0; probe < 16; ++probe) {
    const std::int64_t i = (probe * 7919) % s.m, j = (probe * 104729) % s.n;
    double want = 0;
    for (std::int64_t q = 0; q < s.k; ++q)
      want += value_at(a.data(), a.type(), i * s.k + q) * value_at(b.data(), b.type(), q * s.n + j);
    const double got = value_at(c, ct, i * s.n + j);
    if (got != want) {
      state.SkipWithError(("wrong result at (" + std::to_string(i) + "," + std::to_string(j) +
                           "): " + std::to_string(got) + " instead of " + std::to_string(want))
                              .c_str());
      return false;
    }
  }
  return true;
}

/// FLOP/s, fraction of the unit's peak and, for inference shapes, weight streaming.
void set_gemm_counters(benchmark::State& state, const loop_timer& timer, const gemm_types& t, const gemm_shape& s,
                       double weight_bytes) {
  const double seconds = timer.seconds(), iters = double(state.iterations());
  const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  state.counters["FLOP/s"] = benchmark::Counter(flops * iters, benchmark::Counter::kIsRate);
  const double peak = measured_peak(t.unit);
  if (peak > 0) state.counters["peak_frac"] = flops * iters / seconds / peak;
  if (s.m <= 32) {
    state.SetBytesProcessed(std::int64_t(weight_bytes * iters));
    state.counters["weights_triad_frac"] = weight_bytes * iters / seconds / triad_bytes_per_second();
  }
}

/// Copies of B an inference-shape benchmark cycles through (1 for the square shapes).
int weight_copies(const gemm_shape& s, std::size_t bytes) { return s.m > 32 ? 1 : weight_copies_beyond_cache(bytes); }

std::string kernel_for(const gemm_types& t) {
  const dtype acc = t.c == dtype::f64 ? dtype::f64 : t.c == dtype::i32 ? dtype::i32 : dtype::f32;
  for (const auto& k : list_kernels("gemm"))
    if (k.runnable && k.in == t.a && k.out == acc) return k.name;
  return "?";
}

void bench_mixprec(benchmark::State& state, const gemm_types* t, gemm_shape s, bool packed) {
  buffer a(t->a, s.m * s.k), b(t->b, s.k * s.n), c(t->c, s.m * s.n);
  fill_values(a, 1);
  fill_values(b, 2);
  const const_view av(a.data(), t->a, {s.m, s.k}, {s.k, 1}, a.ctx());
  const const_view bv(b.data(), t->b, {s.k, s.n}, {s.n, 1}, b.ctx());
  const view cv(c.data(), t->c, {s.m, s.n}, {s.n, 1}, c.ctx());
  const int copies = weight_copies(s, b.bytes());
  std::vector<packed_matrix> p;
  std::vector<buffer> bcopies;
  for (int i = 0; i < copies; ++i) {
    if (packed)
      p.push_back(packed_matrix::pack(bv));
    else if (i > 0)
      bcopies.push_back(b.to(b.ctx()));
  }
  if (packed)
    gemm(trans::no, 1.0, av, p[0], 0.0, cv);
  else
    gemm(trans::no, trans::no, 1.0, av, bv, 0.0, cv);
  if (!verify(state, a, b, c.data(), t->c, s)) return;
  measured_peak(t->unit);  // outside the timed loop
  int next = 0;
  loop_timer timer;
  for (auto _ : state) {
    const int w = next;
    next = (next + 1) % copies;
    if (packed) {
      gemm(trans::no, 1.0, av, p[std::size_t(w)], 0.0, cv);
    } else {
      const void* bp = w == 0 ? b.data() : bcopies[std::size_t(w - 1)].data();
      gemm(trans::no, trans::no, 1.0, av, const_view(bp, t->b, {s.k, s.n}, {s.n, 1}, b.ctx()), 0.0, cv);
    }
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, timer, *t, s, packed ? double(p[0].bytes()) : double(b.bytes()));
  state.counters["weight_copies"] = copies;
  state.SetLabel(kernel_for(*t) + " on " + name_of(t->unit));
}

#if defined(MIXPREC_BENCH_OPENBLAS)
void bench_openblas(benchmark::State& state, const gemm_types* t, gemm_shape s) {
  buffer a(t->a, s.m * s.k), b(t->b, s.k * s.n), c(t->c, s.m * s.n);
  fill_values(a, 1);
  fill_values(b, 2);
  const int copies = weight_copies(s, b.bytes());
  std::vector<buffer> bcopies;
  for (int i = 1; i < copies; ++i) bcopies.push_back(b.to(b.ctx()));
  auto call = [&](const void* bp) {
    if (t->a == dtype::f64)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(s.m), int(s.n), int(s.k), 1.0,
                  static_cast<const double*>(a.data()), int(s.k), static_cast<const double*>(bp), int(s.n), 0.0,
                  static_cast<double*>(c.data()), int(s.n));
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(s.m), int(s.n), int(s.k), 1.0f,
                  static_cast<const float*>(a.data()), int(s.k), static_cast<const float*>(bp), int(s.n), 0.0f,
                  static_cast<float*>(c.data()), int(s.n));
  };
  call(b.data());
  if (!verify(state, a, b, c.data(), t->c, s)) return;
  measured_peak(t->unit);
  int next = 0;
  loop_timer timer;
  for (auto _ : state) {
    const void* bp = next == 0 ? b.data() : bcopies[std::size_t(next - 1)].data();
    next = (next + 1) % copies;
    call(bp);
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, timer, *t, s, double(b.bytes()));
  state.counters["weight_copies"] = copies;
  state.SetLabel(t->a == dtype::f64 ? "cblas_dgemm" : "cblas_sgemm");
}
#endif

#if defined(MIXPREC_BENCH_ONEDNN)
dnnl::memory::data_type dnnl_type(dtype t) {
  switch (t) {
    case dtype::f32:
      return dnnl::memory::data_type::f32;
    case dtype::bf16:
      return dnnl::memory::data_type::bf16;
    case dtype::f16:
      return dnnl::memory::data_type::f16;
    case dtype::i8:
      return dnnl::memory::data_type::s8;
    case dtype::u8:
      return dnnl::memory::data_type::u8;
    case dtype::i32:
      return dnnl::memory::data_type::s32;
    default:
      return dnnl::memory::data_type::undef;
  }
}

/// oneDNN matmul; `packed`: weights in the layout oneDNN chooses (format any), reordered
/// once outside the timed loop, as an inference engine would keep them.
void bench_onednn(benchmark::State& state, const gemm_types* t, gemm_shape s, bool packed) {
  using namespace dnnl;
  using tag = memory::format_tag;
  buffer a(t->a, s.m * s.k), b(t->b, s.k * s.n), c(t->c, s.m * s.n);
  fill_values(a, 1);
  fill_values(b, 2);
  try {
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const memory::desc a_md({s.m, s.k}, dnnl_type(t->a), tag::ab);
    const memory::desc b_plain({s.k, s.n}, dnnl_type(t->b), tag::ab);
    const memory::desc b_md({s.k, s.n}, dnnl_type(t->b), packed ? tag::any : tag::ab);
    const memory::desc c_md({s.m, s.n}, dnnl_type(t->c), tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), eng);
    memory am(a_md, eng, a.data()), bm(b_plain, eng, b.data()), cm(c_md, eng, c.data());
    const int copies = weight_copies(s, b.bytes());
    std::vector<memory> weights;
    for (int i = 0; i < copies; ++i) {
      memory wm(pd.weights_desc(), eng);  // oneDNN owns it
      reorder(bm, wm).execute(strm, bm, wm);
      weights.push_back(wm);
    }
    strm.wait();
    const dnnl::matmul prim(pd);
    prim.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, weights[0]}, {DNNL_ARG_DST, cm}});
    strm.wait();
    if (!verify(state, a, b, c.data(), t->c, s)) return;
    measured_peak(t->unit);
    int next = 0;
    loop_timer timer;
    for (auto _ : state) {
      prim.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, weights[std::size_t(next)]}, {DNNL_ARG_DST, cm}});
      next = (next + 1) % copies;
      strm.wait();
    }
    set_gemm_counters(state, timer, *t, s, double(pd.weights_desc().get_size()));
    state.counters["weight_copies"] = copies;
    state.SetLabel(std::string("dnnl matmul ") + pd.impl_info_str());
  } catch (const dnnl::error& e) {
    state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
  }
}
#endif

/// y = A x (n = 1), A row-major m x k: what refinement's residuals and simulation codes' dense
/// matrix-vector products ask of gemm; OpenBLAS's gemv beside it. A is streamed once a call
/// (cycling through copies past the caches), so its bytes over time against the triad.
void bench_matrix_vector(benchmark::State& state, const gemm_types* t, gemm_shape s, bool openblas) {
  const int copies = weight_copies_beyond_cache(std::size_t(s.m * s.k) * size_of(t->a));
  std::vector<buffer> a;
  for (int i = 0; i < copies; ++i) {
    a.emplace_back(t->a, s.m * s.k);
    fill_values(a.back(), 1);
  }
  buffer x(t->a, s.k), y(t->a, s.m);
  fill_values(x, 2);
  auto call = [&](const buffer& ai) {
    if (!openblas) {
      gemm(trans::no, trans::no, 1.0, const_view(ai.data(), t->a, {s.m, s.k}, {s.k, 1}, ai.ctx()),
           const_view(x.data(), t->a, {s.k, 1}, {1, 1}, x.ctx()), 0.0, view(y.data(), t->a, {s.m, 1}, {1, 1}, y.ctx()));
      return;
    }
#if defined(MIXPREC_BENCH_OPENBLAS)
    if (t->a == dtype::f64)
      cblas_dgemv(CblasRowMajor, CblasNoTrans, int(s.m), int(s.k), 1.0, static_cast<const double*>(ai.data()), int(s.k),
                  static_cast<const double*>(x.data()), 1, 0.0, static_cast<double*>(y.data()), 1);
    else
      cblas_sgemv(CblasRowMajor, CblasNoTrans, int(s.m), int(s.k), 1.0f, static_cast<const float*>(ai.data()), int(s.k),
                  static_cast<const float*>(x.data()), 1, 0.0f, static_cast<float*>(y.data()), 1);
#endif
  };
  call(a[0]);
  if (!verify(state, a[0], x, y.data(), t->c, s)) return;
  int next = 0;
  loop_timer timer;
  for (auto _ : state) {
    call(a[std::size_t(next)]);
    next = (next + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double seconds = timer.seconds(), iters = double(state.iterations()), bytes = double(a[0].bytes());
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(s.m) * double(s.k) * iters, benchmark::Counter::kIsRate);
  state.SetBytesProcessed(std::int64_t(bytes * iters));
  state.counters["triad_frac"] = bytes * iters / seconds / triad_bytes_per_second();
  state.counters["matrix_copies"] = copies;
  state.SetLabel(openblas ? (t->a == dtype::f64 ? "cblas_dgemv" : "cblas_sgemv") : kernel_for(*t));
}

int register_all() {
  for (const gemm_types& t : families) {
    if (t.a != dtype::f64 && t.a != dtype::f32) continue;
    const gemm_shape s{4096, 1, 4096};
    const std::string base = std::string("gemm/") + t.name + "/", tail = "/" + shape_name(s);
    benchmark::RegisterBenchmark((base + "mixprec" + tail).c_str(),
                                 [t = &t, s](benchmark::State& st) { bench_matrix_vector(st, t, s, false); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#if defined(MIXPREC_BENCH_OPENBLAS)
    benchmark::RegisterBenchmark((base + "openblas_gemv" + tail).c_str(),
                                 [t = &t, s](benchmark::State& st) { bench_matrix_vector(st, t, s, true); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
  }
  for (const gemm_types& t : families)
    for (const gemm_shape& s : shapes) {
      const std::string tail = "/" + shape_name(s);
      const std::string base = std::string("gemm/") + t.name + "/";
      auto add = [&](const std::string& kernel, auto&& fn) {
        benchmark::RegisterBenchmark((base + kernel + tail).c_str(), fn)->UseRealTime()->Unit(benchmark::kMillisecond);
      };
      add("mixprec", [t = &t, s](benchmark::State& st) { bench_mixprec(st, t, s, false); });
      add("mixprec_packed", [t = &t, s](benchmark::State& st) { bench_mixprec(st, t, s, true); });
#if defined(MIXPREC_BENCH_OPENBLAS)
      if (t.a == dtype::f64 || t.a == dtype::f32)
        add("openblas", [t = &t, s](benchmark::State& st) { bench_openblas(st, t, s); });
#endif
#if defined(MIXPREC_BENCH_ONEDNN)
      if (t.a != dtype::f64 && t.a != dtype::f16) {
        add("onednn", [t = &t, s](benchmark::State& st) { bench_onednn(st, t, s, false); });
        add("onednn_packed", [t = &t, s](benchmark::State& st) { bench_onednn(st, t, s, true); });
      }
#endif
    }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
