// Distributed benchmarks, run under mpirun by scripts/bench-mpi.sh:
//   mpi/<op>/<policy>/<problem>/np<N>
// Every process runs the same fixed number of iterations (an adaptive count could differ
// between processes and leave one waiting in a collective); each iteration is timed from a
// barrier to the slowest process's end. Only process 0 reports.
#include <benchmark/benchmark.h>

#include "mixprec/distributed.hpp"  // first: mpi.h without its C++ bindings

#include <string>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"

namespace {

using namespace mixprec;

communicator& world() {
  static communicator c(MPI_COMM_WORLD);
  return c;
}

/// Times one call of f on every process: from a barrier to the slowest one's end.
template <class F>
double timed(F&& f) {
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  f();
  double t = MPI_Wtime() - t0;
  MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return t;
}

/// Poisson 7-point on n^3, each process building only its own rows (global columns).
csr_matrix poisson_rows(std::int64_t n, std::int64_t first, std::int64_t count) {
  coo_matrix c(count, n * n * n);
  for (std::int64_t r = first; r < first + count; ++r) {
    const std::int64_t i = r % n, j = (r / n) % n, k = r / (n * n), lr = r - first;
    if (k > 0) c.add(lr, r - n * n, -1);
    if (j > 0) c.add(lr, r - n, -1);
    if (i > 0) c.add(lr, r - 1, -1);
    c.add(lr, r, 6);
    if (i < n - 1) c.add(lr, r + 1, -1);
    if (j < n - 1) c.add(lr, r + n, -1);
    if (k < n - 1) c.add(lr, r + n * n, -1);
  }
  return csr_matrix::from_coo(c);
}

struct problem {
  std::int64_t n;
  distributed_csr_operator a;
  explicit problem(std::int64_t edge, const distributed_options& o = {}) : n(edge), a(make(edge, o)) {}
  static distributed_csr_operator make(std::int64_t edge, const distributed_options& o) {
    const row_partition p = row_partition::even(edge * edge * edge, world().size());
    const int r = world().rank();
    return distributed_csr_operator(world(), poisson_rows(edge, p.offsets[std::size_t(r)], p.rows_of(r)), o);
  }
};

std::string name(const char* op, const char* policy, std::int64_t n) {
  return std::string("mpi/") + op + "/" + policy + "/poisson7_" + std::to_string(n) + "/np" +
         std::to_string(world().size());
}

void report_halo(benchmark::State& s, std::int64_t applies) {
  const communication_counters c = world().counters();
  double bytes = double(c.halo_bytes);
  MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  s.counters["halo_bytes_per_apply"] = applies > 0 ? bytes / double(applies) : 0;
}

void register_all(std::int64_t n) {
  benchmark::RegisterBenchmark(
      name("spmv", "f64", n).c_str(),
      [n](benchmark::State& s) {
        problem p(n);
        array<double> x(p.a.rows()), y(p.a.rows());
        fill(x, 1.0);
        world().reset_counters();
        std::int64_t applies = 0;
        for (auto _ : s) {
          s.SetIterationTime(timed([&] { p.a.apply(x, y); }));
          ++applies;
        }
        const double nnz = 7.0 * double(n * n * n) - 6.0 * double(n * n);
        // Matrix (8 + 4 B per nonzero, row pointers) and x, y once: the bytes a single process moves.
        s.counters["bytes"] =
            benchmark::Counter(double(s.iterations()) * (12 * nnz + 4.0 * double(n * n * n) + 16.0 * double(n * n * n)),
                               benchmark::Counter::kIsRate);
        s.counters["flops"] = benchmark::Counter(double(s.iterations()) * 2 * nnz, benchmark::Counter::kIsRate);
        report_halo(s, applies);
      })
      ->Iterations(50)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);

