// One output point of a stencil application, written straight from the contract in
// mixprec/stencil.hpp. The CPU reference kernel runs it point by point and the CUDA kernel
// one thread per point: one body, so the CPU tests cover what the GPU runs.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// The stencil's points as the body reads them: a.offsets, a.coeffs and a.coeff_grids on
/// the host; on a GPU, copies the kernel received by value.
struct stencil_points {
  const detail::stencil_offset* offsets;
  const double* coeffs;            // constant stencils, else null
  const void* const* coeff_grids;  // variable stencils, else null
};

/// out(x, y, z) of a (see detail::stencil_args for the modes).
template <class S>
MIXPREC_KI void stencil_point(const detail::stencil_args& a, const stencil_points& pts, std::int64_t x, std::int64_t y,
                              std::int64_t z) {
  using C = compute_t<S>;
  const S* at = static_cast<const S*>(a.u) + x + y * a.usy + z * a.usz;
  const S* f = static_cast<const S*>(a.f);
  const std::int64_t c_at = x + y * a.csy + z * a.csz;
  C sum = 0;
  for (int p = 0; p < a.npoints; ++p) {
    const detail::stencil_offset o = pts.offsets[p];
    const C c = pts.coeffs ? C(pts.coeffs[p]) : widen(static_cast<const S*>(pts.coeff_grids[p])[c_at]);
    const C v = widen(at[o.dx + o.dy * a.usy + o.dz * a.usz]);
    sum = p == 0 ? c * v : sum + c * v;
  }
  const C fv = f ? widen(f[x + y * a.fsy + z * a.fsz]) : C(0);
  C result;
  if (pts.coeffs) {
    result = f ? sum + C(a.gamma) * fv : sum;
  } else if (a.mode == detail::stencil_mode::jacobi) {
    const C d = widen(static_cast<const S*>(pts.coeff_grids[a.center])[c_at]);
    result = widen(*at) + C(a.omega) * (fv - sum) / d;
  } else {
    result = C(a.alpha) * sum;
    if (a.beta != 0) result += C(a.beta) * widen(*at);
    if (f) result += C(a.gamma) * fv;
  }
  static_cast<S*>(a.out)[x + y * a.osy + z * a.osz] = narrow<S>(result);
}

/// Sweep i (from 0) of a multi-sweep that alternates between a.u and a.out: even sweeps
/// read a.u and write a.out, odd ones the other way round. An even count ends in a.u, which
/// the caller then copies to a.out.
inline detail::stencil_args sweep_step(const detail::stencil_args& a, int i) {
  detail::stencil_args step = a;
  if (i % 2 == 1) {
    step.u = a.out;
    step.usy = a.osy;
    step.usz = a.osz;
    step.out = const_cast<void*>(a.u);
    step.osy = a.usy;
    step.osz = a.usz;
  }
  return step;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
