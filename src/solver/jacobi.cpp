// Point Jacobi, kept as a diagonal CSR matrix in the storage precision asked for: applied
// by diag_scale where it serves (CPU memory, storage = the vectors' dtype), else by the
// SpMV kernels of every backend. A one-entry-per-row SpMV reads a column index and a row
// pointer per row and gathers; as a CSR SpMV Jacobi cost 20 % of a PCG iteration.
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "mixprec/preconditioner.hpp"
#include "solver/preconditioner_support.hpp"

namespace mixprec {
namespace {

csr_matrix inverse_diagonal_matrix(const linear_operator& a, dtype storage) {
  constexpr const char* op = "jacobi_preconditioner";
  if (a.rows() != a.cols())
    MIXPREC_THROW(shape_mismatch, op, "the operator is not square: ", a.rows(), " x ", a.cols());
  if (storage != dtype::f64 && storage != dtype::f32 && storage != dtype::f16 && storage != dtype::bf16)
    MIXPREC_THROW(unsupported, op, "storage ", name_of(storage), " (f64, f32, f16 or bf16)");
  const std::int64_t n = a.rows();
  std::vector<double> inv(static_cast<std::size_t>(n));
  a.diagonal(inv.data());
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = inv[std::size_t(i)];
    if (d == 0.0 || !std::isfinite(d))
      MIXPREC_THROW(numerical_breakdown, op, "diagonal entry of row ", i, " is ", d, ": no Jacobi inverse");
    inv[std::size_t(i)] = 1.0 / d;
  }
  const index_type idx = n < std::numeric_limits<std::int32_t>::max() ? index_type::i32 : index_type::i64;
  csr_matrix m(n, n, n, storage, idx, context::cpu());
  if (idx == index_type::i32) {
    auto* rp = static_cast<std::int32_t*>(m.row_ptr_data());
    auto* ci = static_cast<std::int32_t*>(m.col_idx_data());
    std::iota(rp, rp + n + 1, 0);
    std::iota(ci, ci + n, 0);
  } else {
    auto* rp = static_cast<std::int64_t*>(m.row_ptr_data());
    auto* ci = static_cast<std::int64_t*>(m.col_idx_data());
    std::iota(rp, rp + n + 1, std::int64_t(0));
    std::iota(ci, ci + n, std::int64_t(0));
  }
  // Rounded to a narrow storage, 1/a_ii may overflow or vanish: either makes M singular.
  if (const std::int64_t i = detail::first_lost_in(inv.data(), n, storage); i >= 0)
    MIXPREC_THROW(numerical_breakdown, op, "1/a_ii of row ", i, " = ", inv[std::size_t(i)],
                  " overflows or vanishes in ", name_of(storage), ": use a wider storage");
  convert(make_view(inv.data(), n), m.values());
  return m.to(a.ctx());
}

}  // namespace

jacobi_preconditioner::jacobi_preconditioner(const linear_operator& a, dtype storage)
    : linear_operator(a.rows(), a.cols(), a.ctx()), inverse_(inverse_diagonal_matrix(a, storage)) {}

void jacobi_preconditioner::apply(double alpha, const_view r, double beta, view z) const {
  check_vectors("jacobi_preconditioner::apply", r, z);
  if (detail::diag_scale_serves(inverse_diagonal(), r, z))
    detail::diag_scale(alpha, inverse_diagonal(), r, beta, z);
  else
    spmv(alpha, inverse_.ref(), r, beta, z);
}

std::string jacobi_preconditioner::describe() const {
  return detail::cat("jacobi ", name_of(inverse_.value_type()), " n ", rows());
}

}  // namespace mixprec
