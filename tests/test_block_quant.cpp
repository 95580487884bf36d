// GGUF block formats: quantization bit for bit against the formats' definitions written out
// here, dequantization, and y = x W^T on every registered kernel against the exact sum of the
// quantized block products.
#include <cmath>
#include <cstring>
#include <random>

#include "mixprec/block_quant.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

/// Q8_0 as its definition reads: d = max|x| / 127 in f32, stored as f16; q = roundf(x * (1/d)).
std::vector<std::uint8_t> q8_0_by_definition(const float* x) {
  std::vector<std::uint8_t> out(34);
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::fabs(x[j]) > amax ? std::fabs(x[j]) : amax;
  const float d = amax / 127.0f, id = d == 0.0f ? 0.0f : 1.0f / d;
  const std::uint16_t bits = half(d).bits();
  out[0] = std::uint8_t(bits & 0xFF), out[1] = std::uint8_t(bits >> 8);
  for (int j = 0; j < 32; ++j) out[std::size_t(2 + j)] = std::uint8_t(std::int8_t(roundf(x[j] * id)));
  return out;
}

/// Q4_0 as its definition reads: m the first value of largest magnitude, d = m / -8,
/// q = min(15, (int8_t)(x / d + 8.5)), value j low nibble and j + 16 high nibble of byte j.
std::vector<std::uint8_t> q4_0_by_definition(const float* x) {
  std::vector<std::uint8_t> out(18);
  float amax = 0, m = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), m = x[j];
  const float d = m / -8.0f, id = d == 0.0f ? 0.0f : 1.0f / d;
  const std::uint16_t bits = half(d).bits();
  out[0] = std::uint8_t(bits & 0xFF), out[1] = std::uint8_t(bits >> 8);
  for (int j = 0; j < 16; ++j) {
    int lo = std::int8_t(x[j] * id + 8.5f), hi = std::int8_t(x[j + 16] * id + 8.5f);
    lo = lo > 15 ? 15 : lo, hi = hi > 15 ? 15 : hi;
    out[std::size_t(2 + j)] = std::uint8_t(lo | (hi << 4));
  }
  return out;
}

/// Rows of random values, with blocks that probe the rules: all zero (+0, and zeros of both
/// signs), ties at half steps, the largest magnitude negative, and equal magnitudes of both
/// signs.
std::vector<float> probe_rows(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::vector<float> w(std::size_t(rows * cols));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-3, 3);
  for (auto& v : w) v = d(gen);
  for (int j = 0; j < 32; ++j) w[std::size_t(j)] = 0;
  if (cols >= 64) {
    for (int j = 0; j < 32; ++j) w[std::size_t(32 + j)] = float(j - 16) * 0.5f;  // halves: ties in q
    w[std::size_t(32 + 5)] = -127.0f;                                            // the max is negative
  }
  if (cols >= 96)
    for (int j = 0; j < 32; ++j) w[std::size_t(64 + j)] = j % 3 ? 0.0f : -0.0f;     // zeros, the first -0
  if (rows > 1) w[std::size_t(cols + 3)] = 2.5f, w[std::size_t(cols + 4)] = -2.5f;  // first of equals
  return w;
}

TEST(block_quant, quantize_is_bit_for_bit_the_formats_definition) {
  const std::int64_t rows = 40, cols = 256;  // rows enough for two threads' chunks
  const std::vector<float> w = probe_rows(rows, cols, 1);
  for (block_format f : {block_format::q8_0, block_format::q4_0}) {
    const block_matrix m = block_matrix::quantize(make_view(w.data(), {rows, cols}), f);
    ASSERT_EQ(m.bytes(), std::size_t(rows * cols / 32) * block_bytes(f));
    for (std::int64_t b = 0; b < rows * cols / 32; ++b) {
      const std::vector<std::uint8_t> want = f == block_format::q8_0 ? q8_0_by_definition(&w[std::size_t(b * 32)])
                                                                     : q4_0_by_definition(&w[std::size_t(b * 32)]);
      ASSERT_EQ(0, std::memcmp(m.data() + std::size_t(b) * block_bytes(f), want.data(), want.size()))
          << name_of(f) << " block " << b;
    }
    // Dequantized values are (q - offset) * d exactly, and within half a step of w.
    std::vector<float> back(w.size());
    m.dequantize(make_view(back.data(), {rows, cols}));
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::uint8_t* block = m.data() + (i / 32) * block_bytes(f);
      std::uint16_t bits;
      std::memcpy(&bits, block, 2);
      const float d = float(half::from_bits(bits));
      const std::size_t t = i % 32;
      const int q = f == block_format::q8_0 ? int(std::int8_t(block[2 + t]))
                                            : int(t < 16 ? (block[2 + t] & 15) : (block[2 + t - 16] >> 4)) - 8;
      ASSERT_EQ(back[i], float(q) * d) << name_of(f) << " value " << i;
      // Half a step (Q4_0: a whole one, for values of the sign opposite to the block's
      // largest, whose range ends at -7/8 of it), plus the f16 rounding of d (2^-11 of q d).
      const double step = f == block_format::q8_0 ? 0.5 : 1.0;
      ASSERT_LE(std::abs(back[i] - w[i]), step * std::abs(d) * 1.0001 + std::abs(w[i]) * 0x1p-10 + 1e-30)
          << name_of(f) << " value " << i;
    }
  }
}

