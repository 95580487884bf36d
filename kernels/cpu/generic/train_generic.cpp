// Training kernels on one lane at a time: the reference (one thread) and the portable
// kernels (rows, or flat element ranges, split among threads).
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/train_rows.hpp"

namespace mixprec::detail {
void register_cpu_train_kernels(const kernel_sink& sink) {
  kern::add_train_table(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr},
                        kern::train_table_of<kern::lane1<float>, false>());
  kern::add_train_table(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr},
                        kern::train_table_of<kern::lane1<float>, true>());
}
}  // namespace mixprec::detail
