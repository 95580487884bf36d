// Front ends of the backward passes and the loss (mixprec/train.hpp): shapes, dtypes, memory
// and aliasing checked here, before any kernel runs.
#include <cmath>
#include <string>
#include <vector>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/train.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

using detail::check_alias;
using detail::check_same_shape;
using detail::check_together;
using detail::op_id;
using detail::rows_of;
using detail::rows_view;

template <op_id Op, class Args>
void run(const rows_view& x, const Args& args) {
  const detail::nn_problem problem;
  detail::dispatch<Op>(
      *detail::state_of(x.ctx), x.type, x.type, &problem, accumulation::standard,
      [&](detail::kernel_fn_t<Op> kernel, const detail::exec_args& ex) { kernel(ex, args); },
      [&] { return std::make_pair(std::string(name_of(x.type)), detail::cat(x.rows, "x", x.cols)); });
}

/// An input of x's shape, dtype and memory.
rows_view input_like(const char* op, const char* name, const const_view& v, const rows_view& x) {
  const rows_view r = rows_of(op, name, v);
  check_same_shape(op, x, r);
  check_together(op, x, r);
  return r;
}

/// An f32 accumulator of `cols` contiguous values in x's memory, or null for an empty view.
float* accumulator_of(const char* op, const char* name, const view& v, std::int64_t cols, const rows_view& x) {
  if (v.ctx().empty() || v.size() == 0) return nullptr;
  if (v.type() != dtype::f32) MIXPREC_THROW(unsupported, op, name, " is ", name_of(v.type()), "; it must be f32");
  if (v.size() != cols || !v.is_contiguous())
    MIXPREC_THROW(shape_mismatch, op, name, " must be ", cols, " contiguous values (one per column), not ", v.size());
  if (!v.ctx().same_memory(x.ctx)) MIXPREC_THROW(invalid_argument, op, name, " lives in another memory than x");
  return static_cast<float*>(v.data());
}

const float* gamma_of(const char* op, const const_view& v, const rows_view& x) {
  if (v.ctx().empty() || v.size() == 0) return nullptr;
  if (v.type() != dtype::f32 || v.size() != x.cols || !v.is_contiguous() || !v.ctx().same_memory(x.ctx))
    MIXPREC_THROW(invalid_argument, op, "gamma must be ", x.cols, " contiguous f32 values in x's memory");
  return static_cast<const float*>(v.data());
}

/// Two f32 outputs must not overlap each other or a row operand.
void check_disjoint(const char* op, const char* a_name, const float* a, const char* b_name, const void* b,
                    std::int64_t a_count, std::int64_t b_bytes) {
  if (!a || !b) return;
  const char* a0 = reinterpret_cast<const char*>(a);
  const char* b0 = static_cast<const char*>(b);
  if (a0 < b0 + b_bytes && b0 < a0 + a_count * 4) MIXPREC_THROW(invalid_argument, op, a_name, " overlaps ", b_name);
}

void norm_backward(const char* op, detail::norm_kind kind, const const_view& xv, const const_view& gv,
                   const const_view& dyv, const view& dxv, const view& dgv, const view* dbv, const norm_options& o) {
  const rows_view x = rows_of(op, "x", xv);
  const rows_view dy = input_like(op, "dy", dyv, x), dx = input_like(op, "dx", dxv, x);
  check_alias(op, dx, x);
  check_alias(op, dx, dy);
  if (!(o.eps >= 0) || !std::isfinite(o.eps)) MIXPREC_THROW(invalid_argument, op, "eps = ", o.eps, " (finite, >= 0)");
  if (o.acc != accumulation::standard) MIXPREC_THROW(unsupported, op, "the backward computes its statistics in f32");
  detail::norm_backward_args a{kind,         x.rows,  x.cols, x.data,  x.ld,   dy.data, dy.ld, gamma_of(op, gv, x),
                               float(o.eps), dx.data, dx.ld,  nullptr, nullptr};
  a.dgamma = accumulator_of(op, "dgamma", dgv, x.cols, x);
  if (dbv) a.dbeta = accumulator_of(op, "dbeta", *dbv, x.cols, x);
  for (const rows_view* r : {&x, &dy, &dx}) {
    check_disjoint(op, "dgamma", a.dgamma, r->name, r->begin(), x.cols, r->end() - r->begin());
    check_disjoint(op, "dbeta", a.dbeta, r->name, r->begin(), x.cols, r->end() - r->begin());
  }
  check_disjoint(op, "dgamma", a.dgamma, "dbeta", a.dbeta, x.cols, x.cols * 4);
  check_disjoint(op, "dgamma", a.dgamma, "gamma", a.gamma, x.cols, x.cols * 4);
  check_disjoint(op, "dbeta", a.dbeta, "gamma", a.gamma, x.cols, x.cols * 4);
  if (x.rows == 0 || x.cols == 0) return;
  run<op_id::norm_backward>(x, a);
}

}  // namespace

