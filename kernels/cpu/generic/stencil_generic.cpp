// Portable stencil kernels: cache-blocked sweeps and the wavefront multi-sweep on the CPU
// threads, rows widened by scalar conversion.
#include "kernels/common/stencil_kernels.hpp"

namespace mixprec::detail {
void register_cpu_generic_stencil_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"generic", backend::cpu, cpu_isa::generic, nullptr};
  const kern::variant_desc blocked{"wavefront_generic", backend::cpu, cpu_isa::generic, kern::supports_wavefront};
  kern::add_stencil_table(sink, v, blocked, kern::stencil_table_of<kern::stencil_kernels<kern::scalar_rows>>());
}
}  // namespace mixprec::detail
