// Stencils: the 3D 7-point Laplacian applied once (checked against the exact result of the
// stored grid, mixprec/stencil.hpp's per-point bound) and explicit heat-equation steps
// (checked against the f64 problem: the scheme is a convex combination for r <= 1/6, so
// each step's rounding adds to the error and nothing amplifies it).
#include <algorithm>
#include <cmath>

#include "mixprec/grid.hpp"
#include "mixprec/stencil.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

std::int64_t edge(suite_size s) { return s == suite_size::tiny ? 16 : s == suite_size::quick ? 192 : 256; }

/// An f64 grid of n^3 random interior values in [-1, 1), zero halo.
grid random_grid(std::int64_t n, std::uint64_t seed) {
  grid g(dtype::f64, {n, n, n});
  const std::vector<double> v = uniform_values(n * n * n, seed);
  std::size_t p = 0;
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < n; ++i) g.at<double>(i, j, k) = v[p++];
  return g;
}

/// The interior and halo of g widened to long double, x fastest, halo included (n + 2)^3.
std::vector<long double> padded_values(const grid& g) {
  grid w = g.like(dtype::f64);
  copy_interior(g, w);
  const std::int64_t n = g.nx(), m = n + 2;
  std::vector<long double> out(static_cast<std::size_t>(m * m * m), 0.0L);
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < n; ++i)
        out[std::size_t((i + 1) + (j + 1) * m + (k + 1) * m * m)] = w.at<double>(i, j, k);
  return out;
}

/// The 7-point sum of neighbours at padded index p, and the sum of the absolute terms.
void neighbour_sums(const std::vector<long double>& u, std::int64_t m, std::size_t p, long double& sum,
                    long double& abs_sum) {
  const std::size_t off[6] = {
      1, std::size_t(m), std::size_t(m * m), std::size_t(-1), std::size_t(-m), std::size_t(-m * m)};
  sum = 0;
  abs_sum = 0;
  for (std::size_t o : off) {
    sum += u[p + o];
    abs_sum += std::fabs(u[p + o]);
  }
}

void add_apply(case_list& cases, std::int64_t n, dtype t) {
  case_def d{"stencils", "laplace7_apply/" + std::to_string(n) + "^3", name_of(t), {}};
  d.prepare = [n, t] {
    auto g64 = std::make_shared<grid>(random_grid(n, 31));
    auto u = std::make_shared<grid>(g64->like(t));
    copy_interior(*g64, *u);
    fill_halo(*u, boundary_conditions::all(boundary::dirichlet, 0.0));
    auto out = std::make_shared<grid>(u->like());
    prepared_case c;
    c.bytes = 2.0 * double(n * n * n) * double(size_of(t));
    c.flops = 8.0 * double(n * n * n);
    c.run = [u, out] { stencil_apply(stencil::laplace_3d7(), 1.0, *u, 0.0, *out); };
    c.check = [u, out, g64, t, n](case_result& r) {
      const std::vector<long double> us = padded_values(*u), u64 = padded_values(*g64), got = padded_values(*out);
      const std::int64_t m = n + 2;
      double worst = 0, worst_problem = 0;
      for (std::int64_t k = 1; k <= n; ++k)
        for (std::int64_t j = 1; j <= n; ++j)
          for (std::int64_t i = 1; i <= n; ++i) {
            const std::size_t p = std::size_t(i + j * m + k * m * m);
            long double s, a, s64, a64;
            neighbour_sums(us, m, p, s, a);
            neighbour_sums(u64, m, p, s64, a64);
            const long double exact = 6 * us[p] - s, scale = 6 * std::fabs(us[p]) + a;
            const long double problem = 6 * u64[p] - s64;
            if (scale == 0) continue;
            worst = std::max(worst, double(std::fabs(got[p] - exact) / scale));
            worst_problem = std::max(worst_problem, double(std::fabs(got[p] - problem) / scale));
          }
      const double g = gamma(7 + 2, compute_roundoff(t)), us_ = unit_roundoff(t);
      r.accuracy.push_back(checked_figure("max |error| / sum|c u|", "exact", worst, g + us_ * (1 + g),
                                          "gamma_{P+2}(u_c) sum|c_p u_p| + u_s |result|, P = 7"));
      r.accuracy.push_back(plain_figure("max |error| / sum|c u|", "f64 problem", worst_problem));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

void add_heat(case_list& cases, std::int64_t n, dtype t) {
  constexpr int steps = 8;
  constexpr double r = 0.15;  // below the stability limit 1/6
  case_def d{"stencils", "heat7_" + std::to_string(steps) + "steps/" + std::to_string(n) + "^3", name_of(t), {}};
  d.prepare = [n, t] {
    auto g64 = std::make_shared<grid>(random_grid(n, 32));
    auto u = std::make_shared<grid>(g64->like(t));
    auto scratch = std::make_shared<grid>(u->like());
    const auto bc = boundary_conditions::all(boundary::dirichlet, 0.0);
    prepared_case c;
    // Each step reads and writes the grid once (the blocked kernels may move less).
    c.bytes = 2.0 * steps * double(n * n * n) * double(size_of(t));
    c.flops = 9.0 * steps * double(n * n * n);
    c.run = [u, scratch, bc] { heat_steps(*u, *scratch, r, bc, steps); };
    c.check = [u, scratch, g64, bc, t, n](case_result& res) {
      copy_interior(*g64, *u);
      const grid& out = heat_steps(*u, *scratch, r, bc, steps);
      // The f64 problem, stepped in long double.
      const std::int64_t m = n + 2;
      std::vector<long double> a = padded_values(*g64), b = a;
      for (int s = 0; s < steps; ++s) {
        for (std::int64_t k = 1; k <= n; ++k)
          for (std::int64_t j = 1; j <= n; ++j)
            for (std::int64_t i = 1; i <= n; ++i) {
              const std::size_t p = std::size_t(i + j * m + k * m * m);
              long double sum, abs_sum;
              neighbour_sums(a, m, p, sum, abs_sum);
              b[p] = a[p] + r * (sum - 6 * a[p]);
            }
        std::swap(a, b);
      }
      const std::vector<long double> got = padded_values(out);
      double worst = 0;
      for (std::size_t p = 0; p < got.size(); ++p) worst = std::max(worst, double(std::fabs(got[p] - a[p])));
      // max|u0| <= 1; each step: gamma_{P+2}(u_c) (|1 - 6r| + 6r) max|u| + u_s max|u|, plus
      // the initial rounding u_s.
      const double us_ = unit_roundoff(t), g = gamma(9, compute_roundoff(t));
      const double bound = us_ + steps * (g * (std::fabs(1 - 6 * r) + 6 * r + 1) + us_ * (1 + g));
      res.accuracy.push_back(checked_figure("max |error| / max|u0|", "f64 problem", worst, bound,
                                            "u_s + steps (gamma_{P+2}(u_c)(sum|c| + 1) + u_s): a convex scheme adds "
                                            "each step's rounding"));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_stencil_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = edge(s.size);
  for (dtype t : float_types) add_apply(cases, n, t);
  for (dtype t : float_types) add_heat(cases, std::min<std::int64_t>(n, 128), t);
}

}  // namespace mixprec::compare
