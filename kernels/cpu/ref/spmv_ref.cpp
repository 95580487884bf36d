// Reference SpMV (CSR, SELL and DIA): one thread, row by row in column order; SELL slot by
// slot through the body the CUDA kernel runs a thread per slot (sell_slot), so the tests
// check it on every machine.
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"

namespace mixprec::detail {
namespace {

template <class V, class X>
void sell_by_slots(const exec_args&, const sell_args& a, double alpha, const void* xv, double beta, void* yv,
                   accumulation acc) {
  auto slots = [&](auto acc_tag) {
    using A = decltype(acc_tag);
    for (std::int64_t s = 0; s < a.slices; ++s)
      for (int lane = 0; lane < a.chunk; ++lane)
        kern::sell_slot<V, X, A>(a, s, lane, A(alpha), static_cast<const X*>(xv), A(beta), static_cast<X*>(yv));
  };
  if (acc == accumulation::f64 && !std::is_same_v<X, double>)
    slots(double{});
  else
    slots(kern::spmv_acc_t<V, X>{});
}

template <class V>
void use_slots(spmv_kernel_table::entries (&row)[2]) {
  row[0].sell = &sell_by_slots<V, double>;
  row[1].sell = &sell_by_slots<V, float>;
}

spmv_kernel_table reference_table() {
  spmv_kernel_table t = kern::spmv_table_of<kern::spmv_chunked<false>>();
  use_slots<double>(t.of[0]);
  use_slots<float>(t.of[1]);
  use_slots<half>(t.of[2]);
  use_slots<bfloat16>(t.of[3]);
  return t;
}

}  // namespace

void register_cpu_ref_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_table(sink, "i32_ref", "i64_ref", "ref", backend::cpu, cpu_isa::generic, reference_table());
  const kern::variant_desc dia{"ref", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_spmv_dia_table(sink, dia, kern::spmv_dia_table_of<kern::spmv_dia_chunked<false>>());
}
}  // namespace mixprec::detail
