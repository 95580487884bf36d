// The AVX512-BF16 folder's kernels as constant-initialised pointers for its registration.
#pragma once

#include "internal/registry.hpp"

namespace mixprec::kern::avx512_bf16 {
extern const detail::convert_fn convert_f32_bf16;
extern const detail::gemm_fn gemm_kernel_bf16;
extern const detail::gemm_fn gemm_kernel_int8;
extern const detail::block_matmul_fn block_matmul_vnni;
extern const detail::attention_fn attention_bf16;
extern const detail::nn_kernel_table nn_kernels;        // bf16 storage only
extern const detail::train_kernel_table train_kernels;  // the kernels that write bf16 only
}  // namespace mixprec::kern::avx512_bf16
