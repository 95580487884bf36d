// The GEMM driver every CPU kernel shares (BLIS's structure): split C among threads, then
// per thread the five loops around a microkernel,
//   jc (NC columns) -> pc (KC of k; pack B block, or use the pre-packed panels)
//     -> ic (MC rows; pack A block) -> jr (NR) -> ir (MR): microkernel on an MR x NR tile,
// with the B micro-panel in L1 across the ir loop and the A block in L2 across the jr loop.
// Tiles accumulate into a per-thread buffer of the accumulator type (so bf16, s8 and u8
// outputs, col-major C and beta == 0 are all handled once, by the epilogue), and each
// MC x NC block is finished (kernels/common/gemm_epilogue.hpp) right after its last k block,
// while it is still in cache. An ISA supplies only the microkernel and its block sizes:
//
//   struct micro {
//     static constexpr int mr;                         // rows per tile
//     static constexpr std::int64_t kc, mc, nc;        // block sizes (kc a multiple of KG)
//     template <int M> static void tile(std::int64_t groups, const packed_a* a,
//                                       const packed_b* b, std::int64_t bstep, acc* c,
//                                       std::int64_t ldc, bool accumulate);
//   };  // M <= mr rows, NR columns; B's k-groups bstep elements apart (NR*KG when packed)
//
// For a few rows (inference) and a B already stored like a panel (k-groups of one element,
// columns contiguous: row-major f64/f32/f16), the microkernel reads B in place, rows ldb
// apart: packing it would cost more than the multiply. Only a last partial panel is packed.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/gemm_epilogue.hpp"
#include "kernels/common/gemm_layout.hpp"
#include "kernels/common/gemm_pack.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// A per-thread buffer that grows on demand and is reused across calls (no allocation in
/// the steady state of an inference loop).
class gemm_scratch {
 public:
  gemm_scratch() = default;
  gemm_scratch(const gemm_scratch&) = delete;
  gemm_scratch& operator=(const gemm_scratch&) = delete;
  ~gemm_scratch() { std::free(p_); }
  template <class T>
  T* get(std::int64_t count) {
    const std::size_t need = std::size_t(round_up(std::max<std::int64_t>(count, 1) * std::int64_t(sizeof(T)), 4096));
    if (need > bytes_) {
      std::free(p_);
      p_ = std::aligned_alloc(4096, need);
      if (!p_) {
        bytes_ = 0;
        return nullptr;
      }
      bytes_ = need;
    }
    return static_cast<T*>(p_);
  }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

enum class gemm_buffer { a, b, acc, sums, count_ };
inline gemm_scratch& scratch_of(gemm_buffer which) {
  static thread_local gemm_scratch buffers[int(gemm_buffer::count_)];
  return buffers[int(which)];
}

/// How many threads split m and n: the factorization of `threads` with the least padded
/// work per thread, preferring to split n (threads then share no B panel, and pre-packed
/// weights are streamed once in total).
inline void gemm_thread_grid(std::int64_t m, std::int64_t n, int mr, int nr, int threads, int* tm, int* tn) {
  std::int64_t best = -1;
  for (int a = 1; a <= threads; ++a) {
    if (threads % a) continue;
    const int b = threads / a;
    const std::int64_t rows = (m + mr - 1) / mr, cols = (n + nr - 1) / nr;
    const std::int64_t work = ((rows + a - 1) / a) * ((cols + b - 1) / b);
    if (best < 0 || work < best || (work == best && b > *tn)) {
      best = work;
      *tm = a;
      *tn = b;
    }
  }
}

template <class F, class Micro>
struct gemm_driver {
  using PA = typename F::packed_a;
  using PB = typename F::packed_b;
  using ACC = typename F::acc;
  static constexpr int MR = Micro::mr, NR = F::nr, KG = F::kg;
  static_assert(Micro::kc % KG == 0 && Micro::mc % MR == 0 && Micro::nc % NR == 0, "block sizes");
  /// Bytes of the per-thread accumulator block; NC shrinks to keep it there.
  static constexpr std::int64_t acc_budget = std::int64_t(8) << 20;

  using tile_fn = void (*)(std::int64_t, const PA*, const PB*, std::int64_t, ACC*, std::int64_t, bool);
  template <std::size_t... M>
  static constexpr auto make_tiles(std::index_sequence<M...>) {
    return std::array<tile_fn, sizeof...(M)>{&Micro::template tile<int(M) + 1>...};
  }

  /// Whether B can be read in place (see the top of this file).
  template <class SB>
  static bool direct_b_possible(const detail::gemm_args& g) {
    if constexpr (KG == 1 && std::is_same_v<SB, PB>) return !g.packed_b && g.b.cs == 1;
    return false;
  }

