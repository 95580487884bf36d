// Attention (mixprec/attention.hpp) on 8 f32 lanes: the tiles of kernels/common/attention_tiles.hpp, a
// tile's query rows in the lanes.
#include "kernels/common/attention_tiles.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {

constexpr detail::attention_kernel_table attention_kernels = attention_table_of<f32x8, true>();

}  // namespace mixprec::kern::avx2
