// A portable C++ GEMM microkernel (any CPU; the compiler vectorizes what it can), used by
// the generic kernel folder: correct everywhere, fast nowhere in particular.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <type_traits>

#include "kernels/common/gemm_layout.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

template <class F>
struct gemm_portable_micro {
  using PA = typename F::packed_a;
  using PB = typename F::packed_b;
  using ACC = typename F::acc;
  static constexpr int mr = 4;
  static constexpr std::int64_t kc = 256, mc = 64, nc = 1024;
  // Integer sums wrap (defined behaviour in unsigned arithmetic, as the hardware's do).
  using sum_t = std::conditional_t<std::is_integral_v<ACC>, std::uint32_t, ACC>;

  template <class P>
  static sum_t value(P v) {
    if constexpr (std::is_integral_v<ACC>)
      return sum_t(std::int32_t(v));
    else
      return sum_t(compute_value(v));
  }

  template <int M>
  static void tile(std::int64_t groups, const PA* a, const PB* b, std::int64_t bstep, ACC* c, std::int64_t ldc,
                   bool accumulate) {
    constexpr int nr = F::nr, kg = F::kg;
    sum_t t[M][nr] = {};
    for (std::int64_t g = 0; g < groups; ++g) {
      for (int kk = 0; kk < kg; ++kk) {
        sum_t bv[nr];
        for (int j = 0; j < nr; ++j) bv[j] = value(b[g * bstep + j * kg + kk]);
        for (int i = 0; i < M; ++i) {
          const sum_t av = value(a[(g * mr + i) * kg + kk]);
          for (int j = 0; j < nr; ++j) t[i][j] += av * bv[j];
        }
      }
    }
    for (int i = 0; i < M; ++i) {
      ACC* row = c + i * ldc;
      if (accumulate) {
        for (int j = 0; j < nr; ++j) row[j] = ACC(sum_t(row[j]) + t[i][j]);
      } else {
        for (int j = 0; j < nr; ++j) row[j] = ACC(t[i][j]);
      }
    }
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
