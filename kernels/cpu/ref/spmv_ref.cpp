// Reference SpMV (CSR, SELL and DIA): one thread, row by row in column order.
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"

namespace mixprec::detail {
void register_cpu_ref_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_table(sink, "i32_ref", "i64_ref", "ref", backend::cpu, cpu_isa::generic,
                       kern::spmv_table_of<kern::spmv_chunked<false>>());
  const kern::variant_desc dia{"ref", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_spmv_dia_table(sink, dia, kern::spmv_dia_table_of<kern::spmv_dia_chunked<false>>());
}
}  // namespace mixprec::detail
