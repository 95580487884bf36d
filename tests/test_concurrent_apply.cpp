// Operators and preconditioners shared by concurrent solves (linear_operator's contract):
// apply() on several threads at once on one object gives each call, bit for bit, what it
// gives alone. The stencil operator, SGS and ILU/IC take a scratch of their own per call;
// the multigrid V-cycle's calls take turns. Each thread applies to an input of its own, so
// a shared scratch would hand one thread another's vector.
#include <atomic>
#include <cstring>
#include <thread>

#include "mixprec/multigrid.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/stencil.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

constexpr int threads = 4;
constexpr int rounds = 20;

/// Runs `body(t)` on `threads` threads at once, t = 0..threads-1.
template <class Body>
void on_threads(Body body) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, t);
  for (std::thread& th : pool) th.join();
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// Each thread applies `op` to an input of its own `rounds` times, alpha and beta not 1, 0
/// (so that the paths that combine into y run too); every result must equal the one the
/// thread's input gives on one thread alone.
void expect_concurrent_applies_match_serial(const linear_operator& op) {
  const std::int64_t n = op.rows();
  std::vector<std::vector<double>> x(threads), y0(threads), expected(threads);
  for (int t = 0; t < threads; ++t) {
    x[std::size_t(t)] = random_vector(n, 100 + t);
    y0[std::size_t(t)] = random_vector(n, 200 + t);
    array<double> xa(x[std::size_t(t)]), ya(y0[std::size_t(t)]);
    op.apply(1.5, xa, -0.5, ya);
    expected[std::size_t(t)] = ya.to_vector();
  }
  std::atomic<int> mismatches{0};
  on_threads([&](int t) {
    const array<double> xa(x[std::size_t(t)]);
    for (int r = 0; r < rounds; ++r) {
      array<double> ya(y0[std::size_t(t)]);
      op.apply(1.5, xa, -0.5, ya);
      if (!same_bits(ya.to_vector(), expected[std::size_t(t)])) ++mismatches;
    }
  });
  EXPECT_EQ(mismatches.load(), 0) << op.describe() << ": " << mismatches.load() << " of " << threads * rounds
                                  << " concurrent applies differ from the same apply alone";
}

TEST(concurrent_apply, stencil_operator_gives_each_call_its_own_grid) {
  const stencil_operator a(stencil::laplace_3d7(), grid_extent(24, 20, 16));
  expect_concurrent_applies_match_serial(a);
}

TEST(concurrent_apply, sgs_ilu_and_ic_give_each_call_its_own_work_vector) {
  const csr_operator a(poisson_3d(14));
  expect_concurrent_applies_match_serial(sgs_preconditioner(a));
  expect_concurrent_applies_match_serial(sgs_preconditioner(a, false, dtype::f32));
  expect_concurrent_applies_match_serial(ilu0_preconditioner(a));
  expect_concurrent_applies_match_serial(ic0_preconditioner(a, dtype::f32));
}

TEST(concurrent_apply, multigrid_calls_take_turns) {
  const stencil_operator a(stencil::laplace_3d7(), grid_extent(24, 20, 16));
  expect_concurrent_applies_match_serial(multigrid_preconditioner(a));
  multigrid_options o32;
  o32.storage = dtype::f32;
  expect_concurrent_applies_match_serial(multigrid_preconditioner(a, o32));
}

TEST(concurrent_apply, solves_sharing_an_operator_and_its_preconditioner_match_solves_alone) {
  // What a Python user gets from a thread pool over one LaplaceOperator: MG-PCG on several
  // right-hand sides at once, each the same iterations and answer as alone.
  const stencil_operator a(stencil::laplace_3d7(), grid_extent(20, 18, 16));
  const multigrid_preconditioner m(a);
  solve_options so;
  so.preconditioner = &m;
  so.rel_tol = 1e-10;
  std::vector<std::vector<double>> b(threads), expected(threads);
  std::vector<int> iterations(threads);
  const std::vector<double> zeros(std::size_t(a.rows()), 0.0);  // the starting guess
  for (int t = 0; t < threads; ++t) {
    b[std::size_t(t)] = random_vector(a.rows(), 300 + t);
    array<double> ba(b[std::size_t(t)]), xa(zeros);
    iterations[std::size_t(t)] = cg(a, ba, xa, so).iterations;
    expected[std::size_t(t)] = xa.to_vector();
  }
  std::atomic<int> mismatches{0};
  on_threads([&](int t) {
    const array<double> ba(b[std::size_t(t)]);
    array<double> xa(zeros);
    const solve_report r = cg(a, ba, xa, so);
    if (r.iterations != iterations[std::size_t(t)] || !same_bits(xa.to_vector(), expected[std::size_t(t)]))
      ++mismatches;
  });
  EXPECT_EQ(mismatches.load(), 0) << "of " << threads << " concurrent MG-PCG solves on one operator";
}

}  // namespace
}  // namespace mixprec::test
