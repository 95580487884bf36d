// Box-shaped constant stencils (every input row read at x-1, x and x+1: the 3D 27-point
// box, the 2D 9-point box, and their Jacobi forms without the center point): which stencils
// are boxes, and the order of their sums. ISAs with wide registers (Rows::register_shifts)
// compute their rows with each input row loaded once per vector and its x-1 and x+1
// neighbours shifted in, in registers, from the vectors before and after it
// (kernels/cpu/avx512/stencil_box_avx512.hpp).
//
// The general engine (sum_rows_fixed) loads every point apart: 27 vector loads per output
// vector, the 18 at x-1 and x+1 each split across two cache lines, which keeps the load
// ports busy longer than the multiply-adds (measured standalone, 128^3 f64, 2 threads:
// 1.5 ms against 1.1 ms with shifts). Its 27 point pointers also spill; this path keeps 9.
//
// The sum runs row by row (the plan's order, center row first), x-1, x, x+1 within a row:
// another order than the general engine's, the same at every x and in every caller (single
// sweeps, applies, the time-blocked sweeps), so those still agree bit for bit.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cmath>
#include <cstdint>

#include "internal/registry.hpp"
#include "kernels/common/stencil_row_plan.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Where a stencil is a box: its rows (plan order), and per row the coefficients at dx = -1,
/// 0, +1. `rows` is 0 where it is not one of the shapes sum_rows_box takes: 3 or 9 rows,
/// every point within one column of its row's x, each row holding all three points but the
/// center row, which may lack its middle one (the Jacobi form folds the center point away).
template <class C>
struct box_shape {
  int rows = 0;
  bool center_middle = true;  // the center row has its dx = 0 point
  local_vector<C> coef;       // rows x 3: dx = -1, 0, +1

  box_shape(const detail::stencil_args& a, const row_plan& plan) {
    const int r = plan.rows();
    if (!a.coeffs || (r != 3 && r != 9)) return;
    local_vector<int> seen(std::size_t(3 * r), 0);
    coef.assign(std::size_t(3 * r), C(0));
    for (int p = 0; p < a.npoints; ++p) {
      const int dx = plan.dx_of_point[p];
      if (dx < -1 || dx > 1) return;
      const std::size_t slot = std::size_t(3 * plan.row_of_point[p] + dx + 1);
      if (seen[slot]++) return;  // a point listed twice: the general engine sums both
      coef[slot] = C(a.coeffs[p]);
    }
    for (std::size_t s = 0; s < seen.size(); ++s)
      if (!seen[s] && s != 1) return;  // every point present but, maybe, the center's
    rows = r;
    center_middle = seen[1] != 0;
  }
};

/// The box sum at x of the R input rows q (x = 0 of each), in the order every box kernel
/// follows: rows r in plan order, then dx = -1, 0, +1, a product and then fused
/// multiply-adds (spelled out: left to the compiler, k0*a + k1*b may fuse either product).
/// The ISA's vector loop (Rows::sum_box) computes the same in its lanes and takes this for
/// its tails.
template <int R, bool Middle, class C>
inline C box_sum_at(const C* k, const C* const* q, std::int64_t x) {
  C s = k[0] * q[0][x - 1];
  if constexpr (Middle) s = std::fma(k[1], q[0][x], s);
  s = std::fma(k[2], q[0][x + 1], s);
  for (int r = 1; r < R; ++r) {
    s = std::fma(k[3 * r], q[r][x - 1], s);
    s = std::fma(k[3 * r + 1], q[r][x], s);
    s = std::fma(k[3 * r + 2], q[r][x + 1], s);
  }
  return s;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
