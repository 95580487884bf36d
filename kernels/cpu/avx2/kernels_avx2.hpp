// The AVX2 folder's kernels as constant-initialised pointers for its registration file.
#pragma once

#include "internal/registry.hpp"

namespace mixprec::kern::avx2 {

// Every ordered pair of distinct float dtypes.
#define MIXPREC_AVX2_CONVERT_PAIRS(X)                 \
  X(double, f64, float, f32)                          \
  X(double, f64, ::mixprec::half, f16)                \
  X(double, f64, ::mixprec::bfloat16, bf16)           \
  X(float, f32, double, f64)                          \
  X(float, f32, ::mixprec::half, f16)                 \
  X(float, f32, ::mixprec::bfloat16, bf16)            \
  X(::mixprec::half, f16, double, f64)                \
  X(::mixprec::half, f16, float, f32)                 \
  X(::mixprec::half, f16, ::mixprec::bfloat16, bf16)  \
  X(::mixprec::bfloat16, bf16, double, f64)           \
  X(::mixprec::bfloat16, bf16, float, f32)            \
  X(::mixprec::bfloat16, bf16, ::mixprec::half, f16)

#define MIXPREC_DECLARE(S, SN, D, DN) extern const detail::convert_fn convert_##SN##_##DN;
MIXPREC_AVX2_CONVERT_PAIRS(MIXPREC_DECLARE)
#undef MIXPREC_DECLARE

/// GEMM for the f64, f32, f16, bf16 and int8 families (gemm_avx2.cpp).
extern const detail::gemm_fn gemm_kernel_f64;
extern const detail::gemm_fn gemm_kernel_f32;
extern const detail::gemm_fn gemm_kernel_f16;
extern const detail::gemm_fn gemm_kernel_bf16;
extern const detail::gemm_fn gemm_kernel_int8;

extern const detail::quant_kernel_table quant_kernels;

/// Unit-stride BLAS-1 (blas1_avx2.cpp).
extern const detail::blas1_kernel_table blas1_set;

/// The portable CSR/SELL/SpMM loops built with FMA and F16C (spmv_avx2.cpp).
extern const detail::spmv_kernel_table spmv_loops;
/// The portable DIA loops built with AVX2, FMA and F16C (spmv_avx2.cpp).
extern const detail::spmv_dia_kernel_table spmv_dia_loops;

/// Multigrid smoother and transfers (multigrid_avx2.cpp).
extern const detail::multigrid_kernel_table multigrid_set;

/// Halo fill, stencil apply/Jacobi and the time-blocked sweeps (stencil_avx2.cpp).
extern const detail::stencil_kernel_table stencil_set;

}  // namespace mixprec::kern::avx2
