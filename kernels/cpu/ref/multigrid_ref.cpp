// The reference multigrid kernels: the smoother's point body point by point on one thread,
// and the transfers' point bodies. The CUDA kernels run the same bodies.
#include "kernels/common/multigrid_kernels.hpp"

namespace mixprec::detail {
void register_cpu_ref_multigrid_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"ref", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_multigrid_table(sink, v, kern::multigrid_reference_table());
}
}  // namespace mixprec::detail
