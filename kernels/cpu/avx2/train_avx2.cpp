// Training kernels (mixprec/train.hpp) on 8 f32 lanes: the shared bodies of
// kernels/common/train_rows.hpp, f16/bf16 rows widened and rounded in registers.
#include "kernels/common/train_rows.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {

constexpr detail::train_kernel_table train_kernels = train_table_of<f32x8, true>();

}  // namespace mixprec::kern::avx2
