// What the preconditioners built from an assembled matrix share: getting at the matrix, and
// checking that values survive rounding to a storage precision.
#pragma once

#include <cstdint>

#include "mixprec/linear_operator.hpp"

namespace mixprec::detail {

/// The CSR matrix behind `a`; throws naming `op` when `a` is not a csr_operator or not square.
const csr_matrix& assembled_matrix(const linear_operator& a, const char* op);

/// The first of v[0, n) that rounding to `t` turns non-finite or from nonzero into zero; -1
/// when all survive.
std::int64_t first_lost_in(const double* v, std::int64_t n, dtype t);

}  // namespace mixprec::detail
