// The AVX2 folder's kernels as constant-initialised pointers for its registration file.
#pragma once

#include "internal/registry.hpp"
#include "kernels/common/dtype_list.hpp"

namespace mixprec::kern::avx2 {

/// Conversions between every pair of float dtypes (convert_avx2.cpp).
#define MIXPREC_DECLARE(S, SN, D, DN) extern const detail::convert_fn convert_##SN##_##DN;
MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_DECLARE)
#undef MIXPREC_DECLARE

/// GEMM for the f64, f32, f16, bf16 and int8 families (gemm_avx2.cpp).
extern const detail::gemm_fn gemm_kernel_f64;
extern const detail::gemm_fn gemm_kernel_f32;
extern const detail::gemm_fn gemm_kernel_f16;
extern const detail::gemm_fn gemm_kernel_bf16;
extern const detail::gemm_fn gemm_kernel_int8;

extern const detail::quant_kernel_table quant_kernels;
extern const detail::nn_kernel_table nn_kernels;
extern const detail::attention_kernel_table attention_kernels;
extern const detail::train_kernel_table train_kernels;

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
