// mixprec/preconditioner.hpp — preconditioners: operators that apply M^-1 ~ A^-1.
//
//   mixprec::csr_operator A(mixprec::poisson_3d(64));
//   mixprec::jacobi_preconditioner M(A);                        // 1/a_ii in f64
//   mixprec::jacobi_preconditioner M32(A, mixprec::dtype::f32);  // stored in f32
//   mixprec::block_jacobi_preconditioner B(A);                  // 8x8 blocks, f16/f32/f64 by conditioning
//   mixprec::solve_options o;
//   o.preconditioner = &M;
//
// A preconditioner is a linear_operator (apply(alpha, r, beta, z): z = alpha*M^-1*r +
// beta*z), so anything with that shape serves, including another solver wrapped in a
// callback_operator (as FGMRES's variable preconditioner).
#pragma once

#include <memory>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// Point Jacobi: M^-1 = diag(A)^-1, stored as a diagonal CSR matrix in `storage` (f64, f32,
/// f16 or bf16; 1/a_ii rounded once to it), applied by the SpMV kernels of A's backend.
/// Throws numerical_breakdown naming the row where a_ii is zero or not finite, and
/// numerical_breakdown where 1/a_ii overflows `storage`.
class jacobi_preconditioner : public linear_operator {
 public:
  explicit jacobi_preconditioner(const linear_operator& a, dtype storage = dtype::f64);

  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return inverse_.value_type(); }
  std::string describe() const override;
  /// 1/a_ii for every row, in the storage dtype and the operator's memory.
  const_view inverse_diagonal() const { return inverse_.values(); }

 private:
  csr_matrix inverse_;  // the diagonal as a matrix, for backends without a diagonal op
};

namespace detail {
class row_schedule;
}

/// Symmetric Gauss-Seidel on an assembled matrix: from z = 0, one forward and one backward
/// sweep, M = (D+L) D^-1 (D+U). Multicolored (default): the rows are greedily colored so
/// that no two rows of a color couple, each color is one parallel update, forward over the
/// colors and back; else in natural order, parallel by the levels of the triangular parts.
/// The matrix is kept in `storage` (f64 or f32). A diagonal entry that is zero to working
/// precision (|a_ii| <= u max_j |a_ij|) is a numerical_breakdown naming the row.
class sgs_preconditioner : public linear_operator {
 public:
  explicit sgs_preconditioner(const linear_operator& a, bool multicolor = true, dtype storage = dtype::f64);
  ~sgs_preconditioner() override;
  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return a_.value_type(); }
  std::string describe() const override;
  /// Parallel groups per sweep: colors, or levels.
  int groups() const;

 private:
  csr_matrix a_;
  buffer inv_diag_;  // f64, in the operator's memory
  std::unique_ptr<detail::row_schedule> forward_, backward_;
  bool multicolor_;
  std::unique_ptr<detail::scratch_pool<buffer>> work_;  // one per concurrent apply
};

/// Incomplete factorizations with the sparsity of A, computed in f64 and stored in `storage`
/// (f64 or f32): ILU(0), A ~ L U with L unit lower; IC(0), A ~ L L^T for symmetric positive
/// definite A. Applied by two sparse triangular solves, parallel by levels. A pivot that is
/// zero to working precision (no larger than the rounding error of the sum that formed it:
/// an exactly singular leading block leaves 1e-16, not 0) or, for IC, a non-positive one
/// (A is not SPD, or IC(0) does not exist for it) is a numerical_breakdown naming the row.
/// No diagonal shift is applied silently: the caller decides (e.g. factor A + s I).
class incomplete_factorization : public linear_operator {
 public:
  enum class kind { ilu0, ic0 };
  incomplete_factorization(const linear_operator& a, kind k, dtype storage = dtype::f64);
  ~incomplete_factorization() override;
  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return lower_.value_type(); }
  std::string describe() const override;
  /// Parallel levels of the lower and upper solves.
  int lower_levels() const;
  int upper_levels() const;

 private:
  kind kind_;
  csr_matrix lower_, upper_;                // ILU: strict lower of L (unit), U; IC: L and L^T
  buffer lower_inv_diag_, upper_inv_diag_;  // f64, in the operator's memory
  std::unique_ptr<detail::row_schedule> lower_levels_, upper_levels_;
  std::unique_ptr<detail::scratch_pool<buffer>> work_;  // one per concurrent apply
};

inline incomplete_factorization ilu0_preconditioner(const linear_operator& a, dtype storage = dtype::f64) {
  return incomplete_factorization(a, incomplete_factorization::kind::ilu0, storage);
}
inline incomplete_factorization ic0_preconditioner(const linear_operator& a, dtype storage = dtype::f64) {
  return incomplete_factorization(a, incomplete_factorization::kind::ic0, storage);
}

struct block_jacobi_options {
  /// Rows per diagonal block (contiguous; the last block may be smaller), 1 to 32.
  int block_size = 8;
  /// Per block, the lowest of `precisions` whose unit roundoff u satisfies
  /// u * cond_1(D_b) <= accuracy and which holds D_b^-1 without overflow or underflow (the
  /// rule of Ginkgo's adaptive block-Jacobi, Anzt et al. 2019): well-conditioned blocks are
  /// stored in 16 bits, ill-conditioned ones in f32 or f64.
  bool adaptive = true;
  double accuracy = 1e-1;
  std::vector<dtype> precisions{dtype::f16, dtype::f32, dtype::f64};
  /// Without adaptive: every block in this precision.
  dtype storage = dtype::f64;
};

/// Block-Jacobi: M^-1 = blockdiag(D_1^-1, ..., D_k^-1) from the diagonal blocks of an
/// assembled matrix (a csr_operator), each inverted in f64 (Gauss-Jordan with partial
/// pivoting) and stored rounded to its precision. Applied as one SpMV per precision used,
/// so it runs wherever SpMV does. Throws numerical_breakdown naming the block and rows where
/// a block is singular to working precision (a pivot of at most n u ||D_b||_1).
class block_jacobi_preconditioner : public linear_operator {
 public:
  explicit block_jacobi_preconditioner(const linear_operator& a, block_jacobi_options options = {});

  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  /// The widest precision any block is stored in.
  dtype storage_type() const override;
  std::string describe() const override;
  /// How many blocks are stored in `t`.
  std::int64_t blocks_in(dtype t) const;
  /// Bytes of the stored inverse blocks' values (what precision saves).
  std::int64_t value_bytes() const;

 private:
  struct group {
    dtype type;
    std::int64_t blocks = 0;
    csr_matrix inverse;  // this precision's blocks; the other rows empty
  };
  std::vector<group> groups_;
  block_jacobi_options options_;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
