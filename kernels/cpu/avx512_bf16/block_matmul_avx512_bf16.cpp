// y = x W^T with W in GGUF's Q8_0 / Q4_0 blocks on the VNNI dot product (vpdpbusd: u8 x s8
// quads into s32, exact). x's rows are quantized to Q8_0 once per call, as the portable
// kernel does (src/internal/block_format.hpp), and kept in the form each weight format
// multiplies: one zmm holds two blocks (64 values), and its 16 s32 lanes are 8 partial sums
// per block, scaled by d_x d_w per lane and accumulated in f32 lanes, reduced once per output.
//   Q4_0: the nibbles q (0..15) are the unsigned side, x's q the signed one:
//         sum (q - 8) x = vpdpbusd(-8 sum_lane x, q, x), the lane sums precomputed per call.
//   Q8_0: x + 128 is the unsigned side, w the signed one:
//         sum x w = vpdpbusd(-128 sum_lane w, x + 128, w), the lane sums by one vpdpbusd of ones.
// Weight rows are split among threads and taken four at a time against four rows of x.
// Below four rows of x a Q4_0 row is read four blocks (72 bytes) at a time instead: their
// 64 nibble bytes gathered into one zmm, the low and high nibbles two zmm of 64 values each
// against x laid out to match (see x_quads), the four scales by one word permutation: fewer
// instructions per weight byte than the pair path, whose decoding bounded m = 1 (the weights
// stream once there, so compute sets the pace).
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "internal/block_format.hpp"
#include "internal/parallel.hpp"
#include "kernels/common/isa_namespace.hpp"
#include "kernels/cpu/avx512_bf16/kernels_avx512_bf16.hpp"

namespace mixprec::kern::avx512_bf16 {
namespace {

using idx = std::int64_t;

/// 64 bytes kept between passes (a std::vector of __m512 would drop their alignment).
struct alignas(64) zmm_store {
  unsigned char bytes[64];
};
__m512i load_i(const zmm_store& z) { return _mm512_load_si512(z.bytes); }
__m512 load_f(const zmm_store& z) { return _mm512_load_ps(reinterpret_cast<const float*>(z.bytes)); }

/// x's rows as Q8_0, per pair of blocks (64 values): the s8 values, the u8 values + 128,
/// -8 times the lane sums (for Q4_0) and the two scales spread over 8 lanes each.
struct x_blocks {
  idx pairs;
  std::vector<zmm_store> s8, u8, neg8_lane_sums, scales;
};

x_blocks quantize_x(const detail::block_matmul_args& a) {
  const idx blocks = a.k / detail::qk, pairs = (blocks + 1) / 2;
  const std::size_t count = std::size_t(a.m * pairs);
  x_blocks x{pairs, std::vector<zmm_store>(count), std::vector<zmm_store>(count), std::vector<zmm_store>(count),
             std::vector<zmm_store>(count)};
  const __m512i ones = _mm512_set1_epi8(1), bias = _mm512_set1_epi8(char(-128));
  for (idx i = 0; i < a.m; ++i)
    for (idx p = 0; p < pairs; ++p) {
      alignas(64) std::int8_t q[64] = {};
      float d[2] = {0.0f, 0.0f};
      for (int h = 0; h < 2 && 2 * p + h < blocks; ++h) {
        std::uint8_t block[34];
        detail::quantize_q8_0_block<folder_tag>(a.x + i * a.ldx + (2 * p + h) * detail::qk, block);
        d[h] = detail::block_scale<folder_tag>(block);
        detail::block_ints_q8_0<folder_tag>(block, q + 32 * h);
      }
      const __m512i s = _mm512_load_si512(q);
      const std::size_t at = std::size_t(i * pairs + p);
      const __m512i lane_sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, s);
      _mm512_store_si512(x.s8[at].bytes, s);
      _mm512_store_si512(x.u8[at].bytes, _mm512_xor_si512(s, bias));  // q + 128 as u8
      _mm512_store_si512(x.neg8_lane_sums[at].bytes,
                         _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), lane_sums), 3));
      _mm512_store_ps(reinterpret_cast<float*>(x.scales[at].bytes),
                      _mm512_insertf32x8(_mm512_set1_ps(d[0]), _mm256_set1_ps(d[1]), 1));
    }
  return x;
}

/// x's rows for the Q4_0 four-block path, per group of four blocks (128 values): `lo`
/// holds values 0..15 of each block (16 bytes per block, in block order), `hi` values
/// 16..31, as the weights' low and high nibbles come out of q4_group; -8 times the sums of
/// each 32-bit lane's values over lo and hi together; x's scale over lanes 4b..4b+3.
struct x_quads {
  idx groups;
  std::vector<zmm_store> lo, hi, neg8_lane_sums, scales;
};

