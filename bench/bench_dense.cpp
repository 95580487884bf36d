// Dense solves, OpenBLAS's LAPACK in the same run as the peer:
//   dense/getrf/<dtype>/n<N>         our blocked LU (f64, f32, f32 with bf16 updates) against
//   peer/openblas_<d|s>getrf/n<N>    OpenBLAS (column-major: it factors A^T, the same work);
//   dense/gesv/<policy>/n<N>         gesv_ir on a random general matrix (pivoting needed)
//   peer/openblas_dgesv/n<N>         against dgesv;
//   dense/posv/<policy>/n<N>         posv_ir on HPL-MxP's matrix made symmetric (SPD: strictly
//   peer/openblas_dposv/n<N>         diagonally dominant), against dposv;
//   dense/hpl_mxp/<policy>/n<N>      HPL-MxP: its matrix (entries uniform in (-0.5, 0.5), each
//                                    diagonal entry its row's absolute sum), LU without
//                                    pivoting in low precision and GMRES-IR in f64, checked by
//                                    the scaled residual ||Ax-b||inf / ((||A|| ||x|| + ||b||) n eps)
//                                    <= 16, rated at (2/3 n^3 + 3/2 n^2) / time.
//   dense/ir_solver_solve/<policy>/n<N>  one solve() of a dense_ir_solver made before the
//   peer/openblas_dgetrs/n<N>        timing starts (factor_s: its construction), against dgetrs
//                                    on dgetrf's factors: what each further right-hand side
//                                    costs once the factorization is kept.
//   dense/matrix_sequence/<policy>/n<N>/<how>  a new HPL-MxP matrix each iteration (two
//                                    alternated), solved by gesv_ir, or by one dense_ir_solver
//                                    refactored for each: what a sequence of matrices of one
//                                    size saves by keeping the factors' memory.
// Each iteration factors a fresh copy of the matrix (the copy is not timed), except the
// factor-once pair.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "mixprec/dense.hpp"

#if defined(MIXPREC_BENCH_OPENBLAS)
extern "C" {
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv, double* b, const int* ldb, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info);
void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda, double* b, const int* ldb,
            int* info);
}
#endif

namespace mixprec::bench {
namespace {

const std::int64_t sizes[] = {2048, 4096, 8192};

std::vector<double> general_matrix(std::int64_t n, std::uint64_t seed = 0) {
  std::mt19937_64 g{static_cast<std::uint64_t>(n) + seed};
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> a(static_cast<std::size_t>(n * n));
  for (double& v : a) v = u(g);
  return a;
}

/// HPL-MxP's matrix: uniform entries, each diagonal entry its row's absolute sum.
std::vector<double> hpl_mxp_matrix(std::int64_t n, std::uint64_t seed = 0) {
  std::vector<double> a = general_matrix(n, seed);
  for (std::int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::int64_t j = 0; j < n; ++j) s += std::fabs(a[std::size_t(i * n + j)]);
    a[std::size_t(i * n + i)] = s;
  }
  return a;
}

/// HPL-MxP's matrix with its lower triangle mirrored from the upper, each diagonal entry
/// 1/2 above its row's off-diagonal absolute sum: symmetric positive definite.
std::vector<double> spd_matrix(std::int64_t n) {
  std::vector<double> a = general_matrix(n);
  for (std::int64_t i = 0; i < n; ++i) {
    double s = 0.5;
    for (std::int64_t j = 0; j < n; ++j) {
      if (j < i) a[std::size_t(i * n + j)] = a[std::size_t(j * n + i)];
      if (j != i) s += std::fabs(a[std::size_t(i * n + j)]);
    }
    a[std::size_t(i * n + i)] = s;
  }
  return a;
}

/// n x k right-hand sides (row-major), entries uniform in (-0.5, 0.5).
std::vector<double> rhs(std::int64_t n, std::int64_t k = 1) {
  std::mt19937_64 g{static_cast<std::uint64_t>(n) + 1};
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> b(static_cast<std::size_t>(n * k));
  for (double& v : b) v = u(g);
  return b;
}

double lu_flops(std::int64_t n) { return 2.0 / 3.0 * double(n) * double(n) * double(n); }

template <class T>
void bench_getrf(benchmark::State& state, std::int64_t n, lu_update update) {
  const std::vector<double> a64 = general_matrix(n);
  const std::vector<T> a(a64.begin(), a64.end());
  std::vector<T> lu(a.size());
  std::vector<std::int64_t> piv;
  lu_options o;
  o.update = update;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    lu = a;
    state.ResumeTiming();
    loop_timer t;
    getrf(make_view(lu.data(), {n, n}), piv, o);
    seconds += t.seconds();
  }
  state.counters["GFLOP/s"] = lu_flops(n) * double(state.iterations()) / seconds / 1e9;
}

