// 04_poisson_solve: -Laplacian(u) = f on the unit cube with zero boundary values, on an n^3
// grid (7-point stencil, h = 1/(n+1)), solved to a relative FP64 residual of 1e-10 six ways:
//
//   cg                  CG on the assembled CSR matrix, all FP64
//   mgpcg               CG preconditioned by the multigrid V-cycle, matrix-free, all FP64
//   mgpcg f32-mg        the same with the V-cycle's grids in FP32 (CG and residuals in FP64)
//   cg f32-reliable     CG in FP32 (matrix and vectors) with FP64 residual replacements
//   cg_dia              CG on the matrix stored as its 7 diagonals (DIA), all FP64
//   cg_dia f32-reliable the FP32 reliable-update CG on the DIA matrix
//
// On CSR the FP32 matrix saves bytes but little time (each nonzero still costs an index and
// a gathered x load); stored as diagonals it streams contiguously, and FP32 pays.
//
// The right-hand side comes from u = g(x) g(y) g(z), g(t) = e^t t (1 - t), so every answer
// can also be held against the exact solution: each must report converged with a true FP64
// residual <= 1e-10 and lie within the discretization error (h^2 / 12 times the fourth
// derivatives, bounded here by h^2) of u (checked here; the program fails otherwise). It
// prints time, iterations, the final residual and the error of each.
//
// Usage: 04_poisson_solve [n]      (default: 128)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

constexpr double target = 1e-10;

struct outcome {
  std::string name;
  solve_report report;
  double max_error = 0;  // against the exact solution
};

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 128;
  if (n < 4) {
    std::fprintf(stderr, "n must be at least 4\n");
    return 2;
  }
  const double h = 1.0 / double(n + 1);
  const std::int64_t points = n * n * n;

  // h^2 f and the exact solution, x fastest.
  std::vector<double> rhs(static_cast<std::size_t>(points)), exact(static_cast<std::size_t>(points));
  // g and -g'' = e^t t (3 + t); -Laplacian(u) = sum over axes of -g'' times the other two g.
  auto g = [](double t) { return std::exp(t) * t * (1 - t); };
  auto minus_g2 = [](double t) { return std::exp(t) * t * (3 + t); };
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < n; ++i) {
        const double x = h * double(i + 1), y = h * double(j + 1), z = h * double(k + 1);
        const std::size_t at = std::size_t(i + n * (j + n * k));
        exact[at] = g(x) * g(y) * g(z);
        rhs[at] = h * h * (minus_g2(x) * g(y) * g(z) + g(x) * minus_g2(y) * g(z) + g(x) * g(y) * minus_g2(z));
      }
  const array<double> b(rhs);

  const csr_matrix a = poisson_3d(n);
  const csr_operator assembled(a);
  const dia_operator banded(dia_matrix{a});
  const stencil_operator stencil_op(stencil::laplace_3d7(), grid_extent(n, n, n));
  multigrid_options mg64;
  mg64.levels = 5;
  multigrid_options mg32 = mg64;
  mg32.storage = dtype::f32;
  const multigrid_preconditioner m64(stencil_op, mg64), m32(stencil_op, mg32);

  solve_options o;
  o.rel_tol = target;
  o.max_iterations = 5000;
  o.record_history = false;

  std::vector<outcome> runs;
  auto run = [&](const std::string& name, auto&& solve) {
    array<double> x(std::vector<double>(std::size_t(points), 0.0));
    outcome out{name, solve(x), 0};
    const std::vector<double> xv = x.to_vector();
    for (std::size_t i = 0; i < xv.size(); ++i) out.max_error = std::fmax(out.max_error, std::fabs(xv[i] - exact[i]));
    runs.push_back(std::move(out));
  };
  run("cg", [&](array<double>& x) { return cg(assembled, b, x, o); });
  run("mgpcg", [&](array<double>& x) {
    solve_options p = o;
    p.preconditioner = &m64;
    return cg(stencil_op, b, x, p);
  });
  run("mgpcg f32-mg", [&](array<double>& x) {
    solve_options p = o;
    p.preconditioner = &m32;
    return cg(stencil_op, b, x, p);
  });
  auto f32_reliable = [&](const linear_operator& op, array<double>& x) {
    refinement_options r;
    r.policy = precision_policy::f32();
    r.inner_method = inner_solver::cg_reliable;
    r.outer = o;
    return refine(op, b, x, r);
  };
  run("cg f32-reliable", [&](array<double>& x) { return f32_reliable(assembled, x); });
  run("cg_dia", [&](array<double>& x) { return cg(banded, b, x, o); });
  run("cg_dia f32-reliable", [&](array<double>& x) { return f32_reliable(banded, x); });

  std::printf("Poisson on %lld^3 (%lld unknowns), %s, target relative residual %.0e\n", (long long)n, (long long)points,
              context::cpu().describe().c_str(), target);
  std::printf("%-20s %10s %11s %16s %14s\n", "method", "time [s]", "iterations", "FP64 residual", "max |u - u*|");
  const double h2 = h * h;
  bool ok = true;
  for (const outcome& r : runs) {
    std::printf("%-20s %10.3f %11d %16.3e %14.3e\n", r.name.c_str(), r.report.seconds, r.report.iterations,
                r.report.true_residual, r.max_error);
    if (!r.report.converged() || !(r.report.true_residual <= target) || !(r.max_error <= h2)) {
      std::printf("  FAILED: %s\n", r.report.summary().c_str());
      ok = false;
    }
  }
  std::printf("speed-up of the f32 V-cycle over the f64 one: %.2fx\n", runs[1].report.seconds / runs[2].report.seconds);
  std::printf("speed-up of f32 reliable-update CG over f64 CG: %.2fx on CSR, %.2fx on DIA\n",
              runs[0].report.seconds / runs[3].report.seconds, runs[4].report.seconds / runs[5].report.seconds);
  return ok ? 0 : 1;
}
