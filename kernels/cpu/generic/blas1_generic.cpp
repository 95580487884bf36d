// Portable parallel kernels: the scalar loop bodies cut into chunks over the CPU threads
// (OpenMP or oneTBB), built for the baseline ISA and vectorised by the compiler. They serve
// every dtype and every stride, on any CPU.
#include "kernels/common/blas1_chunked.hpp"
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {

void register_cpu_generic_kernels(const kernel_sink& sink) {
  using parallel = kern::chunked<true>;
  const kern::variant_desc v{"generic", backend::cpu, cpu_isa::generic, nullptr};
#define MIXPREC_ADD(T, N) kern::add_blas1_set<parallel::blas1, T>(sink, v);
  MIXPREC_FOR_EACH_DTYPE(MIXPREC_ADD)
#undef MIXPREC_ADD
  kern::add_cg_update<parallel::blas1>(sink, v);
  kern::add_diagonal_ops<parallel::blas1>(sink, v);
  kern::add_multi_vector_ops<parallel::blas1>(sink, v);
  kern::add_row_dots<parallel::blas1>(sink, v);
  kern::add_dcgs2_ops<parallel::blas1>(sink, v);
#define MIXPREC_ADD(S, SN, D, DN) kern::add_convert<parallel::convert, S, D>(sink, v);
  MIXPREC_FOR_EACH_DTYPE_PAIR(MIXPREC_ADD)
#undef MIXPREC_ADD
}

}  // namespace mixprec::detail
