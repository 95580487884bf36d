// Dense solves to FP64 accuracy (mixprec/dense.hpp's gesv_ir): a random general matrix
// (partial pivoting needed) and HPL-MxP's diagonally dominant one, with the LU in f64, f32
// (classical refinement and GMRES-IR) and, for HPL-MxP, with bf16 trailing updates. Each
// answer is checked by HPL's criterion, scaled residual ||A x - b|| / ((||A|| ||x|| + ||b||)
// n eps) <= 16, i.e. a backward error of at most 16 n eps.
#include <cmath>

#include "mixprec/dense.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

struct dense_problem {
  std::string name;
  std::shared_ptr<const std::vector<double>> a, b;
  std::int64_t n;
};

dense_problem make_problem(std::int64_t n, bool hpl) {
  std::vector<double> a = uniform_values(n * n, hpl ? 111 : 112, -0.5, 0.5);
  if (hpl)
    for (std::int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::int64_t j = 0; j < n; ++j) s += std::fabs(a[std::size_t(i * n + j)]);
      a[std::size_t(i * n + i)] = s;
    }
  return {std::string(hpl ? "hpl_mxp_" : "general_") + std::to_string(n),
          std::make_shared<const std::vector<double>>(std::move(a)),
          std::make_shared<const std::vector<double>>(uniform_values(n, 113, -0.5, 0.5)), n};
}

void add_policy(case_list& cases, const std::shared_ptr<dense_problem>& lazy, std::int64_t n, bool hpl,
                const std::string& label, dense_refinement_options o) {
  case_def d{"dense", std::string("gesv/") + (hpl ? "hpl_mxp_" : "general_") + std::to_string(n), label, {}};
  d.prepare = [lazy, n, hpl, o] {
    if (!lazy->a) *lazy = make_problem(n, hpl);
    const dense_problem p = *lazy;
    auto x = std::make_shared<std::vector<double>>(static_cast<std::size_t>(n));
    auto last = std::make_shared<dense_solve_report>();
    prepared_case c;
    c.flops = 2.0 / 3.0 * double(n) * double(n) * double(n) + 1.5 * double(n) * double(n);
    c.limit = o.policy.matrix == dtype::bf16  ? limit_kind::dot_bf16
              : o.policy.matrix == dtype::f64 ? limit_kind::fma_f64
                                              : limit_kind::fma_f32;
    c.max_samples = 3;
    c.run = [p, x, o, last] {
      *last = gesv_ir(make_view(p.a->data(), {p.n, p.n}), make_view(p.b->data(), p.n), make_view(x->data(), p.n), o);
    };
    c.check = [p, x, last](case_result& r) {
      const double eps = std::ldexp(1.0, -53);
      r.iterations = last->iterations;
      r.stop_reason = last->fallback.empty() ? name_of(last->reason) : "fallback";
      r.note = last->path + (last->fallback.empty() ? "" : ": " + last->fallback) +
               (last->inner_iterations ? ", " + std::to_string(last->inner_iterations) + " GMRES iterations" : "");
      // Recomputed here in long double rather than taken from the report.
      long double rn = 0, an = 0, xn = 0, bn = 0;
      for (std::int64_t i = 0; i < p.n; ++i) {
        long double s = -(long double)(*p.b)[std::size_t(i)], row = 0;
        for (std::int64_t j = 0; j < p.n; ++j) {
          s += (long double)(*p.a)[std::size_t(i * p.n + j)] * (*x)[std::size_t(j)];
          row += std::fabs((*p.a)[std::size_t(i * p.n + j)]);
        }
        rn = std::max(rn, std::fabs(s));
        an = std::max(an, row);
        xn = std::max<long double>(xn, std::fabs((*x)[std::size_t(i)]));
        bn = std::max<long double>(bn, std::fabs((*p.b)[std::size_t(i)]));
      }
      const double backward = double(rn / (an * xn + bn));
      r.accuracy.push_back(checked_figure("backward error", "target", backward, 16 * double(p.n) * eps,
                                          "HPL's check: scaled residual <= 16, a backward error of 16 n eps"));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_dense_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = s.size == suite_size::tiny ? 128 : s.size == suite_size::quick ? 2048 : 4096;
  for (bool hpl : {false, true}) {
    auto lazy = std::make_shared<dense_problem>();
    dense_refinement_options o;
    o.policy = precision_policy::f64();
    add_policy(cases, lazy, n, hpl, "f64", o);
    o.policy = precision_policy::f32();
    o.pivoting = !hpl;
    add_policy(cases, lazy, n, hpl, "f32-ir", o);
    o.gmres = true;
    add_policy(cases, lazy, n, hpl, "f32-gmres-ir", o);
    if (hpl) {
      o.policy = precision_policy::half_matrix(dtype::bf16);
      add_policy(cases, lazy, n, hpl, "bf16-gmres-ir", o);
    }
  }
}

}  // namespace mixprec::compare
