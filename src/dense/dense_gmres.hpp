// GMRES-IR's correction equations A d = r for several right-hand sides at once: flexible
// GMRES with the low-precision factors as its preconditioner, every column's iterations in
// step so that each iteration applies A and the factors once for all of them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mixprec/context.hpp"

namespace mixprec::detail {

/// out[c] = Op in[c] for c < in.size() (n values each).
using apply_to_columns = std::function<void(const std::vector<const double*>& in, const std::vector<double*>& out)>;

struct correction_options {
  double tolerance = 1e-4;  // relative residual ||r - A d|| / ||r|| to reach
  int restart = 300;        // iterations per cycle (at most n are used)
  int max_iterations = 300;
  /// Every this many iterations the residual must have halved, or the column stops (0: never).
  int halving_window = 50;
};

struct correction_result {
  int iterations = 0;
  bool converged = false;
  /// ||r - A d|| / ||r|| as the Arnoldi process estimates it (exact in exact arithmetic).
  double relative_residual = 1;
  std::string why;  // why it stopped without converging
};

/// d[c] ~ A^-1 r[c] for every column c by FGMRES(restart) from d = 0, with z_j = M^-1 v_j
/// kept for the update (Saad, alg. 9.6) and modified Gram-Schmidt. All columns still
/// iterating take their next iteration together: one apply_m and one apply_a for all of
/// them. A column stops when its residual meets the tolerance, when the halving window or the
/// iteration budget runs out, or on a non-finite value. r and d: n values each, d written.
std::vector<correction_result> solve_corrections(std::int64_t n, const std::vector<const double*>& r,
                                                 const std::vector<double*>& d, const apply_to_columns& apply_a,
                                                 const apply_to_columns& apply_m, const correction_options& o,
                                                 const context& ctx);

}  // namespace mixprec::detail
