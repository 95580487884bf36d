// The one quantization rule (mixprec/quantize.hpp), shared by the quantize kernels (CPU and
// CUDA: the element bodies below run on both) and the GEMM epilogue's requantized outputs.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// saturate(round_half_even(x / scale) + zero_point); NaN gives the zero point.
template <class Q>
MIXPREC_KI Q requantize(float x, float scale, std::int32_t zero_point) {
  float q = round_ties_even(x / scale);
  if (q != q) q = 0.0f;
  const float v = q + float(zero_point);
  constexpr float lo = float(std::numeric_limits<Q>::min()), hi = float(std::numeric_limits<Q>::max());
  return Q(v < lo ? lo : (v > hi ? hi : v));
}

/// An integer GEMM's sum of (a - za)(b - zb) from S = sum(a * b): S - za * col_sum_j + row_term_i,
/// row_term_i = k * za * zb - zb * row_sum_i, in wrapping 32-bit arithmetic (exact: the front
/// end has checked that the true sum fits in s32). The CPU kernels pass za plus their s8 shift.
MIXPREC_KI std::int32_t zero_point_corrected(std::int32_t s, std::uint32_t za, std::int32_t col_sum,
                                             std::uint32_t row_term) {
  return std::int32_t(std::uint32_t(s) - za * std::uint32_t(col_sum) + row_term);
}

/// (q - zero_point) * scale, one f32 rounding.
MIXPREC_KI float dequantize_value(std::int32_t q, float scale, std::int32_t zero_point) {
  return float(q - zero_point) * scale;
}

/// Where row i's scales and zero points start in quant_args' parameter grid.
MIXPREC_KI std::int64_t quant_params_of_row(const detail::quant_args& a, std::int64_t i) {
  return (i / a.row_div) * a.grid_cols;
}

/// Element (i, j) of a quantize: q = requantize(x) with its parameters, row i's starting at
/// `row_params` (quant_params_of_row).
template <class X, class Q>
MIXPREC_KI void quantize_element(const detail::quant_args& a, std::int64_t i, std::int64_t j, std::int64_t row_params) {
  const std::int64_t g = row_params + j / a.col_div;
  static_cast<Q*>(a.dst)[i * a.drs + j * a.dcs] =
      requantize<Q>(float(widen(static_cast<const X*>(a.src)[i * a.srs + j * a.scs])), a.scale[g], a.zero_point[g]);
}

/// Element (i, j) of a dequantize: x = (q - zero_point) * scale, rounded to X.
template <class Q, class X>
MIXPREC_KI void dequantize_element(const detail::quant_args& a, std::int64_t i, std::int64_t j,
                                   std::int64_t row_params) {
  const std::int64_t g = row_params + j / a.col_div;
  static_cast<X*>(a.dst)[i * a.drs + j * a.dcs] =
      X(dequantize_value(static_cast<const Q*>(a.src)[i * a.srs + j * a.scs], a.scale[g], a.zero_point[g]));
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
