// The packed-B layout of each GEMM weight dtype: panels of `nr` columns, k in groups of
// `kgroup` (kernels/common/gemm_layout.hpp gives the element order). One place for both the
// packed_matrix front end, which sizes the panels, and the kernels' dtype families, which
// take their nr and kg from here: a packed object serves whichever kernel dispatch picks.
#pragma once

#include "mixprec/dtype.hpp"

namespace mixprec::detail {

struct packed_b_layout {
  int nr = 0, kgroup = 0;  // 0: the dtype is not a GEMM weight type
};

constexpr packed_b_layout packed_b_layout_of(dtype b) {
  switch (b) {
    case dtype::f64:
      return {16, 1};
    case dtype::f32:
    case dtype::f16:
      return {32, 1};
    case dtype::bf16:
      return {32, 2};  // pairs of k: the AVX512-BF16 and AMX dot products take pairs
    case dtype::i8:
      return {32, 4};  // quads of k: VNNI and AMX take quads
    default:
      return {};
  }
}

}  // namespace mixprec::detail