  /// One thread's rectangle [m0, m1) x [n0, n1) of batch entry bi; returns false when
  /// scratch memory could not be had.
  template <class SA, class SB>
  static bool run_rect(const detail::gemm_args& g, std::int64_t bi, std::int64_t m0, std::int64_t m1, std::int64_t n0,
                       std::int64_t n1) {
    static constexpr auto tiles = make_tiles(std::make_index_sequence<MR>{});
    const std::int64_t mt = m1 - m0, K = g.k;
    // A few rows against pre-packed weights: one k block, so each weight panel streams
    // once from start to end (one long prefetch stream instead of K/KC short ones);
    // measured 1.2-1.5x for f32 and int8 at m = 8 here, neutral for bf16.
    const bool whole_k = g.packed_b && mt <= 4 * MR;
    // B read in place: each k is a row of B, ldb apart, so a long k block spans that many
    // rows (and pages) per tile; blocks of 256 measured 1.2-1.4x faster at m = 1..32 than
    // the 1024-2048 of packed panels (f32 1 x 4096 x 4096: 2.5 against 3.6 ms).
    const bool direct_b = direct_b_possible<SB>(g) && mt <= 4 * MR;
    constexpr std::int64_t direct_kc = std::min<std::int64_t>(Micro::kc, 256);
    const std::int64_t kc_blk = whole_k    ? std::max<std::int64_t>(KG, round_up(K, KG))
                                : direct_b ? direct_kc
                                           : std::int64_t(Micro::kc);
    const std::int64_t mc_blk = std::min<std::int64_t>(Micro::mc, round_up(mt, MR));
    // Several k blocks: the accumulators of all mt rows persist from one k block to the
    // next. One k block: each MC-row block is finished before the next starts, so one
    // block's accumulators suffice, and NC need not shrink as mt grows (a narrow NC packs
    // all of A again every NC columns, and finishes C in row segments too short to stream).
    const bool one_k_block = K <= kc_blk;
    const std::int64_t acc_rows = one_k_block ? mc_blk : mt;
    const auto acc_row = [&](std::int64_t ic) { return one_k_block ? 0 : ic - m0; };
    const std::int64_t nc_cap = std::max<std::int64_t>(
        NR, acc_budget / (std::max<std::int64_t>(acc_rows, 1) * std::int64_t(sizeof(ACC))) / NR * NR);
    const std::int64_t nc_blk = std::min<std::int64_t>({Micro::nc, nc_cap, round_up(n1 - n0, NR)});
    const std::int64_t ld = nc_blk;

    ACC* acc = scratch_of(gemm_buffer::acc).get<ACC>(acc_rows * ld);
    const std::int64_t block_k = round_up(std::min(kc_blk, std::max<std::int64_t>(K, 1)), KG);  // packed k extent
    PA* abuf = scratch_of(gemm_buffer::a).get<PA>(mc_blk * block_k);
    PB* bbuf = g.packed_b ? nullptr : scratch_of(gemm_buffer::b).get<PB>(nc_blk * block_k);
    if (!acc || !abuf || (!g.packed_b && !bbuf)) return false;

    constexpr bool integer = std::is_integral_v<ACC>;
    std::int32_t* col_sums = nullptr;
    std::int32_t* row_sums = nullptr;
    if constexpr (integer) {
      col_sums = scratch_of(gemm_buffer::sums).get<std::int32_t>(nc_blk + mt);
      if (!col_sums) return false;
      row_sums = col_sums + nc_blk;
      if (g.b_zero_point != 0) {  // sums over k of A's rows, for the B zero point
        const SA* a = static_cast<const SA*>(g.a.data) + bi * g.a.bs;
        for (std::int64_t i = 0; i < mt; ++i) {
          std::int32_t s = 0;
          for (std::int64_t k = 0; k < K; ++k) s += std::int32_t(a[(m0 + i) * g.a.rs + k * g.a.cs]);
          row_sums[i] = s;
        }
      }
    }

    const SA* a = static_cast<const SA*>(g.a.data) + bi * g.a.bs;
    const SB* b = static_cast<const SB*>(g.b.data) + bi * g.b.bs;
    for (std::int64_t jc = n0; jc < n1; jc += nc_blk) {
      const std::int64_t nc = std::min(nc_blk, n1 - jc);
      if constexpr (integer)
        if (!g.packed_b) std::fill(col_sums, col_sums + nc, 0);
      if (K == 0) std::fill(acc, acc + acc_rows * ld, ACC(0));
      for (std::int64_t pc = 0; pc < K; pc += kc_blk) {
        const std::int64_t kc = std::min(kc_blk, K - pc), kpad = round_up(kc, KG);
        const PB* bbase = nullptr;
        std::int64_t pstride = kpad * NR;
        if (g.packed_b) {
          pstride = g.packed_b->k_padded * NR;
          bbase = static_cast<const PB*>(g.packed_b->panels) + (jc / NR) * pstride + pc * NR;
        } else if (!direct_b) {
          pack_b_block<F>(b, g.b.rs, g.b.cs, pc, kc, jc, nc, bbuf, pstride, integer ? col_sums : nullptr);
          bbase = bbuf;
        } else if (nc % NR) {  // in place, but the last partial panel
          pack_b_block<F>(b, g.b.rs, g.b.cs, pc, kc, jc + nc / NR * NR, nc % NR, bbuf, pstride, nullptr);
        }
        for (std::int64_t ic = m0; ic < m1; ic += mc_blk) {
          const std::int64_t mc = std::min(mc_blk, m1 - ic);
          pack_a_block<F, MR>(a, g.a.rs, g.a.cs, ic, mc, pc, kc, abuf);
          for (std::int64_t jr = 0; jr < nc; jr += NR) {
            const PB* bp;
            std::int64_t bstep = NR * KG;
            if (!direct_b) {
              bp = bbase + (jr / NR) * pstride;
            } else if (jr + NR <= nc) {
              bp = reinterpret_cast<const PB*>(b + pc * g.b.rs + jc + jr);
              bstep = g.b.rs;
            } else {
              bp = bbuf;
            }
            for (std::int64_t ir = 0; ir < mc; ir += MR) {
              const int rows = int(std::min<std::int64_t>(MR, mc - ir));
              tiles[rows - 1](kpad / KG, abuf + (ir / MR) * kpad * MR, bp, bstep, acc + (acc_row(ic) + ir) * ld + jr,
                              ld, pc > 0);
            }
          }
          if (pc + kc >= K) finish(g, bi, acc + acc_row(ic) * ld, ld, m0, ic, mc, jc, nc, col_sums, row_sums);
        }
      }
      if (K == 0)
        for (std::int64_t ic = m0; ic < m1; ic += mc_blk)
          finish(g, bi, acc + acc_row(ic) * ld, ld, m0, ic, std::min(mc_blk, m1 - ic), jc, nc, col_sums, row_sums);
    }
    return true;
  }

