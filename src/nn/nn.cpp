// Front ends of the row-wise NN ops (mixprec/nn.hpp): shapes, dtypes, memory spaces and
// aliasing checked here, before any kernel runs; the kernels see rows x cols with row strides.
#include <cmath>
#include <string>
#include <vector>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/nn.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

using detail::check_alias;
using detail::check_same_shape;
using detail::check_together;
using detail::op_id;
using detail::rows_of;
using detail::rows_view;

/// gamma / beta: empty, or cols f32 values in the operands' memory.
const float* weights_of(const char* op, const char* name, const const_view& v, const rows_view& x) {
  if (v.ctx().empty() || v.size() == 0) return nullptr;
  if (v.type() != dtype::f32) MIXPREC_THROW(unsupported, op, name, " is ", name_of(v.type()), "; it must be f32");
  if (v.size() != x.cols || !v.is_contiguous())
    MIXPREC_THROW(shape_mismatch, op, name, " must be ", x.cols, " contiguous values (one per column), not ", v.size());
  if (!v.ctx().same_memory(x.ctx)) MIXPREC_THROW(invalid_argument, op, name, " lives in another memory space than x");
  return static_cast<const float*>(v.data());
}

std::string shape_text(const rows_view& x) { return detail::cat(x.rows, "x", x.cols); }

template <op_id Op, class Args>
void run(const rows_view& x, accumulation acc, const Args& args) {
  const detail::nn_problem problem{acc};
  detail::dispatch<Op>(
      *detail::state_of(x.ctx), x.type, x.type, &problem, acc,
      [&](detail::kernel_fn_t<Op> kernel, const detail::exec_args& ex) { kernel(ex, args); },
      [&] { return std::make_pair(std::string(name_of(x.type)), shape_text(x)); });
}

void unary(const char* op, detail::eltwise_kind kind, float alpha, const const_view& xv, const view& yv) {
  const rows_view x = rows_of(op, "x", xv), y = rows_of(op, "y", yv);
  check_same_shape(op, x, y);
  check_together(op, x, y);
  check_alias(op, y, x);
  const detail::eltwise_args a{kind, x.rows, x.cols, x.data, x.ld, nullptr, 0, 0, y.data, y.ld, alpha};
  run<op_id::eltwise>(x, accumulation::standard, a);
}

void binary(const char* op, detail::eltwise_kind kind, const const_view& av, const const_view& bv, const view& yv,
            bool broadcast) {
  const rows_view a = rows_of(op, "a", av), y = rows_of(op, "y", yv);
  rows_view b = rows_of(op, "b", bv);
  check_same_shape(op, a, y);
  check_together(op, a, y);
  check_together(op, a, b);
  check_alias(op, y, a);
  check_alias(op, y, b);
  std::int64_t ldb = b.ld, bcs = 1;
  if (b.rows == a.rows && b.cols == a.cols) {
    // elementwise
  } else if (broadcast && b.rows == 1 && b.cols == a.cols) {
    ldb = 0;  // one row for every row
  } else if (broadcast && b.cols == 1 && b.rows == a.rows) {
    bcs = 0;  // one value per row
  } else {
    MIXPREC_THROW(shape_mismatch, op, "b is ", b.rows, " x ", b.cols, "; it must be ", a.rows, " x ", a.cols,
                  broadcast ? detail::cat(", 1 x ", a.cols, " (one row) or ", a.rows, " x 1 (one column)") : "");
  }
  const detail::eltwise_args args{kind, a.rows, a.cols, a.data, a.ld, b.data, ldb, bcs, y.data, y.ld, 1.0f};
  run<op_id::eltwise>(a, accumulation::standard, args);
}

void check_acc(const char* op, accumulation acc) {
  if (acc == accumulation::compensated)
    MIXPREC_THROW(unsupported, op, "compensated accumulation is not offered; use accumulation::f64");
}