/// The scaled residual of HPL: ||A x - b||inf / ((||A||inf ||x||inf + ||b||inf) n eps).
double scaled_residual(const std::vector<double>& a, const std::vector<double>& x, const std::vector<double>& b,
                       std::int64_t n) {
  double r = 0, an = 0, xn = 0, bn = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    long double s = -(long double)b[std::size_t(i)], row = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      s += (long double)a[std::size_t(i * n + j)] * x[std::size_t(j)];
      row += std::fabs(a[std::size_t(i * n + j)]);
    }
    r = std::max(r, double(std::fabs(s)));
    an = std::max(an, double(row));
    xn = std::max(xn, std::fabs(x[std::size_t(i)]));
    bn = std::max(bn, std::fabs(b[std::size_t(i)]));
  }
  return r / ((an * xn + bn) * double(n) * std::ldexp(1.0, -53));
}

enum class matrix_kind { general, hpl_mxp, spd };

void bench_gesv(benchmark::State& state, std::int64_t n, dense_refinement_options o, matrix_kind kind) {
  const bool hpl = kind == matrix_kind::hpl_mxp;
  const std::vector<double> a = hpl                        ? hpl_mxp_matrix(n)
                                : kind == matrix_kind::spd ? spd_matrix(n)
                                                           : general_matrix(n),
                            b = rhs(n);
  std::vector<double> x(static_cast<std::size_t>(n));
  const auto solve = kind == matrix_kind::spd ? &posv_ir : &gesv_ir;
  dense_solve_report r;
  double seconds = 0;
  // HPL-MxP: one untimed solve first, as for the peer. The solve allocates its
  // low-precision copy of A (n^2 floats), whose first touch in a fresh process costs 0.1-0.25 s
  // at n = 8192 on a VM whose memory the host has not backed yet: the timed call then
  // measures the solver, as a code that solves more than once sees it.
  if (hpl) solve(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
  for (auto _ : state) {
    loop_timer t;
    r = solve(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
    seconds += t.seconds();
  }
  const double s = seconds / double(state.iterations());
  // Cholesky does half the LU's work; the rate counts the work done.
  const double flops = lu_flops(n) * (kind == matrix_kind::spd ? 0.5 : 1.0) + 1.5 * double(n) * double(n);
  state.counters["GFLOP/s"] = flops / s / 1e9;
  state.counters["iterations"] = r.iterations;
  state.counters["gmres_iterations"] = r.inner_iterations;
  state.counters["backward_error"] = r.backward_error;
  state.counters["fell_back"] = r.fallback.empty() ? 0 : 1;
  if (hpl) {
    const double sr = scaled_residual(a, x, b, n);
    state.counters["scaled_residual"] = sr;
    if (!(sr <= 16)) state.SkipWithError(("HPL-MxP check failed: scaled residual " + std::to_string(sr)).c_str());
  }
  state.SetLabel(r.path);
}

/// One solve() of k right-hand sides by a solver whose factorization was made once, before
/// the timed loop.
void bench_ir_solver_solve(benchmark::State& state, std::int64_t n, std::int64_t k, dense_refinement_options o) {
  const std::vector<double> a = general_matrix(n), b = rhs(n, k);
  std::vector<double> x(b.size());
  const const_view bv = k == 1 ? make_view(b.data(), n) : make_view(b.data(), {n, k});
  const view xv = k == 1 ? make_view(x.data(), n) : make_view(x.data(), {n, k});
  loop_timer factor;
  dense_ir_solver solver(make_view(a.data(), {n, n}), o);
  const double factor_seconds = factor.seconds();
  dense_solve_report r;
  double seconds = 0;
  for (auto _ : state) {
    loop_timer t;
    r = solver.solve(bv, xv);
    seconds += t.seconds();
  }
  state.counters["factor_s"] = factor_seconds;
  state.counters["solve_s"] = seconds / double(state.iterations());
  state.counters["iterations"] = r.iterations;
  state.counters["gmres_iterations"] = r.inner_iterations;
  state.counters["backward_error"] = r.backward_error;
  state.SetLabel(r.path);
}

/// Solves a sequence of HPL-MxP matrices of one size (two alternated, b fixed): each by
/// gesv_ir, or by a dense_ir_solver made for the first before timing and refactored for each.
/// Nothing untimed warms the memory up: each gesv_ir allocates and pages in its factors.
void bench_matrix_sequence(benchmark::State& state, std::int64_t n, dense_refinement_options o, bool refactor) {
  const std::vector<double> a[2] = {hpl_mxp_matrix(n, 1), hpl_mxp_matrix(n, 2)};
  const std::vector<double> b = rhs(n);
  std::vector<double> x(static_cast<std::size_t>(n));
  dense_ir_solver solver(make_view(a[1].data(), {n, n}), o);
  dense_solve_report r;
  double seconds = 0, worst_residual = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    const std::vector<double>& m = a[next];
    loop_timer t;
    if (refactor) {
      solver.refactor(make_view(m.data(), {n, n}));
      r = solver.solve(make_view(b.data(), n), make_view(x.data(), n));
    } else {
      r = gesv_ir(make_view(m.data(), {n, n}), make_view(b.data(), n), make_view(x.data(), n), o);
    }
    seconds += t.seconds();
    worst_residual = std::max(worst_residual, scaled_residual(m, x, b, n));
    next ^= 1;
  }
  state.counters["s_per_matrix"] = seconds / double(state.iterations());
  state.counters["scaled_residual"] = worst_residual;
  if (!(worst_residual <= 16)) state.SkipWithError("HPL-MxP check failed");
  state.SetLabel(r.path);
}

#if defined(MIXPREC_BENCH_OPENBLAS)
/// out = a (n x n, row-major) stored column-major: LAPACK, which is column-major, would
/// otherwise factor and solve with A^T.
void column_major(const std::vector<double>& a, std::int64_t n, std::vector<double>& out) {
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) out[std::size_t(j * n + i)] = a[std::size_t(i * n + j)];
}

