// Portable parallel SpMV: rows cut into chunks of equal nonzeros-plus-rows on the CPU
// threads (CSR), slices cut evenly (SELL), rows cut evenly (DIA, where every row costs the
// same).
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"

namespace mixprec::detail {
void register_cpu_generic_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_table(sink, "i32_generic", "i64_generic", "generic", backend::cpu, cpu_isa::generic,
                       kern::spmv_table_of<kern::spmv_chunked<true>>());
  const kern::variant_desc dia{"generic", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_spmv_dia_table(sink, dia, kern::spmv_dia_table_of<kern::spmv_dia_chunked<true>>());
}
}  // namespace mixprec::detail
