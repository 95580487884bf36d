// Attention on one lane at a time: the reference (one thread, one query row per tile) and
// the portable kernel (the same tiles on the context's threads).
#include "kernels/common/attention_tiles.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {
void register_cpu_attention_kernels(const kernel_sink& sink) {
  kern::add_attention_table(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr},
                            kern::attention_table_of<kern::lane1<float>, false>());
  kern::add_attention_table(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr},
                            kern::attention_table_of<kern::lane1<float>, true>());
}
}  // namespace mixprec::detail
