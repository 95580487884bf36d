// The GEMM epilogue: turns accumulated results into C, in the order of mixprec/gemm.hpp
//   x = alpha * acc * scale[j] + bias[j] + beta * C;  x = act(x);  x += residual;  C = convert(x)
// One definition for every kernel (reference, portable, ISA), so all honour one contract.
// Integer accumulators arrive already corrected for zero points and the s8 shift.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "internal/registry.hpp"
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/quant_math.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

// The f32 activations, written so that the compiler vectorizes the epilogue's loops: no
// calls into libm, no branches (f64 keeps libm: the fits below are f32-accurate). All reduce to exp (f32: Cody-Waite
// reduction by ln 2 and a degree-6 polynomial, ~1 ulp; f64 keeps std::exp) and the complementary error function
// (Numerical Recipes' erfcc: a fit with relative error below 1.2e-7 for every argument, so GELU's tail for negative x
// keeps its relative accuracy). NaN propagates through each.

MIXPREC_ALWAYS_INLINE float exp_of(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);  // keeps 2^n normal; NaN passes (operand order)
  constexpr float magic = 12582912.0f;       // 1.5 * 2^23: adding it rounds to an integer
  const float shifted = x * 1.44269504088896341f + magic;
  const float n = shifted - magic;                                            // nearest integer to x / ln 2
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;  // ln 2 = hi + lo
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::uint32_t k = detail::bit_cast<std::uint32_t>(shifted) - detail::bit_cast<std::uint32_t>(magic);  // n
  return p * detail::bit_cast<float>((k + 127u) << 23);
}
MIXPREC_ALWAYS_INLINE double exp_of(double x) { return std::exp(x); }

/// erfc(x): f32 by the fit, relative error below 1.2e-7 (plus the roundings of the
/// evaluation); f64 by libm, to its full precision.
MIXPREC_ALWAYS_INLINE double erfc_of(double x) { return std::erfc(x); }
template <class R>
MIXPREC_ALWAYS_INLINE R erfc_of(R x) {
  const R z = std::fabs(x);
  const R t = R(1) / (R(1) + R(0.5) * z);
  R p = R(0.17087277);
  p = p * t + R(-0.82215223);
  p = p * t + R(1.48851587);
  p = p * t + R(-1.13520398);
  p = p * t + R(0.27886807);
  p = p * t + R(-0.18628806);
  p = p * t + R(0.09678418);
  p = p * t + R(0.37409196);
  p = p * t + R(1.00002368);
  p = p * t + R(-1.26551223);
  const R ans = t * exp_of(p - z * z);
  return x >= R(0) ? ans : R(2) - ans;
}

template <class R>
MIXPREC_ALWAYS_INLINE R gelu_erf(R x) {  // x/2 (1 + erf(x/sqrt2)) = x/2 erfc(-x/sqrt2)
  return R(0.5) * x * erfc_of(x * R(-0.70710678118654752440));
}
template <class R>
MIXPREC_ALWAYS_INLINE R gelu_tanh(R x) {  // x/2 (1 + tanh(y)) = x / (1 + exp(-2y))
  const R y = R(0.79788456080286535588) * (x + R(0.044715) * x * x * x);
  return x / (R(1) + exp_of(R(-2) * y));
}
template <class R>
MIXPREC_ALWAYS_INLINE R silu(R x) {
  return x / (R(1) + exp_of(-x));
}

/// Applies `act` to n values in place. relu keeps NaN (x < 0 is false for NaN).
template <class R>
void activate(activation act, R* x, std::int64_t n) {
  switch (act) {
    case activation::none:
      return;
    case activation::relu:
      for (std::int64_t j = 0; j < n; ++j) x[j] = x[j] < R(0) ? R(0) : x[j];
      return;
    case activation::gelu_erf:
      for (std::int64_t j = 0; j < n; ++j) x[j] = gelu_erf(x[j]);
      return;
    case activation::gelu_tanh:
      for (std::int64_t j = 0; j < n; ++j) x[j] = gelu_tanh(x[j]);
      return;
    case activation::silu:
      for (std::int64_t j = 0; j < n; ++j) x[j] = silu(x[j]);
      return;
  }
}

