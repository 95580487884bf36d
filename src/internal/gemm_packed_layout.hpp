// The packed-B layouts. In CPU memory, per GEMM weight dtype: panels of `nr` columns, k in
// groups of `kgroup` (kernels/common/gemm_layout.hpp gives the element order). One place for
// both the packed_matrix front end, which sizes the panels, and the kernels' dtype families,
// which take their nr and kg from here: a packed object serves whichever kernel dispatch
// picks. In GPU memory: column by column (below), the operand form of the vendor's GEMM.
#pragma once

#include <cstdint>
#include <type_traits>

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

/// On a GPU a packed B is stored by columns: B(k, j) at j * ld + k, zero for k past B's,
/// i.e. an n x ld row-major matrix, as nn.Linear keeps its weights. That is the operand
/// form cuBLAS's int8 tensor-core GEMM requires (B^T of C^T = B^T A^T, transposed: "TN");
/// ld, a multiple of 16 elements, starts every column on a 16-byte boundary or better.
constexpr std::int64_t packed_columns_ld(std::int64_t k) { return k <= 16 ? 16 : (k + 15) / 16 * 16; }

/// Element e (of n * ld) of B (k x n, element strides rs and cs) packed by columns: the
/// body of the GPU's packer, one thread per element. T: any type of B's element size.
template <class T>
constexpr T packed_columns_element(const T* b, std::int64_t k, std::int64_t rs, std::int64_t cs, std::int64_t ld,
                                   std::int64_t e) {
  const std::int64_t j = e / ld, kk = e % ld;
  return kk < k ? b[kk * rs + j * cs] : T{};
}

/// An integer GEMM's operands as a GPU stages them for cuBLAS's int8 kernels, which refuse
/// leading dimensions that are not multiples of 4: lines (A's rows, B's columns) of
/// packed_columns_ld(k) s8 values each, k contiguous. Value q of the line whose k values
/// start at `line`, `step` apart: a u8 value shifted by -128 into s8 (a - za = (a - 128) -
/// (za - 128)), and 0 past k, so that the padding adds nothing to the sums.
template <class T>
constexpr std::int8_t int8_line_element(const T* line, std::int64_t k, std::int64_t step, std::int64_t q) {
  if (q >= k) return 0;
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    return std::int8_t(int(line[q * step]) - 128);
  } else {
    return line[q * step];
  }
}

}  // namespace mixprec::detail