TEST(block_quant, bytes_round_trip_and_bad_shapes_are_refused) {
  const std::vector<float> w = probe_rows(2, 64, 2);
  const block_matrix m = block_matrix::quantize(make_view(w.data(), {2, 64}), block_format::q4_0);
  const block_matrix c = block_matrix::from_bytes(m.data(), m.bytes(), 2, 64, block_format::q4_0);
  EXPECT_EQ(0, std::memcmp(c.data(), m.data(), m.bytes()));
  expect_error([&] { block_matrix::from_bytes(m.data(), m.bytes() - 1, 2, 64, block_format::q4_0); },
               status::shape_mismatch, "takes 72 bytes, not 71");
  std::vector<float> odd(2 * 48, 1.0f);
  expect_error(
      [&] {
        block_matrix::quantize(make_view(odd.data(), {2, 48}), block_format::q8_0);
      },
      status::shape_mismatch, "not whole blocks of 32");
  std::vector<float> bad = w;
  bad[70] = std::numeric_limits<float>::infinity();
  expect_error(
      [&] {
        block_matrix::quantize(make_view(bad.data(), {2, 64}), block_format::q8_0);
      },
      status::invalid_argument, "w(1, 6) = inf is not finite");
  // Rows are checked in chunks over the threads: the first bad entry in row order is named.
  std::vector<float> tall(64 * 64, 1.0f);
  tall[std::size_t(50 * 64 + 1)] = std::numeric_limits<float>::quiet_NaN();
  tall[std::size_t(30 * 64 + 7)] = -std::numeric_limits<float>::infinity();
  expect_error(
      [&] {
        block_matrix::quantize(make_view(tall.data(), {64, 64}), block_format::q4_0);
      },
      status::invalid_argument, "w(30, 7) = -inf is not finite");
  std::vector<float> x(3 * 32, 1.0f), y(3 * 2, 9.0f);
  expect_error(
      [&] {
        matmul(make_view(x.data(), {3, 32}), m, make_view(y.data(), {3, 2}));
      },
      status::shape_mismatch, "x has 32 columns but W is 2 x 64");
  EXPECT_EQ(y, std::vector<float>(6, 9.0f));
}

class block_embedding_kernels : public ::testing::TestWithParam<kernel_info> {};

/// Every embedding kernel of block tables (keyed u8, output dtype), with the table, ids and
/// output in its memory: each row is the dequantized row rounded once, and a bad id is
/// refused with nothing written.
TEST_P(block_embedding_kernels, give_the_dequantized_rows_and_refuse_ids_outside_the_vocabulary) {
  const kernel_info& k = GetParam();
  const force_kernel pin(k.name);
  const context where = context_for(k);
  with_type(k.out, [&](auto out_tag) {
    using T = decltype(out_tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, bfloat16> || std::is_same_v<T, half>) {
      const std::int64_t vocab = 9, d = 64;
      const std::vector<float> w = probe_rows(vocab, d, 4);
      for (block_format f : {block_format::q8_0, block_format::q4_0}) {
        const block_matrix host_table = block_matrix::quantize(make_view(w.data(), {vocab, d}), f);
        std::vector<float> all(w.size());
        host_table.dequantize(make_view(all.data(), {vocab, d}));
        const block_matrix table = host_table.to(where);
        const std::vector<std::int32_t> ids = {8, 0, 8, 3};
        const array<std::int32_t> ids_at(ids, where);
        array<T> out(std::vector<T>(ids.size() * std::size_t(d)), where);
        embedding(table, make_view(ids_at.data(), 4, 1, where), make_view(out.data(), {4, d}, {d, 1}, where));
        const std::vector<T> got = out.to_vector();
        for (std::size_t t = 0; t < ids.size(); ++t)
          for (std::int64_t j = 0; j < d; ++j)
            ASSERT_EQ(double(got[t * std::size_t(d) + std::size_t(j)]), double(T(all[std::size_t(ids[t] * d + j)])))
                << name_of(f) << " row " << t << ", entry " << j;
        const array<std::int32_t> bad(std::vector<std::int32_t>{8, 0, -1, 3}, where);
        expect_error(
            [&] {
              embedding(table, make_view(bad.data(), 4, 1, where), make_view(out.data(), {4, d}, {d, 1}, where));
            },
            status::invalid_argument, "ids[2] = -1 is outside the vocabulary [0, 9)");
        const std::vector<T> after = out.to_vector();
        for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(double(after[i]), double(got[i])) << "written at " << i;
      }
    }
  });
}

