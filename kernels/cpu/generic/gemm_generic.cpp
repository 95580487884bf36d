// Portable GEMM kernels: the shared driver with the portable microkernel, for CPUs (or
// builds) without the ISA folders.
#include "kernels/common/gemm_driver.hpp"
#include "kernels/common/gemm_portable_micro.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {

void register_cpu_generic_gemm_kernels(const kernel_sink& sink) {
  using namespace kern;
  const variant_desc v{"generic", backend::cpu, cpu_isa::generic, nullptr};
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f64, dtype::f64,
                                  &gemm_driver<gemm_f64, gemm_portable_micro<gemm_f64>>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f32, dtype::f32,
                                  &gemm_driver<gemm_f32, gemm_portable_micro<gemm_f32>>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::f16, dtype::f32,
                                  &gemm_driver<gemm_f16, gemm_portable_micro<gemm_f16>>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::bf16, dtype::f32,
                                  &gemm_driver<gemm_bf16, gemm_portable_micro<gemm_bf16>>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::u8, dtype::i32,
                                  &gemm_driver<gemm_int8, gemm_portable_micro<gemm_int8>>::run);
  add_kernel<detail::op_id::gemm>(sink, v, dtype::i8, dtype::i32,
                                  &gemm_driver<gemm_int8, gemm_portable_micro<gemm_int8>>::run);
}

}  // namespace mixprec::detail
