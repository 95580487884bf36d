// mixprec/linear_operator.hpp — what a solver applies: y = alpha*A*x + beta*y.
//
//   mixprec::csr_matrix A = mixprec::poisson_3d(64);
//   mixprec::csr_operator op(A);                 // refers to A (A must outlive op)
//   mixprec::csr_operator op32(A.with_values(mixprec::dtype::f32));   // owns its matrix
//   mixprec::dia_operator band(mixprec::dia_matrix(A));                // banded: no indices, no gathers
//   mixprec::stencil_operator lap(mixprec::stencil::laplace_3d7(), mixprec::grid_extent(64, 64, 64));
//   mixprec::callback_operator user(n, n, [](mixprec::const_view x, mixprec::view y) { ... y = A x ... });
//
// Every solver takes a `const linear_operator&`, so an assembled matrix in any value
// precision, a matrix-free stencil and a user's own code are interchangeable. Vectors are
// dense, f64 or f32 (both the same dtype), in the operator's memory space. Derive from
// linear_operator to add an operator of your own.
//
// apply() is const and may run on several threads at once on one operator: concurrent
// solves may share their operator and preconditioner. Operators that need scratch memory
// take their own per call (and reuse it), except the multigrid V-cycle, whose calls take
// turns, and the distributed operators, whose applies are collective and so one at a time;
// a callback_operator is as safe as its function.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/reduction.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

namespace detail {
template <class T>
class scratch_pool;  // per-call scratch of const applies (src/internal/scratch_pool.hpp)
}

class linear_operator {
 public:
  virtual ~linear_operator() = default;

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  const context& ctx() const { return ctx_; }

  /// y = alpha * A * x + beta * y. beta == 0 does not read y.
  virtual void apply(double alpha, const_view x, double beta, view y) const = 0;
  /// y = A * x.
  void apply(const_view x, view y) const { apply(1.0, x, 0.0, y); }
  /// The precision the operator's data are stored in (reported by solvers).
  virtual dtype storage_type() const { return dtype::f64; }
  /// One line for reports, e.g. "csr f32/i32 262144x262144 nnz 1810432".
  virtual std::string describe() const = 0;
  /// The main diagonal, in f64, into a host vector of rows() elements (preconditioners are
  /// built from it). Throws status::unsupported where the operator cannot say.
  virtual void diagonal(double* d) const;
  /// The same operator with its data stored in `values` (f64, f32, f16, bf16), for
  /// mixed-precision solvers; null where the operator has no stored values to round (a
  /// stencil's few coefficients, a callback): then it serves as it is. Refinement asks a
  /// distributed operator for its own dtype too: its copy may exchange halos in less.
  virtual std::unique_ptr<linear_operator> stored_as(dtype values) const;
  /// stored_as(values) for refinement's inner solves, whose halo values (a distributed
  /// operator's) travel in at most `halo` (precision_policy::halo); operators on one process
  /// have no halo and take stored_as.
  virtual std::unique_ptr<linear_operator> inner_copy(dtype values, dtype halo) const;
  /// Where solvers on this operator sum their inner products: null for an operator on one
  /// process; a distributed operator's communicator (see mixprec/reduction.hpp). Vectors
  /// are then each process's part: rows() and cols() are the local sizes.
  virtual const reduction_domain* reductions() const { return nullptr; }
  /// The precision this operator's halo values travel in between processes: f64 for an
  /// operator on one process, whose products round nothing on the way. Refinement asks no
  /// more of an inner solve than a product in it can be trusted to (see refinement.hpp).
  virtual dtype halo_type() const { return dtype::f64; }

 protected:
  linear_operator(std::int64_t rows, std::int64_t cols, context ctx);
  linear_operator(const linear_operator&) = default;
  linear_operator& operator=(const linear_operator&) = default;
  /// The checks every apply() makes: sizes, dtypes, density, memory space; throws naming
  /// the operator (`who`) and the offending argument.
  void check_vectors(const char* who, const_view x, const_view y) const;

 private:
  std::int64_t rows_ = 0, cols_ = 0;
  context ctx_;
};

