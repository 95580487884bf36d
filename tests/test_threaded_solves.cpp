// Solves large enough that the vector kernels and the SpMV split across two threads (two
// chunks of at least the 2^15-element minimum): every method reaches its tolerance, in
// the true residual computed in long double, and gives the same bits on every run at a fixed
// thread count, since each reduction combines its per-chunk partials in chunk order, never in
// the order the threads finish. CI runs this program under ThreadSanitizer
// (scripts/sanitize.sh ci-thread), where these solves are the threaded Krylov code it checks.
#include <cstring>
#include <string>

#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

/// The 7-point Laplacian on a 42^3 grid (74,088 unknowns) plus the identity: SPD with a
/// condition number near 13, so that each method converges in tens of iterations.
coo_matrix shifted_poisson() {
  coo_matrix a = poisson_3d(42).to_coo();
  for (std::size_t k = 0; k < a.value.size(); ++k)
    if (a.row[k] == a.col[k]) a.value[k] += 1.0;
  return a;
}

using method_fn = solve_report (*)(const linear_operator&, const_view, view, const solve_options&);

struct method_case {
  const char* name;
  method_fn run;
};

class threaded_solve : public ::testing::TestWithParam<method_case> {};

TEST_P(threaded_solve, converges_and_repeats_bit_for_bit) {
  static const coo_matrix a = shifted_poisson();
  const csr_operator op(csr_matrix::from_coo(a));
  const jacobi_preconditioner m(op);
  const std::vector<double> b = random_vector(a.rows, 11);
  solve_options o;
  o.rel_tol = 1e-10;
  o.max_iterations = 200;
  o.preconditioner = &m;

  std::vector<double> first;
  int first_iterations = -1;
  for (int run = 0; run < 2; ++run) {
    array<double> bd(b), xd(std::vector<double>(b.size(), 0.0));
    const solve_report r = GetParam().run(op, bd, xd, o);
    ASSERT_TRUE(r.converged()) << r.summary();
    const std::vector<double> x = xd.to_vector();
    // The report evaluated b - A x in f64: at most (7 + 2) u (|A||x| + |b|) per row.
    const double rel = relative_residual(a, b, x);
    EXPECT_LE(rel, o.rel_tol + 9 * 0x1p-53 * residual_rounding_scale(a, b, x)) << r.summary();
    if (run == 0) {
      first = x;
      first_iterations = r.iterations;
      continue;
    }
    EXPECT_EQ(r.iterations, first_iterations);
    EXPECT_EQ(std::memcmp(x.data(), first.data(), x.size() * sizeof(double)), 0)
        << GetParam().name << ": two runs on the same threads differ";
  }
}

INSTANTIATE_TEST_SUITE_P(krylov, threaded_solve,
                         ::testing::Values(method_case{"cg", &cg}, method_case{"cg_pipelined", &cg_pipelined},
                                           method_case{"bicgstab", &bicgstab}, method_case{"gmres", &gmres},
                                           method_case{"fgmres", &fgmres}),
                         [](const ::testing::TestParamInfo<method_case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace mixprec::test
