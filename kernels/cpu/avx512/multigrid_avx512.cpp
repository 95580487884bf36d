// Multigrid kernels built with AVX-512 flags: the shared bodies, whose row loops the
// compiler vectorises 8 (f64) or 16 (f32) lanes wide here.
#include "kernels/common/multigrid_kernels.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {

const detail::multigrid_kernel_table multigrid_set = multigrid_table_of();

}  // namespace mixprec::kern::avx512
