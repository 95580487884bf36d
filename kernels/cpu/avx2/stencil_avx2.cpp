// Stencil kernels for CPUs with AVX2 and FMA but no AVX-512: the shared row engine
// (kernels/common/stencil_rows.hpp) compiled with this folder's flags, so that its loops
// become 256-bit multiply-adds instead of the portable build's SSE2; rows of f16/bf16
// widened by the scalar conversions (F16C instructions here).
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {
using kernels = stencil_kernels<scalar_rows>;
}  // namespace

#define MIXPREC_DEFINE(T, N) \
  const stencil_table stencil_##N = {&kernels::halo<T>, &kernels::apply<T>, &kernels::sweeps<T>};
MIXPREC_AVX2_STENCIL_TYPES(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx2
