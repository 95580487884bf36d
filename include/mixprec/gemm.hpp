// mixprec/gemm.hpp — dense matrix multiply in every precision, with fused epilogues.
//
//   C = epilogue( alpha * op(A) * op(B) + beta * C )
//
//   // row-major f32, C (m x n) = A (m x k) * B (k x n)
//   mixprec::gemm(mixprec::trans::no, mixprec::trans::no, 1.0,
//                 mixprec::make_view(a, {m, k}), mixprec::make_view(b, {k, n}), 0.0,
//                 mixprec::make_view(c, {m, n}));
//
//   // column-major, BLAS style (lda >= m, ...): shapes and strides say the layout
//   mixprec::gemm(mixprec::layout::col_major, mixprec::trans::yes, mixprec::trans::no,
//                 m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
//
//   // an inference layer: weights packed once, int8 activations, f32 out, bias + GELU
//   auto w = mixprec::packed_matrix::pack(make_view(weights_s8, {k, n}));
//   mixprec::gemm_options o;
//   o.a_zero_point = 128;                       // u8 activations with zero point 128
//   o.epilogue.scale = make_view(dequant, n);   // per output channel
//   o.epilogue.bias = make_view(bias, n);
//   o.epilogue.act = mixprec::activation::gelu_erf;
//   mixprec::gemm(mixprec::trans::no, act_scale, make_view(x_u8, {m, k}), w, 0.0,
//                 make_view(y_f32, {m, n}), o);
//
// Operands are views (mixprec/view.hpp): rank 2 (rows x cols) with any strides, so row- and
// column-major storage, leading dimensions and sub-matrices need no copy; rank 3
// (batch x rows x cols) for strided-batched GEMM, where A or B may be rank 2 (or have batch
// stride 0) to share one matrix across the batch.
//
// Numerics contract (what each dtype family accumulates in, and what the tests bound):
// - f64 x f64 -> f64: f64 FMA. |C - C_exact| <= k * u64 * |alpha| * |A||B| (+ beta term).
// - f32 x f32 -> f32: f32 FMA, the same bound with u32 = 2^-24.
// - bf16 x bf16 -> f32 accumulate, C f32 or bf16: products of bf16 are exact in f32, sums
//   round in f32: k * u32 * |A||B|; a bf16 C adds one rounding (2^-8 relative). The
//   AVX512-BF16 dot instruction treats bf16 subnormals (|x| < 2^-126) as zero and flushes f32
//   subnormal results, an extra absolute error of at most k * 2^-126 * max|B|.
// - f16 x f16 -> f32 accumulate, C f32 or f16: widening is exact, sums round in f32 (as
//   bf16). Nothing faster but less accurate happens unless asked: see f16_mode and f32_mode.
// - u8/s8 x s8 -> s32: exact (bit-identical to a 64-bit integer reference) as long as the
//   result cannot overflow s32: k * max|a - a_zp| * max|b - b_zp| < 2^31, checked up front
//   from the dtypes and zero points (k <= 65793 for u8 x s8 without zero points). Output s32
//   (alpha = 1, beta 0 or 1 only; beta = 1 adds in 64 bits and saturates), f32 (dequantized:
//   alpha * scale[j] * s32 in f32), or s8/u8 (requantized: the f32 value x, after the
//   epilogue, becomes saturate(round_half_even(x / out_scale) + out_zero_point)).
// - beta == 0: C is not read (NaN or Inf in C does not propagate). NaN and Inf in A or B
//   propagate as IEEE arithmetic says, through every epilogue.
//
// The epilogue is applied in the accumulation precision (f64 for f64 GEMM, f32 otherwise;
// f32 activations use exp and erfc approximations good to a few ulp, f64 ones libm),
// in this order, while the block of C is still in cache:
//   x = alpha * (op(A) op(B))[i][j] * scale[j] + bias[j] + beta * C[i][j]
//   x = act(x);  x = x + residual[i][j];  C[i][j] = convert(x)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class trans : std::uint8_t { no, yes };
enum class layout : std::uint8_t { row_major, col_major };

/// Elementwise activations of the epilogue. relu(NaN) is NaN.
enum class activation : std::uint8_t {
  none,
  relu,       // max(x, 0)
  gelu_erf,   // x/2 * (1 + erf(x/sqrt 2))
  gelu_tanh,  // x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  silu,       // x / (1 + exp(-x))
};
const char* name_of(activation a);

/// How an f16 x f16 GEMM may trade accuracy for speed (as oneDNN's fpmath_mode).
enum class f16_mode : std::uint8_t {
  exact_f32,          // default: widen to f32 exactly, accumulate in f32
  allow_bf16_inputs,  // round f16 inputs to bf16 (3 mantissa bits lost: relative error 2^-8
                      // per input) to run on bf16 units (AMX, AVX512-BF16)
};

