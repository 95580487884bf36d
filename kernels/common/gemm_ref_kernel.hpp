// The reference GEMM: one thread, one dot product per element in the family's accumulator,
// no packing (B read from a pre-packed object element by element), each result finished by
// the element epilogue the CUDA GEMM runs too. The fallback on every machine and the kernel
// the others are checked against.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/gemm_finish_element.hpp"
#include "kernels/common/gemm_layout.hpp"
#include "kernels/common/gemm_pack.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Element (k, j) of a packed B (layout in gemm_layout.hpp).
template <class F>
typename F::packed_b packed_b_at(const detail::gemm_packed& p, std::int64_t k, std::int64_t j) {
  const auto* panels = static_cast<const typename F::packed_b*>(p.panels);
  return panels[(j / F::nr) * p.k_padded * F::nr + (k / F::kg) * F::nr * F::kg + (j % F::nr) * F::kg + k % F::kg];
}

template <class F>
struct gemm_reference {
  using ACC = typename F::acc;

  template <class SA, class SB>
  static bool run_typed(const detail::gemm_args& g) {
    for (std::int64_t bi = 0; bi < g.batch; ++bi) {
      const SA* a = static_cast<const SA*>(g.a.data) + bi * g.a.bs;
      const SB* b = static_cast<const SB*>(g.b.data) + bi * g.b.bs;
      for (std::int64_t i = 0; i < g.m; ++i) {
        for (std::int64_t j = 0; j < g.n; ++j) {
          auto bv = [&](std::int64_t k) {
            if (g.packed_b) return packed_b_at<F>(*g.packed_b, k, j);
            return packed_value<typename F::packed_b>(b[k * g.b.rs + j * g.b.cs]);
          };
          if constexpr (std::is_integral_v<ACC>) {
            // The true sum of (a - za)(b - zb); the front end has checked it fits in s32.
            std::int64_t s = 0;
            for (std::int64_t k = 0; k < g.k; ++k)
              s += (std::int64_t(a[i * g.a.rs + k * g.a.cs]) - g.a_zero_point) * (std::int64_t(bv(k)) - g.b_zero_point);
            finish_element_any<typename F::real>(g, bi, i, j, std::int32_t(s));
          } else {
            ACC s = 0;
            for (std::int64_t k = 0; k < g.k; ++k)
              s += ACC(packed_value<typename F::packed_a>(a[i * g.a.rs + k * g.a.cs])) * ACC(compute_value(bv(k)));
            finish_element_any<typename F::real>(g, bi, i, j, s);
          }
        }
      }
    }
    return true;
  }

  static bool run(const detail::exec_args&, const detail::gemm_args& g) {
    if constexpr (std::is_same_v<F, gemm_f64>) {
      return run_typed<double, double>(g);
    } else if constexpr (std::is_same_v<F, gemm_f32>) {
      return run_typed<float, float>(g);
    } else if constexpr (std::is_same_v<F, gemm_f16>) {
      return run_typed<half, half>(g);
    } else if constexpr (std::is_same_v<F, gemm_bf16>) {
      if (g.a_type == dtype::f16) return run_typed<half, half>(g);
      return run_typed<bfloat16, bfloat16>(g);
    } else {
      if (g.a_type == dtype::i8) return run_typed<std::int8_t, std::int8_t>(g);
      return run_typed<std::uint8_t, std::int8_t>(g);
    }
  }

  /// The gemm_pack kernel of the family: the whole of op(B) as one block.
  template <class SB>
  static void pack(const detail::exec_args&, std::int64_t k, std::int64_t n, const void* b, std::int64_t rs,
                   std::int64_t cs, void* out, std::int32_t* col_sums) {
    if (col_sums) std::fill(col_sums, col_sums + n, 0);
    pack_b_block<F>(static_cast<const SB*>(b), rs, cs, 0, k, 0, n, static_cast<typename F::packed_b*>(out),
                    round_up(k, F::kg) * F::nr, col_sums);
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
