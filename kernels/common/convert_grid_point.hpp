// One point of a grid-to-grid conversion (op convert_grid): host and device code, so the
// CPU's reference kernel and the CUDA kernel run the same body.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Interior point i (x fastest, then y, then z) of dst = src, rounded once to D.
template <class S, class D>
MIXPREC_KI void convert_grid_point(const detail::grid_args& src, const detail::grid_args& dst, std::int64_t i) {
  const std::int64_t x = i % src.nx, y = i / src.nx % src.ny, z = i / (src.nx * src.ny);
  static_cast<D*>(dst.origin)[x + y * dst.sy + z * dst.sz] =
      convert_value<D>(static_cast<const S*>(src.origin)[x + y * src.sy + z * src.sz]);
}

/// The reference kernel: every point in order, one thread.
template <class S, class D>
void convert_grid_serial(const detail::exec_args&, const detail::grid_args& src, const detail::grid_args& dst) {
  const std::int64_t points = src.nx * src.ny * src.nz;
  for (std::int64_t i = 0; i < points; ++i) convert_grid_point<S, D>(src, dst, i);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
