// Reference SpMV (CSR and SELL): one thread, row by row in column order.
#include "kernels/common/spmv_chunked.hpp"

namespace mixprec::detail {
void register_cpu_ref_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_set<kern::spmv_chunked<false>>(sink, "i32_ref", "i64_ref", "ref", backend::cpu, cpu_isa::generic,
                                                priority_ref);
}
}  // namespace mixprec::detail