/// How an f32 x f32 GEMM may trade accuracy for speed (as cuBLAS's math modes).
enum class f32_mode : std::uint8_t {
  exact,       // default: f32 products and sums, the bound above
  allow_tf32,  // inputs may be rounded to TF32 (10 mantissa bits: relative error 2^-11 per
               // input) to run on tensor cores (CUDA); CPU kernels compute exactly
};

/// What happens to each result before it is stored. Empty views are "not present".
struct gemm_epilogue {
  const_view scale;  // n values (f32; f64 for f64 GEMM): per output channel j
  const_view bias;   // n values, same dtype as scale
  activation act = activation::none;
  const_view residual;     // m x n (or batch x m x n), C's dtype: added after the activation
  float out_scale = 1.0f;  // s8/u8 C only: C = sat(rne(x / out_scale) + out_zero_point)
  std::int32_t out_zero_point = 0;
};

struct gemm_options {
  gemm_epilogue epilogue;
  std::int32_t a_zero_point = 0;  // integer GEMM: A's values are a - a_zero_point
  std::int32_t b_zero_point = 0;  // integer GEMM: B's values are b - b_zero_point
  f16_mode f16 = f16_mode::exact_f32;
  f32_mode f32 = f32_mode::exact;
};

/// B packed once into the layout the GEMM kernels of its memory stream (as inference
/// engines keep their weights). It carries its dtype, shape and layout; a GEMM whose A dtype or k does not
/// match is refused with a message naming both. Immutable once built; share it freely.
namespace detail {
struct packed_matrix_access;  // the library's own access to the packed panels
}

class packed_matrix {
 public:
  /// Packs op(b) (k x n; rank 2, any strides) in b's context. f64, f32, f16, bf16, s8.
  static packed_matrix pack(const_view b, trans tb = trans::no);

  packed_matrix() = default;
  bool empty() const { return !impl_; }
  dtype type() const;
  std::int64_t rows() const;  // k
  std::int64_t cols() const;  // n
  /// The layout: "f32:nr32:kg1" in CPU memory (dtype, panel width, k-grouping), or
  /// "f32:columns:ld4096" in GPU memory (dtype, column by column with this leading dimension).
  std::string layout_name() const;
  std::size_t bytes() const;
  const context& ctx() const;

 private:
  struct impl;
  friend struct detail::packed_matrix_access;
  std::shared_ptr<const impl> impl_;
};

/// C = epilogue(alpha op(A) op(B) + beta C) on views (rank 2 or 3). Validates everything
/// first; on error throws mixprec::error and C is untouched.
void gemm(trans ta, trans tb, double alpha, const_view a, const_view b, double beta, view c,
          const gemm_options& options = {});

/// The same with B pre-packed (packed_matrix::pack). A may be rank 3 (a batch sharing B).
void gemm(trans ta, double alpha, const_view a, const packed_matrix& b, double beta, view c,
          const gemm_options& options = {});

namespace detail {
/// Throws invalid_argument naming `what` ("lda") when ld < minimum (and minimum > 0).
void check_leading_dimension(const char* what, std::int64_t ld, std::int64_t minimum);

/// A rank-2 view of a BLAS-style matrix: rows x cols stored with leading dimension ld.
template <class T>
auto blas_matrix(T* p, layout l, std::int64_t rows, std::int64_t cols, std::int64_t ld, const context& ctx) {
  using V = std::conditional_t<std::is_const_v<T>, const_view, view>;
  if (l == layout::row_major) return V(p, dtype_of<std::remove_const_t<T>>, {rows, cols}, {ld, 1}, ctx);
  return V(p, dtype_of<std::remove_const_t<T>>, {rows, cols}, {1, ld}, ctx);
}
}  // namespace detail

/// BLAS-style GEMM on raw pointers: op(A) is m x k, op(B) k x n, C m x n, all stored in
/// `l` order with leading dimensions lda, ldb, ldc (checked against the shapes).
template <class TA, class TB, class TC>
void gemm(layout l, trans ta, trans tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const TA* a,
          std::int64_t lda, const TB* b, std::int64_t ldb, double beta, TC* c, std::int64_t ldc,
          const gemm_options& options = {}, const context& ctx = context::cpu()) {
  const std::int64_t ar = ta == trans::no ? m : k, ac = ta == trans::no ? k : m;
  const std::int64_t br = tb == trans::no ? k : n, bc = tb == trans::no ? n : k;
  const bool row = l == layout::row_major;
  detail::check_leading_dimension("lda", lda, row ? ac : ar);
  detail::check_leading_dimension("ldb", ldb, row ? bc : br);
  detail::check_leading_dimension("ldc", ldc, row ? n : m);
  gemm(ta, tb, alpha, detail::blas_matrix(a, l, ar, ac, lda, ctx), detail::blas_matrix(b, l, br, bc, ldb, ctx), beta,
       detail::blas_matrix(c, l, m, n, ldc, ctx), options);
}

}  // namespace mixprec

MIXPREC_PUBLIC_END