void norm(const char* op, detail::norm_kind kind, const const_view& xv, const const_view* rv, const const_view& gv,
          const const_view& bv, const view* sv, const view& yv, const norm_options& o) {
  const rows_view x = rows_of(op, "x", xv), y = rows_of(op, "y", yv);
  check_same_shape(op, x, y);
  check_together(op, x, y);
  check_acc(op, o.acc);
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) MIXPREC_THROW(invalid_argument, op, "eps = ", o.eps, " (finite, >= 0)");
  detail::norm_args a{
      kind,    x.rows,       x.cols, x.data, x.ld, nullptr, 0, nullptr, 0, weights_of(op, "gamma", gv, x),
      nullptr, float(o.eps), y.data, y.ld,   o.acc};
  if (kind == detail::norm_kind::layer) a.beta = weights_of(op, "beta", bv, x);
  rows_view r, s;
  if (rv) {
    r = rows_of(op, "residual", *rv);
    s = rows_of(op, "sum", *sv);
    check_same_shape(op, x, r);
    check_same_shape(op, x, s);
    check_together(op, x, r);
    check_together(op, x, s);
    // sum may replace x or the residual; y is written after sum is read, so it may not alias it.
    check_alias(op, s, x);
    check_alias(op, s, r);
    if (y.begin() < s.end() && s.begin() < y.end() && x.rows > 0 && x.cols > 0)
      MIXPREC_THROW(invalid_argument, op, "y overlaps sum; they are two outputs");
    a.residual = r.data, a.ldr = r.ld, a.sum = s.data, a.lds = s.ld;
  }
  check_alias(op, y, x);
  if (rv) check_alias(op, y, r);
  if (x.cols == 0) return;
  run<op_id::norm>(x, o.acc, a);
}

}  // namespace

void activate(activation act, const_view x, view y) { unary("activate", detail::eltwise_kind_of(act), 1.0f, x, y); }

void scale(double alpha, const_view x, view y) {
  if (!std::isfinite(alpha)) MIXPREC_THROW(invalid_argument, "scale", "alpha = ", alpha, " is not finite");
  unary("scale", detail::eltwise_kind::scale, float(alpha), x, y);
}

void swiglu(const_view gate, const_view up, view y) {
  binary("swiglu", detail::eltwise_kind::swiglu, gate, up, y, false);
}
void add(const_view a, const_view b, view y) { binary("add", detail::eltwise_kind::add, a, b, y, true); }
void mul(const_view a, const_view b, view y) { binary("mul", detail::eltwise_kind::mul, a, b, y, true); }

void softmax(const_view xv, view yv, const softmax_options& o) {
  constexpr const char* op = "softmax";
  const rows_view x = rows_of(op, "x", xv), y = rows_of(op, "y", yv);
  check_same_shape(op, x, y);
  check_together(op, x, y);
  check_alias(op, y, x);
  check_acc(op, o.acc);
  if (!std::isfinite(o.scale)) MIXPREC_THROW(invalid_argument, op, "scale = ", o.scale, " is not finite");
  detail::softmax_args a{x.rows, x.cols,         x.data,   x.ld,  nullptr,         0,    y.data,
                         y.ld,   float(o.scale), o.causal, o.log, o.causal_offset, o.acc};
  if (!o.mask.ctx().empty() && o.mask.size() > 0) {
    rows_view m = rows_of(op, "mask", o.mask);
    check_together(op, x, m);
    if (m.cols != x.cols || (m.rows != x.rows && m.rows != 1))
      MIXPREC_THROW(shape_mismatch, op, "mask is ", m.rows, " x ", m.cols, "; it must be ", x.rows, " x ", x.cols,
                    " or 1 x ", x.cols);
    check_alias(op, y, m);
    a.mask = m.data;
    a.ldm = m.rows == 1 ? 0 : m.ld;
  }
  if (x.rows == 0 || x.cols == 0) return;
  run<op_id::softmax>(x, o.acc, a);
}

void rms_norm(const_view x, const_view gamma, view y, const norm_options& o) {
  norm("rms_norm", detail::norm_kind::rms, x, nullptr, gamma, const_view(), nullptr, y, o);
}
void layer_norm(const_view x, const_view gamma, const_view beta, view y, const norm_options& o) {
  norm("layer_norm", detail::norm_kind::layer, x, nullptr, gamma, beta, nullptr, y, o);
}
void add_rms_norm(const_view x, const_view residual, const_view gamma, view sum, view y, const norm_options& o) {
  norm("add_rms_norm", detail::norm_kind::rms, x, &residual, gamma, const_view(), &sum, y, o);
}
void add_layer_norm(const_view x, const_view residual, const_view gamma, const_view beta, view sum, view y,
                    const norm_options& o) {
  norm("add_layer_norm", detail::norm_kind::layer, x, &residual, gamma, beta, &sum, y, o);
}

