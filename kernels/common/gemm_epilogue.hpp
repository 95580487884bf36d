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
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/quant_math.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Applies `act` to n values in place by the NN ops' element math (nn_rows.hpp), so that an
/// epilogue activation equals nn::activate on the same values. One lane at a time with a
/// constant kind per loop, which the compiler vectorizes.
template <class R>
void activate(activation act, R* x, std::int64_t n) {
  const auto apply = [x, n](auto kind) {
    for (std::int64_t j = 0; j < n; ++j) x[j] = vactivate(decltype(kind)::value, lane1<R>{x[j]}).v;
  };
  using K = detail::eltwise_kind;
  switch (act) {
    case activation::none:
      return;
    case activation::relu:
      return apply(std::integral_constant<K, K::relu>{});
    case activation::gelu_erf:
      return apply(std::integral_constant<K, K::gelu_erf>{});
    case activation::gelu_tanh:
      return apply(std::integral_constant<K, K::gelu_tanh>{});
    case activation::silu:
      return apply(std::integral_constant<K, K::silu>{});
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