void activate_backward(activation act, const_view av, const_view dyv, view dav) {
  constexpr const char* op = "activate_backward";
  if (act == activation::none)
    MIXPREC_THROW(invalid_argument, op, "activation::none has no backward here: its gradient is dy itself");
  const rows_view a = rows_of(op, "a", av);
  const rows_view dy = input_like(op, "dy", dyv, a), da = input_like(op, "da", dav, a);
  check_alias(op, da, a);
  check_alias(op, da, dy);
  const detail::eltwise_backward_args args{detail::eltwise_kind_of(act),
                                           a.rows,
                                           a.cols,
                                           a.data,
                                           a.ld,
                                           nullptr,
                                           0,
                                           dy.data,
                                           dy.ld,
                                           da.data,
                                           da.ld,
                                           nullptr,
                                           0};
  if (a.rows == 0 || a.cols == 0) return;
  run<op_id::eltwise_backward>(a, args);
}

void swiglu_backward(const_view gv, const_view uv, const_view dyv, view dgv, view duv) {
  constexpr const char* op = "swiglu_backward";
  const rows_view gate = rows_of(op, "gate", gv);
  const rows_view up = input_like(op, "up", uv, gate), dy = input_like(op, "dy", dyv, gate);
  const rows_view dg = input_like(op, "d_gate", dgv, gate), du = input_like(op, "d_up", duv, gate);
  for (const rows_view* out : {&dg, &du})
    for (const rows_view* in : {&gate, &up, &dy}) check_alias(op, *out, *in);
  if (dg.begin() < du.end() && du.begin() < dg.end() && gate.rows > 0 && gate.cols > 0)
    MIXPREC_THROW(invalid_argument, op, "d_gate overlaps d_up; they are two outputs");
  // d_gate may replace dy (read before written, element by element), but d_up is written
  // after d_gate: it may not replace dy if d_gate does not, nor gate or up at all.
  if (du.data == dy.data && dg.data != dy.data)
    MIXPREC_THROW(invalid_argument, op, "d_up may not replace dy (d_gate may)");
  if (du.data == gate.data || du.data == up.data || dg.data == gate.data || dg.data == up.data)
    MIXPREC_THROW(invalid_argument, op, "d_gate and d_up may not replace gate or up: both are read for each");
  const detail::eltwise_backward_args args{detail::eltwise_kind::swiglu,
                                           gate.rows,
                                           gate.cols,
                                           gate.data,
                                           gate.ld,
                                           up.data,
                                           up.ld,
                                           dy.data,
                                           dy.ld,
                                           dg.data,
                                           dg.ld,
                                           du.data,
                                           du.ld};
  if (gate.rows == 0 || gate.cols == 0) return;
  run<op_id::eltwise_backward>(gate, args);
}

void softmax_backward(const_view yv, const_view dyv, view dxv, const softmax_options& o) {
  constexpr const char* op = "softmax_backward";
  const rows_view y = rows_of(op, "y", yv);
  const rows_view dy = input_like(op, "dy", dyv, y), dx = input_like(op, "dx", dxv, y);
  check_alias(op, dx, y);
  check_alias(op, dx, dy);
  if (!std::isfinite(o.scale)) MIXPREC_THROW(invalid_argument, op, "scale = ", o.scale, " is not finite");
  const detail::softmax_backward_args a{y.rows, y.cols,  y.data, y.ld,           dy.data,
                                        dy.ld,  dx.data, dx.ld,  float(o.scale), o.log};
  if (y.rows == 0 || y.cols == 0) return;
  run<op_id::softmax_backward>(y, a);
}

void rms_norm_backward(const_view x, const_view gamma, const_view dy, view dx, view dgamma, const norm_options& o) {
  norm_backward("rms_norm_backward", detail::norm_kind::rms, x, gamma, dy, dx, dgamma, nullptr, o);
}

void layer_norm_backward(const_view x, const_view gamma, const_view dy, view dx, view dgamma, view dbeta,
                         const norm_options& o) {
  norm_backward("layer_norm_backward", detail::norm_kind::layer, x, gamma, dy, dx, dgamma, &dbeta, o);
}

