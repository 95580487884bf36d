// The NN front ends' operand checks (src/nn/nn_operands.hpp).
#include "nn/nn_operands.hpp"

#include <cmath>
#include <vector>

namespace mixprec::detail {

rows_view rows_of(const char* op, const char* name, const const_view& v) {
  rows_view r;
  static_cast<row_major&>(r) = row_major_operand(op, name, v, vector_as::row);
  r.name = name;
  if (!is_nn_storage(v.type()))
    MIXPREC_THROW(unsupported, op, name, " is ", name_of(v.type()), "; the NN ops store f32, bf16 or f16");
  return r;
}

void check_same_shape(const char* op, const rows_view& a, const rows_view& b) {
  if (a.rows != b.rows || a.cols != b.cols)
    MIXPREC_THROW(shape_mismatch, op, a.name, " is ", a.rows, " x ", a.cols, " but ", b.name, " is ", b.rows, " x ",
                  b.cols);
}

void check_together(const char* op, const rows_view& a, const rows_view& b) {
  if (a.type != b.type)
    MIXPREC_THROW(invalid_argument, op, a.name, " is ", name_of(a.type), " but ", b.name, " is ", name_of(b.type),
                  "; the operands share one storage dtype");
  if (!a.ctx.same_memory(b.ctx))
    MIXPREC_THROW(invalid_argument, op, a.name, " lives in ", name_of(a.ctx.kind()), ":", a.ctx.device(),
                  " memory but ", b.name, " in ", name_of(b.ctx.kind()), ":", b.ctx.device(), " memory");
}

void check_alias(const char* op, const rows_view& out, const rows_view& in) {
  if (!in.data || out.rows == 0 || out.cols == 0 || in.rows == 0 || in.cols == 0) return;
  if (out.data == in.data && out.ld == in.ld && out.rows == in.rows && out.cols == in.cols) return;
  if (out.begin() < in.end() && in.begin() < out.end())
    MIXPREC_THROW(invalid_argument, op, out.name, " overlaps ", in.name,
                  " without being the same view; write in place through the same view, or to separate memory");
}

void widen_row(const detail::rows_view& x, std::int64_t i, float* out) {
  with_storage(x.type, [&](auto tag) {
    using T = decltype(tag);
    for (std::int64_t j = 0; j < x.cols; ++j) out[j] = at<T>(x.data, i * x.ld + j);
  });
}

/// Refuses a NaN or infinite value of x, naming the operand, token and head.
void check_finite_rows(const char* op, const rows_view& x, std::int64_t head_dim) {
  std::vector<float> row(static_cast<std::size_t>(x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    widen_row(x, i, row.data());
    for (std::int64_t j = 0; j < x.cols; ++j)
      if (!std::isfinite(row[std::size_t(j)]))
        MIXPREC_THROW(invalid_argument, op, x.name, " holds ", double(row[std::size_t(j)]), " at token ", i, ", head ",
                      j / head_dim, ", entry ", j % head_dim, "; attention takes finite values");
  }
}

eltwise_kind eltwise_kind_of(activation act) {
  switch (act) {
    case activation::relu:
      return eltwise_kind::relu;
    case activation::gelu_erf:
      return eltwise_kind::gelu_erf;
    case activation::gelu_tanh:
      return eltwise_kind::gelu_tanh;
    case activation::silu:
      return eltwise_kind::silu;
    case activation::none:
      break;
  }
  return eltwise_kind::copy;
}

}  // namespace mixprec::detail
