// The AVX-512 GEMM microkernel shape shared by every dtype family: an M x NR tile held in
// 2*M zmm accumulators (NR = two vectors of output columns), fed per k-group by two vector
// loads of the packed B panel and one broadcast of each row's packed A. With M = 14 that is
// 28 accumulators + 2 B vectors + 1 broadcast: all 32 registers, no spills, and 28
// independent multiply-add chains to cover their latency. Each family supplies `Ops`:
//   vec, zero(), load_b(b, half) (half 0 or 1), bcast_a(a), madd(acc, a_bcast, b_vec),
//   add(x, y), store(c, acc, accumulate) (one vector of 16 lanes of the accumulator type).
//
// A tile of a few rows over a long k (pre-packed weights at inference shapes) reads its B
// panel as S segments of k at once, with S accumulator sets added at the end: one core
// streams more from memory with several sequential streams than with one
// (docs/performance-notes.md).
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

  /// Segments of k streamed at once by an M-row tile: S sets of 2M accumulators, two B
  /// vectors and one broadcast must fit the 32 registers.
  template <int M>
  static constexpr int streams = M <= 3   ? 4
                                 : M <= 7 ? 2
                                          : 1;
  /// Fewer groups per segment than this and the tile reads B as one stream.
  static constexpr std::int64_t min_stream_groups = 128;

  template <int M>
  static void tile(std::int64_t groups, const PA* a, const PB* b, std::int64_t bstep, ACC* c, std::int64_t ldc,
                   bool accumulate) {
    if constexpr (streams < M >> 1)
      if (groups >= streams<M> * min_stream_groups)
        return segments<M, streams<M>>(groups, a, b, bstep, c, ldc, accumulate);
    segments<M, 1>(groups, a, b, bstep, c, ldc, accumulate);
  }

  /// The tile with k in S equal segments read side by side (the remainder of groups / S
  /// goes with the first); the segments' sums are added in order at the end.
  template <int M, int S>
  static void segments(std::int64_t groups, const PA* a, const PB* b, std::int64_t bstep, ACC* c, std::int64_t ldc,
                       bool accumulate) {
    using vec = typename Ops::vec;
    const std::int64_t seg = groups / S, rest = groups - S * seg;
    vec lo[S][M], hi[S][M];
    const PA* as[S];
    const PB* bs[S];
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) {
      as[s] = a + (rest + s * seg) * MR * F::kg;
      bs[s] = b + (rest + s * seg) * bstep;
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) lo[s][i] = hi[s][i] = Ops::zero();
    }
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {  // the C tile is fetched while the k loop runs: it sits in L3
      // between k blocks (f32 2048^3 1.06x, f64 1.02-1.05x, measured with k blocks of 256)
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + lanes), _MM_HINT_T0);
    }
    const auto step = [&](int s, const PA* ap, const PB* bp) {
      const vec b0 = Ops::load_b(bp, 0), b1 = Ops::load_b(bp, 1);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        const vec ai = Ops::bcast_a(ap + i * F::kg);
        lo[s][i] = Ops::madd(lo[s][i], ai, b0);
        hi[s][i] = Ops::madd(hi[s][i], ai, b1);
      }
    };
    // the first segment's extra groups, then all segments side by side
    for (std::int64_t g = 0; g < rest; ++g) step(0, a + g * MR * F::kg, b + g * bstep);
    for (std::int64_t g = 0; g < seg; ++g) {
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) {
        step(s, as[s], bs[s]);
        as[s] += MR * F::kg;
        bs[s] += bstep;
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int s = 1; s < S; ++s) {
        lo[0][i] = Ops::add(lo[0][i], lo[s][i]);
        hi[0][i] = Ops::add(hi[0][i], hi[s][i]);
      }
      Ops::store(c + i * ldc, lo[0][i], accumulate);
      Ops::store(c + i * ldc + lanes, hi[0][i], accumulate);
    }
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
