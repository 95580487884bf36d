// CSR, SELL and CSR SpMM with the portable scalar loops built with this folder's flags:
// products added with FMA, f16 values widened by F16C instead of the portable build's bit
// manipulation (which made f16 SpMV slower than f64 on CPUs without AVX-512).
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {

const detail::spmv_kernel_table spmv_loops = spmv_table_of<spmv_chunked<true>>();

}  // namespace mixprec::kern::avx2
