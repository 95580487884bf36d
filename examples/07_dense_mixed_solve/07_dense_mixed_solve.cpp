// A dense system solved to FP64 accuracy with the factorization in every precision mixprec
// offers: f64 (the reference), f32 with classical refinement, f32 with GMRES-IR, f32 with bf16
// trailing updates (the AI units' arithmetic) with GMRES-IR, and A rounded to f16 with
// GMRES-IR — first on HPL-MxP's matrix (diagonally dominant, no pivoting needed), then on its
// symmetric form (positive definite: posv_ir's Cholesky), then on a matrix with condition
// number 1e10, too ill-conditioned for classical refinement from an f32 LU, which must fall
// back to f64 and say why; then one matrix factored once (dense_ir_solver) for right-hand
// sides that come one after another; last, matrices of one size one after another, each by
// gesv_ir and by one solver refactored for each. Prints time, speed-up over f64, refinement steps, GMRES
// iterations, backward error and the path taken; exits non-zero if any answer misses HPL's
// accuracy check.
//
//   07_dense_mixed_solve [n] [n_ill]      (defaults 3000 and 300)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "mixprec/mixprec.hpp"

namespace {

using namespace mixprec;

std::vector<double> hpl_mxp_matrix(std::int64_t n, std::mt19937_64& g) {
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> a(static_cast<std::size_t>(n * n));
  for (double& v : a) v = u(g);
  for (std::int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::int64_t j = 0; j < n; ++j) s += std::fabs(a[std::size_t(i * n + j)]);
    a[std::size_t(i * n + i)] = s;
  }
  return a;
}

/// Q1 diag(sigma) Q2^T: singular values from 1 to 1 / kappa, Q from the LU-free QR of
/// random matrices (modified Gram-Schmidt, twice).
std::vector<double> ill_conditioned(std::int64_t n, double kappa, std::mt19937_64& g) {
  std::uniform_real_distribution<double> u(-1, 1);
  const auto orthogonal = [&] {
    std::vector<double> q(static_cast<std::size_t>(n * n));
    for (double& v : q) v = u(g);
    for (int pass = 0; pass < 2; ++pass)
      for (std::int64_t j = 0; j < n; ++j) {
        for (std::int64_t p = 0; p < j; ++p) {
          double d = 0;
          for (std::int64_t i = 0; i < n; ++i) d += q[std::size_t(i * n + j)] * q[std::size_t(i * n + p)];
          for (std::int64_t i = 0; i < n; ++i) q[std::size_t(i * n + j)] -= d * q[std::size_t(i * n + p)];
        }
        double s = 0;
        for (std::int64_t i = 0; i < n; ++i) s += q[std::size_t(i * n + j)] * q[std::size_t(i * n + j)];
        for (std::int64_t i = 0; i < n; ++i) q[std::size_t(i * n + j)] /= std::sqrt(s);
      }
    return q;
  };
  const std::vector<double> q1 = orthogonal(), q2 = orthogonal();
  std::vector<double> scaled(q1);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < n; ++k) scaled[std::size_t(i * n + k)] *= std::pow(kappa, -double(k) / double(n - 1));
  std::vector<double> a(static_cast<std::size_t>(n * n));
  gemm(trans::no, trans::yes, 1.0, make_view(scaled.data(), {n, n}), make_view(q2.data(), {n, n}), 0.0,
       make_view(a.data(), {n, n}));
  return a;
}

struct policy {
  const char* name;
  dtype matrix;
  bool gmres;
};

