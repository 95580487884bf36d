// Quantization front ends: parameter grids, dynamic parameter choice, and the checks before
// the quantize / dequantize kernels run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/float16.hpp"
#include "mixprec/quantize.hpp"

namespace mixprec {
namespace {

struct range {
  std::int32_t lo, hi;
};
range range_of(dtype t) { return t == dtype::u8 ? range{0, 255} : range{-128, 127}; }

void check_scheme(const char* op, const quant_scheme& s, std::int64_t rows, std::int64_t cols) {
  if (s.target != dtype::i8 && s.target != dtype::u8)
    MIXPREC_THROW(unsupported, op, "target is ", name_of(s.target), "; quantization targets i8 or u8");
  if (s.symmetric && s.target != dtype::i8)
    MIXPREC_THROW(invalid_argument, op, "symmetric quantization targets i8 (zero point 0); use asymmetric for u8");
  if (s.granularity != quant_granularity::per_tensor && s.axis != 0 && s.axis != 1)
    MIXPREC_THROW(invalid_argument, op, "axis = ", s.axis, "; a rank-2 tensor has axes 0 (rows) and 1 (columns)");
  if (s.granularity == quant_granularity::per_group && s.group_size <= 0)
    MIXPREC_THROW(invalid_argument, op, "group_size = ", s.group_size, " must be positive for per_group");
  if (rows < 0 || cols < 0) MIXPREC_THROW(invalid_argument, op, "negative shape ", rows, " x ", cols);
}

/// rows x cols of a rank-1 (one row) or rank-2 view, and its strides.
struct shape2 {
  std::int64_t rows, cols, rs, cs;
};
shape2 shape_of(const char* op, const char* name, const const_view& v) {
  if (v.rank() == 1) return {1, v.extent(0), 0, v.stride(0)};
  if (v.rank() == 2) return {v.extent(0), v.extent(1), v.stride(0), v.stride(1)};
  MIXPREC_THROW(shape_mismatch, op, name, " must be rank 1 or 2, not rank ", v.rank());
}

/// The kernels' indexing of p's grid.
void divisors(const quant_params& p, std::int64_t* row_div, std::int64_t* col_div) {
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  switch (p.scheme.granularity) {
    case quant_granularity::per_tensor:
      *row_div = big, *col_div = big;
      return;
    case quant_granularity::per_channel:
      *row_div = p.scheme.axis == 0 ? 1 : big;
      *col_div = p.scheme.axis == 1 ? 1 : big;
      return;
    case quant_granularity::per_group:
      *row_div = p.scheme.axis == 0 ? p.scheme.group_size : 1;
      *col_div = p.scheme.axis == 1 ? p.scheme.group_size : 1;
      return;
  }
}

void check_params(const char* op, const quant_params& p, std::int64_t rows, std::int64_t cols) {
  check_scheme(op, p.scheme, p.rows, p.cols);
  if (p.rows != rows || p.cols != cols)
    MIXPREC_THROW(shape_mismatch, op, "the parameters are for ", p.rows, " x ", p.cols, ", the tensor is ", rows, " x ",
                  cols);
  const std::size_t n = std::size_t(p.grid_rows * p.grid_cols);
  if (p.scale.size() != n || p.zero_point.size() != n)
    MIXPREC_THROW(invalid_argument, op, "the parameters hold ", p.scale.size(), " scales and ", p.zero_point.size(),
                  " zero points; the grid needs ", n);
  const range r = range_of(p.scheme.target);
  for (std::size_t g = 0; g < n; ++g) {
    if (!(p.scale[g] > 0.0f) || !std::isfinite(p.scale[g]))
      MIXPREC_THROW(invalid_argument, op, "scale[", g, "] = ", p.scale[g], " must be positive and finite");
    if (p.zero_point[g] < r.lo || p.zero_point[g] > r.hi)
      MIXPREC_THROW(invalid_argument, op, "zero_point[", g, "] = ", p.zero_point[g], " is outside ",
                    name_of(p.scheme.target), " [", r.lo, ", ", r.hi, "]");
  }
}

float read_float(const const_view& x, std::int64_t offset) {
  switch (x.type()) {
    case dtype::f32:
      return static_cast<const float*>(x.data())[offset];
    case dtype::bf16:
      return float(static_cast<const bfloat16*>(x.data())[offset]);
    case dtype::f16:
      return float(static_cast<const half*>(x.data())[offset]);
    default:
      return 0.0f;
  }
}

template <detail::op_id Op>
void run(const context& ctx, dtype in, dtype out, const detail::quant_args& args, const char* shape) {
  const detail::quant_problem problem{args.cols <= 1 || (args.scs == 1 && args.dcs == 1)};
  detail::dispatch<Op>(
      *detail::state_of(ctx), in, out, &problem, accumulation::standard,
      [&](detail::quant_fn kernel, const detail::exec_args& ex) { kernel(ex, args); },
      [&] { return std::make_pair(detail::cat(name_of(in), ":", name_of(out)), std::string(shape)); });
}

}  // namespace

std::int64_t quant_params::index(std::int64_t i, std::int64_t j) const {
  std::int64_t rd = 1, cd = 1;
  divisors(*this, &rd, &cd);
  return (i / rd) * grid_cols + j / cd;
}

quant_params make_quant_params(std::int64_t rows, std::int64_t cols, const quant_scheme& s) {
  check_scheme("make_quant_params", s, rows, cols);
  quant_params p;
  p.scheme = s;
  p.rows = rows;
  p.cols = cols;
  if (s.granularity == quant_granularity::per_channel) {
    p.grid_rows = s.axis == 0 ? rows : 1;
    p.grid_cols = s.axis == 1 ? cols : 1;
  } else if (s.granularity == quant_granularity::per_group) {
    p.grid_rows = s.axis == 0 ? (rows + s.group_size - 1) / s.group_size : rows;
    p.grid_cols = s.axis == 1 ? (cols + s.group_size - 1) / s.group_size : cols;
  }
  const std::size_t n = std::size_t(p.grid_rows * p.grid_cols);
  p.scale.assign(n, 1.0f);
  p.zero_point.assign(n, 0);
  return p;
}

quant_params choose_quant_params(const_view x, const quant_scheme& s) {
  constexpr const char* op = "choose_quant_params";
  if (x.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "x has no context");
  if (x.ctx().kind() != backend::cpu)
    MIXPREC_THROW(unsupported, op, "dynamic parameters are computed from CPU memory only (x is on the GPU)");
  if (x.type() != dtype::f32 && x.type() != dtype::bf16 && x.type() != dtype::f16)
    MIXPREC_THROW(unsupported, op, "x is ", name_of(x.type()), "; quantization reads f32, bf16 or f16");
  const shape2 sh = shape_of(op, "x", x);
  quant_params p = make_quant_params(sh.rows, sh.cols, s);
  const std::size_t n = p.scale.size();
  std::vector<float> lo(n, 0.0f), hi(n, 0.0f);  // the range always includes 0
  for (std::int64_t i = 0; i < sh.rows; ++i)
    for (std::int64_t j = 0; j < sh.cols; ++j) {
      const float v = read_float(x, i * sh.rs + j * sh.cs);
      if (v != v) continue;
      const std::size_t g = std::size_t(p.index(i, j));
      lo[g] = std::min(lo[g], v);
      hi[g] = std::max(hi[g], v);
    }
  const range r = range_of(s.target);
  for (std::size_t g = 0; g < n; ++g) {
    if (s.symmetric) {
      const float m = std::max(-lo[g], hi[g]);
      p.scale[g] = m > 0.0f && std::isfinite(m) ? m / 127.0f : 1.0f;
      p.zero_point[g] = 0;
    } else {
      const float width = hi[g] - lo[g];
      p.scale[g] = width > 0.0f && std::isfinite(width) ? width / float(r.hi - r.lo) : 1.0f;
      const float zp = float(r.lo) - std::nearbyint(lo[g] / p.scale[g]);
      p.zero_point[g] = std::int32_t(std::clamp(zp, float(r.lo), float(r.hi)));
    }
    if (!(p.scale[g] > 0.0f) || !std::isfinite(p.scale[g])) p.scale[g] = 1.0f;  // subnormal underflow
  }
  return p;
}

namespace {

/// The checks quantize and dequantize share, then the call: `real` is the float side (x),
/// `ints` the quantized side (q); `to_ints` says which way the kernel converts.
void quant_call(const char* op, const const_view& real, const const_view& ints, const quant_params& p, void* out,
                bool to_ints) {
  if (real.ctx().empty() || ints.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "x or q has no context");
  if (!real.ctx().same_memory(ints.ctx())) MIXPREC_THROW(invalid_argument, op, "x and q must live in one memory space");
  const bool float_ok =
      real.type() == dtype::f32 || real.type() == dtype::bf16 || (to_ints && real.type() == dtype::f16);
  if (!float_ok)
    MIXPREC_THROW(unsupported, op, "x is ", name_of(real.type()),
                  to_ints ? "; quantization reads f32, bf16 or f16" : "; dequantization writes f32 or bf16");
  if (ints.type() != p.scheme.target)
    MIXPREC_THROW(invalid_argument, op, "q is ", name_of(ints.type()), " but the parameters are for ",
                  name_of(p.scheme.target));
  const shape2 xs = shape_of(op, "x", real), qs = shape_of(op, "q", ints);
  if (xs.rows != qs.rows || xs.cols != qs.cols)
    MIXPREC_THROW(shape_mismatch, op, "x is ", xs.rows, " x ", xs.cols, " but q is ", qs.rows, " x ", qs.cols);
  check_params(op, p, xs.rows, xs.cols);
  if (xs.rows == 0 || xs.cols == 0) return;
  const shape2& src = to_ints ? xs : qs;
  const shape2& dst = to_ints ? qs : xs;
  detail::quant_args a{xs.rows,
                       xs.cols,
                       to_ints ? real.data() : ints.data(),
                       src.rs,
                       src.cs,
                       out,
                       dst.rs,
                       dst.cs,
                       p.scale.data(),
                       p.zero_point.data(),
                       1,
                       1,
                       p.grid_cols};
  divisors(p, &a.row_div, &a.col_div);
  const dtype in = to_ints ? real.type() : ints.type(), result = to_ints ? ints.type() : real.type();
  const std::string shape = detail::cat(xs.rows, "x", xs.cols);
  if (to_ints)
    run<detail::op_id::quantize>(real.ctx(), in, result, a, shape.c_str());
  else
    run<detail::op_id::dequantize>(real.ctx(), in, result, a, shape.c_str());
}

}  // namespace

void quantize(const_view x, const quant_params& p, view q) { quant_call("quantize", x, q, p, q.data(), true); }

void dequantize(const_view q, const quant_params& p, view x) { quant_call("dequantize", x, q, p, x.data(), false); }

}  // namespace mixprec