  /// Finishes rows [ic, ic + mc) x [jc, jc + nc) of C from their accumulators `block`.
  static void finish(const detail::gemm_args& g, std::int64_t bi, ACC* block, std::int64_t ld, std::int64_t m0,
                     std::int64_t ic, std::int64_t mc, std::int64_t jc, std::int64_t nc, const std::int32_t* col_sums,
                     const std::int32_t* row_sums) {
    if constexpr (std::is_integral_v<ACC>) {
      const std::int32_t* cs = g.packed_b ? g.packed_b->col_sums + jc : col_sums;
      const std::uint32_t shift = g.a_type == dtype::i8 ? 128u : 0u;
      const std::uint32_t za = std::uint32_t(g.a_zero_point), zb = std::uint32_t(g.b_zero_point);
      const std::int32_t k_za_zb = std::int32_t(std::uint32_t(g.k) * za * zb);
      for (std::int64_t r = 0; r < mc; ++r) {
        const std::uint32_t rs = zb ? std::uint32_t(row_sums[ic - m0 + r]) : 0u;
        correct_int_row(block + r * ld, nc, cs, std::int32_t(shift + za), std::int32_t(zb * rs), k_za_zb);
      }
    }
    finish_block_any<F>(g, bi, block, ld, ic, mc, jc, nc);
  }

