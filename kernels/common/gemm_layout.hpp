// The GEMM dtype families and their packed layouts, shared by the packers, every ISA's
// microkernels and the packed_matrix front end. A packed B is what inference engines keep
// for their weights, so its layout is fixed per family and the same for every kernel of
// the family (generic, AVX-512, ...): one packed object serves whichever kernel dispatch
// picks on the machine that runs it.
//
// Packed B: panels of NR columns; panel p holds columns [p*NR, p*NR + NR) for all k, as
// k-groups of KG consecutive k: element (k, j) sits at
//   panel(p) + (k / KG) * NR * KG + (j % NR) * KG + k % KG
// so one k-group of a panel is NR*KG contiguous values: what one step of a microkernel
// loads (two zmm registers in every family). Columns past n and k past k are zero.
// Packed A (per call, per block): panels of MR rows (MR is the microkernel's), the same
// k-grouping: element (i, k) at panel + (k / KG) * MR * KG + (i % MR) * KG + k % KG.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <type_traits>

#include "internal/gemm_packed_layout.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// f64 x f64 -> f64.
struct gemm_f64 {
  using packed_a = double;
  using packed_b = double;
  using acc = double;
  using real = double;  // the epilogue's precision
  static constexpr int nr = detail::packed_b_layout_of(dtype::f64).nr,
                       kg = detail::packed_b_layout_of(dtype::f64).kgroup;
  static constexpr dtype b_dtype = dtype::f64;
};
/// f32 x f32 -> f32.
struct gemm_f32 {
  using packed_a = float;
  using packed_b = float;
  using acc = float;
  using real = float;
  static constexpr int nr = detail::packed_b_layout_of(dtype::f32).nr,
                       kg = detail::packed_b_layout_of(dtype::f32).kgroup;
  static constexpr dtype b_dtype = dtype::f32;
};
/// f16 x f16 -> f32: A is widened when packed (it is small and re-read), B stays f16 in
/// its panels (half the bytes to stream) and is widened as it is loaded.
struct gemm_f16 {
  using packed_a = float;
  using packed_b = half;
  using acc = float;
  using real = float;
  static constexpr int nr = detail::packed_b_layout_of(dtype::f16).nr,
                       kg = detail::packed_b_layout_of(dtype::f16).kgroup;
  static constexpr dtype b_dtype = dtype::f16;
};
/// bf16 x bf16 -> f32, k in pairs (the AVX512-BF16 and AMX dot products take pairs).
struct gemm_bf16 {
  using packed_a = bfloat16;
  using packed_b = bfloat16;
  using acc = float;
  using real = float;
  static constexpr int nr = detail::packed_b_layout_of(dtype::bf16).nr,
                       kg = detail::packed_b_layout_of(dtype::bf16).kgroup;
  static constexpr dtype b_dtype = dtype::bf16;
};
/// u8/s8 x s8 -> s32, k in quads (VNNI and AMX take quads). A is packed as u8: an s8 A
/// is shifted by +128 (the unsigned x signed dot product needs it), and the epilogue
/// subtracts 128 * (column sum of B).
struct gemm_int8 {
  using packed_a = std::uint8_t;
  using packed_b = std::int8_t;
  using acc = std::int32_t;
  using real = float;
  static constexpr int nr = detail::packed_b_layout_of(dtype::i8).nr, kg = detail::packed_b_layout_of(dtype::i8).kgroup;
  static constexpr dtype b_dtype = dtype::i8;
};

/// A packed value as its accumulator reads it: f16/bf16 widened to f32 (exact), others as is.
template <class P>
MIXPREC_ALWAYS_INLINE auto compute_value(P v) {
  if constexpr (std::is_same_v<P, half> || std::is_same_v<P, bfloat16>)
    return float(v);
  else
    return v;
}

constexpr std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

/// Elements of a packed B of k x n.
template <class F>
constexpr std::int64_t packed_b_elements(std::int64_t k, std::int64_t n) {
  return round_up(n, F::nr) * round_up(k, F::kg);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
