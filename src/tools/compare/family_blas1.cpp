// BLAS-1: dot in each storage dtype and accumulation, and axpy in each storage dtype.
// The data are f64 values rounded once to the storage dtype; each case reports its error
// against the exact result of the stored values (what the contract of mixprec/blas1.hpp
// bounds) and against the f64 problem (what the storage precision costs).
#include <cmath>
#include <numeric>

#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

/// Past the 32 MiB L3 of the machines this was tuned on even in bf16 (2 x 64 MiB at 2^25),
/// so that the fraction of the triad is a memory figure, not a cache one.
std::int64_t vector_length(suite_size s) {
  return s == suite_size::tiny ? 4096 : s == suite_size::quick ? 1 << 25 : 1 << 26;
}

/// The f64 vectors x and y every case of the family starts from, made when the first case
/// needs them and kept for the rest (making and touching them was most of a case's set-up).
struct source_vectors {
  std::int64_t n;
  std::shared_ptr<const std::vector<double>> x, y;
  void make() {
    if (x) return;
    x = std::make_shared<const std::vector<double>>(uniform_values(n, 21));
    y = std::make_shared<const std::vector<double>>(uniform_values(n, 22));
  }
};
using shared_sources = std::shared_ptr<source_vectors>;

struct dot_variant {
  dtype storage;
  accumulation acc;
  std::string label() const {
    std::string l = name_of(storage);
    if (acc != accumulation::standard) l += std::string("+") + name_of(acc);
    return l;
  }
};

void add_dot(case_list& cases, const shared_sources& src, dot_variant v) {
  const std::int64_t n = src->n;
  case_def d{"blas1", "dot/" + size_label(n), v.label(), {}};
  d.prepare = [src, n, v] {
    src->make();
    const auto x64 = src->x, y64 = src->y;
    auto x = std::make_shared<buffer>(stored_as(v.storage, *x64));
    auto y = std::make_shared<buffer>(stored_as(v.storage, *y64));
    auto result = std::make_shared<double>(0);
    prepared_case c;
    c.bytes = 2.0 * double(n) * double(size_of(v.storage));
    c.flops = 2.0 * double(n);
    c.run = [x, y, result, v] { *result = dot(x->as_view(), y->as_view(), v.acc); };
    c.check = [x, y, x64, y64, result, v, n](case_result& r) {
      const std::vector<double> xs = values_of(x->as_view()), ys = values_of(y->as_view());
      long double exact = 0, sum_abs = 0, problem = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        exact += (long double)xs[i] * ys[i];
        sum_abs += std::fabs((long double)xs[i] * ys[i]);
        problem += (long double)(*x64)[i] * (*y64)[i];
      }
      const double u = v.acc == accumulation::f64 ? unit_roundoff(dtype::f64) : compute_roundoff(v.storage);
      const double error = double(std::fabs(*result - exact) / sum_abs);
      if (double(n) * u >= 1) {
        // gamma_n(u) = n u / (1 - n u) is undefined from n u = 1 on: the documented bound says
        // nothing at this length (the kernels' chunked, multi-accumulator sums do far better).
        accuracy_figure f = plain_figure("|error| / sum|x y|", "exact", error);
        f.reason = "no documented bound: gamma_n(u) needs n u < 1";
        r.accuracy.push_back(f);
      } else {
        const double g = gamma(double(n), u);
        // The long-double reference itself carries n * 2^-64 relative to sum |x y|.
        const double ref_err = double(n) * std::ldexp(1.0, -64);
        const bool comp = v.acc == accumulation::compensated;
        const double bound = (comp ? u * double(std::fabs(exact) / sum_abs) + g * g : g) + ref_err;
        r.accuracy.push_back(
            checked_figure("|error| / sum|x y|", "exact", error, bound,
                           comp ? "Dot2: u |s| + gamma_n(u)^2 sum|x y|" : "gamma_n(u) sum|x y|, u of the accumulator"));
      }
      r.accuracy.push_back(
          plain_figure("|error| / sum|x y|", "f64 problem", double(std::fabs(*result - problem) / sum_abs)));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

void add_axpy(case_list& cases, const shared_sources& src, dtype t) {
  const std::int64_t n = src->n;
  case_def d{"blas1", "axpy/" + size_label(n), name_of(t), {}};
  d.prepare = [src, n, t] {
    src->make();
    const auto x64 = src->x, y64 = src->y;
    auto x = std::make_shared<buffer>(stored_as(t, *x64));
    auto y0 = std::make_shared<buffer>(stored_as(t, *y64));
    auto y = std::make_shared<buffer>(stored_as(t, *y64));
    // A small alpha keeps y where it started over the timed repetitions.
    constexpr double alpha = 1.0 / 1024;
    prepared_case c;
    c.bytes = 3.0 * double(n) * double(size_of(t));
    c.flops = 2.0 * double(n);
    c.run = [x, y] { axpy(alpha, x->as_view(), y->as_view()); };
    c.check = [x, y0, y, x64, y64, t](case_result& r) {
      copy(y0->as_view(), y->as_view());
      axpy(alpha, x->as_view(), y->as_view());
      const std::vector<double> xs = values_of(x->as_view()), ys = values_of(y0->as_view()),
                                got = values_of(y->as_view());
      const double us = unit_roundoff(t), uc = compute_roundoff(t), g2 = gamma(2, uc), eta = half_subnormal(t);
      double worst = 0, worst_problem = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const long double ax = (long double)alpha * xs[i], exact = ax + ys[i];
        const long double scale = std::fabs(ax) + std::fabs((long double)ys[i]);
        // u_c|a x| + gamma_2(u_c)(|a x| + |y|) + u_s|exact| + eta_s (a result in T's subnormals)
        const long double bound = uc * std::fabs(ax) + g2 * scale + us * std::fabs(exact) + eta;
        worst = std::max(worst, double(std::fabs(got[i] - exact) / bound));
        const long double problem = (long double)alpha * (*x64)[i] + (*y64)[i];
        if (scale > 0) worst_problem = std::max(worst_problem, double(std::fabs(got[i] - problem) / scale));
      }
      r.accuracy.push_back(checked_figure("max |error| / documented bound", "exact", worst, 1.0,
                                          "u_c|a x| + gamma_2(u_c)(|a x| + |y|) + u_s|result| + half T's smallest "
                                          "subnormal"));
      r.accuracy.push_back(plain_figure("max |error| / (|a x| + |y|)", "f64 problem", worst_problem));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_blas1_cases(case_list& cases, const suite_settings& s) {
  const auto src = std::make_shared<source_vectors>(source_vectors{vector_length(s.size), nullptr, nullptr});
  for (dtype t : float_types) add_dot(cases, src, {t, accumulation::standard});
  add_dot(cases, src, {dtype::f32, accumulation::f64});
  add_dot(cases, src, {dtype::f32, accumulation::compensated});
  add_dot(cases, src, {dtype::bf16, accumulation::f64});
  for (dtype t : float_types) add_axpy(cases, src, t);
}

}  // namespace mixprec::compare