/// x_quads from x's pairs of blocks, quantized once by quantize_x: each group's two pairs
/// give its four blocks' halves by 128-bit lane shuffles, and its scales.
x_quads quads_of(const x_blocks& xp, idx m, idx blocks) {
  const idx groups = blocks / 4;
  const std::size_t count = std::size_t(m * groups);
  x_quads x{groups, std::vector<zmm_store>(count), std::vector<zmm_store>(count), std::vector<zmm_store>(count),
            std::vector<zmm_store>(count)};
  const __m512i ones = _mm512_set1_epi8(1);
  for (idx i = 0; i < m; ++i)
    for (idx g = 0; g < groups; ++g) {
      const std::size_t p0 = std::size_t(i * xp.pairs + 2 * g), p1 = p0 + 1;
      // A pair is [block 0: values 0..15, 16..31 | block 1: the same], a 128-bit lane each.
      const __m512i s0 = load_i(xp.s8[p0]), s1 = load_i(xp.s8[p1]);
      const __m512i l = _mm512_shuffle_i64x2(s0, s1, _MM_SHUFFLE(2, 0, 2, 0));
      const __m512i h = _mm512_shuffle_i64x2(s0, s1, _MM_SHUFFLE(3, 1, 3, 1));
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, l), ones, h);
      const std::size_t at = std::size_t(i * groups + g);
      _mm512_store_si512(x.lo[at].bytes, l);
      _mm512_store_si512(x.hi[at].bytes, h);
      _mm512_store_si512(x.neg8_lane_sums[at].bytes,
                         _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sums), 3));
      // A pair's scales fill lanes 0..7 and 8..15; a group's four take four lanes each.
      const __m512i spread = _mm512_set_epi32(24, 24, 24, 24, 16, 16, 16, 16, 8, 8, 8, 8, 0, 0, 0, 0);
      _mm512_store_ps(reinterpret_cast<float*>(x.scales[at].bytes),
                      _mm512_permutex2var_ps(load_f(xp.scales[p0]), spread, load_f(xp.scales[p1])));
    }
  return x;
}

/// A block's f16 scale by F16C.
float scale_at(const std::uint8_t* block) {
  std::uint16_t bits;
  std::memcpy(&bits, block, 2);
  return _cvtsh_ss(bits);
}

/// One pair of weight blocks as the kernel multiplies them: the 64 values (Q4_0: nibbles
/// 0..15, unsigned; Q8_0: s8), the two scales over 8 lanes each, and (Q8_0) -128 times the
/// values' lane sums.
template <bool Q4>
struct w_pair {
  __m512i w, neg128_sums;
  __m512 d;
  w_pair() = default;
  w_pair(const std::uint8_t* b0, bool both) {
    constexpr idx size = Q4 ? 18 : 34;
    const std::uint8_t* b1 = b0 + size;
    if constexpr (Q4) {
      const __m128i low4 = _mm_set1_epi8(0x0F);
      auto nibbles = [&](const std::uint8_t* b) {
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
        return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), low4), _mm_and_si128(q, low4));
      };
      w = _mm512_inserti64x4(_mm512_castsi256_si512(nibbles(b0)), both ? nibbles(b1) : _mm256_setzero_si256(), 1);
      neg128_sums = _mm512_setzero_si512();
    } else {
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2));
      const __m256i hi = both ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2)) : _mm256_setzero_si256();
      w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), w);
      neg128_sums = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sums), 7);
    }
    d = _mm512_insertf32x8(_mm512_set1_ps(scale_at(b0)), _mm256_set1_ps(both ? scale_at(b1) : 0.0f), 1);
  }
};

/// Weight rows [j0, j0 + C) against x rows [i0, i0 + R): C x R accumulators in registers,
/// each weight pair decoded once for R rows of x and each x pair loaded once for C weight
/// rows (x's blocks of all rows do not fit L1: re-reading them per weight row made m = 8
/// bound by L2 traffic).
template <bool Q4, int C, int R>
void tile(const detail::block_matmul_args& a, const x_blocks& x, std::size_t row_bytes, idx blocks, idx i0, idx j0) {
  constexpr idx size = Q4 ? 18 : 34;
  __m512 acc[C][R];
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < R; ++r) acc[c][r] = _mm512_setzero_ps();
  for (idx p = 0; p < x.pairs; ++p) {
    const bool both = 2 * p + 1 < blocks;
    w_pair<Q4> w[C];
    for (int c = 0; c < C; ++c)
      w[c] = w_pair<Q4>(a.w + std::size_t(j0 + c) * row_bytes + std::size_t(2 * p * size), both);
    for (int r = 0; r < R; ++r) {
      const std::size_t at = std::size_t((i0 + r) * x.pairs + p);
      const __m512i xv = Q4 ? load_i(x.s8[at]) : load_i(x.u8[at]);
      const __m512i xsum = Q4 ? load_i(x.neg8_lane_sums[at]) : _mm512_setzero_si512();
      const __m512 xd = load_f(x.scales[at]);
      for (int c = 0; c < C; ++c) {
        const __m512i dot =
            Q4 ? _mm512_dpbusd_epi32(xsum, w[c].w, xv) : _mm512_dpbusd_epi32(w[c].neg128_sums, xv, w[c].w);
        acc[c][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(w[c].d, xd), acc[c][r]);
      }
    }
  }
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < R; ++r) a.y[(i0 + r) * a.ldy + j0 + c] = _mm512_reduce_add_ps(acc[c][r]);
}