/// Solves with every policy (each once untimed, then timed), prints a table; returns false
/// if an answer fails HPL's check.
bool run(const char* title, const std::vector<double>& a, std::int64_t n, bool pivoting, bool spd = false) {
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> b(static_cast<std::size_t>(n)), x(static_cast<std::size_t>(n));
  for (double& v : b) v = u(g);
  const policy policies[] = {{"f64", dtype::f64, false},
                             {"f32 + refinement", dtype::f32, false},
                             {"f32 + GMRES-IR", dtype::f32, true},
                             {"bf16 updates + GMRES-IR", dtype::bf16, true},
                             {"f16 + GMRES-IR", dtype::f16, true}};
  std::printf("\n%s (n = %ld)\n%-28s %9s %9s %6s %6s %15s  %s\n", title, long(n), "policy", "time", "speed-up", "steps",
              "gmres", "backward error", "path");
  double f64_time = 0;
  bool ok = true;
  for (const policy& p : policies) {
    dense_refinement_options o;
    o.policy = {p.matrix, dtype::f64};
    o.gmres = p.gmres;
    o.pivoting = pivoting;
    // One untimed solve first: thread start-up and first-touch of the workspaces.
    const auto solve = spd ? &posv_ir : &gesv_ir;
    (void)solve(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
    const auto t0 = std::chrono::steady_clock::now();
    const dense_solve_report r = solve(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (p.matrix == dtype::f64) f64_time = s;
    // HPL's check: ||A x - b|| / ((||A|| ||x|| + ||b||) n eps) <= 16.
    const double scaled = r.backward_error / (double(n) * std::ldexp(1.0, -53));
    ok = ok && scaled <= 16;
    std::printf("%-28s %8.3fs %8.2fx %6d %6d %15.2e  %s%s\n", p.name, s, f64_time / s, r.iterations, r.inner_iterations,
                r.backward_error, r.path.c_str(), scaled <= 16 ? "" : "  FAILS HPL's CHECK");
    if (!r.fallback.empty()) std::printf("%28s fell back: %s\n", "", r.fallback.c_str());
  }
  return ok;
}

/// One matrix, right-hand sides that come one after another (implicit time steps): a
/// dense_ir_solver factors once and refines per solve. Prints each policy's factorization
/// and per-solve times, and after how many solves the f32 LU has paid for its refinement
/// against the f64 LU; returns false if an answer fails HPL's check.
bool run_factor_once(const std::vector<double>& a, std::int64_t n, int solves) {
  std::mt19937_64 g(9);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> b(static_cast<std::size_t>(n)), x(b.size());
  std::printf("\none matrix, %d right-hand sides one after another (dense_ir_solver, n = %ld)\n%-28s %9s %10s %15s\n",
              solves, long(n), "policy", "factor", "per solve", "backward error");
  double factor_s[2] = {0, 0}, solve_s[2] = {0, 0};
  bool ok = true;
  for (int k = 0; k < 2; ++k) {
    dense_refinement_options o;
    o.policy = {k == 0 ? dtype::f64 : dtype::f32, dtype::f64};
    o.pivoting = false;
    const auto t0 = std::chrono::steady_clock::now();
    dense_ir_solver solver(make_view(a.data(), {n, n}), o);
    factor_s[k] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double worst = 0;
    for (int s = 0; s < solves; ++s) {
      for (double& v : b) v = u(g);
      const auto t1 = std::chrono::steady_clock::now();
      const dense_solve_report r = solver.solve(make_view(b.data(), n), make_view(x.data(), n));
      solve_s[k] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() / solves;
      worst = std::max(worst, r.backward_error);
    }
    ok = ok && worst / (double(n) * std::ldexp(1.0, -53)) <= 16;
    std::printf("%-28s %8.3fs %9.4fs %15.2e\n", k == 0 ? "f64 LU" : "f32 LU + refinement", factor_s[k], solve_s[k],
                worst);
  }
  if (solve_s[1] > solve_s[0])
    std::printf("the f32 LU saves %.3f s up front and costs %.4f s more per solve: ahead for up to %.0f solves\n",
                factor_s[0] - factor_s[1], solve_s[1] - solve_s[0],
                std::floor((factor_s[0] - factor_s[1]) / (solve_s[1] - solve_s[0])));
  return ok;
}

/// Matrices of one size one after another (a Newton iteration's Jacobians, a time step's
/// matrix): gesv_ir for each, against one dense_ir_solver refactored for each, which factors
/// in the memory of the last factors instead of allocating n^2 values per matrix. Prints the
/// seconds per matrix of each; returns false if an answer fails HPL's check.
bool run_matrix_sequence(std::int64_t n, int matrices, std::mt19937_64& g) {
  std::vector<std::vector<double>> as;
  for (int k = 0; k < matrices; ++k) as.push_back(hpl_mxp_matrix(n, g));
  std::vector<double> b(static_cast<std::size_t>(n), 1.0), x(b.size());
  dense_refinement_options o;
  o.policy = {dtype::bf16, dtype::f64};
  o.gmres = true;
  o.pivoting = false;
  std::printf("\n%d matrices of one size one after another (bf16-update LU + GMRES-IR, n = %ld)\n", matrices, long(n));
  bool ok = true;
  double seconds[2] = {0, 0};
  dense_ir_solver solver(make_view(as[0].data(), {n, n}), o);  // made once, before the sequence
  for (int k = 0; k < matrices; ++k)
    for (int how = 0; how < 2; ++how) {
      const const_view a = make_view(as[std::size_t(k)].data(), {n, n});
      const auto t0 = std::chrono::steady_clock::now();
      dense_solve_report r;
      if (how == 0) {
        r = gesv_ir(a, make_view(b.data(), n), make_view(x.data(), n), o);
      } else {
        solver.refactor(a);
        r = solver.solve(make_view(b.data(), n), make_view(x.data(), n));
      }
      seconds[how] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / matrices;
      ok = ok && r.backward_error / (double(n) * std::ldexp(1.0, -53)) <= 16;
    }
  std::printf("%-36s %8.3fs per matrix\n%-36s %8.3fs per matrix\n", "gesv_ir for each", seconds[0],
              "one solver, refactored for each", seconds[1]);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 3000;
  const std::int64_t n_ill = argc > 2 ? std::atoll(argv[2]) : 300;
  try {
    std::mt19937_64 g(1);
    std::printf("mixprec %s, %d threads: A x = b to FP64 accuracy, the factorization in each precision\n",
                version_string(), context::cpu().threads());
    std::vector<double> a = hpl_mxp_matrix(n, g);
    bool ok = run("HPL-MxP's matrix, no pivoting", a, n, false);
    for (std::int64_t i = 0; i < n; ++i)  // its symmetric form, strictly diagonally dominant: SPD
      for (std::int64_t j = 0; j < i; ++j) a[std::size_t(i * n + j)] = a[std::size_t(j * n + i)];
    for (std::int64_t i = 0; i < n; ++i) {
      double off = 0.5;
      for (std::int64_t j = 0; j < n; ++j) off += j == i ? 0 : std::fabs(a[std::size_t(i * n + j)]);
      a[std::size_t(i * n + i)] = off;
    }
    ok = run("the same matrix made symmetric, Cholesky (posv_ir)", a, n, false, true) && ok;
    ok = run("condition number 1e10, partial pivoting", ill_conditioned(n_ill, 1e10, g), n_ill, true) && ok;
    ok = run_factor_once(hpl_mxp_matrix(n, g), n, 8) && ok;
    ok = run_matrix_sequence(n, 3, g) && ok;
    std::printf("\n%s\n", ok ? "OK: every answer passes HPL's check (scaled residual <= 16)"
                             : "FAILED: an answer misses HPL's check");
    return ok ? 0 : 1;
  } catch (const error& e) {
    std::fprintf(stderr, "07_dense_mixed_solve: %s\n", e.what());
    return 1;
  }
}
