// Stencil kernel sets for the registry: halo fill, one sweep, and k sweeps, for every
// storage dtype, from the shared bodies (halo_fill.hpp, stencil_sweep.hpp,
// stencil_wavefront.hpp). A folder instantiates them with its own row conversions.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include "kernels/common/halo_fill.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/stencil_sweep.hpp"
#include "kernels/common/stencil_wavefront.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

template <class Rows>
struct stencil_kernels {
  template <class S>
  static void halo(const detail::exec_args& ex, const detail::grid_args& g, const detail::halo_args& bc) {
    halo_filler<true>::run<S>(ex, g, bc);
  }
  template <class S>
  static void apply(const detail::exec_args& ex, const detail::stencil_args& a) {
    stencil_sweep<S, Rows, true>(ex, a);
  }
  template <class S>
  static int sweeps(const detail::exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc, int k) {
    return stencil_sweeps_blocked<S, Rows>(ex, a, bc, k);
  }
};

/// The wavefront kernel: 3D, constant coefficients, no periodic face in y or z.
inline bool supports_wavefront(const void* problem, const char** why) {
  const auto* p = static_cast<const detail::stencil_problem*>(problem);
  if (p->variable)
    *why = "takes constant coefficients only";
  else if (p->dims != 3)
    *why = "blocks 3D grids only";
  else if (p->periodic_yz)
    *why = "cannot block with a periodic face in y or z";
  else
    return true;
  return false;
}

/// K's kernels as the table an ISA folder exports to its registration file.
template <class K>
constexpr detail::stencil_kernel_table stencil_table_of() {
  return {
      {&K::template halo<double>, &K::template halo<float>, &K::template halo<half>, &K::template halo<bfloat16>},
      {&K::template apply<double>, &K::template apply<float>, &K::template apply<half>, &K::template apply<bfloat16>},
      {&K::template sweeps<double>, &K::template sweeps<float>, &K::template sweeps<half>,
       &K::template sweeps<bfloat16>}};
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
