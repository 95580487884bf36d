// CSR, SELL and CSR SpMM with the portable scalar loops, built with this folder's flags:
// products added with FMA, f16 values widened with one F16C instruction (the portable
// kernel's bit manipulation made f16 SpMV 2-3x slower than f64). On the machine we
// measure these beat the gather kernels of spmv_avx512.cpp, so they rank above them and
// just above the portable kernels (register_avx512.cpp).
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {

namespace {
using impl = spmv_chunked<true>;
template <class V, class X>
constexpr spmv_scalar_table::by_vector entries() {
  return {&impl::csr<V, std::int32_t, X>, &impl::csr<V, std::int64_t, X>, &impl::sell<V, X>,
          &impl::csr_mm<V, std::int32_t, X>, &impl::csr_mm<V, std::int64_t, X>};
}
}  // namespace

#define MIXPREC_DEFINE(T, N) const spmv_scalar_table spmv_scalar_##N = {entries<T, double>(), entries<T, float>()};
MIXPREC_AVX512_BLAS1_TYPES(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx512
