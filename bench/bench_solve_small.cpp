// Small solves, where per-call overhead rather than bandwidth sets the time:
// solve/<method>/f64/small_<problem>, at about 5,000 and 50,000 unknowns, Jacobi-
// preconditioned GMRES(30), FGMRES(30) and BiCGStab on a nonsymmetric convection-diffusion
// problem and PCG on a 2-D Poisson problem; b = A*1, x0 = 0, relative residual 1e-8 (SciPy's
// default tolerance). The peer is SciPy, in another process: scripts/compare_small_solves.sh
// runs these benchmarks and scripts/scipy_small_solves.py on the very same matrices, which
// this file writes as Matrix Market files when MIXPREC_SMALL_PROBLEM_DIR names a directory.
// Validated before it counts: converged, true relative residual at most 1e-8.
#include <cstdlib>
#include <map>
#include <string>

#include "bench_common.hpp"
#include "bench_solve_common.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec::bench {
namespace {

constexpr double target = 1e-8;

struct small_problem {
  std::string name;
  bool symmetric;
  csr_matrix (*make)(std::int64_t);
  std::int64_t n;  // the generator's grid size
};

csr_matrix convdiff3d(std::int64_t n) { return convection_diffusion_3d(n, 10.0); }
csr_matrix poisson2d(std::int64_t n) { return poisson_2d(n); }

const small_problem problems[] = {
    {"convdiff3d_4913", false, convdiff3d, 17},
    {"convdiff3d_50653", false, convdiff3d, 37},
    {"poisson2d_5041", true, poisson2d, 71},
    {"poisson2d_50176", true, poisson2d, 224},
};

/// The matrix, built once; written to $MIXPREC_SMALL_PROBLEM_DIR/<name>.mtx when that is set.
const csr_matrix& matrix(const small_problem& p) {
  static std::map<std::string, csr_matrix> cache;
  auto it = cache.find(p.name);
  if (it != cache.end()) return it->second;
  csr_matrix a = p.make(p.n);
  if (const char* dir = std::getenv("MIXPREC_SMALL_PROBLEM_DIR"))
    write_matrix_market(std::string(dir) + "/" + p.name + ".mtx", a.to_coo());
  return cache.emplace(p.name, std::move(a)).first->second;
}

enum class method { gmres, fgmres, bicgstab, pcg };

void bench_small(benchmark::State& state, const small_problem* p, method m) {
  const csr_matrix& a = matrix(*p);
  // The matrix does not change during the solve: the operator may keep its own (DIA) copy.
  const csr_operator op(a, accumulation::standard, csr_operator::layout::automatic);
  const jacobi_preconditioner jacobi(op);
  array<double> one(std::vector<double>(std::size_t(a.cols()), 1.0)), b(a.rows()), x(a.rows());
  spmv(1.0, a, one, 0.0, b);
  solve_options o = solve_defaults(target, 20000);
  o.preconditioner = &jacobi;
  o.restart = 30;
  solve_report rep;
  double seconds = 0;
  const bool solved = timed_solve(
      state, x, target,
      [&] {
        switch (m) {
          case method::gmres:
            return gmres(op, b, x, o);
          case method::fgmres:
            return fgmres(op, b, x, o);
          case method::bicgstab:
            return bicgstab(op, b, x, o);
          case method::pcg:
            return cg(op, b, x, o);
        }
        return solve_report{};
      },
      &rep, &seconds);
  if (!solved) return;
  solve_counters(state, rep, seconds);
  state.counters["unknowns"] = double(a.rows());
}

int register_all() {
  const std::pair<const char*, method> nonsymmetric[] = {
      {"gmres_jacobi", method::gmres}, {"fgmres_jacobi", method::fgmres}, {"bicgstab_jacobi", method::bicgstab}};
  for (const small_problem& p : problems) {
    auto add = [&](const char* name, method m) {
      benchmark::RegisterBenchmark(("solve/" + std::string(name) + "/f64/small_" + p.name).c_str(), bench_small, &p, m)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
    };
    if (p.symmetric)
      add("pcg_jacobi", method::pcg);
    else
      for (const auto& [name, m] : nonsymmetric) add(name, m);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