/// Four Q4_0 blocks from 72 bytes at b: their 64 nibble bytes (block t's 16 at bytes 16t..)
/// split into low and high nibbles, and their scales over lanes 4t..4t+3.
struct q4_group {
  __m512i lo, hi;
  __m512 d;
  explicit q4_group(const std::uint8_t* b) {
    // The nibbles by four 16-byte loads into one zmm: a two-source word permutation of two
    // 64-byte loads did the same in fewer instructions but ran 1.5x slower on Zen 5.
    auto nibbles_of = [&](int t) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 18 * t + 2)); };
    const __m512i nibbles = _mm512_inserti32x4(
        _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(nibbles_of(0)), nibbles_of(1), 1), nibbles_of(2),
                           2),
        nibbles_of(3), 3);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    lo = _mm512_and_si512(nibbles, low4);
    hi = _mm512_and_si512(_mm512_srli_epi16(nibbles, 4), low4);
    // The scales are words 0, 9, 18 and 27 of the 72 bytes, each spread over four lanes.
    alignas(64) static constexpr std::uint16_t scale_words[32] = {
        0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m512i first = _mm512_loadu_si512(b);
    d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(_mm512_load_si512(scale_words), first)));
  }
};

/// One Q4_0 weight row against one row of x (m < 4): groups of four blocks, two
/// accumulators (one FMA chain a group would wait on its latency), then the last one to
/// three blocks by pairs.
float q4_row(const x_quads& xq, const x_blocks& xp, idx blocks, idx i, const std::uint8_t* w_row) {
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  auto add_group = [&](idx g, __m512& a) {
    const std::size_t at = std::size_t(i * xq.groups + g);
    const q4_group w(w_row + 72 * g);
    const __m512i dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(load_i(xq.neg8_lane_sums[at]), w.lo, load_i(xq.lo[at])),
                                            w.hi, load_i(xq.hi[at]));
    a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(w.d, load_f(xq.scales[at])), a);
  };
  // Two groups a step, each into its own accumulator by a constant index: acc[g % 2] with
  // a variable g kept both in memory, one store-to-load round trip per group.
  idx g = 0;
  for (; g + 2 <= xq.groups; g += 2) {
    add_group(g, acc[0]);
    add_group(g + 1, acc[1]);
  }
  if (g < xq.groups) add_group(g, acc[0]);
  for (idx p = 2 * xq.groups; p < xp.pairs; ++p) {
    const std::size_t at = std::size_t(i * xp.pairs + p);
    const w_pair<true> w(w_row + std::size_t(2 * p * 18), 2 * p + 1 < blocks);
    const __m512i dot = _mm512_dpbusd_epi32(load_i(xp.neg8_lane_sums[at]), w.w, load_i(xp.s8[at]));
    acc[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(w.d, load_f(xp.scales[at])), acc[0]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1]));
}

template <bool Q4>
void block_matmul(const detail::exec_args& ex, const detail::block_matmul_args& a) {
  const idx blocks = a.k / detail::qk;
  const std::size_t row_bytes = std::size_t(blocks * (Q4 ? 18 : 34));
  const x_blocks x = quantize_x(a);
  const bool by_groups = Q4 && a.m < 4;
  const x_quads xq = by_groups ? quads_of(x, a.m, blocks) : x_quads{0, {}, {}, {}, {}};
  const int chunks = detail::chunk_count(a.n * a.k, ex.threads, idx(1) << 16);
  detail::parallel_chunks(chunks, [&](int c) {
    idx j0, j1;
    detail::chunk_range(a.n, chunks, c, 1, &j0, &j1);
    // Below four rows of x, one weight row at a time: four weight rows per tile halved the
    // speed at m = 1 (0.28 -> 0.62 ms at n = k = 4096), where the weights stream once anyway.
    const int wide = a.m >= 4 ? 4 : 1;
    idx j = j0;
    for (; wide == 4 && j + 4 <= j1; j += 4) {
      idx i = 0;
      for (; i + 4 <= a.m; i += 4) tile<Q4, 4, 4>(a, x, row_bytes, blocks, i, j);
      for (; i < a.m; ++i) tile<Q4, 4, 1>(a, x, row_bytes, blocks, i, j);
    }
    for (; by_groups && j < j1; ++j)
      for (idx i = 0; i < a.m; ++i) a.y[i * a.ldy + j] = q4_row(xq, x, blocks, i, a.w + std::size_t(j) * row_bytes);
    for (; j < j1; ++j) {
      idx i = 0;
      for (; i + 4 <= a.m; i += 4) tile<Q4, 1, 4>(a, x, row_bytes, blocks, i, j);
      for (; i < a.m; ++i) tile<Q4, 1, 1>(a, x, row_bytes, blocks, i, j);
    }
  });
}

void block_matmul_kernel(const detail::exec_args& ex, const detail::block_matmul_args& a) {
  if (a.q4_0)
    block_matmul<true>(ex, a);
  else
    block_matmul<false>(ex, a);
}

}  // namespace

const detail::block_matmul_fn block_matmul_vnni = &block_matmul_kernel;

}  // namespace mixprec::kern::avx512_bf16
