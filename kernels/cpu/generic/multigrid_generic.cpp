// Portable multigrid kernels (smoother, restriction, prolongation) on the CPU threads.
#include "kernels/common/multigrid_kernels.hpp"

namespace mixprec::detail {
void register_cpu_generic_multigrid_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"generic", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_multigrid_table(sink, v, kern::multigrid_table_of());
}
}  // namespace mixprec::detail