  struct solve_case {
    const char* op;
    const char* policy;
    dtype inner_halo;
  };
  for (const solve_case c : {solve_case{"cg", "f64", dtype::f64}, solve_case{"cg_pipelined", "f64", dtype::f64},
                             solve_case{"refine_cg", "f64-ir_halo_bf16", dtype::bf16},
                             solve_case{"refine_cg", "f64-ir_halo_f32", dtype::f32},
                             solve_case{"refine_cg", "f64-ir_halo_f64", dtype::f64}}) {
    benchmark::RegisterBenchmark(
        name(c.op, c.policy, n).c_str(),
        [n, c](benchmark::State& s) {
          distributed_options o;
          o.inner_halo = c.inner_halo;
          problem p(n, o);
          array<double> ones(p.a.rows()), b(p.a.rows()), x(p.a.rows());
          fill(ones, 1.0);
          p.a.apply(ones, b);
          solve_report last;
          world().reset_counters();
          for (auto _ : s) {
            fill(x, 0.0);
            s.SetIterationTime(timed([&] {
              if (std::string(c.op) == "refine_cg") {
                refinement_options ro;
                ro.policy = precision_policy::f64();
                ro.inner_method = inner_solver::cg;
                ro.outer.rel_tol = 1e-10;
                ro.outer.max_iterations = 100;
                ro.inner.max_iterations = 5000;
                last = refine(p.a, b, x, ro);
              } else {
                solve_options so;
                so.rel_tol = 1e-10;
                so.max_iterations = 5000;
                so.record_history = false;
                last = std::string(c.op) == "cg" ? cg(p.a, b, x, so) : cg_pipelined(p.a, b, x, so);
              }
            }));
          }
          if (!last.converged()) s.SkipWithError(last.summary().c_str());
          s.counters["iterations"] = last.inner_iterations ? last.inner_iterations : last.iterations;
          s.counters["true_residual"] = last.true_residual;
          const communication_counters cc = world().counters();
          double bytes = double(cc.halo_bytes), reductions = double(cc.reductions);
          MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
          s.counters["halo_bytes_per_solve"] = bytes / double(s.iterations());
          s.counters["reductions_per_solve"] = reductions / double(s.iterations());
        })
        ->Iterations(2)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

/// The same Poisson problem matrix-free: the 7-point stencil on a decomposed n^3 grid,
/// applied and solved by multigrid-preconditioned CG.
void register_grid(std::int64_t n) {
  const boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  auto grid_name = [n](const char* op) {
    return std::string("mpi/") + op + "/f64/grid7_" + std::to_string(n) + "/np" + std::to_string(world().size());
  };
  benchmark::RegisterBenchmark(grid_name("stencil_apply").c_str(),
                               [n, bc](benchmark::State& s) {
                                 const cartesian_grid g(world(), grid_extent(n, n, n), bc);
                                 const distributed_stencil_operator a(g, stencil::laplace_3d7());
                                 array<double> x(a.rows()), y(a.rows());
                                 fill(x, 1.0);
                                 world().reset_counters();
                                 std::int64_t applies = 0;
                                 for (auto _ : s) {
                                   s.SetIterationTime(timed([&] { a.apply(x, y); }));
                                   ++applies;
                                 }
                                 // x read, y written: the least a matrix-free apply moves.
                                 s.counters["bytes"] = benchmark::Counter(
                                     double(s.iterations()) * 16.0 * double(n * n * n), benchmark::Counter::kIsRate);
                                 report_halo(s, applies);
                               })
      ->Iterations(50)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);

  benchmark::RegisterBenchmark(grid_name("mgpcg").c_str(),
                               [n, bc](benchmark::State& s) {
                                 const cartesian_grid g(world(), grid_extent(n, n, n), bc);
                                 const distributed_stencil_operator a(g, stencil::laplace_3d7());
                                 const auto m = distributed_multigrid(a);
                                 array<double> ones(a.rows()), b(a.rows()), x(a.rows());
                                 fill(ones, 1.0);
                                 a.apply(ones, b);
                                 solve_report last;
                                 for (auto _ : s) {
                                   fill(x, 0.0);
                                   s.SetIterationTime(timed([&] {
                                     solve_options so;
                                     so.rel_tol = 1e-10;
                                     so.preconditioner = m.get();
                                     last = cg(a, b, x, so);
                                   }));
                                 }
                                 if (!last.converged()) s.SkipWithError(last.summary().c_str());
                                 s.counters["iterations"] = last.iterations;
                                 s.counters["levels"] = m->levels();
                                 s.counters["true_residual"] = last.true_residual;
                               })
      ->Iterations(3)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

/// Reports nothing: the processes other than 0.
class silent_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  std::int64_t n = 128;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind("--edge=", 0) == 0) n = std::stoll(std::string(argv[i]).substr(7));
  benchmark::Initialize(&argc, argv);
  register_all(n);
  register_grid(n);
  if (world().rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    silent_reporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
