// Registers the AVX-512 folder's kernels (this file is built with the baseline flags).
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/multigrid_kernels.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::detail {
namespace {

/// f32-vector kernels accumulate in f32 only.
bool supports_csr_i32_f32_acc(const void* problem, const char** why) {
  if (!kern::supports_index<index_type::i32>(problem, why)) return false;
  if (static_cast<const spmv_problem*>(problem)->acc == accumulation::f64) {
    *why = "accumulates in f32";
    return false;
  }
  return true;
}
bool supports_sell8(const void* problem, const char** why) {
  if (static_cast<const spmv_problem*>(problem)->chunk == 8) return true;
  *why = "needs slices of 8 rows";
  return false;
}

}  // namespace

void register_cpu_avx512_kernels(const kernel_sink& sink) {
  using namespace kern::avx512;
  const kern::variant_desc v{"avx512", backend::cpu, cpu_isa::avx512, supports_unit_stride};
  kern::add_blas1_table(sink, v, blas1_set);
#define MIXPREC_ADD(S, SN, D, DN) \
  kern::add_kernel<detail::op_id::convert>(sink, v, dtype_of<S>, dtype_of<D>, convert_##SN##_##DN);
  MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_ADD)
#undef MIXPREC_ADD

  // CSR with gathered x and SELL-8 with scalar loads of x; their places against the scalar
  // loops below are in src/implementation_lists.cpp.
  const kern::variant_desc csr_f64{"i32_gather_avx512", backend::cpu, cpu_isa::avx512,
                                   kern::supports_index<index_type::i32>};
  const kern::variant_desc csr_f32{"i32_gather_avx512", backend::cpu, cpu_isa::avx512, supports_csr_i32_f32_acc};
  const kern::variant_desc sell{"sell8_avx512", backend::cpu, cpu_isa::avx512, supports_sell8};
#define MIXPREC_ADD(T, N)                                                                                \
  kern::add_kernel<detail::op_id::spmv_csr>(sink, csr_f64, dtype_of<T>, dtype::f64, spmv_csr_##N##_f64); \
  kern::add_kernel<detail::op_id::spmv_sell>(sink, sell, dtype_of<T>, dtype::f64, spmv_sell8_##N##_f64);
  MIXPREC_FOR_EACH_FLOAT_DTYPE(MIXPREC_ADD)
#undef MIXPREC_ADD
  kern::add_kernel<detail::op_id::spmv_csr>(sink, csr_f32, dtype::f32, dtype::f32, spmv_csr_f32_f32);
  kern::add_kernel<detail::op_id::spmv_csr>(sink, csr_f32, dtype::f16, dtype::f32, spmv_csr_f16_f32);
  kern::add_kernel<detail::op_id::spmv_csr>(sink, csr_f32, dtype::bf16, dtype::f32, spmv_csr_bf16_f32);

  // The portable loops built here (FMA; F16C for f16 values).
  kern::add_spmv_table(sink, "i32_loops_avx512", "i64_loops_avx512", "loops_avx512", backend::cpu, cpu_isa::avx512,
                       spmv_loops);

  // DIA reads values and x contiguously: no indices, no gathers.
  const kern::variant_desc dia{"avx512", backend::cpu, cpu_isa::avx512, nullptr};
  kern::add_spmv_dia_table(sink, dia, spmv_dia_set);

  const kern::variant_desc st{"avx512", backend::cpu, cpu_isa::avx512, nullptr};
  const kern::variant_desc blocked{"wavefront_avx512", backend::cpu, cpu_isa::avx512, kern::supports_wavefront};
  kern::add_stencil_table(sink, st, blocked, stencil_set);

  kern::add_multigrid_table(sink, st, multigrid_set);

  const kern::variant_desc g{"avx512", backend::cpu, cpu_isa::avx512, nullptr};
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f64, dtype::f64, gemm_kernel_f64);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f32, dtype::f32, gemm_kernel_f32);
  kern::add_kernel<detail::op_id::gemm>(sink, g, dtype::f16, dtype::f32, gemm_kernel_f16);

  const kern::variant_desc q{"avx512", backend::cpu, cpu_isa::avx512, supports_unit_columns};
  kern::add_quant_set(sink, q, quant_kernels);

  // Row-wise NN ops: f32 statistics only (accumulation::f64 falls to the portable kernels).
  const kern::variant_desc nn{"avx512", backend::cpu, cpu_isa::avx512, kern::supports_f32_statistics};
  kern::add_nn_table(sink, nn, nn_kernels);
  kern::add_attention_table(sink, kern::variant_desc{"avx512", backend::cpu, cpu_isa::avx512, nullptr},
                            attention_kernels);
  kern::add_train_table(sink, kern::variant_desc{"avx512", backend::cpu, cpu_isa::avx512, nullptr}, train_kernels);
}

}  // namespace mixprec::detail
