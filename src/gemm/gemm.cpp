// GEMM front end: validates every operand once, works out the dtype family and the kernel
// key, then dispatches. Nothing is written before all checks have passed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "gemm/gemm_internal.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/view_spans.hpp"
#include "mixprec/gemm.hpp"

namespace mixprec {

const char* name_of(activation a) {
  switch (a) {
    case activation::none:
      return "none";
    case activation::relu:
      return "relu";
    case activation::gelu_erf:
      return "gelu_erf";
    case activation::gelu_tanh:
      return "gelu_tanh";
    case activation::silu:
      return "silu";
  }
  return "?";
}

namespace detail {

void check_leading_dimension(const char* what, std::int64_t ld, std::int64_t minimum) {
  if (minimum > 0 && ld < minimum)
    MIXPREC_THROW(invalid_argument, "gemm", what, " = ", ld, " is smaller than the ", minimum,
                  " it must at least be for this shape and layout");
}

namespace {

constexpr const char* op = "gemm";

using detail::byte_span;
using detail::overlap;
using detail::span_of;

bool same_view(const const_view& a, const const_view& b) {
  if (a.data() != b.data() || a.type() != b.type() || a.rank() != b.rank()) return false;
  for (int d = 0; d < a.rank(); ++d)
    if (a.extent(d) != b.extent(d) || (a.extent(d) > 1 && a.stride(d) != b.stride(d))) return false;
  return true;
}

/// Whether distinct indices of the view can name the same element (then writing it would be
/// order-dependent): dimensions sorted by |stride| must each step past all the smaller ones.
bool self_overlapping(const const_view& v) {
  struct dim {
    std::int64_t stride, extent;
  };
  dim dims[max_rank];
  int n = 0;
  for (int d = 0; d < v.rank(); ++d)
    if (v.extent(d) > 1) dims[n++] = {std::llabs(v.stride(d)), v.extent(d)};
  for (int i = 1; i < n; ++i)  // insertion sort of at most max_rank entries
    for (int j = i; j > 0 && dims[j].stride < dims[j - 1].stride; --j) std::swap(dims[j], dims[j - 1]);
  std::int64_t reach = 0;  // highest offset the smaller dimensions reach
  for (int d = 0; d < n; ++d) {
    if (dims[d].stride <= reach) return true;
    reach += dims[d].stride * (dims[d].extent - 1);
  }
  return false;
}

/// The last two extents and strides of a rank-2 or rank-3 operand, with op() applied.
struct matrix_shape {
  std::int64_t rows, cols, rs, cs, batch, bs;
};
matrix_shape shape_of(const char* name, const const_view& v, trans t) {
  if (v.rank() != 2 && v.rank() != 3)
    MIXPREC_THROW(shape_mismatch, op, name, " must be rank 2 (rows x cols) or 3 (batch x rows x cols), not rank ",
                  v.rank());
  const int r = v.rank() - 2;
  matrix_shape s{v.extent(r), v.extent(r + 1), v.stride(r), v.stride(r + 1), 1, 0};
  if (v.rank() == 3) {
    s.batch = v.extent(0);
    s.bs = v.stride(0);
  }
  if (t == trans::yes) {
    std::swap(s.rows, s.cols);
    std::swap(s.rs, s.cs);
  }
  return s;
}

/// The kernel key and accumulator of A's dtype (after f16_mode).
struct family {
  dtype key_in, key_out;  // registry key: (A's dtype, accumulator)
  dtype b_type;           // what B must be
  dtype real;             // epilogue vectors' dtype
};
family family_of(dtype a, f16_mode mode) {
  switch (a) {
    case dtype::f64:
      return {dtype::f64, dtype::f64, dtype::f64, dtype::f64};
    case dtype::f32:
      return {dtype::f32, dtype::f32, dtype::f32, dtype::f32};
    case dtype::f16:
      if (mode == f16_mode::allow_bf16_inputs) return {dtype::bf16, dtype::f32, dtype::f16, dtype::f32};
      return {dtype::f16, dtype::f32, dtype::f16, dtype::f32};
    case dtype::bf16:
      return {dtype::bf16, dtype::f32, dtype::bf16, dtype::f32};
    case dtype::u8:
      return {dtype::u8, dtype::i32, dtype::i8, dtype::f32};
    case dtype::i8:
      return {dtype::i8, dtype::i32, dtype::i8, dtype::f32};
    default:
      break;
  }
  MIXPREC_THROW(unsupported, op, "A is ", name_of(a), "; GEMM takes f64, f32, f16, bf16, u8 or i8 A");
}

bool c_allowed(dtype a, dtype c) {
  switch (a) {
    case dtype::f64:
      return c == dtype::f64;
    case dtype::f32:
      return c == dtype::f32;
    case dtype::f16:
      return c == dtype::f32 || c == dtype::f16;
    case dtype::bf16:
      return c == dtype::f32 || c == dtype::bf16;
    default:
      return c == dtype::i32 || c == dtype::f32 || c == dtype::i8 || c == dtype::u8;
  }
}

void check_vector(const char* name, const const_view& v, std::int64_t n, dtype real) {
  if (v.empty() && !v.data()) return;
  if (v.rank() != 1 || v.size() != n)
    MIXPREC_THROW(shape_mismatch, op, "epilogue.", name, " must hold n = ", n, " values (one per column of C), not ",
                  v.size());
  if (v.type() != real)
    MIXPREC_THROW(invalid_argument, op, "epilogue.", name, " is ", name_of(v.type()),
                  " but this GEMM's epilogue runs in ", name_of(real));
  if (n > 1 && v.stride(0) != 1) MIXPREC_THROW(unsupported, op, "epilogue.", name, " must have unit stride");
}

bool present(const const_view& v) { return v.data() != nullptr || v.rank() != 0; }

/// Largest |x - zero point| over the dtype's range.
std::int64_t max_offset(dtype t, std::int32_t zp) {
  const std::int64_t lo = t == dtype::u8 ? 0 : -128, hi = t == dtype::u8 ? 255 : 127;
  return std::max(std::int64_t(zp) - lo, hi - std::int64_t(zp));
}

void check_zero_point(const char* name, std::int32_t zp, dtype t) {
  const std::int64_t lo = t == dtype::u8 ? 0 : -128, hi = t == dtype::u8 ? 255 : 127;
  if (zp < lo || zp > hi)
    MIXPREC_THROW(invalid_argument, op, name, " = ", zp, " is outside the range of ", name_of(t), " [", lo, ", ", hi,
                  "]");
}

}  // namespace

void gemm_call(trans ta, trans tb, double alpha, const const_view& a, const const_view* b, const packed_matrix* pb,
               double beta, const view& c, const gemm_options& o) {
  for (const const_view* v : {&a, b}) {
    if (v && v->ctx().empty()) MIXPREC_THROW(invalid_argument, op, "an operand has no context");
  }
  if (c.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "C has no context");
  if (pb && pb->empty()) MIXPREC_THROW(invalid_argument, op, "the packed B is empty (default-constructed)");
  const context& ctx = c.ctx();
  if (!ctx.same_memory(a.ctx()) || (b && !ctx.same_memory(b->ctx())) || (pb && !ctx.same_memory(pb->ctx())))
    MIXPREC_THROW(invalid_argument, op, "A, B and C must live in one memory space (C in ", name_of(ctx.kind()), ":",
                  ctx.device(), ")");

  const family fam = family_of(a.type(), o.f16);
  const matrix_shape as = shape_of("A", a, ta);
  matrix_shape bs{};
  if (b) {
    bs = shape_of("B", *b, tb);
    if (b->type() != fam.b_type)
      MIXPREC_THROW(invalid_argument, op, "A is ", name_of(a.type()), " so B must be ", name_of(fam.b_type), ", not ",
                    name_of(b->type()));
  } else {
    if (o.f16 == f16_mode::allow_bf16_inputs && a.type() == dtype::f16)
      MIXPREC_THROW(unsupported, op, "f16_mode::allow_bf16_inputs with a packed B: pack the weights as bf16 instead");
    if (pb->type() != fam.b_type)
      MIXPREC_THROW(invalid_argument, op, "A is ", name_of(a.type()), " but B was packed as ", pb->layout_name(),
                    "; it must be packed from ", name_of(fam.b_type));
    bs = {pb->rows(), pb->cols(), 0, 0, 1, 0};
  }
  const matrix_shape cs = shape_of("C", c, trans::no);
  const std::int64_t m = as.rows, k = as.cols, n = bs.cols;
  if (bs.rows != k || cs.rows != m || cs.cols != n)
    MIXPREC_THROW(shape_mismatch, op, "op(A) is ", m, " x ", k, ", op(B) ", bs.rows, " x ", bs.cols, " and C ", cs.rows,
                  " x ", cs.cols, "; they must be m x k, k x n and m x n");
  const std::int64_t batch = cs.batch;
  if ((a.rank() == 3 && as.batch != batch) || (b && b->rank() == 3 && bs.batch != batch) ||
      (c.rank() == 2 && (a.rank() == 3 || (b && b->rank() == 3))))
    MIXPREC_THROW(shape_mismatch, op, "batch sizes differ: A ", as.batch, ", B ", bs.batch, ", C ",
                  c.rank() == 3 ? batch : 1, " (a rank-2 A or B is shared by the whole batch; C must be rank 3 then)");
  if (!c_allowed(a.type(), c.type()))
    MIXPREC_THROW(unsupported, op, "C is ", name_of(c.type()), ", which a GEMM with ", name_of(a.type()),
                  " inputs does not produce");

  const bool integer = fam.key_out == dtype::i32;
  const gemm_epilogue& ep = o.epilogue;
  if (!integer && (o.a_zero_point || o.b_zero_point))
    MIXPREC_THROW(invalid_argument, op, "zero points apply to integer GEMMs only (A is ", name_of(a.type()), ")");
  const bool quantized_c = c.type() == dtype::i8 || c.type() == dtype::u8;
  if (!quantized_c && (ep.out_scale != 1.0f || ep.out_zero_point != 0))
    MIXPREC_THROW(invalid_argument, op, "epilogue.out_scale and out_zero_point apply to an s8/u8 C only (C is ",
                  name_of(c.type()), ")");
  if (quantized_c) {
    if (!(ep.out_scale > 0.0f) || !std::isfinite(ep.out_scale))
      MIXPREC_THROW(invalid_argument, op, "epilogue.out_scale = ", ep.out_scale, " must be positive and finite");
    check_zero_point("epilogue.out_zero_point", ep.out_zero_point, c.type());
    if (beta != 0.0)
      MIXPREC_THROW(unsupported, op, "beta = ", beta, " with an ", name_of(c.type()),
                    " C; add the old values through epilogue.residual instead");
  }
  if (c.type() == dtype::i32) {
    if (alpha != 1.0 || (beta != 0.0 && beta != 1.0))
      MIXPREC_THROW(unsupported, op, "an s32 C is exact: alpha must be 1 and beta 0 or 1 (got ", alpha, ", ", beta,
                    "); use an f32 C to scale");
    if (present(ep.scale) || present(ep.bias) || ep.act != activation::none || present(ep.residual))
      MIXPREC_THROW(unsupported, op, "an s32 C takes no epilogue; use an f32, s8 or u8 C");
  }
  if (integer) {
    check_zero_point("a_zero_point", o.a_zero_point, a.type());
    check_zero_point("b_zero_point", o.b_zero_point, dtype::i8);
    const double worst =
        double(k) * double(max_offset(a.type(), o.a_zero_point)) * double(max_offset(dtype::i8, o.b_zero_point));
    if (worst >= 2147483648.0)
      MIXPREC_THROW(unsupported, op, "k = ", k, " is too large for exact s32 accumulation of ", name_of(a.type()),
                    " x s8 with these zero points (k * max|a - za| * max|b - zb| = ", worst, " >= 2^31)");
  }
  check_vector("scale", ep.scale, n, fam.real);
  check_vector("bias", ep.bias, n, fam.real);
  if (present(ep.residual)) {
    const const_view& r = ep.residual;
    if (quantized_c)
      MIXPREC_THROW(unsupported, op, "epilogue.residual with an ", name_of(c.type()),
                    " C: its values would be added unscaled; add it in f32 (an f32 C) and quantize after");
    if (r.type() != c.type() || r.rank() != c.rank())
      MIXPREC_THROW(invalid_argument, op, "epilogue.residual must have C's dtype and rank (", name_of(c.type()), ", ",
                    c.rank(), "), not ", name_of(r.type()), ", ", r.rank());
    for (int d = 0; d < c.rank(); ++d)
      if (r.extent(d) != c.extent(d))
        MIXPREC_THROW(shape_mismatch, op, "epilogue.residual's extent ", d, " is ", r.extent(d), ", C's ", c.extent(d));
    if (!ctx.same_memory(r.ctx())) MIXPREC_THROW(invalid_argument, op, "epilogue.residual is in another memory space");
  }

  // C is written: it must not overlap itself or anything read (the residual may be C itself).
  if (self_overlapping(c)) MIXPREC_THROW(invalid_argument, op, "C's strides make distinct elements share memory");
  const byte_span cspan = span_of(c);
  if (overlap(cspan, span_of(a)) || (b && overlap(cspan, span_of(*b))))
    MIXPREC_THROW(invalid_argument, op, "C overlaps A or B; C would be overwritten while it is read");
  for (const const_view* v : {&ep.scale, &ep.bias})
    if (overlap(cspan, span_of(*v))) MIXPREC_THROW(invalid_argument, op, "C overlaps an epilogue vector");
  if (present(ep.residual) && overlap(cspan, span_of(ep.residual)) && !same_view(c, ep.residual))
    MIXPREC_THROW(invalid_argument, op, "epilogue.residual partly overlaps C (it may be C itself, or apart)");

  if (m == 0 || n == 0 || batch == 0) return;

  detail::gemm_packed packed{};
  if (pb) packed = packed_args_of(*pb);
  const gemm_args args{
      m,
      n,
      k,
      batch,
      gemm_matrix{a.data(), as.rs, as.cs, a.rank() == 3 ? as.bs : 0},
      gemm_matrix{b ? b->data() : nullptr, bs.rs, bs.cs, b && b->rank() == 3 ? bs.bs : 0},
      a.type(),
      fam.b_type,
      pb ? &packed : nullptr,
      c.data(),
      cs.rs,
      cs.cs,
      c.rank() == 3 ? cs.bs : 0,
      c.type(),
      alpha,
      beta,
      o.a_zero_point,
      o.b_zero_point,
      gemm_epilogue_args{ep.scale.data(), ep.bias.data(), ep.act, present(ep.residual) ? ep.residual.data() : nullptr,
                         ep.residual.rank() ? ep.residual.stride(ep.residual.rank() - 2) : 0,
                         ep.residual.rank() ? ep.residual.stride(ep.residual.rank() - 1) : 0,
                         ep.residual.rank() == 3 ? ep.residual.stride(0) : 0, ep.out_scale, ep.out_zero_point},
      o.f32 == f32_mode::allow_tf32};

  const context_state& st = *detail::state_of(ctx);
  const bool ok = dispatch<op_id::gemm>(
      st, fam.key_in, fam.key_out, &args, accumulation::standard,
      [&](gemm_fn kernel, const exec_args& ex) { return kernel(ex, args); },
      [&] {
        return std::make_pair(
            cat(name_of(a.type()), ":", name_of(fam.b_type), ":", name_of(c.type()), pb ? ":packed" : ""),
            cat(m, "x", n, "x", k, batch > 1 ? cat(":batch", batch) : std::string()));
      });
  if (!ok)
    MIXPREC_THROW(out_of_memory, op, "the kernel's scratch memory could not be allocated; C may be partly written");
}

}  // namespace detail

void gemm(trans ta, trans tb, double alpha, const_view a, const_view b, double beta, view c,
          const gemm_options& options) {
  detail::gemm_call(ta, tb, alpha, a, &b, nullptr, beta, c, options);
}

void gemm(trans ta, double alpha, const_view a, const packed_matrix& b, double beta, view c,
          const gemm_options& options) {
  detail::gemm_call(ta, trans::no, alpha, a, nullptr, &b, beta, c, options);
}

}  // namespace mixprec
