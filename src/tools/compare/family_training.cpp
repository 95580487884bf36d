// Training: the fused softmax cross-entropy (loss and gradient in one pass) over a
// vocabulary-sized row, logits in f32, bf16 and f16. Checked against the exact loss and
// gradient of the stored logits (mixprec/train.hpp: per row (n + 12 + 2 max|z|) u on the
// loss; gradients u_T |g_j| + ((n + 12 + 2 max|z|) p_j + 2) u, mean-reduced by the rows),
// and the loss against the f64 problem. The reference is computed in f64 (n exps of f64
// error each; the bounds are n u32, a billion times more). And the AdamW step with f32 master weights and the
// model copy in f32, bf16 or f16 (gradients in the model's dtype), or bf16 weights alone
// updated with stochastic rounding, against PyTorch's update in long double.
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
  return s == suite_size::tiny ? shape{8, 512} : s == suite_size::quick ? shape{1024, 32000} : shape{2048, 32000};
}

/// Per-row loss and probabilities, in f64 (exp in long double is several times slower, and
/// f64's error is far below every bound checked here).
long double row_loss(const double* z, std::int64_t n, std::int32_t label, std::vector<long double>* p) {
  double m = z[0];
  long double sum = 0;
  for (std::int64_t j = 1; j < n; ++j) m = std::max(m, z[j]);
  std::vector<double> e(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) sum += e[std::size_t(j)] = std::exp(z[j] - m);
  if (p)
    for (std::int64_t j = 0; j < n; ++j) (*p)[std::size_t(j)] = e[std::size_t(j)] / sum;
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

/// torch.optim.AdamW on one value, in long double.
struct adamw_reference {
  long double p, m = 0, v = 0;
  void step(long double g, int t, const adamw_options& o) {
    p *= 1 - (long double)o.lr * o.weight_decay;
    m = o.beta1 * m + (1 - (long double)o.beta1) * g;
    v = o.beta2 * v + (1 - (long double)o.beta2) * g * g;
    const long double bc1 = 1 - std::pow((long double)o.beta1, t), bc2 = 1 - std::pow((long double)o.beta2, t);
    p -= o.lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + o.eps);
  }
};

/// model: the dtype of the weights the forward reads (and of the gradients); stochastic:
/// bf16 weights alone, no f32 master copy, rounded stochastically.
void add_adamw(case_list& cases, std::int64_t n, dtype model, bool stochastic) {
  const std::string label = stochastic ? "bf16-sr" : std::string(name_of(model));
  case_def d{"training", "adamw_step/" + size_label(n), label, {}};
  d.prepare = [n, model, stochastic] {
    struct state {
      std::vector<float> master;
      std::shared_ptr<buffer> weights, grads;
      std::vector<parameter> params() {
        return {{master.empty() ? view() : make_view(master.data(), std::int64_t(master.size())), weights->as_view(),
                 grads->as_view()}};
      }
    };
    const auto make_state = [n, model, stochastic] {
      auto st = std::make_shared<state>();
      const std::vector<double> p0 = uniform_values(n, 101);
      if (!stochastic) st->master.assign(p0.begin(), p0.end());
      st->weights = std::make_shared<buffer>(stored_as(model, p0));
      st->grads = std::make_shared<buffer>(stored_as(model, uniform_values(n, 102, -1e-2, 1e-2)));
      return st;
    };
    adamw_options o;
    o.stochastic_rounding = stochastic;
    o.seed = 7;
    auto timed = make_state();
    auto opt = std::make_shared<adamw>(o);
    prepared_case c;
    // master and two moments read and written (24 B), the gradient read, the model written
    c.bytes = double(n) *
              ((stochastic ? 16.0 : 24.0) + 2.0 * double(size_of(model)) + (stochastic ? double(size_of(model)) : 0));
    c.flops = 18.0 * double(n);
    c.run = [timed, opt] { opt->step(timed->params()); };
    c.check = [make_state, o, n, model, stochastic](case_result& r) {
      auto st = make_state();
      adamw fresh(o);
      constexpr int steps = 3;
      std::vector<adamw_reference> ref;
      for (double p : values_of(st->weights->as_view())) ref.push_back({(long double)p});
      if (!stochastic)
        for (std::size_t i = 0; i < ref.size(); ++i) ref[i].p = st->master[i];
      for (int t = 1; t <= steps; ++t) {
        copy(stored_as(model, uniform_values(n, 102 + std::uint64_t(t), -1e-2, 1e-2)).as_view(), st->grads->as_view());
        const std::vector<double> g = values_of(st->grads->as_view());
        for (std::size_t i = 0; i < ref.size(); ++i) ref[i].step(g[i], t, o);
        fresh.step(st->params());
      }
      const double u = unit_roundoff(dtype::f32), um = unit_roundoff(model);
      const std::vector<double> w = values_of(st->weights->as_view());
      double worst = 0, worst_model = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        // About ten f32 operations a step, each within u of |p| and the step's size (lr times
        // a few); the model copy adds one rounding to its dtype, or with stochastic rounding
        // up to one of its ulps a step.
        const double f32_part = steps * 16 * u * double(std::fabs(ref[i].p) + 40 * o.lr);
        const double rounding = stochastic ? steps * 2 * um * double(std::fabs(ref[i].p) + o.lr) : um * std::fabs(w[i]);
        const double e = double(std::fabs(w[i] - ref[i].p));
        worst = std::max(worst, e / (f32_part + rounding + half_subnormal(model)));
        worst_model = std::max(worst_model, e);
      }
      r.accuracy.push_back(checked_figure("max |weight error| / bound", "exact", worst, 1.0,
                                          stochastic
                                              ? "PyTorch's update within f32 roundings, plus an ulp of bf16 a step"
                                              : "PyTorch's update within f32 roundings, rounded once to the model"));
      r.accuracy.push_back(plain_figure("max |weight error| after 3 steps", "f64 problem", worst_model));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_training_cases(case_list& cases, const suite_settings& s) {
  const shape sh = ce_shape(s.size);
  for (dtype t : nn_types) add_cross_entropy(cases, sh, t);
  const std::int64_t n = s.size == suite_size::tiny ? 4096 : s.size == suite_size::quick ? 1 << 22 : 1 << 24;
  for (dtype t : nn_types) add_adamw(cases, n, t, false);
  add_adamw(cases, n, dtype::bf16, true);
}

}  // namespace mixprec::compare
