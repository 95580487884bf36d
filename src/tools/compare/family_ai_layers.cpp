// The row-wise layers of a transformer in f32, bf16 and f16 storage: softmax over attention
// score rows, RMSNorm over hidden states. Each against its exact result for the stored
// input (the per-element bounds of mixprec/nn.hpp, reported as error / bound, held at <= 1),
// its deviation from the f64 problem, and for softmax the share of rows whose largest
// probability sits where the f64 problem's does (top-1 agreement).
#include <algorithm>
#include <cmath>

#include "mixprec/nn.hpp"
#include "tools/compare/nn_data.hpp"

namespace mixprec::compare {
namespace {

struct shape {
  std::int64_t rows, cols;
};
shape layer_shape(suite_size s) {
  return s == suite_size::tiny ? shape{16, 256} : s == suite_size::quick ? shape{4096, 4096} : shape{8192, 8192};
}

std::vector<long double> softmax_row(const double* x, std::int64_t n) {
  long double m = x[0], sum = 0;
  for (std::int64_t j = 1; j < n; ++j) m = std::max<long double>(m, x[j]);
  std::vector<long double> y(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) sum += y[std::size_t(j)] = std::exp((long double)x[j] - m);
  for (auto& v : y) v /= sum;
  return y;
}

std::int64_t argmax(const long double* y, std::int64_t n) { return std::max_element(y, y + n) - y; }
std::int64_t argmax(const double* y, std::int64_t n) { return std::max_element(y, y + n) - y; }

void add_softmax(case_list& cases, shape sh, dtype t) {
  case_def d{"ai_layers", "softmax/" + std::to_string(sh.rows) + "x" + std::to_string(sh.cols), name_of(t), {}};
  d.prepare = [sh, t] {
    auto x = std::make_shared<nn_rows>(make_rows(sh.rows, sh.cols, t, 71, -8, 8));
    auto y = like(*x);
    prepared_case c;
    c.bytes = 2.0 * double(sh.rows * sh.cols) * double(size_of(t));
    c.run = [x, y] { softmax(x->matrix(), matrix_view(*y, x->rows, x->cols)); };
    c.check = [x, y, t](case_result& r) {
      const std::vector<double> got = values_of(y->as_view());
      const std::int64_t n = x->cols;
      const double u = unit_roundoff(dtype::f32), ut = unit_roundoff(t);
      double worst = 0, worst_problem = 0, agree = 0;
      for (std::int64_t i = 0; i < x->rows; ++i) {
        const double* xs = x->stored.data() + i * n;
        const std::vector<long double> ref = softmax_row(xs, n), prob = softmax_row(x->problem.data() + i * n, n);
        double zmax = 0;
        for (std::int64_t j = 0; j < n; ++j) zmax = std::max(zmax, std::fabs(xs[j]));
        for (std::int64_t j = 0; j < n; ++j) {
          const double g = got[std::size_t(i * n + j)];
          const long double bound =
              (ut + (double(n) + 8 + 2 * std::fabs(xs[j]) + 6 * zmax) * u) * ref[std::size_t(j)] + half_subnormal(t);
          worst = std::max(worst, double(std::fabs(g - ref[std::size_t(j)]) / bound));
          worst_problem = std::max(worst_problem, double(std::fabs(g - prob[std::size_t(j)])));
        }
        agree += argmax(got.data() + i * n, n) == argmax(prob.data(), n) ? 1 : 0;
      }
      r.accuracy.push_back(checked_figure("max |error| / documented bound", "exact", worst, 1.0,
                                          "(u_T + (n + 8 + 2|z_j| + 6 max|z|) u) y_j"));
      r.accuracy.push_back(plain_figure("max |error| (probabilities)", "f64 problem", worst_problem));
      r.accuracy.push_back(plain_figure("top-1 agreement", "f64 problem", agree / double(x->rows)));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

std::vector<long double> rms_row(const double* x, std::int64_t n, double eps) {
  long double ms = 0;
  for (std::int64_t j = 0; j < n; ++j) ms += (long double)x[j] * x[j];
  const long double r = 1 / std::sqrt(ms / n + eps);
  std::vector<long double> y(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) y[std::size_t(j)] = x[j] * r;
  return y;
}

void add_rms_norm(case_list& cases, shape sh, dtype t) {
  case_def d{"ai_layers", "rms_norm/" + std::to_string(sh.rows) + "x" + std::to_string(sh.cols), name_of(t), {}};
  d.prepare = [sh, t] {
    auto x = std::make_shared<nn_rows>(make_rows(sh.rows, sh.cols, t, 72, -4, 4));
    auto y = like(*x);
    prepared_case c;
    c.bytes = 2.0 * double(sh.rows * sh.cols) * double(size_of(t));
    c.run = [x, y] { rms_norm(x->matrix(), {}, matrix_view(*y, x->rows, x->cols)); };
    c.check = [x, y, t](case_result& r) {
      const std::vector<double> got = values_of(y->as_view());
      const std::int64_t n = x->cols;
      const double eps = norm_options{}.eps, u = unit_roundoff(dtype::f32), ut = unit_roundoff(t);
      double worst = 0, worst_problem = 0;
      for (std::int64_t i = 0; i < x->rows; ++i) {
        const std::vector<long double> ref = rms_row(x->stored.data() + i * n, n, eps);
        const std::vector<long double> prob = rms_row(x->problem.data() + i * n, n, eps);
        for (std::int64_t j = 0; j < n; ++j) {
          const double g = got[std::size_t(i * n + j)];
          const long double bound = (ut + (double(n) / 2 + 8) * u) * std::fabs(ref[std::size_t(j)]) + half_subnormal(t);
          worst = std::max(worst, double(std::fabs(g - ref[std::size_t(j)]) / bound));
          worst_problem = std::max(worst_problem, double(std::fabs(g - prob[std::size_t(j)])));
        }
      }
      r.accuracy.push_back(
          checked_figure("max |error| / documented bound", "exact", worst, 1.0, "(u_T + (n/2 + 8) u) |y_j|"));
      r.accuracy.push_back(plain_figure("max |error| (|y| ~ 1)", "f64 problem", worst_problem));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_ai_layer_cases(case_list& cases, const suite_settings& s) {
  const shape sh = layer_shape(s.size);
  for (dtype t : nn_types) add_softmax(cases, sh, t);
  for (dtype t : nn_types) add_rms_norm(cases, sh, t);
}

}  // namespace mixprec::compare
