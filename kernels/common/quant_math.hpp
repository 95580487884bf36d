// The one quantization rule (mixprec/quantize.hpp), shared by the quantize kernels and the
// GEMM epilogue's requantized outputs.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "mixprec/float16.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// saturate(round_half_even(x / scale) + zero_point); NaN gives the zero point.
template <class Q>
MIXPREC_ALWAYS_INLINE Q requantize(float x, float scale, std::int32_t zero_point) {
  float q = std::nearbyint(x / scale);
  if (q != q) q = 0.0f;
  const float v = q + float(zero_point);
  constexpr float lo = float(std::numeric_limits<Q>::min()), hi = float(std::numeric_limits<Q>::max());
  return Q(std::min(hi, std::max(lo, v)));
}

/// (q - zero_point) * scale, one f32 rounding.
MIXPREC_ALWAYS_INLINE float dequantize_value(std::int32_t q, float scale, std::int32_t zero_point) {
  return float(q - zero_point) * scale;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
