// The shared test harness: every registered kernel this machine can run becomes one test
// parameter, so each test body runs on every backend and every ISA variant, not only on the
// kernel that dispatch would pick. Operands live in the kernel's backend's memory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mixprec/mixprec.hpp"
#include "support/oracle.hpp"

namespace mixprec::test {

/// Runs f, expects a mixprec::error with `code` whose message contains `needle` and names
/// the file and line that threw it.
template <class F>
void expect_error(F&& f, status code, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected " << name_of(code);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".cpp:"), std::string::npos) << "no file:line: " << e.what();
  }
}

/// Runnable kernels of one op. An empty list would silently test nothing, so it fails:
/// GoogleTest reports an uninstantiated suite, and this prints why.
inline std::vector<kernel_info> runnable_kernels(const std::string& op) {
  std::vector<kernel_info> out;
  for (auto& k : list_kernels(op))
    if (k.runnable) out.push_back(k);
  return out;
}

/// Runnable CPU kernels of one op: for suites whose operands are host memory (grids,
/// epilogue cases); their CUDA kernels are checked against these in test_cuda_backend.cpp.
inline std::vector<kernel_info> cpu_kernels(const std::string& op) {
  std::vector<kernel_info> out;
  for (auto& k : runnable_kernels(op))
    if (k.where == backend::cpu) out.push_back(k);
  return out;
}

inline std::string kernel_param_name(const ::testing::TestParamInfo<kernel_info>& info) { return info.param.name; }

/// The CPU, and the first CUDA device where one is usable: for tests of composite ops that
/// run wherever their operands live.
inline std::vector<context> every_context() {
  std::vector<context> out{context::cpu()};
  std::string why;
  if (cuda_available(&why)) out.push_back(context::cuda(0));
  return out;
}

/// The context a kernel runs in.
inline context context_for(const kernel_info& k) {
  return k.where == backend::cuda ? context::cuda(0) : context::cpu();
}

/// Calls f(T{}) with T the C++ type of dtype t.
template <class F>
decltype(auto) with_type(dtype t, F&& f) {
  switch (t) {
    case dtype::f64:
      return f(double{});
    case dtype::f32:
      return f(float{});
    case dtype::f16:
      return f(half{});
    case dtype::bf16:
      return f(bfloat16{});
    case dtype::i8:
      return f(std::int8_t{});
    case dtype::u8:
      return f(std::uint8_t{});
    case dtype::i32:
      return f(std::int32_t{});
  }
  return f(double{});
}

/// Runs f(T{}) with kernel k forced, T the C++ type of t, where t is a storage dtype of the NN
/// ops (f32, bf16, f16); other dtypes run nothing.
template <class F>
void on_nn_storage(const kernel_info& k, dtype t, F&& f) {
  const force_kernel pin(k.name);
  with_type(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, bfloat16> || std::is_same_v<T, half>) f(tag);
  });
}

/// Random stored values: floats uniform in [-scale, scale] rounded to T; integers over a
/// range whose products and sums the tests can hold exactly.
template <class T>
std::vector<T> random_values(std::int64_t n, std::uint32_t seed, double scale = 1.0) {
  std::mt19937_64 gen(seed);
  std::vector<T> v(static_cast<std::size_t>(n));
  if constexpr (std::is_integral_v<T>) {
    const int lo = std::is_signed_v<T> ? -100 : 0;
    std::uniform_int_distribution<int> d(lo, 100);
    for (auto& e : v) e = T(d(gen));
  } else {
    // The types' own rounding from double, not the oracle's: the same values (test_convert
    // holds the scalar conversions to the oracle), made 20x faster, which was most of the
    // f16/bf16 stencil and BLAS-1 tests' time.
    std::uniform_real_distribution<double> d(-scale, scale);
    for (auto& e : v) e = T(d(gen));
  }
  return v;
}

/// Random values in the interior and halo of a host grid, in [-1, 1] rounded to T.
template <class T>
void randomize(grid& g, std::uint32_t seed) {
  const std::int64_t h = g.halo(), zh = g.dims() == 3 ? h : 0;
  const auto v = random_values<T>((g.nx() + 2 * h) * (g.ny() + 2 * h) * (g.nz() + 2 * zh), seed);
  std::size_t n = 0;
  for (std::int64_t k = -zh; k < g.nz() + zh; ++k)
    for (std::int64_t j = -h; j < g.ny() + h; ++j)
      for (std::int64_t i = -h; i < g.nx() + h; ++i) g.at<T>(i, j, k) = v[n++];
}

/// A strided vector of n logical elements in a context: element i is at base + i*inc;
/// for a negative inc the view's pointer is at the high end of the buffer. Unused gaps are
/// filled with a sentinel so tests can check they stay untouched.
template <class T>
struct strided_vector {
  array<T> storage;
  std::int64_t n = 0, inc = 1;
  std::int64_t lead = 0;  // elements before the first (sentinels): data that does not start aligned

  strided_vector(const std::vector<T>& logical, std::int64_t inc_, const context& ctx, T sentinel,
                 std::int64_t lead_ = 0)
      : n(std::int64_t(logical.size())), inc(inc_), lead(lead_) {
    const std::int64_t span = lead + (n == 0 ? 0 : 1 + (n - 1) * std::abs(inc));
    std::vector<T> host(static_cast<std::size_t>(span), sentinel);
    for (std::int64_t i = 0; i < n; ++i)
      host[static_cast<std::size_t>(offset(i))] = logical[static_cast<std::size_t>(i)];
    storage = array<T>(host, ctx);
  }
  std::int64_t offset(std::int64_t i) const { return lead + (inc >= 0 ? i * inc : (n - 1 - i) * -inc); }
  T* base() { return storage.data() + (n == 0 ? lead : offset(0)); }
  mixprec::view as_view() { return make_view(base(), n, inc, storage.ctx()); }
  std::vector<T> raw() const { return storage.to_vector(); }
  /// Whether raw()[j] is one of the n elements (else a sentinel that must stay).
  bool holds_element(std::size_t j) const {
    const std::int64_t d = std::int64_t(j) - lead, step = std::max<std::int64_t>(std::abs(inc), 1);
    return d >= 0 && d % step == 0 && d / step < n;
  }
  std::vector<T> logical() const {
    const auto r = raw();
    std::vector<T> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = r[static_cast<std::size_t>(offset(i))];
    return out;
  }
};

/// Runs `call`, which must throw mixprec::error with `code` and a message containing
/// `words` (the message names what is wrong).
template <class F>
void expect_refusal(F&& call, status code, const std::string& words) {
  try {
    call();
    ADD_FAILURE() << "accepted: " << words;
  } catch (const error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

/// Sizes that cross every tile, vector and chunk boundary the kernels have.
inline const std::vector<std::int64_t>& test_sizes() {
  static const std::vector<std::int64_t> s{0,  1,  2,  3,  7,  8,   9,   15,   16,   17,
                                           31, 33, 63, 64, 65, 127, 129, 1000, 4099, 70001};
  return s;
}

/// Strides to try: unit, positive, negative — only unit for kernels that need it.
inline std::vector<std::int64_t> test_strides(const kernel_info& k) {
  if (k.unit_stride_only) return {1};
  return {1, 3, -2};
}

}  // namespace mixprec::test
