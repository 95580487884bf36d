// Reference SpMV (CSR, SELL and DIA): one thread, row by row in column order; SELL slot by
// slot and SpMM entry by entry through the bodies the CUDA kernels run a thread per slot or
// entry (sell_slot, csr_row_sum_strided), so the tests check them on every machine.
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

/// SpMM entry by entry through the strided row sum the CUDA SpMM runs a thread per entry
/// (csr_row_sum_strided), in the reference's single-sum order: each column equals the
/// reference SpMV of it.
template <class V, class I, class X>
void spmm_by_entries(const exec_args&, const csr_args& a, std::int64_t k, double alpha, const void* xv,
                     std::int64_t ldx, double beta, void* yv, std::int64_t ldy, accumulation acc) {
  auto entries = [&](auto acc_tag) {
    using A = decltype(acc_tag);
    const I* rp = static_cast<const I*>(a.row_ptr);
    const I* ci = static_cast<const I*>(a.col_idx);
    const V* v = static_cast<const V*>(a.values);
    const X* x = static_cast<const X*>(xv);
    X* y = static_cast<X*>(yv);
    for (std::int64_t i = 0; i < a.rows; ++i)
      for (std::int64_t j = 0; j < k; ++j)
        kern::spmv_store(y + i * ldy, j,
                         kern::csr_row_sum_strided<1, A>(v + rp[i], ci + rp[i], I(rp[i + 1] - rp[i]), x + j, ldx),
                         A(alpha), A(beta));
  };
  if (acc == accumulation::f64 && !std::is_same_v<X, double>)
    entries(double{});
  else
    entries(kern::spmv_acc_t<V, X>{});
}

template <class V>
void use_device_bodies(spmv_kernel_table::entries (&row)[2]) {
  row[0].sell = &sell_by_slots<V, double>;
  row[1].sell = &sell_by_slots<V, float>;
  row[0].spmm_i32 = &spmm_by_entries<V, std::int32_t, double>;
  row[0].spmm_i64 = &spmm_by_entries<V, std::int64_t, double>;
  row[1].spmm_i32 = &spmm_by_entries<V, std::int32_t, float>;
  row[1].spmm_i64 = &spmm_by_entries<V, std::int64_t, float>;
}

spmv_kernel_table reference_table() {
  spmv_kernel_table t = kern::spmv_table_of<kern::spmv_chunked<false>>();
  use_device_bodies<double>(t.of[0]);
  use_device_bodies<float>(t.of[1]);
  use_device_bodies<half>(t.of[2]);
  use_device_bodies<bfloat16>(t.of[3]);
  return t;
}

}  // namespace

void register_cpu_ref_spmv_kernels(const kernel_sink& sink) {
  kern::add_spmv_table(sink, "i32_ref", "i64_ref", "ref", backend::cpu, cpu_isa::generic, reference_table());
  const kern::variant_desc dia{"ref", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_spmv_dia_table(sink, dia, kern::spmv_dia_table_of<kern::spmv_dia_chunked<false>>());
}
}  // namespace mixprec::detail
