// CSR, SELL and CSR SpMM with the portable scalar loops, built with this folder's flags:
// f16 values widened with one F16C instruction (the portable kernel's bit manipulation made
// f16 SpMV 2-3x slower than f64). Products and sums stay separately rounded (the project
// builds with -ffp-contract=off; fusing them here measured no faster). Where gathers are slow
// these beat the CSR gather kernels of spmv_avx512.cpp; the order of the two, and of the
// SELL-8 kernel there, is in src/implementation_lists.cpp.
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {

const detail::spmv_kernel_table spmv_loops = spmv_table_of<spmv_chunked<true>>();

}  // namespace mixprec::kern::avx512
