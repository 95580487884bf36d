// The GEMM epilogue of mixprec/gemm.hpp for one result, as host and device code:
//   x = alpha * acc * scale[j] + bias[j] + beta * C;  x = act(x);  x += residual;  C = convert(x)
// in the epilogue's precision R (f64 for f64 GEMM, f32 otherwise), the activations by
// nn_rows.hpp's element math. The reference GEMM finishes each element through it, and the
// CUDA GEMM runs it a thread per element over cuBLAS's accumulators, so that the same body
// is tested on every machine. The optimised CPU kernels finish whole blocks with the
// vectorised gemm_epilogue.hpp under the same contract and the same tests.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/quant_math.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Writes C(bi, i, j) from its accumulated value `acc`. An s32 C is exact: the front end
/// allows alpha = 1 and beta 0 or 1 only, and beta = 1 adds in 64 bits and saturates.
template <class R, class CT, class ACC>
MIXPREC_KI void finish_element(const detail::gemm_args& g, std::int64_t bi, std::int64_t i, std::int64_t j, ACC acc) {
  CT* c = static_cast<CT*>(g.c) + bi * g.cbs + i * g.crs + j * g.ccs;
  if constexpr (std::is_same_v<CT, std::int32_t>) {
    if (g.beta == 0.0) {
      *c = acc;
    } else {
      const std::int64_t s = std::int64_t(*c) + acc;
      *c = CT(s < INT32_MIN ? INT32_MIN : s > INT32_MAX ? INT32_MAX : s);
    }
  } else {
    R x = R(acc) * R(g.alpha);
    if (g.ep.scale) x *= static_cast<const R*>(g.ep.scale)[j];
    if (g.ep.bias) x += static_cast<const R*>(g.ep.bias)[j];
    if (g.beta != 0.0) x += R(g.beta) * R(widen(*c));  // C is read only when beta is not 0
    if (g.ep.act != activation::none) x = vactivate(detail::eltwise_kind_of(g.ep.act), lane1<R>{x}).v;
    if (g.ep.residual) {
      const CT* r = static_cast<const CT*>(g.ep.residual) + bi * g.ep.rbs + i * g.ep.rrs + j * g.ep.rcs;
      x += R(widen(*r));
    }
    if constexpr (std::is_same_v<CT, std::int8_t> || std::is_same_v<CT, std::uint8_t>)
      *c = requantize<CT>(float(x), g.ep.out_scale, g.ep.out_zero_point);
    else
      lane1<R>{x}.store(c);  // one rounding from R
  }
}

/// finish_element for C's run-time dtype, of those a GEMM with accumulator ACC and
/// epilogue precision R produces (the front end has checked it is one).
template <class R, class ACC>
MIXPREC_KI void finish_element_any(const detail::gemm_args& g, std::int64_t bi, std::int64_t i, std::int64_t j,
                                   ACC acc) {
  if constexpr (std::is_same_v<R, double>) {
    finish_element<double, double>(g, bi, i, j, acc);
  } else {
    switch (g.c_type) {
      case dtype::f32:
        return finish_element<R, float>(g, bi, i, j, acc);
      case dtype::f16:
        return finish_element<R, half>(g, bi, i, j, acc);
      case dtype::bf16:
        return finish_element<R, bfloat16>(g, bi, i, j, acc);
      case dtype::i32:
        if constexpr (std::is_integral_v<ACC>) return finish_element<R, std::int32_t>(g, bi, i, j, acc);
        return;
      case dtype::i8:
        if constexpr (std::is_integral_v<ACC>) return finish_element<R, std::int8_t>(g, bi, i, j, acc);
        return;
      case dtype::u8:
        if constexpr (std::is_integral_v<ACC>) return finish_element<R, std::uint8_t>(g, bi, i, j, acc);
        return;
      default:
        return;
    }
  }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
