// Portable parallel SpMV: rows cut into chunks of equal nonzeros-plus-rows on the CPU
// threads (CSR), or slices cut evenly (SELL).
#include "kernels/common/spmv_chunked.hpp"

namespace mixprec::detail {
void register_cpu_generic_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_set<kern::spmv_chunked<true>>(sink, "i32_generic", "i64_generic", "generic", backend::cpu,
                                               cpu_isa::generic, priority_portable);
}
}  // namespace mixprec::detail
