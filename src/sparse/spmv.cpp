// SpMV front ends: check the matrix and vectors, then dispatch on (values, vectors, index).
#include <chrono>
#include <cstdio>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/kernels.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace {

/// Checks x and y against an rows x cols operator in `ctx`; returns the vector dtype.
dtype check_vectors(const char* op, std::int64_t rows, std::int64_t cols, const context& ctx, const const_view& x,
                    const view& y, accumulation acc) {
  if (!x.ctx().state() || !y.ctx().state()) MIXPREC_THROW(invalid_argument, op, "x or y has no context");
  if (x.size() != cols)
    MIXPREC_THROW(shape_mismatch, op, "A is ", rows, " x ", cols, " but x has ", x.size(), " elements");
  if (y.size() != rows)
    MIXPREC_THROW(shape_mismatch, op, "A is ", rows, " x ", cols, " but y has ", y.size(), " elements");
  if (x.type() != y.type())
    MIXPREC_THROW(invalid_argument, op, "x is ", name_of(x.type()), " but y is ", name_of(y.type()));
  if (x.type() != dtype::f64 && x.type() != dtype::f32)
    MIXPREC_THROW(unsupported, op, "vectors are ", name_of(x.type()), "; SpMV takes f64 or f32 vectors");
  if (!x.is_contiguous() || !y.is_contiguous())
    MIXPREC_THROW(unsupported, op, "x and y must be dense (unit stride)");
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

template <class Fn, class Call>
void run(detail::op_id op, const context& ctx, dtype values, dtype vectors, const detail::spmv_problem& p,
         std::int64_t rows, std::int64_t nnz, Call&& call) {
  const detail::context_state& st = *ctx.state();
  const detail::kernel_entry k = detail::select_kernel(op, st, values, vectors, &p);
  const auto t0 = std::chrono::steady_clock::now();
  call(reinterpret_cast<Fn>(k.fn), st.exec());
  detail::finish_call(op, st, k, t0, detail::cat(name_of(values), ":", name_of(vectors)),
                      detail::cat("rows", rows, ":nnz", nnz), p.acc);
}

}  // namespace

void spmv(double alpha, const csr_ref& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmv";
  if (!a.ctx.state()) MIXPREC_THROW(invalid_argument, op, "the matrix has no context");
  const dtype vt = check_vectors(op, a.rows, a.cols, a.ctx, x, y, acc);
  const detail::spmv_problem p{a.index_kind, acc, 0};
  const detail::csr_args args{a.rows, a.cols, a.nnz, a.row_ptr, a.col_idx, a.values, a.index_kind};
  run<detail::spmv_csr_fn>(detail::op_id::spmv_csr, a.ctx, a.value_type, vt, p, a.rows, a.nnz,
                           [&](detail::spmv_csr_fn f, const detail::exec_args& ex) {
                             f(ex, args, alpha, x.data(), beta, y.data(), acc);
                           });
}

void spmv(double alpha, const sell_matrix& a, const_view x, double beta, view y, accumulation acc) {
  constexpr const char* op = "spmv";
  if (!a.ctx().state()) MIXPREC_THROW(invalid_argument, op, "the SELL matrix is empty (default-constructed)");
  const dtype vt = check_vectors(op, a.rows(), a.cols(), a.ctx(), x, y, acc);
  const detail::spmv_problem p{index_type::i32, acc, a.chunk()};
  const detail::sell_args args{a.rows(), a.cols(), a.slices(), a.chunk(), a.slice_ptr(), a.slice_len(),
                               a.row_of(), a.lane_len(), a.col_idx(), a.values()};
  run<detail::spmv_sell_fn>(detail::op_id::spmv_sell, a.ctx(), a.value_type(), vt, p, a.rows(), a.nnz(),
                            [&](detail::spmv_sell_fn f, const detail::exec_args& ex) {
                              f(ex, args, alpha, x.data(), beta, y.data(), acc);
                            });
}

}  // namespace mixprec
