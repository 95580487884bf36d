// CSR, SELL, CSR SpMM and DIA with the portable scalar loops built with this folder's flags
// (products and sums separately rounded, as everywhere outside the stencil files): f16
// values widened by F16C instead of the portable build's bit manipulation (which made f16
// SpMV slower than f64 on CPUs without AVX-512), and DIA's contiguous diagonals vectorised
// 4 (f64) or 8 (f32) lanes wide.
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/common/spmv_dia.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {

const detail::spmv_kernel_table spmv_loops = spmv_table_of<spmv_chunked<true>>();
const detail::spmv_dia_kernel_table spmv_dia_loops = spmv_dia_table_of<spmv_dia_chunked<true>>();

}  // namespace mixprec::kern::avx2
