// The operator interface and its adapters for assembled matrices and user callbacks.
#include "mixprec/linear_operator.hpp"

#include <optional>
#include <utility>

#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"

namespace mixprec {

linear_operator::linear_operator(std::int64_t rows, std::int64_t cols, context ctx)
    : rows_(rows), cols_(cols), ctx_(std::move(ctx)) {
  if (rows < 0 || cols < 0) MIXPREC_THROW(invalid_argument, "linear_operator", "negative size ", rows, " x ", cols);
}

void linear_operator::diagonal(double*) const {
  MIXPREC_THROW(unsupported, "linear_operator::diagonal", "the operator '", describe(),
                "' does not provide its diagonal");
}

std::unique_ptr<linear_operator> linear_operator::stored_as(dtype) const { return nullptr; }
std::unique_ptr<linear_operator> linear_operator::inner_copy(dtype values, dtype) const { return stored_as(values); }

void linear_operator::check_vectors(const char* who, const_view x, const_view y) const {
  if (x.size() != cols_ || y.size() != rows_)
    MIXPREC_THROW(shape_mismatch, who, "the operator is ", rows_, " x ", cols_, " but x has ", x.size(), " and y ",
                  y.size(), " elements");
  if (x.type() != y.type() || (x.type() != dtype::f64 && x.type() != dtype::f32))
    MIXPREC_THROW(unsupported, who, "x and y must both be f64 or both f32 (x is ", name_of(x.type()), ", y ",
                  name_of(y.type()), ")");
  if (!x.is_contiguous() || !y.is_contiguous()) MIXPREC_THROW(unsupported, who, "x and y must be dense");
  if (!ctx_.same_memory(x.ctx()) || !ctx_.same_memory(y.ctx()))
    MIXPREC_THROW(invalid_argument, who, "x and y must live in the operator's memory space");
}

namespace {

/// Wraps a matrix without owning it: the caller keeps it alive.
template <class M>
std::shared_ptr<const M> refer_to(const M& a) {
  return std::shared_ptr<const M>(std::shared_ptr<const M>(), &a);
}

std::string shape_text(const char* kind, dtype values, const char* indices, std::int64_t rows, std::int64_t cols,
                       std::int64_t nnz) {
  return detail::cat(kind, " ", name_of(values), indices, " ", rows, "x", cols, " nnz ", nnz);
}

/// An assembled matrix's main diagonal into d; only square matrices have one a solver can use.
template <class M>
void square_diagonal(const char* who, const M& a, double* d) {
  if (a.rows() != a.cols()) MIXPREC_THROW(shape_mismatch, who, "the matrix is not square: ", a.rows(), " x ", a.cols());
  const std::vector<double> diag = a.diagonal();
  std::copy(diag.begin(), diag.end(), d);
}

}  // namespace

template <class M>
matrix_operator<M>::matrix_operator(const char* who, const M& a, accumulation acc)
    : linear_operator(a.rows(), a.cols(), a.ctx()), a_(refer_to(a)), acc_(acc), who_(who) {}

template <class M>
matrix_operator<M>::matrix_operator(const char* who, M&& a, accumulation acc)
    : linear_operator(a.rows(), a.cols(), a.ctx()), a_(std::make_shared<const M>(std::move(a))), acc_(acc), who_(who) {}

template <class M>
void matrix_operator<M>::apply(double alpha, const_view x, double beta, view y) const {
  check_vectors(who_, x, y);
  spmv(alpha, *a_, x, beta, y, acc_);
}

template class matrix_operator<csr_matrix>;
template class matrix_operator<sell_matrix>;
template class matrix_operator<dia_matrix>;

namespace {

/// The DIA copy csr_operator::apply runs: for `automatic`, a CPU matrix that fits a few
/// whole diagonals; null otherwise.
std::shared_ptr<const dia_matrix> banded_copy(const csr_matrix& a, csr_operator::layout how) {
  if (how != csr_operator::layout::automatic) return nullptr;
  std::optional<dia_matrix> banded = dia_matrix::if_fits(a, csr_operator::banded_fill);
  return banded ? std::make_shared<const dia_matrix>(std::move(*banded)) : nullptr;
}

}  // namespace

csr_operator::csr_operator(const csr_matrix& a, accumulation acc, layout how)
    : matrix_operator("csr_operator::apply", a, acc), how_(how), banded_(banded_copy(a, how)) {}

csr_operator::csr_operator(csr_matrix&& a, accumulation acc, layout how)
    : matrix_operator("csr_operator::apply", std::move(a), acc), how_(how), banded_(banded_copy(matrix(), how)) {}

void csr_operator::apply(double alpha, const_view x, double beta, view y) const {
  if (!banded_) {
    matrix_operator::apply(alpha, x, beta, y);
    return;
  }
  check_vectors("csr_operator::apply", x, y);
  spmv(alpha, *banded_, x, beta, y, acc());
}

std::string csr_operator::describe() const {
  std::string text =
      shape_text("csr", matrix().value_type(), matrix().index_kind() == index_type::i32 ? "/i32" : "/i64", rows(),
                 cols(), matrix().nnz());
  if (banded_) text += detail::cat(", applied as dia/", banded_->diagonals(), "diag");
  return text;
}

void csr_operator::diagonal(double* d) const { square_diagonal("csr_operator::diagonal", matrix(), d); }

std::unique_ptr<linear_operator> csr_operator::stored_as(dtype values) const {
  return std::make_unique<csr_operator>(matrix().with_values(values), acc(), how_);
}

std::string sell_operator::describe() const {
  return shape_text(("sell-" + std::to_string(matrix().chunk()) + "-" + std::to_string(matrix().sigma())).c_str(),
                    matrix().value_type(), "", rows(), cols(), matrix().nnz());
}

std::string dia_operator::describe() const {
  return shape_text("dia", matrix().value_type(), detail::cat("/", matrix().diagonals(), "diag").c_str(), rows(),
                    cols(), matrix().nnz());
}

void dia_operator::diagonal(double* d) const { square_diagonal("dia_operator::diagonal", matrix(), d); }

std::unique_ptr<linear_operator> dia_operator::stored_as(dtype values) const {
  return std::make_unique<dia_operator>(matrix().with_values(values), acc());
}

callback_operator::callback_operator(std::int64_t rows, std::int64_t cols, function apply_fn, std::string name,
                                     context ctx)
    : linear_operator(rows, cols, std::move(ctx)), fn_(std::move(apply_fn)), name_(std::move(name)) {
  if (!fn_) MIXPREC_THROW(invalid_argument, "callback_operator", "the apply function is empty");
}

void callback_operator::apply(double alpha, const_view x, double beta, view y) const {
  check_vectors("callback_operator::apply", x, y);
  if (alpha == 1.0 && beta == 0.0) {
    fn_(x, y);
    return;
  }
  buffer ax(y.type(), rows(), ctx());
  fn_(x, ax.as_view());
  axpby(alpha, ax.as_view(), beta, y);  // beta == 0 never reads y
}

}  // namespace mixprec
