// Registers the AVX-512 folder's kernels (this file is built with the baseline flags).
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::detail {

void register_cpu_avx512_kernels(const kernel_sink& sink) {
  using namespace kern::avx512;
  const kern::variant_desc v{"avx512", backend::cpu, cpu_isa::avx512,
                             priority_isa_base + int(cpu_isa::avx512), supports_unit_stride};
#define MIXPREC_ADD(T, N)                                                        \
  {                                                                              \
    const dtype t = dtype_of<T>;                                                 \
    kern::add_entry(sink, v, op_id::fill, t, t, erase(blas1_##N.fill));          \
    kern::add_entry(sink, v, op_id::axpy, t, t, erase(blas1_##N.axpy));          \
    kern::add_entry(sink, v, op_id::scal, t, t, erase(blas1_##N.scal));          \
    kern::add_entry(sink, v, op_id::dot, t, t, erase(blas1_##N.dot));            \
    kern::add_entry(sink, v, op_id::sumsq, t, t, erase(blas1_##N.sumsq));        \
    kern::add_entry(sink, v, op_id::asum, t, t, erase(blas1_##N.asum));          \
    kern::add_entry(sink, v, op_id::amax, t, t, erase(blas1_##N.amax));          \
  }
  MIXPREC_AVX512_BLAS1_TYPES(MIXPREC_ADD)
#undef MIXPREC_ADD
#define MIXPREC_ADD(S, SN, D, DN) \
  kern::add_entry(sink, v, op_id::convert, dtype_of<S>, dtype_of<D>, erase(convert_##SN##_##DN));
  MIXPREC_AVX512_CONVERT_PAIRS(MIXPREC_ADD)
#undef MIXPREC_ADD
}

}  // namespace mixprec::detail
