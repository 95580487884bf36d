// SpMV front ends (CSR, SELL, DIA): check the matrix and vectors, then dispatch on
// (values, vectors, index).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/kernels.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace detail {

/// The SELL and DIA arrays as kernels see them (private to users of the matrices).
struct sparse_access {
  static sell_args args_of(const sell_matrix& a) {
    return sell_args{a.rows_,
                     a.cols_,
                     a.slices(),
                     a.chunk_,
                     static_cast<const std::int64_t*>(a.slice_ptr_.data()),
                     static_cast<const std::int32_t*>(a.slice_len_.data()),
                     static_cast<const std::int32_t*>(a.row_of_.data()),
                     static_cast<const std::int32_t*>(a.lane_len_.data()),
                     static_cast<const std::int32_t*>(a.col_idx_.data()),
                     a.values_.data()};
  }
  static dia_args args_of(const dia_matrix& a) {
    return dia_args{
        a.rows_,         a.cols_, a.diagonals(), a.stride_, static_cast<const std::int64_t*>(a.device_offsets_.data()),
        a.values_.data()};
  }
};

}  // namespace detail

namespace {

/// Checks x and y against an rows x cols operator in `ctx`; returns the vector dtype.
dtype check_vectors(const char* op, std::int64_t rows, std::int64_t cols, const context& ctx, const const_view& x,
                    const view& y, accumulation acc) {
  if (x.ctx().empty() || y.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "x or y has no context");
  if (x.size() != cols)
    MIXPREC_THROW(shape_mismatch, op, "A is ", rows, " x ", cols, " but x has ", x.size(), " elements");
  if (y.size() != rows)
    MIXPREC_THROW(shape_mismatch, op, "A is ", rows, " x ", cols, " but y has ", y.size(), " elements");
  if (x.type() != y.type())
    MIXPREC_THROW(invalid_argument, op, "x is ", name_of(x.type()), " but y is ", name_of(y.type()));
  if (x.type() != dtype::f64 && x.type() != dtype::f32)
    MIXPREC_THROW(unsupported, op, "vectors are ", name_of(x.type()), "; SpMV takes f64 or f32 vectors");
  if (!x.is_contiguous() || !y.is_contiguous()) MIXPREC_THROW(unsupported, op, "x and y must be dense (unit stride)");
  if (!ctx.same_memory(x.ctx()) || !ctx.same_memory(y.ctx()))
    MIXPREC_THROW(invalid_argument, op, "A, x and y must live in one memory space (A in ", name_of(ctx.kind()), ":",
                  ctx.device(), ")");
  if (acc == accumulation::compensated)
    MIXPREC_THROW(unsupported, op, "compensated accumulation is not offered for SpMV");
  const auto* xb = static_cast<const char*>(x.data());
  const auto* yb = static_cast<const char*>(y.data());
  const std::size_t es = size_of(x.type());
  if (x.size() && y.size() && xb < yb + y.size() * es && yb < xb + x.size() * es)
    MIXPREC_THROW(invalid_argument, op, "x and y overlap; y would be overwritten while x is read");
  return x.type();
}

template <detail::op_id Op, class Call>
void run(const context& ctx, dtype values, dtype vectors, const detail::spmv_problem& p, std::int64_t rows,
         std::int64_t nnz, Call&& call) {
  detail::dispatch<Op>(*detail::state_of(ctx), values, vectors, &p, p.acc, call, [&] {
    return std::make_pair(detail::cat(name_of(values), ":", name_of(vectors)), detail::cat("rows", rows, ":nnz", nnz));
  });
}

}  // namespace

