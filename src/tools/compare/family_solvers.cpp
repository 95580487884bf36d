// Solvers and mixed-precision policies to an FP64 residual of 1e-10: the 3D Poisson
// matrix (SPD: CG and CG-based refinement) and a 3D convection-diffusion matrix
// (nonsymmetric: GMRES and GMRES-IR), b = A * 1 so the exact solution is known.
#include "mixprec/sparse.hpp"
#include "tools/compare/reference.hpp"
#include "tools/compare/solver_cases.hpp"

namespace mixprec::compare {
namespace {

std::shared_ptr<const std::vector<double>> rhs_of_ones(const csr_matrix& a) {
  array<double> one(std::vector<double>(static_cast<std::size_t>(a.cols()), 1.0)), b(a.rows());
  spmv(1.0, a, one, 0.0, b);
  return std::make_shared<const std::vector<double>>(b.to_vector());
}

}  // namespace

void add_solver_cases(case_list& cases, const suite_settings& s) {
  for (bool spd : {true, false}) {
    // GMRES-IR with a 16-bit matrix needs several times GMRES's iterations on the
    // nonsymmetric problem (40 s a solve at 100^3): a smaller grid keeps the suites in time.
    const std::int64_t n = s.size == suite_size::tiny    ? 10
                           : s.size == suite_size::quick ? (spd ? 64 : 48)
                                                         : (spd ? 100 : 64);
    solver_problem p;
    auto a = std::make_shared<const csr_matrix>(spd ? poisson_3d(n) : convection_diffusion_3d(n, 10.0));
    p.name = (spd ? "poisson7_" : "convdiff7_pe10_") + std::to_string(n) + "^3";
    p.a = a;
    p.b = rhs_of_ones(*a);
    p.x_exact = std::make_shared<const std::vector<double>>(static_cast<std::size_t>(a->rows()), 1.0);
    p.spd = spd;
    add_solver_cases_for(cases, p);
  }
}

}  // namespace mixprec::compare
