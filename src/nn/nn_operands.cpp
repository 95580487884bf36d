// The NN front ends' operand checks (src/nn/nn_operands.hpp).
#include "nn/nn_operands.hpp"

#include "internal/dispatch.hpp"

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

std::int64_t first_non_finite(const row_major& x, double* value) {
  std::int64_t at = -1;
  if (x.rows == 0 || x.cols == 0) return at;
  const find_non_finite_args a{x.rows, x.cols, x.data, x.ld, &at, value};
  dispatch<op_id::find_non_finite>(
      *state_of(x.ctx), x.type, x.type, nullptr, accumulation::standard,
      [&](kernel_fn_t<op_id::find_non_finite> kernel, const exec_args& ex) { kernel(ex, a); },
      [&] { return std::make_pair(std::string(name_of(x.type)), cat(x.rows, "x", x.cols)); });
  return at;
}

void check_finite_rows(const char* op, const rows_view& x, std::int64_t head_dim) {
  double value = 0;
  const std::int64_t at = first_non_finite(x, &value);
  if (at < 0) return;
  const std::int64_t i = at / x.cols, j = at % x.cols;
  MIXPREC_THROW(invalid_argument, op, x.name, " holds ", value, " at token ", i, ", head ", j / head_dim, ", entry ",
                j % head_dim, "; attention takes finite values");
}

}  // namespace mixprec::detail
