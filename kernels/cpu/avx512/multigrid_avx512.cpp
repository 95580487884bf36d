// Multigrid kernels built with AVX-512 flags: the shared bodies, whose row loops the
// compiler vectorises 8 (f64) or 16 (f32) lanes wide here.
#include "kernels/common/multigrid_kernels.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {

const multigrid_table multigrid_f64{&multigrid_kernels<double>::smooth, &multigrid_kernels<double>::restrict_residual,
                                    &multigrid_kernels<double>::prolong};
const multigrid_table multigrid_f32{&multigrid_kernels<float>::smooth, &multigrid_kernels<float>::restrict_residual,
                                    &multigrid_kernels<float>::prolong};

}  // namespace mixprec::kern::avx512