void linear_backward(const_view x, const_view w, const_view dy, view dx, view dw, view db) {
  constexpr const char* op = "linear_backward";
  const rows_view xr = rows_of(op, "x", x), wr = rows_of(op, "w", w), dyr = rows_of(op, "dy", dy);
  if (x.rank() != 2 || w.rank() != 2 || dy.rank() != 2)
    MIXPREC_THROW(invalid_argument, op, "x, w and dy must be rank-2 views (m x k, n x k, m x n)");
  check_together(op, xr, wr);
  check_together(op, xr, dyr);
  const std::int64_t m = xr.rows, k = xr.cols, n = wr.rows;
  if (wr.cols != k || dyr.rows != m || dyr.cols != n)
    MIXPREC_THROW(shape_mismatch, op, "x is ", m, " x ", k, ", w ", wr.rows, " x ", wr.cols, " and dy ", dyr.rows,
                  " x ", dyr.cols, "; they must be m x k, n x k and m x n");
  const bool want_db = !db.ctx().empty() && db.size() > 0;
  if (want_db) {
    if (db.type() != dtype::f32 || db.size() != n || !db.is_contiguous())
      MIXPREC_THROW(invalid_argument, op, "db must be ", n, " contiguous f32 values (one per output)");
  }
  const bool want_dw = !dw.ctx().empty() && dw.size() > 0;
  if (want_dw && (dw.type() != dtype::f32 || dw.rank() != 2 || dw.extent(0) != n || dw.extent(1) != k))
    MIXPREC_THROW(invalid_argument, op, "dw must be an f32 ", n, " x ", k, " view (the accumulated gradient of w)");
  // Every shape is checked before the first product: nothing is written on a refusal.
  const bool want_dx = !dx.ctx().empty() && dx.size() > 0;
  if (want_dx && (dx.rank() != 2 || dx.extent(0) != m || dx.extent(1) != k))
    MIXPREC_THROW(shape_mismatch, op, "dx must be ", m, " x ", k);
  if (want_dx) gemm(trans::no, trans::no, 1.0, dy, w, 0.0, dx);
  if (want_dw) gemm(trans::yes, trans::no, 1.0, dy, x, 1.0, dw);
  if (want_db && m > 0) {
    // The column sums as a GEMM with a column of ones: the same f32 accumulation as dW. The
    // ones live in dy's memory (a device's, for a CUDA context).
    buffer ones(dy.type(), m, dy.ctx());
    const view ones_view(ones.data(), dy.type(), {m, 1}, {1, 1}, dy.ctx());
    fill(ones_view, 1.0);
    gemm(trans::yes, trans::no, 1.0, dy, ones_view, 1.0, view(db.data(), dtype::f32, {n, 1}, {1, 1}, db.ctx()));
  }
}

double cross_entropy(const_view lv, const_view labels, view dv, const cross_entropy_options& o) {
  constexpr const char* op = "cross_entropy";
  const rows_view logits = rows_of(op, "logits", lv);
  const bool grad = !dv.ctx().empty() && dv.size() > 0;
  rows_view d;
  if (grad) {
    d = input_like(op, "dlogits", dv, logits);
    check_alias(op, d, logits);
  }
  if (labels.ctx().empty() || labels.type() != dtype::i32 || !labels.is_contiguous())
    MIXPREC_THROW(invalid_argument, op, "labels must be a dense i32 view (one per row)");
  if (labels.size() != logits.rows)
    MIXPREC_THROW(shape_mismatch, op, "logits has ", logits.rows, " rows but labels has ", labels.size(), " entries");
  if (!labels.ctx().same_memory(logits.ctx))
    MIXPREC_THROW(invalid_argument, op, "labels live in another memory than the logits");
  if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
    MIXPREC_THROW(invalid_argument, op, "label_smoothing = ", o.label_smoothing, "; it must be in [0, 1]");
  if (!std::isfinite(o.grad_scale)) MIXPREC_THROW(invalid_argument, op, "grad_scale = ", o.grad_scale);
  if (logits.cols == 0 && logits.rows > 0) MIXPREC_THROW(shape_mismatch, op, "logits has rows but no classes");
  // The labels are checked (and the rows counted) on the host: from a device, a copy of them.
  const auto* label = static_cast<const std::int32_t*>(labels.data());
  std::vector<std::int32_t> host_labels;
  if (logits.ctx.kind() != backend::cpu) {
    host_labels.resize(std::size_t(logits.rows));
    copy(labels, make_view(host_labels.data(), logits.rows));
    label = host_labels.data();
  }
  std::int64_t counted = 0;
  for (std::int64_t i = 0; i < logits.rows; ++i) {
    if (label[i] == o.ignore_index) continue;
    if (label[i] < 0 || label[i] >= logits.cols)
      MIXPREC_THROW(invalid_argument, op, "labels[", i, "] = ", label[i], " is outside the classes [0, ", logits.cols,
                    ") and is not ignore_index ", o.ignore_index);
    ++counted;
  }
  if (logits.rows == 0) return 0.0;
  const double per_row = o.reduction == loss_reduction::mean && counted > 0 ? 1.0 / double(counted) : 1.0;
  buffer row_loss(dtype::f32, logits.rows, logits.ctx);
  const detail::cross_entropy_args a{logits.rows,
                                     logits.cols,
                                     logits.data,
                                     logits.ld,
                                     static_cast<const std::int32_t*>(labels.data()),
                                     o.ignore_index,
                                     float(o.label_smoothing),
                                     float(o.grad_scale * per_row),
                                     grad ? d.data : nullptr,
                                     grad ? d.ld : 0,
                                     static_cast<float*>(row_loss.data())};
  run<op_id::cross_entropy>(logits, a);
  std::vector<float> loss(std::size_t(logits.rows));
  copy(row_loss.as_view(), make_view(loss.data(), logits.rows));
  double total = 0;
  for (float l : loss) total += double(l);
  return total * per_row;
}

}  // namespace mixprec
