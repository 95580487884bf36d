// Attention (mixprec/attention.hpp) on 16 f32 lanes: the tiles of kernels/common/attention_tiles.hpp, a
// tile's query rows in the lanes.
#include "kernels/common/attention_tiles.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {

constexpr detail::attention_kernel_table attention_kernels = attention_table_of<f32x16, true>();

}  // namespace mixprec::kern::avx512
