// Portable kernels for sparse triangular solves and Gauss-Seidel sweeps, by independent rows.
#include "kernels/common/csr_rows_solve.hpp"

namespace mixprec::detail {
void register_cpu_generic_sparse_solve_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"generic", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_csr_rows_solve_set(sink, v);
}
}  // namespace mixprec::detail
