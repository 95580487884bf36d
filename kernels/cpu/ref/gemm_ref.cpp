// Reference GEMM kernels and the B packers (packing once is not worth an ISA variant).
#include "kernels/common/gemm_ref_kernel.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {

void register_cpu_ref_gemm_kernels(const kernel_sink& sink) {
  using namespace kern;
  const variant_desc v{"ref", backend::cpu, cpu_isa::generic, nullptr};
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f64, dtype::f64, &gemm_reference<gemm_f64>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f32, dtype::f32, &gemm_reference<gemm_f32>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f16, dtype::f32, &gemm_reference<gemm_f16>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::bf16, dtype::f32, &gemm_reference<gemm_bf16>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::u8, dtype::i32, &gemm_reference<gemm_int8>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::i8, dtype::i32, &gemm_reference<gemm_int8>::run);
  add_kernel<detail::op_id::gemm_pack>(sink, v, dtype::f64, dtype::f64, &gemm_reference<gemm_f64>::pack<double>);
  add_kernel<detail::op_id::gemm_pack>(sink, v, dtype::f32, dtype::f32, &gemm_reference<gemm_f32>::pack<float>);
  add_kernel<detail::op_id::gemm_pack>(sink, v, dtype::f16, dtype::f16, &gemm_reference<gemm_f16>::pack<half>);
  add_kernel<detail::op_id::gemm_pack>(sink, v, dtype::bf16, dtype::bf16, &gemm_reference<gemm_bf16>::pack<bfloat16>);
  add_kernel<detail::op_id::gemm_pack>(sink, v, dtype::i8, dtype::i8, &gemm_reference<gemm_int8>::pack<std::int8_t>);
}

}  // namespace mixprec::detail
