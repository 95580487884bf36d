// y = x * W^T with W in GGUF's Q8_0 / Q4_0 blocks, portable: x's rows quantized to Q8_0
// blocks once per call, then per weight row and x row the exact integer dot product of each
// block pair, scaled by the two f16 scales and summed in f32 in block order. The reference
// runs on one thread, output by output through the bodies the CUDA kernels run
// (block_matmul_lanes.hpp); the portable kernel splits the weight rows among threads (each
// weight row is read once for all of x's rows).
#include <vector>

#include "internal/block_format.hpp"
#include "internal/parallel.hpp"
#include "kernels/common/block_matmul_lanes.hpp"
#include "kernels/common/isa_namespace.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::kern {
namespace {

using idx = std::int64_t;

/// x's rows as Q8_0 blocks: scales (m x k/32) and integers (m x k).
struct quantized_rows {
  std::vector<float> d;
  std::vector<std::int8_t> q;
};

quantized_rows quantize_rows(const detail::block_matmul_args& a) {
  const idx blocks = a.k / detail::qk;
  quantized_rows r{std::vector<float>(std::size_t(a.m * blocks)), std::vector<std::int8_t>(std::size_t(a.m * a.k))};
  std::uint8_t block[34];
  for (idx i = 0; i < a.m; ++i)
    for (idx b = 0; b < blocks; ++b) {
      detail::quantize_q8_0_block<folder_tag>(a.x + i * a.ldx + b * detail::qk, block);
      r.d[std::size_t(i * blocks + b)] = detail::block_scale<folder_tag>(block);
      detail::block_ints_q8_0<folder_tag>(block, r.q.data() + i * a.k + b * detail::qk);
    }
  return r;
}

void block_matmul(const detail::exec_args& ex, const detail::block_matmul_args& a) {
  const idx blocks = a.k / detail::qk;
  const std::size_t row_bytes = std::size_t(blocks) * (a.q4_0 ? 18 : 34);
  const quantized_rows xq = quantize_rows(a);
  const int chunks = detail::chunk_count(a.n * a.k, ex.threads, idx(1) << 16);
  detail::parallel_chunks(chunks, [&](int c) {
    idx j0, j1;
    detail::chunk_range(a.n, chunks, c, 1, &j0, &j1);
    std::vector<float> dw(static_cast<std::size_t>(blocks));
    std::vector<std::int8_t> qw(static_cast<std::size_t>(a.k));
    for (idx j = j0; j < j1; ++j) {
      const std::uint8_t* row = a.w + std::size_t(j) * row_bytes;
      for (idx b = 0; b < blocks; ++b) {
        const std::uint8_t* block = row + std::size_t(b) * (a.q4_0 ? 18 : 34);
        dw[std::size_t(b)] = detail::block_scale<folder_tag>(block);
        if (a.q4_0)
          detail::block_ints_q4_0<folder_tag>(block, qw.data() + b * detail::qk);
        else
          detail::block_ints_q8_0<folder_tag>(block, qw.data() + b * detail::qk);
      }
      for (idx i = 0; i < a.m; ++i) {
        const std::int8_t* qx = xq.q.data() + i * a.k;
        const float* dx = xq.d.data() + i * blocks;
        float acc = 0.0f;
        for (idx b = 0; b < blocks; ++b) {
          std::int32_t dot = 0;
          for (int t = 0; t < detail::qk; ++t)
            dot += std::int32_t(qx[b * detail::qk + t]) * std::int32_t(qw[std::size_t(b * detail::qk + t)]);
          acc += dx[b] * dw[std::size_t(b)] * float(dot);
        }
        a.y[i * a.ldy + j] = acc;
      }
    }
  });
}

/// The reference: x's blocks quantized, then each output, by the shared bodies.
void block_matmul_reference(const detail::exec_args&, const detail::block_matmul_args& a) {
  using B = block_matmul_lanes;
  const idx blocks = B::blocks(a);
  std::vector<float> dx(std::size_t(a.m * blocks));
  std::vector<std::int8_t> qx(std::size_t(a.m * a.k));
  for (idx i = 0; i < a.m; ++i)
    for (idx b = 0; b < blocks; ++b)
      B::quantize_x_block(a, i, b, &dx[std::size_t(i * blocks + b)], &qx[std::size_t(i * a.k + b * detail::qk)]);
  for (idx i = 0; i < a.m; ++i)
    for (idx j = 0; j < a.n; ++j)
      a.y[i * a.ldy + j] = B::output(a, &dx[std::size_t(i * blocks)], &qx[std::size_t(i * a.k)], j);
}

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_block_matmul_kernels(const kernel_sink& sink) {
  kern::add_kernel<op_id::block_matmul>(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr},
                                        dtype::f32, dtype::f32, &kern::block_matmul_reference);
  kern::add_kernel<op_id::block_matmul>(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr},
                                        dtype::f32, dtype::f32, &kern::block_matmul);
}
}  // namespace mixprec::detail