/// dgetrs of k right-hand sides on dgetrf's factors, made before the timed loop.
void bench_openblas_dgetrs(benchmark::State& state, std::int64_t n, std::int64_t k) {
  const std::vector<double> a = general_matrix(n), b = rhs(n, k);
  std::vector<double> lu(a.size()), x(b.size());
  std::vector<int> piv(static_cast<std::size_t>(n));
  const int ni = int(n), nrhs = int(k);
  int info = 0;
  column_major(a, n, lu);
  loop_timer factor;
  dgetrf_(&ni, &ni, lu.data(), &ni, piv.data(), &info);
  const double factor_seconds = factor.seconds();
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    x = b;
    state.ResumeTiming();
    loop_timer t;
    dgetrs_("N", &ni, &nrhs, lu.data(), &ni, piv.data(), x.data(), &ni, &info);
    seconds += t.seconds();
  }
  if (info != 0) state.SkipWithError("dgetrf/dgetrs info != 0");
  state.counters["factor_s"] = factor_seconds;
  state.counters["solve_s"] = seconds / double(state.iterations());
}

template <class T>
void bench_openblas_getrf(benchmark::State& state, std::int64_t n) {
  const std::vector<double> a64 = general_matrix(n);
  const std::vector<T> a(a64.begin(), a64.end());
  std::vector<T> lu(a.size());
  std::vector<int> piv(static_cast<std::size_t>(n));
  const int ni = int(n);
  int info = 0;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    lu = a;
    state.ResumeTiming();
    loop_timer t;
    if constexpr (std::is_same_v<T, double>)
      dgetrf_(&ni, &ni, lu.data(), &ni, piv.data(), &info);
    else
      sgetrf_(&ni, &ni, lu.data(), &ni, piv.data(), &info);
    seconds += t.seconds();
  }
  if (info != 0) state.SkipWithError("getrf info != 0");
  state.counters["GFLOP/s"] = lu_flops(n) * double(state.iterations()) / seconds / 1e9;
}

void bench_openblas_dgesv(benchmark::State& state, std::int64_t n, bool hpl) {
  const std::vector<double> a = hpl ? hpl_mxp_matrix(n) : general_matrix(n), b = rhs(n);
  std::vector<double> lu(a.size()), x(b.size());
  std::vector<int> piv(static_cast<std::size_t>(n));
  const int ni = int(n), one = 1;
  int info = 0;
  double seconds = 0;
  if (hpl) {  // untimed, as for our solvers (bench_gesv)
    column_major(a, n, lu);
    x = b;
    dgesv_(&ni, &one, lu.data(), &ni, piv.data(), x.data(), &ni, &info);
  }
  for (auto _ : state) {
    state.PauseTiming();
    column_major(a, n, lu);
    x = b;
    state.ResumeTiming();
    loop_timer t;
    dgesv_(&ni, &one, lu.data(), &ni, piv.data(), x.data(), &ni, &info);
    seconds += t.seconds();
  }
  if (info != 0) state.SkipWithError("dgesv info != 0");
  state.counters["GFLOP/s"] = (lu_flops(n) + 1.5 * double(n) * double(n)) * double(state.iterations()) / seconds / 1e9;
  if (hpl) state.counters["scaled_residual"] = scaled_residual(a, x, b, n);
}

