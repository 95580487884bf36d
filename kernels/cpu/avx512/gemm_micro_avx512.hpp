// The AVX-512 GEMM microkernel shape shared by every dtype family: an M x NR tile held in
// 2*M zmm accumulators (NR = two vectors of output columns), fed per k-group by two vector
// loads of the packed B panel and one broadcast of each row's packed A. With M = 14 that is
// 28 accumulators + 2 B vectors + 1 broadcast: all 32 registers, no spills, and 28
// independent multiply-add chains to cover their latency. Each family supplies `Ops`:
//   vec, zero(), load_b(b, half) (half 0 or 1), bcast_a(a), madd(acc, a_bcast, b_vec),
//   store(c, acc, accumulate) (one vector of 16 lanes of the accumulator type).
// Included only by folders compiled with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/gemm_layout.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

template <class F, class Ops, int MR, std::int64_t KC, std::int64_t MC, std::int64_t NC>
struct gemm_micro_2v {
  using PA = typename F::packed_a;
  using PB = typename F::packed_b;
  using ACC = typename F::acc;
  static constexpr int mr = MR;
  static constexpr std::int64_t kc = KC, mc = MC, nc = NC;
  static constexpr int lanes = F::nr / 2;  // accumulator lanes per vector

  template <int M>
  static void tile(std::int64_t groups, const PA* a, const PB* b, std::int64_t bstep, ACC* c, std::int64_t ldc,
                   bool accumulate) {
    using vec = typename Ops::vec;
    vec lo[M], hi[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {  // the C tile is fetched while the k loop runs (it sits in L3
      lo[i] = hi[i] = Ops::zero();   // between k blocks): f32 2048^3 1.06x, f64 1.02-1.05x
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + lanes), _MM_HINT_T0);
    }
    for (std::int64_t g = 0; g < groups; ++g) {
      const vec b0 = Ops::load_b(b, 0), b1 = Ops::load_b(b, 1);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        const vec ai = Ops::bcast_a(a + i * F::kg);
        lo[i] = Ops::madd(lo[i], ai, b0);
        hi[i] = Ops::madd(hi[i], ai, b1);
      }
      a += MR * F::kg;
      b += bstep;
    }
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      Ops::store(c + i * ldc, lo[i], accumulate);
      Ops::store(c + i * ldc + lanes, hi[i], accumulate);
    }
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