/// c[j] = x[j] rounded once to CT, for a contiguous row: eight at a time by F16C where the
/// folder is built with it (the portable conversion, one branchy call per value, cost f16
/// GEMMs more than their multiply at training shapes).
template <class CT, class R>
MIXPREC_ALWAYS_INLINE void store_row(CT* c, const R* x, std::int64_t n) {
  std::int64_t j = 0;
#if defined(__F16C__)
  if constexpr (std::is_same_v<CT, half> && std::is_same_v<R, float>)
    for (; j + 8 <= n; j += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c + j),
                       _mm256_cvtps_ph(_mm256_loadu_ps(x + j), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
  for (; j < n; ++j) c[j] = CT(x[j]);
}

/// Finishes `rows` x `cols` results of batch entry `bi` whose top-left is C(i0, j0), read
/// from acc (row stride lda).
template <class F, class CT>
void finish_block(const detail::gemm_args& g, std::int64_t bi, const typename F::acc* acc, std::int64_t lda,
                  std::int64_t i0, std::int64_t rows, std::int64_t j0, std::int64_t cols) {
  using R = typename F::real;
  CT* c = static_cast<CT*>(g.c) + bi * g.cbs;
  if constexpr (std::is_same_v<CT, std::int32_t>) {
    // s32 C: exact, alpha = 1 and beta in {0, 1} (checked by the front end); beta = 1 adds
    // in 64 bits and saturates.
    for (std::int64_t r = 0; r < rows; ++r) {
      CT* crow = c + (i0 + r) * g.crs + j0 * g.ccs;
      const auto* arow = acc + r * lda;
      if (g.beta == 0.0) {
        for (std::int64_t j = 0; j < cols; ++j) crow[j * g.ccs] = arow[j];
      } else {
        for (std::int64_t j = 0; j < cols; ++j) {
          const std::int64_t s = std::int64_t(crow[j * g.ccs]) + arow[j];
          crow[j * g.ccs] = CT(std::clamp<std::int64_t>(s, INT32_MIN, INT32_MAX));
        }
      }
    }
    return;
  } else {
    constexpr std::int64_t chunk = 256;
    R x[chunk];
    const R alpha = R(g.alpha), beta = R(g.beta);
    const R* scale = static_cast<const R*>(g.ep.scale);
    const R* bias = static_cast<const R*>(g.ep.bias);
    const CT* res = static_cast<const CT*>(g.ep.residual);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto* arow = acc + r * lda;
      for (std::int64_t jb = 0; jb < cols; jb += chunk) {
        const std::int64_t nj = std::min(chunk, cols - jb);
        const std::int64_t j0b = j0 + jb;
        CT* crow = c + (i0 + r) * g.crs + j0b * g.ccs;
        for (std::int64_t j = 0; j < nj; ++j) x[j] = R(arow[jb + j]) * alpha;
        if (scale)
          for (std::int64_t j = 0; j < nj; ++j) x[j] *= scale[j0b + j];
        if (bias)
          for (std::int64_t j = 0; j < nj; ++j) x[j] += bias[j0b + j];
        if (g.beta != 0.0)
          for (std::int64_t j = 0; j < nj; ++j) x[j] += beta * R(widen(crow[j * g.ccs]));
        activate(g.ep.act, x, nj);
        if (res) {
          const CT* rrow = res + bi * g.ep.rbs + (i0 + r) * g.ep.rrs + j0b * g.ep.rcs;
          for (std::int64_t j = 0; j < nj; ++j) x[j] += R(widen(rrow[j * g.ep.rcs]));
        }
        if constexpr (std::is_same_v<CT, std::int8_t> || std::is_same_v<CT, std::uint8_t>) {
          for (std::int64_t j = 0; j < nj; ++j)
            crow[j * g.ccs] = requantize<CT>(x[j], g.ep.out_scale, g.ep.out_zero_point);
        } else if constexpr (std::is_same_v<CT, R>) {
          for (std::int64_t j = 0; j < nj; ++j) crow[j * g.ccs] = x[j];
        } else if (g.ccs == 1) {
          store_row(crow, x, nj);
        } else {
          for (std::int64_t j = 0; j < nj; ++j) crow[j * g.ccs] = CT(x[j]);
        }
      }
    }
  }
}

/// finish_block for C's run-time dtype (the front end has checked it is one the family
/// produces).
template <class F>
void finish_block_any(const detail::gemm_args& g, std::int64_t bi, const typename F::acc* acc, std::int64_t lda,
                      std::int64_t i0, std::int64_t rows, std::int64_t j0, std::int64_t cols) {
  if constexpr (std::is_same_v<typename F::acc, double>) {
    finish_block<F, double>(g, bi, acc, lda, i0, rows, j0, cols);
  } else {
    switch (g.c_type) {
      case dtype::f32:
        return finish_block<F, float>(g, bi, acc, lda, i0, rows, j0, cols);
      case dtype::f16:
        return finish_block<F, half>(g, bi, acc, lda, i0, rows, j0, cols);
      case dtype::bf16:
        return finish_block<F, bfloat16>(g, bi, acc, lda, i0, rows, j0, cols);
      case dtype::i32:
        if constexpr (std::is_integral_v<typename F::acc>)
          return finish_block<F, std::int32_t>(g, bi, acc, lda, i0, rows, j0, cols);
        return;
      case dtype::i8:
        if constexpr (std::is_integral_v<typename F::acc>)
          return finish_block<F, std::int8_t>(g, bi, acc, lda, i0, rows, j0, cols);
        return;
      case dtype::u8:
        if constexpr (std::is_integral_v<typename F::acc>)
          return finish_block<F, std::uint8_t>(g, bi, acc, lda, i0, rows, j0, cols);
        return;
      default:
        return;
    }
  }
}

/// Integer results: S = sum(packed_a * b) becomes sum((a - za)(b - zb)) = S - (shift + za)
/// * colsum_j - zb * rowsum_i + k * za * zb (zero_point_corrected, quant_math.hpp).
MIXPREC_ALWAYS_INLINE void correct_int_row(std::int32_t* acc, std::int64_t cols, const std::int32_t* col_sums,
                                           std::int32_t a_shift_plus_zp, std::int32_t b_zp_times_rowsum,
                                           std::int32_t k_za_zb) {
  const std::uint32_t ca = std::uint32_t(a_shift_plus_zp);
  const std::uint32_t rowterm = std::uint32_t(k_za_zb) - std::uint32_t(b_zp_times_rowsum);
  for (std::int64_t j = 0; j < cols; ++j) acc[j] = zero_point_corrected(acc[j], ca, col_sums[j], rowterm);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