void bench_openblas_dposv(benchmark::State& state, std::int64_t n) {
  const std::vector<double> a = spd_matrix(n), b = rhs(n);
  std::vector<double> l(a.size()), x(b.size());
  const int ni = int(n), one = 1;
  int info = 0;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    l = a;  // symmetric: the same in either order
    x = b;
    state.ResumeTiming();
    loop_timer t;
    dposv_("L", &ni, &one, l.data(), &ni, x.data(), &ni, &info);
    seconds += t.seconds();
  }
  if (info != 0) state.SkipWithError("dposv info != 0");
  state.counters["GFLOP/s"] =
      (0.5 * lu_flops(n) + 1.5 * double(n) * double(n)) * double(state.iterations()) / seconds / 1e9;
}
#endif

void register_dense() {
  const auto reg = [](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);
  };
  for (std::int64_t n : sizes) {
    const std::string sz = "/n" + std::to_string(n);
    reg("dense/getrf/f64" + sz, [n](benchmark::State& s) { bench_getrf<double>(s, n, lu_update::native); });
    reg("dense/getrf/f32" + sz, [n](benchmark::State& s) { bench_getrf<float>(s, n, lu_update::native); });
    reg("dense/getrf/f32_bf16update" + sz, [n](benchmark::State& s) { bench_getrf<float>(s, n, lu_update::bf16); });
    const struct {
      const char* name;
      dtype matrix;
      bool gmres;
    } policies[] = {{"f64", dtype::f64, false},
                    {"f32_ir", dtype::f32, false},
                    {"f32_gmres_ir", dtype::f32, true},
                    {"bf16_gmres_ir", dtype::bf16, true}};
    for (const auto& p : policies) {
      dense_refinement_options o;
      o.policy = {p.matrix, dtype::f64};
      o.gmres = p.gmres;
      reg("dense/gesv/" + std::string(p.name) + sz,
          [n, o](benchmark::State& s) { bench_gesv(s, n, o, matrix_kind::general); });
      reg("dense/posv/" + std::string(p.name) + sz,
          [n, o](benchmark::State& s) { bench_gesv(s, n, o, matrix_kind::spd); });
      o.pivoting = false;
      reg("dense/hpl_mxp/" + std::string(p.name) + sz,
          [n, o](benchmark::State& s) { bench_gesv(s, n, o, matrix_kind::hpl_mxp); });
      if (p.matrix != dtype::bf16 || n < 4096) continue;
      for (bool refactor : {false, true})
        benchmark::RegisterBenchmark(
            ("dense/matrix_sequence/" + std::string(p.name) + sz + (refactor ? "/refactor" : "/gesv_ir")).c_str(),
            [n, o, refactor](benchmark::State& s) { bench_matrix_sequence(s, n, o, refactor); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(4);
    }
#if defined(MIXPREC_BENCH_OPENBLAS)
    reg("peer/openblas_dgetrf" + sz, [n](benchmark::State& s) { bench_openblas_getrf<double>(s, n); });
    reg("peer/openblas_sgetrf" + sz, [n](benchmark::State& s) { bench_openblas_getrf<float>(s, n); });
    reg("peer/openblas_dgesv" + sz, [n](benchmark::State& s) { bench_openblas_dgesv(s, n, false); });
    reg("peer/openblas_dgesv_hpl_mxp" + sz, [n](benchmark::State& s) { bench_openblas_dgesv(s, n, true); });
    reg("peer/openblas_dposv" + sz, [n](benchmark::State& s) { bench_openblas_dposv(s, n); });
#endif
    // Further solves of one and of 16 right-hand sides (the 16 columns' cost against 16
    // single solves says what solving them together saves).
    for (std::int64_t k : {std::int64_t(1), std::int64_t(16)}) {
      const std::string cols = k == 1 ? "" : "/rhs" + std::to_string(k);
      for (const auto& p : policies) {
        if (p.matrix == dtype::bf16) continue;  // the wrong tool for the random general matrix
        dense_refinement_options o;
        o.policy = {p.matrix, dtype::f64};
        o.gmres = p.gmres;
        benchmark::RegisterBenchmark(("dense/ir_solver_solve/" + std::string(p.name) + sz + cols).c_str(),
                                     [n, k, o](benchmark::State& s) { bench_ir_solver_solve(s, n, k, o); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(5);
      }
#if defined(MIXPREC_BENCH_OPENBLAS)
      benchmark::RegisterBenchmark(("peer/openblas_dgetrs" + sz + cols).c_str(),
                                   [n, k](benchmark::State& s) { bench_openblas_dgetrs(s, n, k); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(5);
#endif
    }
  }
}

[[maybe_unused]] const bool registered = (register_dense(), true);

}  // namespace
}  // namespace mixprec::bench
