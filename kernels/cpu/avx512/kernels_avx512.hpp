// The AVX-512 folder's kernels as plain function-pointer tables, so that the registration
// file can be compiled without AVX-512 flags. The tables are constant-initialised: no code
// of this folder runs before dispatch has checked the CPU.
#pragma once

#include "internal/registry.hpp"
#include "kernels/common/dtype_list.hpp"

namespace mixprec::kern::avx512 {

/// Unit-stride BLAS-1 (blas1_avx512.cpp).
extern const detail::blas1_kernel_table blas1_set;
/// Conversions between every pair of float dtypes (blas1_avx512.cpp).
#define MIXPREC_DECLARE(S, SN, D, DN) extern const detail::convert_fn convert_##SN##_##DN;
MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_DECLARE)
#undef MIXPREC_DECLARE

#define MIXPREC_DECLARE(T, N)                          \
  extern const detail::spmv_csr_fn spmv_csr_##N##_f64; \
  extern const detail::spmv_sell_fn spmv_sell8_##N##_f64;
MIXPREC_FOR_EACH_FLOAT_DTYPE(MIXPREC_DECLARE)
#undef MIXPREC_DECLARE
extern const detail::spmv_csr_fn spmv_csr_f32_f32;
/// The portable CSR/SELL/SpMM loops built with this folder's flags (FMA, F16C).
extern const detail::spmv_kernel_table spmv_loops;

/// DIA SpMV (spmv_dia_avx512.cpp).
extern const detail::spmv_dia_kernel_table spmv_dia_set;

extern const detail::stencil_kernel_table stencil_set;
extern const detail::multigrid_kernel_table multigrid_set;
extern const detail::spmv_csr_fn spmv_csr_f16_f32;
extern const detail::spmv_csr_fn spmv_csr_bf16_f32;

/// quantize: f32, bf16, f16 -> i8, u8 (in that order); dequantize: i8, u8 -> f32.
extern const detail::quant_kernel_table quant_kernels;
extern const detail::nn_kernel_table nn_kernels;
extern const detail::attention_kernel_table attention_kernels;
extern const detail::train_kernel_table train_kernels;

extern const detail::gemm_fn gemm_kernel_f64;
extern const detail::gemm_fn gemm_kernel_f32;
extern const detail::gemm_fn gemm_kernel_f16;

}  // namespace mixprec::kern::avx512
