// Multigrid kernels built with AVX2 + FMA flags: the shared bodies, whose row loops the
// compiler vectorises 4 (f64) or 8 (f32) lanes wide here instead of SSE2's 2 or 4.
#include "kernels/common/multigrid_kernels.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {

const detail::multigrid_kernel_table multigrid_set = multigrid_table_of();

}  // namespace mixprec::kern::avx2
