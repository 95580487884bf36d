// Solver benchmarks: solve/<method>/<policy>/<problem>, A x = b with b = A*1, x0 = 0,
// relative residual 1e-10, one whole solve per benchmark iteration, and Eigen's
// ConjugateGradient (Lower|Upper on a row-major matrix, so its SpMV runs on the OpenMP
// threads; its default diagonal preconditioner) as the peer in the same run. Each solve is
// validated before it counts: converged, and the true relative residual at most 1e-10.
// Counters: iterations, the true residual, seconds per iteration, and the bytes one
// iteration must move at least (matrix once, vectors as the method touches them) as a
// fraction of the triad bandwidth measured at start-up.
#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "bench_solve_common.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"
#if defined(MIXPREC_BENCH_EIGEN)
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#endif

namespace mixprec::bench {
namespace {

constexpr double target = 1e-10;

struct problem {
  const char* name;
  csr_matrix (*make)();
};
csr_matrix poisson7_128() { return poisson_3d(128); }
const problem problems[] = {{"poisson7_128", poisson7_128}};

const csr_matrix& matrix(const problem& p) {
  static std::map<std::string, csr_matrix> cache;
  auto it = cache.find(p.name);
  if (it == cache.end()) it = cache.emplace(p.name, p.make()).first;
  return it->second;
}

/// b = A * 1 in f64.
std::vector<double> rhs(const csr_matrix& a) {
  array<double> one(std::vector<double>(std::size_t(a.cols()), 1.0)), b(a.rows());
  spmv(1.0, a, one, 0.0, b);
  return b.to_vector();
}

/// How the assembled matrix is stored: CSR, or DIA (its diagonals: no indices, no gathers).
enum class storage { csr, dia };

/// The operator of problem p's matrix in `format`; both refer to matrices built once.
std::unique_ptr<linear_operator> assembled(const problem& p, storage format) {
  if (format == storage::csr) return std::make_unique<csr_operator>(matrix(p));
  static std::map<std::string, dia_matrix> cache;
  auto it = cache.find(p.name);
  if (it == cache.end()) it = cache.emplace(p.name, dia_matrix(matrix(p))).first;
  return std::make_unique<dia_operator>(it->second);
}

/// Bytes of one pass over the matrix: CSR values, column indices and row pointers; DIA its
/// stored diagonals.
double matrix_bytes(const linear_operator& op, std::size_t value_bytes) {
  if (const auto* d = dynamic_cast<const dia_operator*>(&op)) return double(d->matrix().stored()) * double(value_bytes);
  const csr_matrix& a = dynamic_cast<const csr_operator&>(op).matrix();
  return double(a.nnz()) * double(value_bytes + 4) + 4.0 * double(a.rows());
}

/// Bytes one CG iteration moves at the least with the current kernels: the matrix once, and
/// n-vectors: SpMV x and y (2), p'q (2), two axpys (6), r'r (1), p = r + beta p as scal and
/// axpy (5), plus z = M^-1 r and r'z (4 + M, a diagonal CSR matrix) when preconditioned.
double cg_iteration_bytes(const linear_operator& op, std::size_t value_bytes, std::size_t vector_bytes, bool jacobi) {
  const double n = double(op.rows()), v = double(vector_bytes);
  double bytes = matrix_bytes(op, value_bytes) + 16 * v * n;
  if (jacobi) bytes += 4 * v * n + n * (double(value_bytes) + 4 + 4);
  return bytes;
}

void report(benchmark::State& state, const solve_report& rep, double seconds, double bytes_per_iteration) {
  solve_counters(state, rep, seconds);
  state.counters["triad_frac"] = bytes_per_iteration * rep.iterations / seconds / triad_bytes_per_second();
  state.SetBytesProcessed(std::int64_t(bytes_per_iteration * rep.iterations * double(state.iterations())));
}

void bench_cg(benchmark::State& state, const problem* p, bool jacobi, storage format) {
  const csr_matrix& a = matrix(*p);
  const std::unique_ptr<linear_operator> op = assembled(*p, format);
  const jacobi_preconditioner m(*op);
  array<double> b(rhs(a)), x(a.rows());
  solve_options o = solve_defaults(target);
  if (jacobi) o.preconditioner = &m;
  solve_report rep;
  double seconds = 0;
  if (!timed_solve(
          state, x, target, [&] { return cg(*op, b, x, o); }, &rep, &seconds))
    return;
  report(state, rep, seconds, cg_iteration_bytes(*op, 8, 8, jacobi));
}

/// CG-IR (inner CG to 1e-4) or CG with reliable updates, in the policy's precisions (Jacobi
/// in the matrix's precision when asked), f64 residuals; bytes counted for the low-precision
/// CG iterations (the f64 residuals add one f64 SpMV each, a few to a dozen in all).
void bench_cg_ir(benchmark::State& state, const problem* p, inner_solver inner, precision_policy policy, bool jacobi,
                 storage format) {
  const csr_matrix& a = matrix(*p);
  const std::unique_ptr<linear_operator> op = assembled(*p, format);
  const std::unique_ptr<linear_operator> low_op = op->stored_as(policy.matrix);
  const jacobi_preconditioner m(*low_op, policy.matrix);
  array<double> b(rhs(a)), x(a.rows());
  refinement_options o;
  o.policy = policy;
  o.inner_method = inner;
  o.outer.rel_tol = target;
  o.outer.max_iterations = inner == inner_solver::cg_reliable ? 5000 : 100;
  o.outer.record_history = false;
  o.inner.max_iterations = 5000;
  if (jacobi) o.inner.preconditioner = &m;
  solve_report rep;
  double seconds = 0;
  if (!timed_solve(
          state, x, target, [&] { return refine(*op, b, x, o); }, &rep, &seconds))
    return;
  const double inner_bytes = cg_iteration_bytes(*op, size_of(policy.matrix), size_of(policy.krylov), jacobi);
  const int outer = inner == inner_solver::cg_reliable ? rep.restarts + 1 : rep.iterations;
  if (inner != inner_solver::cg_reliable) rep.iterations = rep.inner_iterations;
  report(state, rep, seconds, inner_bytes);
  state.counters["f64_residuals"] = outer;
}

/// Matrix-free: A as the 7-point stencil operator (the same matrix as poisson_3d(n)), CG
/// plain or preconditioned by the V-cycle in `mg_storage` (f64, or f32 under f64 CG).
/// Bytes are not counted: the V-cycle's passes depend on its options; time and iterations
/// are the figures.
void bench_stencil_cg(benchmark::State& state, std::int64_t n, bool multigrid, dtype mg_storage, int levels) {
  const stencil_operator a(stencil::laplace_3d7(), grid_extent(n, n, n));
  multigrid_options mo;
  mo.storage = mg_storage;
  mo.levels = std::max(1, levels);
  const multigrid_preconditioner m(a, mo);
  array<double> b(rhs(poisson_3d(n))), x(a.rows());
  solve_options o = solve_defaults(target);
  if (multigrid) o.preconditioner = &m;
  solve_report rep;
  double seconds = 0;
  if (!timed_solve(
          state, x, target, [&] { return cg(a, b, x, o); }, &rep, &seconds))
    return;
  solve_counters(state, rep, seconds);
  if (multigrid) state.counters["levels"] = m.levels();
}

/// PCG on the assembled matrix with one of the assembled-matrix preconditioners (set-up
/// not timed): multicolor SGS, IC(0), adaptive block-Jacobi.
void bench_pcg_with(benchmark::State& state, const problem* p, int which) {
  const csr_matrix& a = matrix(*p);
  const csr_operator op(a);
  std::unique_ptr<linear_operator> m;
  if (which == 0)
    m = std::make_unique<sgs_preconditioner>(op);
  else if (which == 1)
    m = std::make_unique<incomplete_factorization>(op, incomplete_factorization::kind::ic0);
  else
    m = std::make_unique<block_jacobi_preconditioner>(op);
  array<double> b(rhs(a)), x(a.rows());
  solve_options o = solve_defaults(target);
  o.preconditioner = m.get();
  solve_report rep;
  double seconds = 0;
  if (!timed_solve(
          state, x, target, [&] { return cg(op, b, x, o); }, &rep, &seconds))
    return;
  solve_counters(state, rep, seconds);
}

#if defined(MIXPREC_BENCH_EIGEN)
void peer_eigen_cg(benchmark::State& state, const problem* p) {
  const csr_matrix& a64 = matrix(*p);
  const coo_matrix c = a64.to_coo();
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(std::size_t(c.nnz()));
  for (std::int64_t k = 0; k < c.nnz(); ++k) t.emplace_back(int(c.row[k]), int(c.col[k]), c.value[k]);
  Eigen::SparseMatrix<double, Eigen::RowMajor, int> a(int(a64.rows()), int(a64.cols()));
  a.setFromTriplets(t.begin(), t.end());
  const std::vector<double> bv = rhs(a64);
  const Eigen::VectorXd b = Eigen::Map<const Eigen::VectorXd>(bv.data(), Eigen::Index(bv.size()));
  Eigen::ConjugateGradient<decltype(a), Eigen::Lower | Eigen::Upper> cg;
  cg.setTolerance(target);
  cg.setMaxIterations(5000);
  cg.compute(a);
  Eigen::VectorXd x;
  double seconds = 0;
  for (auto _ : state) {
    loop_timer timer;
    x = cg.solve(b);
    seconds = timer.seconds();
  }
  const double true_residual = (b - a * x).norm() / b.norm();
  if (cg.info() != Eigen::Success || !(true_residual <= target)) {
    state.SkipWithError("eigen's cg did not solve it");
    return;
  }
  solve_report rep;
  rep.iterations = int(cg.iterations());
  rep.true_residual = true_residual;
  report(state, rep, seconds, cg_iteration_bytes(csr_operator(a64), 8, 8, true));
}
#endif

int register_all() {
  for (const problem& p : problems) {
#if defined(MIXPREC_BENCH_EIGEN)
    benchmark::RegisterBenchmark((std::string("peer/eigen_cg/f64/") + p.name).c_str(), peer_eigen_cg, &p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
#endif
    benchmark::RegisterBenchmark((std::string("solve/cg/f64/") + p.name).c_str(), bench_cg, &p, false, storage::csr)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark((std::string("solve/pcg_jacobi/f64/") + p.name).c_str(), bench_cg, &p, true,
                                 storage::csr)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    // The same CG on the matrix stored as its diagonals ("cg_dia"), the f64 baseline of the
    // mixed cg_dia runs below.
    benchmark::RegisterBenchmark((std::string("solve/cg_dia/f64/") + p.name).c_str(), bench_cg, &p, false, storage::dia)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    const char* with_names[] = {"pcg_sgs", "pcg_ic0", "pcg_block_jacobi"};
    for (int w = 0; w < 3; ++w)
      benchmark::RegisterBenchmark((std::string("solve/") + with_names[w] + "/f64/" + p.name).c_str(), bench_pcg_with,
                                   &p, w)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    if (std::string(p.name) == "poisson7_128") {
      benchmark::RegisterBenchmark("solve/cg_stencil/f64/poisson7_128", bench_stencil_cg, 128, false, dtype::f64, 0)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
      for (int levels : {4, 5})
        for (dtype t : {dtype::f64, dtype::f32}) {
          // "f32-mg": the V-cycle in f32 under f64 CG.
          const std::string policy = t == dtype::f64 ? "f64" : "f32-mg";
          benchmark::RegisterBenchmark(
              ("solve/mgpcg" + std::to_string(levels) + "/" + policy + "/poisson7_128").c_str(), bench_stencil_cg, 128,
              true, t, levels)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond)
              ->Iterations(1);
        }
    }
    struct ir {
      const char* method;
      inner_solver inner;
      precision_policy policy;
      bool jacobi;
      storage format;
    };
    const ir runs[] = {
        {"cg", inner_solver::cg, precision_policy::f32(), false, storage::csr},
        {"cg", inner_solver::cg_reliable, precision_policy::f32(), false, storage::csr},
        {"cg", inner_solver::cg_reliable, precision_policy::half_matrix(dtype::bf16), false, storage::csr},
        {"pcg_jacobi", inner_solver::cg_reliable, precision_policy::f32(), true, storage::csr},
        {"cg_dia", inner_solver::cg, precision_policy::f32(), false, storage::dia},
        {"cg_dia", inner_solver::cg_reliable, precision_policy::f32(), false, storage::dia},
        {"cg_dia", inner_solver::cg_reliable, precision_policy::half_matrix(dtype::bf16), false, storage::dia},
    };
    for (const ir& c : runs) {
      // "f32-ir" for classic refinement, "f32-reliable" for reliable updates; "bf16/f32"
      // becomes "bf16-f32" to stay one path element.
      std::string policy = c.policy.name();
      std::replace(policy.begin(), policy.end(), '/', '-');
      if (c.inner == inner_solver::cg_reliable) policy.replace(policy.size() - 2, 2, "reliable");
      benchmark::RegisterBenchmark((std::string("solve/") + c.method + "/" + policy + "/" + p.name).c_str(),
                                   bench_cg_ir, &p, c.inner, c.policy, c.jacobi, c.format)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
