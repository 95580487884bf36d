// --matrix: the user's own Matrix Market matrix. SpMV in every storage format that suits it
// and every value precision; and, for a square matrix, the FP64 Krylov solve and every
// mixed-precision policy to the requested FP64 tolerance (CG family when the matrix is
// symmetric with a positive diagonal, GMRES otherwise), with the policy that got there
// fastest recommended.
#pragma once

#include <string>
#include <vector>

#include "tools/compare/compare.hpp"

namespace mixprec::compare {

struct user_problem {
  std::string matrix_path, rhs_path;
  double tolerance = 1e-10;
};

/// The cases for the user's matrix; reading errors are the reader's mixprec::error, naming
/// the file's problem and line. `description` says what was found (size, symmetry, which
/// solver family, whether DIA suits it).
case_list user_matrix_cases(const user_problem& p, std::string& description);

/// Which solver case reached the tolerance fastest (its precision and time), or why none did.
std::string recommend_policy(const std::vector<case_result>& results);

}  // namespace mixprec::compare
