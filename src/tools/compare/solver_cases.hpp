// Solver cases on one assembled matrix, shared by the built-in solver family and by
// --matrix: the FP64 Krylov method and every mixed-precision policy that reaches the same
// FP64 target (CG family for SPD matrices, GMRES for the rest).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mixprec/sparse.hpp"
#include "tools/compare/compare.hpp"

namespace mixprec::compare {

struct solver_problem {
  std::string family = "solvers", name;
  std::shared_ptr<const csr_matrix> a;  // f64 values
  std::shared_ptr<const std::vector<double>> b;
  std::shared_ptr<const std::vector<double>> x_exact;  // may be null
  bool spd = false;
  double target = 1e-10;  // relative FP64 residual asked for
  int max_iterations = 5000;
};

void add_solver_cases_for(case_list& cases, const solver_problem& p);

}  // namespace mixprec::compare
