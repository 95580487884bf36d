// Quantization: an f32 weight matrix (rows x cols) to s8 per output channel, to u8 in groups
// of 32 (asymmetric), and to GGUF's Q8_0 and Q4_0 blocks, then back. mixprec/quantize.hpp:
// |dequantize(quantize(x)) - x| <= scale / 2 inside the range (plus the f32 roundings of
// x / scale and of the product, u (|x| / scale + |q|) each); the block formats round to
// nearest (Q8_0: d / 2; Q4_0 truncates x / d + 8.5, also d / 2, except that its levels run
// from -8 to 7: the values beyond 7.5 d are clamped to 7 d, an error of up to |d|), plus the
// f16 rounding of d times the level.
#include <algorithm>
#include <cmath>

#include "mixprec/block_quant.hpp"
#include "mixprec/quantize.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

std::int64_t side(suite_size s) { return s == suite_size::tiny ? 64 : s == suite_size::quick ? 4096 : 8192; }

struct scheme_case {
  const char* label;
  quant_scheme scheme;
};

void add_scheme(case_list& cases, std::int64_t n, const scheme_case& sc) {
  case_def d{"quantization", "weights_" + std::to_string(n) + "x" + std::to_string(n), sc.label, {}};
  d.prepare = [n, sc] {
    auto x = std::make_shared<buffer>(stored_as(dtype::f32, uniform_values(n * n, 61)));
    const auto mat = [n](buffer& b) { return matrix_view(b, n, n); };
    auto p = std::make_shared<quant_params>(choose_quant_params(mat(*x), sc.scheme));
    auto q = std::make_shared<buffer>(sc.scheme.target, n * n);
    auto back = std::make_shared<buffer>(dtype::f32, n * n);
    prepared_case c;
    c.bytes = double(n * n) * (4 + 1);
    c.run = [x, p, q, mat] { quantize(mat(*x), *p, mat(*q)); };
    c.check = [x, p, q, back, mat, n](case_result& r) {
      dequantize(mat(*q), *p, mat(*back));
      const std::vector<double> xs = values_of(x->as_view()), got = values_of(back->as_view());
      const double u = unit_roundoff(dtype::f32);
      double worst = 0, worst_rel = 0;
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          const std::size_t e = std::size_t(i * n + j);
          const double s = p->scale[std::size_t(p->index(i, j))];
          const double bound = s / 2 + u * (std::fabs(xs[e]) + 2 * 256 * s);
          worst = std::max(worst, std::fabs(got[e] - xs[e]) / bound);
          worst_rel = std::max(worst_rel, std::fabs(got[e] - xs[e]));
        }
      r.accuracy.push_back(checked_figure("max |error| / documented bound", "exact", worst, 1.0,
                                          "scale / 2 + f32 roundings of x / scale and (q - z) scale"));
      r.accuracy.push_back(plain_figure("max |error| (values in [-1, 1))", "f64 problem", worst_rel));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

void add_blocks(case_list& cases, std::int64_t n, block_format f) {
  case_def d{"quantization", "weights_" + std::to_string(n) + "x" + std::to_string(n), name_of(f), {}};
  d.prepare = [n, f] {
    auto x = std::make_shared<buffer>(stored_as(dtype::f32, uniform_values(n * n, 61)));
    auto w = std::make_shared<block_matrix>();
    const view xm = matrix_view(*x, n, n);
    prepared_case c;
    c.bytes = double(n * n) * 4 + double(n * n / block_values * std::int64_t(block_bytes(f)));
    c.run = [w, xm, f] { *w = block_matrix::quantize(xm, f); };
    c.check = [x, w, n, f](case_result& r) {
      std::vector<float> row(static_cast<std::size_t>(n));
      const std::vector<double> xs = values_of(x->as_view());
      double worst = 0, worst_abs = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        w->dequantize_row(i, row.data());
        for (std::int64_t b = 0; b < n; b += block_values) {
          double amax = 0;
          for (std::int64_t j = b; j < b + block_values; ++j)
            amax = std::max(amax, std::fabs(xs[std::size_t(i * n + j)]));
          // d = amax / 127 (Q8_0) or amax / 8 (Q4_0), rounded to f16 (relative u_f16); the
          // worst value is then off by d / 2 plus the scale's rounding times its level.
          const double levels = f == block_format::q8_0 ? 127 : 8, d = amax / levels;
          const double step_error = f == block_format::q8_0 ? d / 2 : d;
          const double bound =
              step_error + unit_roundoff(dtype::f16) * amax * (1 + 1.0 / levels) + unit_roundoff(dtype::f32) * amax * 2;
          for (std::int64_t j = b; j < b + block_values; ++j) {
            const double e = std::fabs(double(row[std::size_t(j)]) - xs[std::size_t(i * n + j)]);
            if (bound > 0) worst = std::max(worst, e / bound);
            worst_abs = std::max(worst_abs, e);
          }
        }
      }
      r.accuracy.push_back(checked_figure("max |error| / documented bound", "exact", worst, 1.0,
                                          f == block_format::q8_0
                                              ? "d / 2, plus d's f16 rounding times the level"
                                              : "|d| (level 7 clamps), plus d's f16 rounding times the level"));
      r.accuracy.push_back(plain_figure("max |error| (values in [-1, 1))", "f64 problem", worst_abs));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_quantization_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = side(s.size);
  add_scheme(cases, n, {"s8/per_channel", {dtype::i8, true, quant_granularity::per_channel, 1, 0}});
  add_scheme(cases, n, {"u8/group32", {dtype::u8, false, quant_granularity::per_group, 1, 32}});
  add_blocks(cases, n, block_format::q8_0);
  add_blocks(cases, n, block_format::q4_0);
}

}  // namespace mixprec::compare