void rope(view xv, std::int64_t head_dim, const_view positions, const rope_options& o) {
  constexpr const char* op = "rope";
  const rows_view x = rows_of(op, "x", xv);
  if (head_dim <= 0 || head_dim % 2 != 0)
    MIXPREC_THROW(invalid_argument, op, "head_dim = ", head_dim, "; it must be positive and even");
  if (x.cols % head_dim != 0)
    MIXPREC_THROW(shape_mismatch, op, "a row of x has ", x.cols, " entries, not a multiple of head_dim ", head_dim);
  const std::int64_t rot = o.rotary_dims == 0 ? head_dim : o.rotary_dims;
  if (rot <= 0 || rot > head_dim || rot % 2 != 0)
    MIXPREC_THROW(invalid_argument, op, "rotary_dims = ", o.rotary_dims, "; it must be even and at most head_dim ",
                  head_dim);
  if (!(o.theta > 1) || !std::isfinite(o.theta))
    MIXPREC_THROW(invalid_argument, op, "theta = ", o.theta, "; it must be finite and > 1");
  if (positions.ctx().empty() || positions.type() != dtype::i32 || !positions.is_contiguous())
    MIXPREC_THROW(invalid_argument, op, "positions must be a dense i32 view (one position per row of x)");
  if (positions.size() != x.rows)
    MIXPREC_THROW(shape_mismatch, op, "x has ", x.rows, " rows but positions has ", positions.size(), " entries");
  if (!positions.ctx().same_memory(x.ctx)) MIXPREC_THROW(invalid_argument, op, "positions live in another memory");
  if (x.rows == 0 || x.cols == 0) return;
  const detail::rope_args a{x.rows,
                            x.cols / head_dim,
                            head_dim,
                            rot,
                            x.data,
                            x.ld,
                            static_cast<const std::int32_t*>(positions.data()),
                            o.theta,
                            o.layout == rope_layout::adjacent};
  run<op_id::rope>(x, accumulation::standard, a);
}

void embedding(const_view table, const_view ids, view out, const_view row_scales) {
  constexpr const char* op = "embedding";
  if (table.ctx().empty() || table.rank() != 2 || table.stride(1) != 1)
    MIXPREC_THROW(invalid_argument, op, "table must be a rank-2 row-major view (vocabulary x d)");
  const bool int8 = table.type() == dtype::i8;
  if (!int8 && !detail::is_nn_storage(table.type()))
    MIXPREC_THROW(unsupported, op, "table is ", name_of(table.type()), "; tables are f32, bf16, f16 or i8");
  const rows_view y = rows_of(op, "out", out);
  const std::int64_t vocab = table.extent(0), d = table.extent(1);
  if (ids.ctx().empty() || ids.type() != dtype::i32 || !ids.is_contiguous())
    MIXPREC_THROW(invalid_argument, op, "ids must be a dense i32 view");
  if (ids.size() != y.rows || y.cols != d)
    MIXPREC_THROW(shape_mismatch, op, "out is ", y.rows, " x ", y.cols, "; ", ids.size(), " ids of rows of ", d,
                  " need ", ids.size(), " x ", d);
  if (!table.ctx().same_memory(y.ctx) || !ids.ctx().same_memory(y.ctx))
    MIXPREC_THROW(invalid_argument, op, "table, ids and out must all be in one memory; out is in ",
                  name_of(y.ctx.kind()), ":", y.ctx.device(), " memory");
  const float* scales = nullptr;
  if (int8) {
    if (row_scales.ctx().empty() || row_scales.type() != dtype::f32 || row_scales.size() != vocab ||
        !row_scales.is_contiguous() || !row_scales.ctx().same_memory(y.ctx))
      MIXPREC_THROW(invalid_argument, op, "an i8 table needs row_scales: ", vocab,
                    " contiguous f32 values in the table's memory");
    scales = static_cast<const float*>(row_scales.data());
  }
  std::int64_t bad_at = -1;
  std::int32_t bad_id = 0;
  detail::embedding_args a{};
  a.n = ids.size();
  a.d = d;
  a.vocab = vocab;
  a.table = table.data();
  a.ldt = table.stride(0);
  a.row_scales = scales;
  a.ids = static_cast<const std::int32_t*>(ids.data());
  a.out = y.data;
  a.ldo = y.ld;
  a.bad_at = &bad_at;
  a.bad_id = &bad_id;
  detail::run_embedding(op, table.type(), y, a);
}

namespace detail {

void run_embedding(const char* op, dtype table_type, const rows_view& out, const embedding_args& a) {
  dispatch<op_id::embedding>(
      *state_of(out.ctx), table_type, out.type, nullptr, accumulation::standard,
      [&](kernel_fn_t<op_id::embedding> kernel, const exec_args& ex) { kernel(ex, a); },
      [&] {
        return std::make_pair(cat(name_of(table_type), "/", name_of(out.type)), cat(a.n, "x", a.d, "_of_", a.vocab));
      });
  if (*a.bad_at >= 0)
    MIXPREC_THROW(invalid_argument, op, "ids[", *a.bad_at, "] = ", *a.bad_id, " is outside the vocabulary [0, ",
                  a.vocab, ")");
}

}  // namespace detail

}  // namespace mixprec
