// y = x * W^T on GGUF blocks (mixprec/block_quant.hpp) as element bodies, for the CPU's
// reference kernel and the CUDA kernels alike: an activation block quantized to Q8_0 by the
// formats' rule (src/internal/block_format.hpp), and one output as the block products of its
// weight row, each an exact integer dot product scaled by the two f16 scales and added in f32
// in block order, as the portable kernel adds them.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "internal/block_format.hpp"
#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

struct block_matmul_lanes {
  using idx = std::int64_t;

  MIXPREC_KI static idx blocks(const detail::block_matmul_args& a) { return a.k / detail::qk; }
  MIXPREC_KI static idx block_bytes(const detail::block_matmul_args& a) { return a.q4_0 ? 18 : 34; }

  /// Block b of x's row i as Q8_0: its scale (the stored f16, as f32) to *d and its 32
  /// integers to q.
  MIXPREC_KI static void quantize_x_block(const detail::block_matmul_args& a, idx i, idx b, float* d, std::int8_t* q) {
    std::uint8_t block[34];
    detail::quantize_q8_0_block<folder_tag>(a.x + i * a.ldx + b * detail::qk, block);
    *d = detail::block_scale<folder_tag>(block);
    detail::block_ints_q8_0<folder_tag>(block, q);
  }

  /// y(i, j) from x's row i quantized (dx: its blocks' scales, qx: its integers) and weight
  /// row j.
  MIXPREC_KI static float output(const detail::block_matmul_args& a, const float* dx, const std::int8_t* qx, idx j) {
    const std::uint8_t* row = a.w + j * blocks(a) * block_bytes(a);
    float acc = 0.0f;
    for (idx b = 0; b < blocks(a); ++b) {
      const std::uint8_t* block = row + b * block_bytes(a);
      std::int8_t qw[detail::qk];
      if (a.q4_0)
        detail::block_ints_q4_0<folder_tag>(block, qw);
      else
        detail::block_ints_q8_0<folder_tag>(block, qw);
      std::int32_t dot = 0;
      for (int t = 0; t < detail::qk; ++t) dot += std::int32_t(qx[b * detail::qk + t]) * std::int32_t(qw[t]);
      acc += dx[b] * detail::block_scale<folder_tag>(block) * float(dot);
    }
    return acc;
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
