// Training kernels (mixprec/train.hpp) on 16 f32 lanes: the shared bodies of
// kernels/common/train_rows.hpp, f16/bf16 rows widened and rounded in registers.
#include "kernels/common/train_rows.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {

constexpr detail::train_kernel_table train_kernels = train_table_of<f32x16, true>();

}  // namespace mixprec::kern::avx512
