// Registers the AVX2 folder's kernels (this file is built with the baseline flags).
#include "kernels/common/multigrid_kernels.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::detail {

void register_cpu_avx2_kernels(const kernel_sink& sink) {
  using namespace kern::avx2;
  const kern::variant_desc v{"avx2", backend::cpu, cpu_isa::avx2, supports_unit_stride};
#define MIXPREC_ADD(S, SN, D, DN) \
  kern::add_kernel<detail::op_id::convert>(sink, v, dtype_of<S>, dtype_of<D>, convert_##SN##_##DN);
  MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_ADD)
#undef MIXPREC_ADD
  kern::add_blas1_table(sink, v, blas1_set);

  // The portable SpMV loops built with FMA and F16C.
  kern::add_spmv_table(sink, "i32_loops_avx2", "i64_loops_avx2", "loops_avx2", backend::cpu, cpu_isa::avx2, spmv_loops);
  const kern::variant_desc dia{"avx2", backend::cpu, cpu_isa::avx2, nullptr};
  kern::add_spmv_dia_table(sink, dia, spmv_dia_loops);

  // FMA GEMM for CPUs without AVX-512.
  const kern::variant_desc g{"avx2", backend::cpu, cpu_isa::avx2, nullptr};
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f64, dtype::f64, gemm_kernel_f64);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f32, dtype::f32, gemm_kernel_f32);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f16, dtype::f32, gemm_kernel_f16);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::bf16, dtype::f32, gemm_kernel_bf16);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::u8, dtype::i32, gemm_kernel_int8);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::i8, dtype::i32, gemm_kernel_int8);

  const kern::variant_desc q{"avx2", backend::cpu, cpu_isa::avx2, supports_unit_columns};
  kern::add_quant_set(sink, q, quant_kernels);

  // Stencils: the portable engine built for AVX2 + FMA.
  const kern::variant_desc st{"avx2", backend::cpu, cpu_isa::avx2, nullptr};
  const kern::variant_desc blocked{"wavefront_avx2", backend::cpu, cpu_isa::avx2, kern::supports_wavefront};
  kern::add_stencil_table(sink, st, blocked, stencil_set);
  kern::add_multigrid_table(sink, st, multigrid_set);

  // Row-wise NN ops: f32 statistics only (accumulation::f64 falls to the portable kernels).
  const kern::variant_desc nn{"avx2", backend::cpu, cpu_isa::avx2, kern::supports_f32_statistics};
  kern::add_nn_table(sink, nn, nn_kernels);
  kern::add_attention_table(sink, kern::variant_desc{"avx2", backend::cpu, cpu_isa::avx2, nullptr},
                            attention_kernels);
  kern::add_train_table(sink, kern::variant_desc{"avx2", backend::cpu, cpu_isa::avx2, nullptr}, train_kernels);
}

}  // namespace mixprec::detail