/// What the operators over a stored matrix share: the matrix (referred to, or owned), the
/// accumulation asked of its SpMV, apply() through spmv, the storage dtype.
template <class M>
class matrix_operator : public linear_operator {
 public:
  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return a_->value_type(); }
  const M& matrix() const { return *a_; }

 protected:
  /// Refers to `a`, which must outlive the operator; `who` names apply() in errors.
  matrix_operator(const char* who, const M& a, accumulation acc);
  /// Owns the matrix.
  matrix_operator(const char* who, M&& a, accumulation acc);
  accumulation acc() const { return acc_; }

 private:
  std::shared_ptr<const M> a_;
  accumulation acc_;
  const char* who_;
};

/// An assembled CSR matrix (any value dtype, i32 or i64 indices) as an operator.
///
/// With `layout::automatic` a CPU matrix whose entries lie on a few whole diagonals (an
/// assembled stencil: DIA storing at most `banded_fill` x its nonzeros) is also kept as a
/// dia_matrix, and apply() runs the DIA SpMV: no column indices, contiguous x, SIMD loads; at
/// 50,000 unknowns a 5-point Laplacian's product takes a third of the CSR kernel's time. The
/// price: one pass over the indices and a copy of the values when the operator is built
/// (about 5-20 products' time), and the diagonals' values held beside the matrix. Each row's
/// terms are still summed in ascending column order; a zero the band holds where CSR stores
/// nothing multiplies x_j too, so an infinite or NaN x_j there gives NaN (as an explicit zero
/// would). matrix() and the preconditioners built from the operator see the CSR matrix.
///
/// An operator that owns its matrix uses `automatic` unless told otherwise: nothing can
/// change its values. One that refers to the caller's matrix runs the CSR kernel on it
/// (`layout::csr`) unless asked for `automatic`, because a code that updates the values in
/// place between solves would otherwise be served the copy's old ones; ask for it when the
/// matrix stays as it is for the operator's life.
class csr_operator : public matrix_operator<csr_matrix> {
 public:
  enum class layout { automatic, csr };
  /// The most DIA may store, over the nonzeros, for `automatic` to choose it: DIA then reads
  /// 8 x 1.25 = 10 bytes per f64 nonzero against CSR's 12, and in SIMD.
  static constexpr double banded_fill = 1.25;

  /// Refers to `a`, which must outlive the operator.
  explicit csr_operator(const csr_matrix& a, accumulation acc = accumulation::standard, layout how = layout::csr);
  /// Owns the matrix.
  explicit csr_operator(csr_matrix&& a, accumulation acc = accumulation::standard, layout how = layout::automatic);

  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  std::string describe() const override;
  void diagonal(double* d) const override;
  std::unique_ptr<linear_operator> stored_as(dtype values) const override;
  /// The DIA copy apply() runs, or null where it runs the CSR kernel.
  const dia_matrix* banded() const { return banded_.get(); }

 private:
  layout how_;
  std::shared_ptr<const dia_matrix> banded_;
};

/// A SELL-C-sigma matrix as an operator.
class sell_operator : public matrix_operator<sell_matrix> {
 public:
  explicit sell_operator(const sell_matrix& a, accumulation acc = accumulation::standard)
      : matrix_operator("sell_operator::apply", a, acc) {}
  explicit sell_operator(sell_matrix&& a, accumulation acc = accumulation::standard)
      : matrix_operator("sell_operator::apply", std::move(a), acc) {}

  std::string describe() const override;
};

/// A DIA matrix (banded, e.g. an assembled stencil) as an operator.
class dia_operator : public matrix_operator<dia_matrix> {
 public:
  explicit dia_operator(const dia_matrix& a, accumulation acc = accumulation::standard)
      : matrix_operator("dia_operator::apply", a, acc) {}
  explicit dia_operator(dia_matrix&& a, accumulation acc = accumulation::standard)
      : matrix_operator("dia_operator::apply", std::move(a), acc) {}

  std::string describe() const override;
  void diagonal(double* d) const override;
  std::unique_ptr<linear_operator> stored_as(dtype values) const override;
};

extern template class matrix_operator<csr_matrix>;
extern template class matrix_operator<sell_matrix>;
extern template class matrix_operator<dia_matrix>;

/// A user's y = A x as an operator. `apply_fn` gets dense x and y of the solver's vector
/// dtype; alpha and beta are applied around it (with one temporary when they are not 1, 0).
class callback_operator : public linear_operator {
 public:
  using function = std::function<void(const_view x, view y)>;
  callback_operator(std::int64_t rows, std::int64_t cols, function apply_fn, std::string name = "callback",
                    context ctx = context::cpu());

  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  std::string describe() const override { return name_; }

 private:
  function fn_;
  std::string name_;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
