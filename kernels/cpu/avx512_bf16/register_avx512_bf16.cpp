// Registers the AVX512-BF16 folder's kernels (this file is built with the baseline flags).
#include "kernels/common/register_helpers.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::detail {

void register_cpu_avx512_bf16_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"avx512_bf16", backend::cpu, cpu_isa::avx512_bf16, supports_unit_stride};
  kern::add_kernel<detail::op_id::convert>(sink, v, dtype::f32, dtype::bf16, kern::avx512_bf16::convert_f32_bf16);
  const kern::variant_desc g{"avx512_bf16", backend::cpu, cpu_isa::avx512_bf16, nullptr};
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::bf16, dtype::f32, kern::avx512_bf16::gemm_kernel_bf16);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::u8, dtype::i32, kern::avx512_bf16::gemm_kernel_int8);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::i8, dtype::i32, kern::avx512_bf16::gemm_kernel_int8);
  kern::add_kernel<detail::op_id::block_matmul>(sink, g, dtype::f32, dtype::f32, kern::avx512_bf16::block_matmul_vnni);
  kern::add_kernel<detail::op_id::attention>(sink, g, dtype::bf16, dtype::bf16, kern::avx512_bf16::attention_bf16);
  // bf16 results rounded by vcvtneps2bf16; f32 and f16 storage stay with the AVX-512 folder.
  const kern::variant_desc nn{"avx512_bf16", backend::cpu, cpu_isa::avx512_bf16, kern::supports_f32_statistics};
  kern::add_nn_table(sink, nn, kern::avx512_bf16::nn_kernels);
  kern::add_train_table(sink, g, kern::avx512_bf16::train_kernels);
}

}  // namespace mixprec::detail
