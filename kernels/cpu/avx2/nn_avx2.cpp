// Row-wise NN kernels (eltwise, softmax, norm) on 8 f32 lanes, for CPUs without AVX-512:
// the shared bodies of kernels/common/nn_rows.hpp, f16 rows through F16C.
#include "kernels/common/nn_rows.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {

constexpr detail::nn_kernel_table nn_kernels = nn_table_of<f32x8, true>();

}  // namespace mixprec::kern::avx2
