#include "solver/preconditioner_support.hpp"

#include <cmath>
#include <vector>

#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"

namespace mixprec::detail {

const csr_matrix& assembled_matrix(const linear_operator& a, const char* op) {
  const auto* csr = dynamic_cast<const csr_operator*>(&a);
  if (!csr) MIXPREC_THROW(unsupported, op, "needs an assembled matrix (csr_operator), got '", a.describe(), "'");
  if (a.rows() != a.cols()) MIXPREC_THROW(shape_mismatch, op, "the matrix is not square: ", a.rows(), " x ", a.cols());
  return csr->matrix();
}

std::int64_t first_lost_in(const double* v, std::int64_t n, dtype t) {
  buffer stored(t, n, context::cpu());
  std::vector<double> back(static_cast<std::size_t>(n));
  convert(make_view(v, n), stored.as_view());
  convert(stored.as_view(), make_view(back.data(), n));
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(back[std::size_t(i)]) || (v[i] != 0.0 && back[std::size_t(i)] == 0.0)) return i;
  return -1;
}

}  // namespace mixprec::detail
