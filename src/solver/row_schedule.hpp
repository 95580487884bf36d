// Orders in which rows of a sparse matrix can be updated in parallel groups: the levels of
// a triangular solve (a row waits for the rows it references on one side), or the colors of
// a greedy coloring (no two rows of a color reference each other). Plus the front end of the
// csr_rows_solve op that runs them group after group.
#pragma once

#include <cstdint>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec::detail {

class row_schedule {
 public:
  row_schedule() = default;
  /// Groups given as lists. The rows are kept in host memory: the csr_rows_solve kernels
  /// are CPU kernels (a CUDA kernel would take a device copy).
  explicit row_schedule(const std::vector<std::vector<std::int64_t>>& groups);

  /// Levels of the solve with the strictly lower (lower = true) or strictly upper part of `a`:
  /// a row's level is one more than the highest level of the rows it references there.
  static row_schedule triangular_levels(const coo_matrix& a, bool lower);
  /// Greedy coloring of the pattern of A + A^T, natural order.
  static row_schedule coloring(const coo_matrix& a);

  int groups() const { return int(starts_.size()) - 1; }
  std::int64_t size(int g) const { return starts_[std::size_t(g) + 1] - starts_[std::size_t(g)]; }
  const std::int64_t* rows(int g) const { return rows_.data() + starts_[std::size_t(g)]; }
  /// The same groups in reverse order (a backward sweep).
  row_schedule reversed() const;

 private:
  std::vector<std::int64_t> rows_;
  std::vector<std::int64_t> starts_{0};
};

/// x_i = (b_i - sum_{j != i} a_ij x_j) * inv_diag[i] for the rows of every group of s, group
/// after group (a triangular solve, or one Gauss-Seidel sweep): the kernel chosen once.
void sweep(const csr_matrix& a, const row_schedule& s, const std::vector<double>& inv_diag, const_view b, view x);

}  // namespace mixprec::detail
