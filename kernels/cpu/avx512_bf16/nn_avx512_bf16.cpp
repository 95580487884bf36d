// Row-wise NN ops with bf16 storage: the AVX-512 folder's bodies (kernels/common/nn_rows.hpp
// on 16 f32 lanes), built here so that results round to bf16 by vcvtneps2bf16
// (avx512::ps_to_bf16_bits at this folder's flags) instead of eight integer operations: that
// rounding is a good part of a compute-bound bf16 activation. f32 and f16 storage keep the
// AVX-512 folder's kernels.
#include "kernels/common/nn_rows.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {

constexpr detail::nn_kernel_table nn_kernels = nn_bf16_table_of<avx512::f32x16, true>();

}  // namespace mixprec::kern::avx512_bf16
