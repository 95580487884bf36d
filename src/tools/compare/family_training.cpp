// Training: the fused softmax cross-entropy (loss and gradient in one pass) over a
// vocabulary-sized row, logits in f32, bf16 and f16. Checked against the exact loss and
// gradient of the stored logits (mixprec/train.hpp: per row (n + 12 + 2 max|z|) u on the
// loss; gradients u_T |g_j| + ((n + 12 + 2 max|z|) p_j + 2) u, mean-reduced by the rows),
// and the loss against the f64 problem.
#include <algorithm>
#include <cmath>

#include "mixprec/train.hpp"
#include "tools/compare/nn_data.hpp"

namespace mixprec::compare {
namespace {

struct shape {
  std::int64_t rows, vocab;
};
shape ce_shape(suite_size s) {
  return s == suite_size::tiny ? shape{8, 512} : s == suite_size::quick ? shape{1024, 32000} : shape{4096, 32000};
}

/// Per-row loss and probabilities in long double.
long double row_loss(const double* z, std::int64_t n, std::int32_t label, std::vector<long double>* p) {
  long double m = z[0], sum = 0;
  for (std::int64_t j = 1; j < n; ++j) m = std::max<long double>(m, z[j]);
  for (std::int64_t j = 0; j < n; ++j) sum += std::exp((long double)z[j] - m);
  if (p)
    for (std::int64_t j = 0; j < n; ++j) (*p)[std::size_t(j)] = std::exp((long double)z[j] - m) / sum;
  return std::log(sum) + m - z[label];
}

void add_cross_entropy(case_list& cases, shape sh, dtype t) {
  case_def d{"training", "cross_entropy/" + std::to_string(sh.rows) + "x" + std::to_string(sh.vocab), name_of(t), {}};
  d.prepare = [sh, t] {
    auto z = std::make_shared<nn_rows>(make_rows(sh.rows, sh.vocab, t, 81, -6, 6));
    auto labels = std::make_shared<std::vector<std::int32_t>>(static_cast<std::size_t>(sh.rows));
    const std::vector<double> pick = uniform_values(sh.rows, 82, 0, double(sh.vocab));
    for (std::size_t i = 0; i < labels->size(); ++i) (*labels)[i] = std::int32_t(pick[i]);
    auto g = like(*z);
    auto loss = std::make_shared<double>(0);
    prepared_case c;
    c.bytes = 2.0 * double(sh.rows * sh.vocab) * double(size_of(t));
    const auto grad = [z, g] { return matrix_view(*g, z->rows, z->cols); };
    c.run = [z, labels, grad, loss] {
      *loss = cross_entropy(z->matrix(), make_view(labels->data(), std::int64_t(labels->size())), grad());
    };
    c.check = [z, labels, g, loss, t](case_result& r) {
      const std::int64_t n = z->cols, rows = z->rows;
      const double u = unit_roundoff(dtype::f32), ut = unit_roundoff(t);
      const std::vector<double> got = values_of(g->as_view());
      std::vector<long double> p(static_cast<std::size_t>(n));
      long double exact = 0, problem = 0;
      double loss_bound = 0, worst_grad = 0;
      for (std::int64_t i = 0; i < rows; ++i) {
        const double* zs = z->stored.data() + i * n;
        const std::int32_t label = (*labels)[std::size_t(i)];
        exact += row_loss(zs, n, label, &p);
        problem += row_loss(z->problem.data() + i * n, n, label, nullptr);
        double zmax = 0;
        for (std::int64_t j = 0; j < n; ++j) zmax = std::max(zmax, std::fabs(zs[j]));
        const double k = double(n) + 12 + 2 * zmax;
        loss_bound = std::max(loss_bound, k * u);
        for (std::int64_t j = 0; j < n; ++j) {
          const long double gj = (p[std::size_t(j)] - (j == label ? 1 : 0)) / rows;
          const long double bound = ut * std::fabs(gj) + (k * p[std::size_t(j)] + 2) * u / rows + half_subnormal(t);
          worst_grad = std::max(worst_grad, double(std::fabs(got[std::size_t(i * n + j)] - gj) / bound));
        }
      }
      exact /= rows;
      problem /= rows;
      r.accuracy.push_back(checked_figure("|loss error|", "exact", double(std::fabs(*loss - exact)),
                                          loss_bound + 2 * u * double(std::fabs(exact)),
                                          "max over rows of (n + 12 + 2 max|z|) u, plus the mean's rounding"));
      r.accuracy.push_back(checked_figure("max |gradient error| / documented bound", "exact", worst_grad, 1.0,
                                          "u_T |g_j| + ((n + 12 + 2 max|z|) p_j + 2) u / rows"));
      r.accuracy.push_back(
          plain_figure("|loss error| / loss", "f64 problem", double(std::fabs(*loss - problem) / problem)));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_training_cases(case_list& cases, const suite_settings& s) {
  const shape sh = ce_shape(s.size);
  for (dtype t : nn_types) add_cross_entropy(cases, sh, t);
}

}  // namespace mixprec::compare