  /// A matrix-vector product (n == 1, or m == 1) in f64 or f32 whose matrix side is
  /// contiguous along k, with C of A's dtype and no epilogue: one dot product a row, the
  /// matrix read once, where packing it for the microkernel would read it, write it and read
  /// it again (refinement's residuals A x, and x W^T at m = 1). False: not such a product, or
  /// no memory for a strided vector's copy (the general driver then takes the call).
  template <class T>
  static bool matrix_vector(const detail::exec_args& ex, const detail::gemm_args& g) {
    const detail::gemm_epilogue_args& ep = g.ep;
    if (g.batch != 1 || g.packed_b || g.c_type != dtype_of<T> || g.k == 0 || ep.scale || ep.bias ||
        ep.act != activation::none || ep.residual)
      return false;
    // rows: the matrix's rows (unit stride along k) and its row stride; v: the vector.
    const T *rows, *v;
    std::int64_t count, row_stride, v_stride, y_stride;
    if (g.n == 1 && g.a.cs == 1) {
      rows = static_cast<const T*>(g.a.data), count = g.m, row_stride = g.a.rs;
      v = static_cast<const T*>(g.b.data), v_stride = g.b.rs, y_stride = g.crs;
    } else if (g.m == 1 && g.b.rs == 1) {
      rows = static_cast<const T*>(g.b.data), count = g.n, row_stride = g.b.cs;
      v = static_cast<const T*>(g.a.data), v_stride = g.a.cs, y_stride = g.ccs;
    } else {
      return false;
    }
    local_vector<T> packed_v;
    if (v_stride != 1) {
      try {
        packed_v.resize(std::size_t(g.k));
      } catch (const std::bad_alloc&) {
        return false;
      }
      for (std::int64_t j = 0; j < g.k; ++j) packed_v[std::size_t(j)] = v[j * v_stride];
      v = packed_v.data();
    }
    T* y = static_cast<T*>(g.c);
    const T alpha = T(g.alpha), beta = T(g.beta);
    const int chunks = int(std::clamp<double>(double(count) * double(g.k) / double(1 << 17), 1.0, double(ex.threads)));
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t r0, r1;
      detail::chunk_range(count, chunks, c, 1, &r0, &r1);
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* row = rows + r * row_stride;
        // Four vectors' worth of sums (the compiler keeps them in registers): the adds into
        // one would wait on each other, and into one vector on its latency.
        constexpr int sums = 256 / int(sizeof(T));
        T s[sums] = {};
        std::int64_t j = 0;
        for (; j + sums <= g.k; j += sums)
          for (int q = 0; q < sums; ++q) s[q] += row[j + q] * v[j + q];
        for (; j < g.k; ++j) s[0] += row[j] * v[j];
        for (int width = sums / 2; width > 0; width /= 2)
          for (int q = 0; q < width; ++q) s[q] += s[q + width];
        const T dot = s[0];
        T& out = y[r * y_stride];
        out = g.beta == 0 ? alpha * dot : alpha * dot + beta * out;
      }
    });
    return true;
  }

  /// The whole call: batch entries across threads when there are enough of them, else each
  /// entry's C split among threads. Returns false when scratch memory could not be had.
  template <class SA, class SB>
  static bool run_typed(const detail::exec_args& ex, const detail::gemm_args& g) {
    if (g.m == 0 || g.n == 0 || g.batch == 0) return true;
    if constexpr (std::is_same_v<F, gemm_f64> || std::is_same_v<F, gemm_f32>)
      if ((g.m == 1 || g.n == 1) && matrix_vector<SA>(ex, g)) return true;
    const double work = double(g.m) * double(g.n) * double(std::max<std::int64_t>(g.k, 1));
    const int threads = int(std::clamp<double>(work * double(g.batch) / double(1 << 17), 1.0, double(ex.threads)));
    bool ok = true;
    if (threads > 1 && g.batch >= threads) {
      detail::parallel_chunks(threads, [&](int c) {
        std::int64_t b0, b1;
        detail::chunk_range(g.batch, threads, c, 1, &b0, &b1);
        for (std::int64_t bi = b0; bi < b1; ++bi)
          if (!run_rect<SA, SB>(g, bi, 0, g.m, 0, g.n)) ok = false;
      });
      return ok;
    }
    const int per_entry = int(std::clamp<double>(work / double(1 << 17), 1.0, double(threads)));
    int tm = 1, tn = 1;
    gemm_thread_grid(g.m, g.n, MR, NR, per_entry, &tm, &tn);
    for (std::int64_t bi = 0; bi < g.batch; ++bi) {
      detail::parallel_chunks(tm * tn, [&](int c) {
        std::int64_t m0, m1, n0, n1;
        detail::chunk_range(g.m, tm, c / tn, MR, &m0, &m1);
        detail::chunk_range(g.n, tn, c % tn, NR, &n0, &n1);
        if (m0 < m1 && n0 < n1 && !run_rect<SA, SB>(g, bi, m0, m1, n0, n1)) ok = false;
      });
    }
    return ok;
  }

  /// The registry's entry point: picks the stored types of A and B for the family.
  static bool run(const detail::exec_args& ex, const detail::gemm_args& g) {
    if constexpr (std::is_same_v<F, gemm_f64>) {
      return run_typed<double, double>(ex, g);
    } else if constexpr (std::is_same_v<F, gemm_f32>) {
      return run_typed<float, float>(ex, g);
    } else if constexpr (std::is_same_v<F, gemm_f16>) {
      return run_typed<half, half>(ex, g);
    } else if constexpr (std::is_same_v<F, gemm_bf16>) {
      if (g.a_type == dtype::f16) return run_typed<half, half>(ex, g);
      return run_typed<bfloat16, bfloat16>(ex, g);
    } else {
      if (g.a_type == dtype::i8) return run_typed<std::int8_t, std::int8_t>(ex, g);
      return run_typed<std::uint8_t, std::int8_t>(ex, g);
    }
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