void spmv(double alpha, const csr_ref& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmv";
  if (a.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the matrix has no context");
  const dtype vt = check_vectors(op, a.rows(), a.cols(), a.ctx(), x, y, acc);
  const detail::spmv_problem p{a.index_kind(), acc, 0};
  const detail::csr_args args{a.rows(), a.cols(), a.nnz(), a.row_ptr(), a.col_idx(), a.values(), a.index_kind()};
  run<detail::op_id::spmv_csr>(
      a.ctx(), a.value_type(), vt, p, a.rows(), a.nnz(),
      [&](auto f, const detail::exec_args& ex) { f(ex, args, alpha, x.data(), beta, y.data(), acc); });
}

void spmm(double alpha, const csr_ref& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmm";
  if (a.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the matrix has no context");
  if (x.ctx().empty() || y.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "X or Y has no context");
  if (x.rank() != 2 || y.rank() != 2)
    MIXPREC_THROW(shape_mismatch, op, "X and Y must be rank-2 (rows x right-hand sides), not rank ", x.rank(), " and ",
                  y.rank());
  const std::int64_t k = x.extent(1);
  if (x.extent(0) != a.cols() || y.extent(0) != a.rows() || y.extent(1) != k)
    MIXPREC_THROW(shape_mismatch, op, "A is ", a.rows(), " x ", a.cols(), " but X is ", x.extent(0), " x ", k,
                  " and Y ", y.extent(0), " x ", y.extent(1));
  if (x.type() != y.type() || (x.type() != dtype::f64 && x.type() != dtype::f32))
    MIXPREC_THROW(unsupported, op, "X and Y must both be f64 or both f32 (X is ", name_of(x.type()), ", Y ",
                  name_of(y.type()), ")");
  if ((k > 1 && (x.stride(1) != 1 || y.stride(1) != 1)) || x.stride(0) < k || y.stride(0) < k)
    MIXPREC_THROW(unsupported, op, "X and Y must be row-major with unit stride along the right-hand sides");
  if (!a.ctx().same_memory(x.ctx()) || !a.ctx().same_memory(y.ctx()))
    MIXPREC_THROW(invalid_argument, op, "A, X and Y must live in one memory space");
  if (acc == accumulation::compensated)
    MIXPREC_THROW(unsupported, op, "compensated accumulation is not offered for SpMM");
  const std::size_t es = size_of(x.type());
  const auto* xb = static_cast<const char*>(x.data());
  const auto* yb = static_cast<const char*>(y.data());
  const std::size_t x_bytes = std::size_t(std::max<std::int64_t>(0, (x.extent(0) - 1) * x.stride(0) + k)) * es;
  const std::size_t y_bytes = std::size_t(std::max<std::int64_t>(0, (y.extent(0) - 1) * y.stride(0) + k)) * es;
  if (x_bytes && y_bytes && xb < yb + y_bytes && yb < xb + x_bytes)
    MIXPREC_THROW(invalid_argument, op, "X and Y overlap; Y would be overwritten while X is read");
  if (a.rows() == 0 || k == 0) return;
  const detail::spmv_problem p{a.index_kind(), acc, 0};
  const detail::csr_args args{a.rows(), a.cols(), a.nnz(), a.row_ptr(), a.col_idx(), a.values(), a.index_kind()};
  run<detail::op_id::spmm_csr>(a.ctx(), a.value_type(), x.type(), p, a.rows(), a.nnz(),
                               [&](auto f, const detail::exec_args& ex) {
                                 f(ex, args, k, alpha, x.data(), x.stride(0), beta, y.data(), y.stride(0), acc);
                               });
}

void spmv(double alpha, const sell_matrix& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmv";
  if (a.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the SELL matrix is empty (default-constructed)");
  const dtype vt = check_vectors(op, a.rows(), a.cols(), a.ctx(), x, y, acc);
  const detail::spmv_problem p{index_type::i32, acc, a.chunk()};
  const detail::sell_args args = detail::sparse_access::args_of(a);
  run<detail::op_id::spmv_sell>(
      a.ctx(), a.value_type(), vt, p, a.rows(), a.nnz(),
      [&](auto f, const detail::exec_args& ex) { f(ex, args, alpha, x.data(), beta, y.data(), acc); });
}

void spmv(double alpha, const dia_matrix& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmv";
  if (a.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the DIA matrix is empty (default-constructed)");
  const dtype vt = check_vectors(op, a.rows(), a.cols(), a.ctx(), x, y, acc);
  const detail::spmv_problem p{index_type::i64, acc, 0};
  const detail::dia_args args = detail::sparse_access::args_of(a);
  run<detail::op_id::spmv_dia>(
      a.ctx(), a.value_type(), vt, p, a.rows(), a.nnz(),
      [&](auto f, const detail::exec_args& ex) { f(ex, args, alpha, x.data(), beta, y.data(), acc); });
}

}  // namespace mixprec
