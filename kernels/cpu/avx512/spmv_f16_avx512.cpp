// f16-valued CSR, SELL and SpMM with the portable scalar loops, built with this folder's
// flags: each value widens with one F16C instruction instead of the portable kernel's bit
// manipulation, which made f16 SpMV 2-3x slower than f64 (the gather kernels of
// spmv_avx512.cpp convert in registers but lose to scalar loops on the machine we measure).
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {

namespace {
using impl = spmv_chunked<true>;
template <class X>
constexpr spmv_f16_table::by_vector entries() {
  return {&impl::csr<half, std::int32_t, X>, &impl::csr<half, std::int64_t, X>, &impl::sell<half, X>,
          &impl::csr_mm<half, std::int32_t, X>, &impl::csr_mm<half, std::int64_t, X>};
}
}  // namespace

const spmv_f16_table spmv_f16 = {entries<double>(), entries<float>()};

}  // namespace mixprec::kern::avx512
