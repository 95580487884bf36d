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
  /// Groups given as lists, kept in host memory until place() copies them elsewhere.
  explicit row_schedule(const std::vector<std::vector<std::int64_t>>& groups);

  /// Levels of the solve with the strictly lower (lower = true) or strictly upper part of `a`:
  /// a row's level is one more than the highest level of the rows it references there.
  static row_schedule triangular_levels(const coo_matrix& a, bool lower);
  /// Greedy coloring of the pattern of A + A^T, natural order.
  static row_schedule coloring(const coo_matrix& a);

  int groups() const { return int(starts_.size()) - 1; }
  std::int64_t size(int g) const { return starts_[std::size_t(g) + 1] - starts_[std::size_t(g)]; }
  /// Group g's rows where the kernels read them (ctx's memory once placed).
  const std::int64_t* rows(int g) const {
    const auto* all = placed_.size() ? static_cast<const std::int64_t*>(placed_.data()) : rows_.data();
    return all + starts_[std::size_t(g)];
  }
  /// The same groups in reverse order (a backward sweep), in host memory.
  row_schedule reversed() const;
  /// Copies the rows into ctx's memory for the kernels of that memory (nothing for the host).
  row_schedule placed_in(const context& ctx) &&;

 private:
  std::vector<std::int64_t> rows_;
  std::vector<std::int64_t> starts_{0};
  buffer placed_;  // the rows as bytes in a device's memory, or empty
};

/// Host values copied into an f64 buffer in ctx's memory (a preconditioner's inverse
/// diagonal, read by the csr_rows_solve kernels there).
buffer f64_buffer_in(const context& ctx, const std::vector<double>& values);

/// x_i = (b_i - sum_{j != i} a_ij x_j) * inv_diag[i] for the rows of every group of s, group
/// after group (a triangular solve, or one Gauss-Seidel sweep): the kernel chosen once. The
/// schedule's rows and inv_diag (f64) are in a's memory, as are b and x.
void sweep(const csr_matrix& a, const row_schedule& s, const buffer& inv_diag, const_view b, view x);

}  // namespace mixprec::detail
