// Training kernels that write bf16 (bf16 gradients, and the optimizers' bf16 model copy):
// the AVX-512 folder's bodies (kernels/common/train_rows.hpp on 16 f32 lanes), built here so
// that results round to bf16 by vcvtneps2bf16 (avx512::ps_to_bf16_bits at this folder's
// flags) instead of eight integer operations.
#include "kernels/common/train_rows.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {

constexpr detail::train_kernel_table train_kernels = train_bf16_table_of<avx512::f32x16, true>();

}  // namespace mixprec::kern::avx512_bf16