std::vector<kernel_info> block_embedding_kernel_list() {
  std::vector<kernel_info> out;
  for (const kernel_info& k : runnable_kernels("embedding"))
    if (k.in == dtype::u8) out.push_back(k);
  return out;
}

INSTANTIATE_TEST_SUITE_P(kernels, block_embedding_kernels, ::testing::ValuesIn(block_embedding_kernel_list()),
                         [](const auto& info) { return info.param.name; });

class block_matmul_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(block_matmul_kernels, matches_the_exact_sum_of_quantized_block_products) {
  const force_kernel pin(GetParam().name);
  const context where = context_for(GetParam());  // W, x and y in the kernel's memory
  // k = 224: seven blocks, one group of four and a pair and a half after it.
  for (const std::int64_t k : {256, 224}) {
    const std::int64_t n = 37, blocks = k / 32;
    const std::vector<float> w = probe_rows(n, k, 3);
    for (block_format f : {block_format::q8_0, block_format::q4_0}) {
      const block_matrix W = block_matrix::quantize(make_view(w.data(), {n, k}), f).to(where);
      std::vector<float> wd(w.size());
      W.dequantize(make_view(wd.data(), {n, k}));
      for (std::int64_t m : {1, 3, 64, 65}) {
        const std::int64_t ldx = k + 3, ldy = n + 2;
        std::vector<float> x(std::size_t(m * ldx), 0.0f), y(std::size_t(m * ldy), 5.0f);
        std::mt19937 gen{unsigned(m)};
        std::uniform_real_distribution<float> d(-2, 2);
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < k; ++j) x[std::size_t(i * ldx + j)] = d(gen);
        {
          const array<float> x_at(x, where);
          array<float> y_at(y, where);
          matmul(make_view(x_at.data(), {m, k}, {ldx, 1}, where), W, make_view(y_at.data(), {m, n}, {ldy, 1}, where));
          y = y_at.to_vector();
        }
        for (std::int64_t i = 0; i < m; ++i) {
          // x's row as Q8_0 blocks, by the definition; then the exact sum of block products.
          std::vector<double> xd(static_cast<std::size_t>(k));
          for (std::int64_t b = 0; b < blocks; ++b) {
            const std::vector<std::uint8_t> qb = q8_0_by_definition(&x[std::size_t(i * ldx + b * 32)]);
            std::uint16_t bits;
            std::memcpy(&bits, qb.data(), 2);
            for (int t = 0; t < 32; ++t)
              xd[std::size_t(b * 32 + t)] = double(std::int8_t(qb[std::size_t(2 + t)])) * double(half::from_bits(bits));
          }
          for (std::int64_t j = 0; j < n; ++j) {
            double exact = 0, magnitude = 0;
            for (std::int64_t b = 0; b < blocks; ++b) {
              double term = 0;
              for (int t = 0; t < 32; ++t)
                term += xd[std::size_t(b * 32 + t)] * double(wd[std::size_t(j * k + b * 32 + t)]);
              exact += term;
              magnitude += std::abs(term);
            }
            const double bound = double(blocks + 2) * 0x1p-24 * magnitude + 1e-30;
            ASSERT_LE(std::abs(double(y[std::size_t(i * ldy + j)]) - exact), bound)
                << GetParam().name << " " << name_of(f) << " k " << k << " m " << m << " at " << i << "," << j;
          }
          ASSERT_EQ(y[std::size_t(i * ldy + n)], 5.0f) << "row padding written";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(kernels, block_matmul_kernels, ::testing::ValuesIn(runnable_kernels("block_matmul")),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace mixprec::test
