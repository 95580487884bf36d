// GEMM C = A B (m = n = k) in every precision: f64, f32, f16 and bf16 inputs with f32
// accumulation and output, and s8 x s8 -> s32 on data quantized per tensor (A) and per
// output channel (B). Checked against the exact product of the stored inputs (mixprec/
// gemm.hpp: k u |A||B| for floats, bit-exact for integers) and against the f64 problem.
// The long-double reference covers a sample of rows (all of them at the tiny size).
#include <algorithm>
#include <cmath>

#include "mixprec/gemm.hpp"
#include "mixprec/quantize.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

std::int64_t order(suite_size s) { return s == suite_size::tiny ? 64 : s == suite_size::quick ? 1024 : 2048; }

/// Rows checked: every row up to 64 rows, else 64 rows spread evenly.
std::int64_t row_step(std::int64_t m) { return std::max<std::int64_t>(1, m / 64); }

limit_kind unit_of(dtype t) {
  switch (t) {
    case dtype::f64:
      return limit_kind::fma_f64;
    case dtype::bf16:
      return limit_kind::dot_bf16;
    case dtype::i8:
      return limit_kind::dot_int8;
    default:
      return limit_kind::fma_f32;  // f32, and f16 widened to f32 (no f16 arithmetic is assumed)
  }
}

/// Max over the sampled entries of |got - ref| / (|A||B|)_ij, ref and |A||B| from `a`, `b`
/// (row-major n x n, long double), `got` scaled by `out_scale(i, j)`.
template <class Scale>
double worst_entry_error(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& got,
                         std::int64_t n, Scale out_scale) {
  double worst = 0;
  std::vector<long double> ref(static_cast<std::size_t>(n)), mag(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; i += row_step(n)) {
    std::fill(ref.begin(), ref.end(), 0.0L);
    std::fill(mag.begin(), mag.end(), 0.0L);
    for (std::int64_t l = 0; l < n; ++l) {
      const long double ail = a[std::size_t(i * n + l)];
      for (std::int64_t j = 0; j < n; ++j) {
        ref[std::size_t(j)] += ail * b[std::size_t(l * n + j)];
        mag[std::size_t(j)] += std::fabs(ail * b[std::size_t(l * n + j)]);
      }
    }
    for (std::int64_t j = 0; j < n; ++j)
      if (mag[std::size_t(j)] > 0)
        worst = std::max(worst, double(std::fabs(got[std::size_t(i * n + j)] * out_scale(i, j) - ref[std::size_t(j)]) /
                                       mag[std::size_t(j)]));
  }
  return worst;
}

void add_float(case_list& cases, std::int64_t n, dtype t) {
  case_def d{"gemm", std::to_string(n) + "^3", name_of(t), {}};
  d.prepare = [n, t] {
    auto a64 = std::make_shared<std::vector<double>>(uniform_values(n * n, 51));
    auto b64 = std::make_shared<std::vector<double>>(uniform_values(n * n, 52));
    const dtype ct = t == dtype::f64 ? dtype::f64 : dtype::f32;
    auto a = std::make_shared<buffer>(stored_as(t, *a64));
    auto b = std::make_shared<buffer>(stored_as(t, *b64));
    auto c = std::make_shared<buffer>(ct, n * n);
    const auto mat = [n](const std::shared_ptr<buffer>& buf) { return matrix_view(*buf, n, n); };
    prepared_case pc;
    pc.flops = 2.0 * double(n) * double(n) * double(n);
    pc.bytes = double(n * n) * double(2 * size_of(t) + size_of(ct));
    pc.limit = unit_of(t);
    pc.run = [a, b, c, mat] { gemm(trans::no, trans::no, 1.0, mat(a), mat(b), 0.0, mat(c)); };
    pc.check = [a, b, c, a64, b64, n, ct](case_result& r) {
      const std::vector<double> got = values_of(c->as_view());
      const auto one = [](std::int64_t, std::int64_t) { return 1.0L; };
      const double err = worst_entry_error(values_of(a->as_view()), values_of(b->as_view()), got, n, one);
      const double u = unit_roundoff(ct);
      r.accuracy.push_back(checked_figure("max |error| / (|A||B|)_ij", "exact", err, double(n) * u,
                                          "k u |A||B|, u of the accumulator (f32 for f16/bf16 inputs)"));
      r.accuracy.push_back(
          plain_figure("max |error| / (|A||B|)_ij", "f64 problem", worst_entry_error(*a64, *b64, got, n, one)));
    };
    return pc;
  };
  cases.push_back(std::move(d));
}

void add_int8(case_list& cases, std::int64_t n) {
  case_def d{"gemm", std::to_string(n) + "^3", "s8s8s32", {}};
  d.prepare = [n] {
    auto a64 = std::make_shared<std::vector<double>>(uniform_values(n * n, 51));
    auto b64 = std::make_shared<std::vector<double>>(uniform_values(n * n, 52));
    buffer a32 = stored_as(dtype::f32, *a64), b32 = stored_as(dtype::f32, *b64);
    const auto mat = [n](buffer& buf) { return matrix_view(buf, n, n); };
    const quant_params pa = choose_quant_params(mat(a32), {dtype::i8, true, quant_granularity::per_tensor, 1, 0});
    const quant_params pb = choose_quant_params(mat(b32), {dtype::i8, true, quant_granularity::per_channel, 1, 0});
    auto a = std::make_shared<buffer>(dtype::i8, n * n), b = std::make_shared<buffer>(dtype::i8, n * n);
    auto c = std::make_shared<buffer>(dtype::i32, n * n);
    quantize(mat(a32), pa, mat(*a));
    quantize(mat(b32), pb, mat(*b));
    prepared_case pc;
    pc.flops = 2.0 * double(n) * double(n) * double(n);
    pc.bytes = double(n * n) * 6.0;
    pc.limit = limit_kind::dot_int8;
    pc.run = [a, b, c, mat] { gemm(trans::no, trans::no, 1.0, mat(*a), mat(*b), 0.0, mat(*c)); };
    pc.check = [a, b, c, a64, b64, n, pa, pb](case_result& r) {
      const std::vector<double> av = values_of(a->as_view()), bv = values_of(b->as_view()),
                                got = values_of(c->as_view());
      // Integer products and sums of n <= 2^16 terms of at most 2^14 are exact in long double.
      const auto one = [](std::int64_t, std::int64_t) { return 1.0L; };
      r.accuracy.push_back(checked_figure("max |error| / (|A||B|)_ij", "exact", worst_entry_error(av, bv, got, n, one),
                                          0, "s32 accumulation is exact"));
      const auto dequant = [&](std::int64_t, std::int64_t j) {
        return (long double)pa.scale[0] * (long double)pb.scale[std::size_t(j)];
      };
      r.accuracy.push_back(
          plain_figure("max |error| / (|A||B|)_ij", "f64 problem", worst_entry_error(*a64, *b64, got, n, dequant)));
    };
    return pc;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_gemm_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = order(s.size);
  for (dtype t : float_types) add_float(cases, n, t);
  add_int8(cases, n);
}

}  // namespace mixprec::compare
