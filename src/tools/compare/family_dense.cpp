// Dense solves to FP64 accuracy (mixprec/dense.hpp's gesv_ir and posv_ir): a random general
// matrix (partial pivoting needed), HPL-MxP's diagonally dominant one, and that matrix made
// symmetric (so positive definite: Cholesky), with the factorization in f64, f32 (classical
// refinement and GMRES-IR) and, for the diagonally dominant two, with bf16 trailing updates.
// Each answer is checked by HPL's criterion, scaled residual ||A x - b|| / ((||A|| ||x|| +
// ||b||) n eps) <= 16, i.e. a backward error of at most 16 n eps.
#include <cmath>

#include "mixprec/dense.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

enum class dense_kind { general, hpl_mxp, spd };

const char* prefix_of(dense_kind k) {
  return k == dense_kind::general ? "general_" : k == dense_kind::hpl_mxp ? "hpl_mxp_" : "spd_";
}

struct dense_problem {
  std::string name;
  std::shared_ptr<const std::vector<double>> a, b;
  std::int64_t n;
};

/// Entries uniform in (-0.5, 0.5); HPL-MxP's and the SPD matrix have each diagonal entry the
/// sum of its row's absolute values (the SPD one mirrors its lower triangle first: strictly
/// diagonally dominant, symmetric, positive diagonal).
dense_problem make_problem(std::int64_t n, dense_kind kind) {
  const std::uint64_t seed = kind == dense_kind::general ? 112 : kind == dense_kind::hpl_mxp ? 111 : 114;
  std::vector<double> a = uniform_values(n * n, seed, -0.5, 0.5);
  if (kind == dense_kind::spd)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j) a[std::size_t(i * n + j)] = a[std::size_t(j * n + i)];
  if (kind != dense_kind::general)
    for (std::int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::int64_t j = 0; j < n; ++j) s += std::fabs(a[std::size_t(i * n + j)]);
      a[std::size_t(i * n + i)] = s;
    }
  return {prefix_of(kind) + std::to_string(n), std::make_shared<const std::vector<double>>(std::move(a)),
          std::make_shared<const std::vector<double>>(uniform_values(n, 113, -0.5, 0.5)), n};
}

void add_policy(case_list& cases, const std::shared_ptr<dense_problem>& lazy, std::int64_t n, dense_kind kind,
                const std::string& label, dense_refinement_options o) {
  const bool cholesky = kind == dense_kind::spd;
  case_def d{"dense", std::string(cholesky ? "posv/" : "gesv/") + prefix_of(kind) + std::to_string(n), label, {}};
  d.prepare = [lazy, n, kind, cholesky, o] {
    if (!lazy->a) *lazy = make_problem(n, kind);
    const dense_problem p = *lazy;
    auto x = std::make_shared<std::vector<double>>(static_cast<std::size_t>(n));
    auto last = std::make_shared<dense_solve_report>();
    prepared_case c;
    // LU: HPL's count; Cholesky: half the factorization's, two triangular solves.
    const double nd = double(n);
    c.flops = cholesky ? nd * nd * nd / 3.0 + 2.0 * nd * nd : 2.0 / 3.0 * nd * nd * nd + 1.5 * nd * nd;
    c.limit = o.policy.matrix == dtype::bf16  ? limit_kind::dot_bf16
              : o.policy.matrix == dtype::f64 ? limit_kind::fma_f64
                                              : limit_kind::fma_f32;
    c.max_samples = 3;
    c.run = [p, x, o, last, cholesky] {
      const auto solve = cholesky ? &posv_ir : &gesv_ir;
      *last = solve(make_view(p.a->data(), {p.n, p.n}), make_view(p.b->data(), p.n), make_view(x->data(), p.n), o);
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
  for (dense_kind kind : {dense_kind::general, dense_kind::hpl_mxp, dense_kind::spd}) {
    auto lazy = std::make_shared<dense_problem>();
    dense_refinement_options o;
    o.policy = precision_policy::f64();
    add_policy(cases, lazy, n, kind, "f64", o);
    o.policy = precision_policy::f32();
    o.pivoting = kind == dense_kind::general;  // HPL-MxP factors without row exchanges; Cholesky never has them
    add_policy(cases, lazy, n, kind, "f32-ir", o);
    o.gmres = true;
    add_policy(cases, lazy, n, kind, "f32-gmres-ir", o);
    if (kind != dense_kind::general) {
      o.policy = precision_policy::half_matrix(dtype::bf16);
      add_policy(cases, lazy, n, kind, "bf16-gmres-ir", o);
    }
  }
}

}  // namespace mixprec::compare
