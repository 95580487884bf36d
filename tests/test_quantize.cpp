// Quantization: the rule q = sat(rne(x / scale) + zp) on every registered kernel, at the
// saturation edges and on ties; parameter choice for each granularity; round trips within
// scale / 2; the refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "support/harness.hpp"

namespace mixprec::test {
namespace {

class quantize_kernel : public ::testing::TestWithParam<kernel_info> {};

/// The expected quantized value, computed in long double from the stated rule.
template <class Q>
Q expected_q(float x, float scale, std::int32_t zp) {
  const float ratio = x / scale;  // the rule's one f32 division
  if (std::isnan(ratio)) return Q(zp);
  return expected_conversion<Q>(std::nearbyintl(ld(ratio)) + zp);
}

TEST_P(quantize_kernel, rule_holds_at_edges_ties_and_nan) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto xt) {
    using X = decltype(xt);
    if constexpr (std::is_same_v<X, float> || std::is_same_v<X, bfloat16> || std::is_same_v<X, half>) {
      with_type(k.out, [&](auto qt) {
        using Q = decltype(qt);
        if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>) {
          const context ctx = context_for(k);
          const float scale = 0.5f;
          const std::int32_t zp = std::is_same_v<Q, std::uint8_t> ? 128 : 0;
          // ties (x / scale = n + 1/2 round to even), the saturation edges and beyond, NaN, Inf
          std::vector<float> xs = {0.25f,
                                   0.75f,
                                   1.25f,
                                   -0.25f,
                                   -0.75f,
                                   -1.25f,
                                   63.5f,
                                   63.75f,
                                   64.0f,
                                   -64.0f,
                                   -64.25f,
                                   -65.0f,
                                   200.0f,
                                   -200.0f,
                                   std::numeric_limits<float>::quiet_NaN(),
                                   std::numeric_limits<float>::infinity(),
                                   -std::numeric_limits<float>::infinity(),
                                   0.0f};
          for (int i = 0; i < 300; ++i) xs.push_back(float(i - 150) * 0.37f);
          std::vector<X> xv;
          for (float v : xs) xv.push_back(X(v));
          const std::int64_t n = std::int64_t(xv.size());
          quant_scheme s{k.out, k.out == dtype::i8, quant_granularity::per_tensor};
          quant_params p = make_quant_params(1, n, s);
          p.scale[0] = scale;
          p.zero_point[0] = zp;
          array<X> x(xv, ctx);
          array<Q> q(n, ctx);
          {
            force_kernel pin(k.name);
            quantize(x, p, q);
          }
          const auto got = q.to_vector();
          for (std::int64_t i = 0; i < n; ++i)
            ASSERT_EQ(int(got[std::size_t(i)]), int(expected_q<Q>(float(xv[std::size_t(i)]), scale, zp)))
                << k.name << " x = " << float(xv[std::size_t(i)]);
        }
      });
    }
  });
}

class dequantize_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(dequantize_kernel, is_the_exact_affine_map_rounded_once) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto qt) {
    using Q = decltype(qt);
    // (Nested, so that clang does not check the integer-only body for float Q.)
    if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>) {
      with_type(k.out, [&](auto xt) {
        using X = decltype(xt);
        if constexpr (std::is_same_v<X, float> || std::is_same_v<X, bfloat16>) {
          const context ctx = context_for(k);
          std::vector<Q> qv;
          for (int v = std::numeric_limits<Q>::min(); v <= std::numeric_limits<Q>::max(); ++v) qv.push_back(Q(v));
          const std::int64_t n = std::int64_t(qv.size());
          quant_params p = make_quant_params(1, n, quant_scheme{k.in, k.in == dtype::i8});
          p.scale[0] = 0.0123f;
          p.zero_point[0] = k.in == dtype::u8 ? 17 : 0;
          array<Q> q(qv, ctx);
          array<X> x(n, ctx);
          {
            force_kernel pin(k.name);
            dequantize(q, p, x);
          }
          const auto got = x.to_vector();
          for (std::int64_t i = 0; i < n; ++i) {
            const float want = float(int(qv[std::size_t(i)]) - p.zero_point[0]) * p.scale[0];
            ASSERT_TRUE(same_value(got[std::size_t(i)], expected_conversion<X>(ld(want))))
                << k.name << " q = " << int(qv[std::size_t(i)]);
          }
        }
      });
    }
  });
}

/// Parameter layouts the kernels take different paths for, on a 203 x 333 matrix (two
/// row chunks on two threads, neither a multiple of 4 rows; column tails everywhere): one
/// scale, one per row, one per column, row groups of 3 and 8 (rows of a group taken
/// together or not), column groups of 32 and 48 (whole vectors per group) and 24 (not).
std::vector<quant_scheme> layouts(dtype target) {
  const bool sym = target == dtype::i8;
  return {{target, sym, quant_granularity::per_tensor},       {target, sym, quant_granularity::per_channel, 0},
          {target, sym, quant_granularity::per_channel, 1},   {target, sym, quant_granularity::per_group, 0, 3},
          {target, sym, quant_granularity::per_group, 0, 8},  {target, sym, quant_granularity::per_group, 1, 32},
          {target, sym, quant_granularity::per_group, 1, 48}, {target, sym, quant_granularity::per_group, 1, 24}};
}

/// Distinct scales and zero points per group, so that an element quantized with its
/// neighbour group's parameters shows.
void vary_parameters(quant_params& p) {
  for (std::size_t g = 0; g < p.scale.size(); ++g) {
    p.scale[g] = 0.05f + 0.01f * float(g % 7);
    p.zero_point[g] = p.scheme.target == dtype::u8 ? 100 + std::int32_t(g % 50) : 0;
  }
}

constexpr std::int64_t layout_rows = 203, layout_cols = 333;

/// For every layout: run(p) with kernel k pinned, then element_ok(e, g) for every element
/// (e its index, g its parameters' index) must hold.
template <class Run, class ElementOk>
void check_every_layout(const kernel_info& k, dtype target, Run&& run, ElementOk&& element_ok) {
  for (const quant_scheme& s : layouts(target)) {
    quant_params p = make_quant_params(layout_rows, layout_cols, s);
    vary_parameters(p);
    {
      force_kernel pin(k.name);
      run(p);
    }
    for (std::int64_t i = 0; i < layout_rows; ++i)
      for (std::int64_t j = 0; j < layout_cols; ++j)
        ASSERT_TRUE(element_ok(std::size_t(i * layout_cols + j), std::size_t(p.index(i, j))))
            << k.name << " granularity " << int(s.granularity) << " axis " << s.axis << " group " << s.group_size
            << " at (" << i << "," << j << ")";
  }
}

TEST_P(quantize_kernel, every_parameter_layout_follows_the_rule_elementwise) {
  const kernel_info& k = GetParam();
  if (k.where != backend::cpu) GTEST_SKIP() << "CPU layouts";
  with_type(k.in, [&](auto xt) {
    using X = decltype(xt);
    if constexpr (std::is_same_v<X, float> || std::is_same_v<X, bfloat16> || std::is_same_v<X, half>) {
      with_type(k.out, [&](auto qt) {
        using Q = decltype(qt);
        if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>) {
          std::vector<X> x = random_values<X>(layout_rows * layout_cols, 21, 12.0);
          x[7] = X(std::numeric_limits<float>::quiet_NaN());
          x[400] = X(std::numeric_limits<float>::infinity());
          std::vector<Q> q(x.size());
          const quant_params* used = nullptr;
          check_every_layout(
              k, k.out,
              [&](const quant_params& p) {
                used = &p;
                quantize(make_view(static_cast<const X*>(x.data()), {layout_rows, layout_cols}), p,
                         make_view(q.data(), {layout_rows, layout_cols}));
              },
              [&](std::size_t e, std::size_t g) {
                return int(q[e]) == int(expected_q<Q>(float(x[e]), used->scale[g], used->zero_point[g]));
              });
        }
      });
    }
  });
}

TEST_P(dequantize_kernel, every_parameter_layout_is_the_affine_map_elementwise) {
  const kernel_info& k = GetParam();
  if (k.where != backend::cpu) GTEST_SKIP() << "CPU layouts";
  with_type(k.in, [&](auto qt) {
    using Q = decltype(qt);
    if constexpr (std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t>) {
      with_type(k.out, [&](auto xt) {
        using X = decltype(xt);
        if constexpr (std::is_same_v<X, float> || std::is_same_v<X, bfloat16>) {
          std::mt19937 gen(5);
          std::uniform_int_distribution<int> d(std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
          std::vector<Q> q(std::size_t(layout_rows * layout_cols));
          for (auto& v : q) v = Q(d(gen));
          std::vector<X> x(q.size());
          const quant_params* used = nullptr;
          check_every_layout(
              k, k.in,
              [&](const quant_params& p) {
                used = &p;
                dequantize(make_view(static_cast<const Q*>(q.data()), {layout_rows, layout_cols}), p,
                           make_view(x.data(), {layout_rows, layout_cols}));
              },
              [&](std::size_t e, std::size_t g) {
                const float want = float(int(q[e]) - used->zero_point[g]) * used->scale[g];
                return same_value(x[e], expected_conversion<X>(ld(want)));
              });
        }
      });
    }
  });
}

INSTANTIATE_TEST_SUITE_P(every_kernel, quantize_kernel, ::testing::ValuesIn(runnable_kernels("quantize")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(every_kernel, dequantize_kernel, ::testing::ValuesIn(runnable_kernels("dequantize")),
                         kernel_param_name);

struct granularity_case {
  quant_scheme scheme;
  std::int64_t grid_rows, grid_cols;
};

TEST(quantize_params, each_granularity_round_trips_within_half_a_step) {
  const std::int64_t rows = 70, cols = 150;
  auto xs = random_values<float>(rows * cols, 9, 3.0);
  for (std::int64_t i = 0; i < rows; ++i) xs[std::size_t(i * cols + 5)] *= 40.0f;  // a wide column
  const granularity_case cases[] = {
      {{dtype::i8, true, quant_granularity::per_tensor}, 1, 1},
      {{dtype::u8, false, quant_granularity::per_tensor}, 1, 1},
      {{dtype::i8, true, quant_granularity::per_channel, 1}, 1, cols},
      {{dtype::u8, false, quant_granularity::per_channel, 0}, rows, 1},
      {{dtype::i8, true, quant_granularity::per_group, 0, 32}, 3, cols},
      {{dtype::u8, false, quant_granularity::per_group, 1, 64}, rows, 3},
      {{dtype::i8, true, quant_granularity::per_group, 1, 128}, rows, 2},
  };
  const auto xv = make_view(xs.data(), {rows, cols});
  for (const auto& c : cases) {
    const quant_params p = choose_quant_params(xv, c.scheme);
    ASSERT_EQ(p.grid_rows, c.grid_rows);
    ASSERT_EQ(p.grid_cols, c.grid_cols);
    std::vector<std::int8_t> q(std::size_t(rows * cols));
    std::vector<float> back(std::size_t(rows * cols));
    const view qv(q.data(), c.scheme.target, {rows, cols}, {cols, 1}, context::cpu());
    quantize(xv, p, qv);
    dequantize(qv, p, make_view(back.data(), {rows, cols}));
    std::vector<float> gmin(p.scale.size(), 0), gmax(p.scale.size(), 0);
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t j = 0; j < cols; ++j) {
        const std::size_t g = std::size_t(p.index(i, j)), e = std::size_t(i * cols + j);
        gmin[g] = std::min(gmin[g], xs[e]);
        gmax[g] = std::max(gmax[g], xs[e]);
        // half a step, plus the f32 roundings of x / scale and of the dequantization
        const ld bound =
            ld(p.scale[g]) / 2 * (1 + 4 * unit_roundoff<float>()) + 2 * unit_roundoff<float>() * std::fabs(ld(xs[e]));
        ASSERT_LE(std::fabs(ld(back[e]) - ld(xs[e])), bound) << "element (" << i << "," << j << ") group " << g;
      }
    // the scales are as tight as the rule says: the range's ends land on the integer range
    for (std::size_t g = 0; g < p.scale.size(); ++g) {
      if (c.scheme.symmetric) {
        EXPECT_FLOAT_EQ(p.scale[g], std::max(-gmin[g], gmax[g]) / 127.0f);
        EXPECT_EQ(p.zero_point[g], 0);
      } else {
        EXPECT_FLOAT_EQ(p.scale[g], (gmax[g] - gmin[g]) / 255.0f);
        EXPECT_LE(std::abs(int(std::lround(gmin[g] / p.scale[g])) + p.zero_point[g]), 1) << "min maps to 0";
      }
    }
  }
}

TEST(quantize_params, zeros_get_unit_scale_and_bad_parameters_are_refused) {
  std::vector<float> zeros(10, 0.0f);
  const quant_params p = choose_quant_params(make_view(zeros.data(), 10), quant_scheme{});
  EXPECT_EQ(p.scale[0], 1.0f);
  std::vector<std::int8_t> q(10, 99);
  auto expect = [&](auto&& call, status code, const char* words) {
    expect_refusal(call, code, words);
    for (auto v : q) ASSERT_EQ(v, 99);
  };
  quant_params bad = p;
  bad.scale[0] = 0.0f;
  expect([&] { quantize(make_view(zeros.data(), 10), bad, make_view(q.data(), 10)); }, status::invalid_argument,
         "scale[0] = 0");
  bad = p;
  bad.zero_point[0] = 200;
  expect([&] { quantize(make_view(zeros.data(), 10), bad, make_view(q.data(), 10)); }, status::invalid_argument,
         "zero_point[0] = 200");
  expect([&] { quantize(make_view(zeros.data(), 9), p, make_view(q.data(), 9)); }, status::shape_mismatch,
         "parameters are for 1 x 10");
  expect(
      [&] {
        (void)choose_quant_params(make_view(zeros.data(), 10), quant_scheme{dtype::u8, true});
      },
      status::invalid_argument, "symmetric");
  expect(
      [&] {
        (void)make_quant_params(2, 10, quant_scheme{dtype::i8, true, quant_granularity::per_group, 1, 0});
      },
      status::invalid_argument, "group_size = 0");
  std::vector<std::uint8_t> u(10);
  expect([&] { quantize(make_view(zeros.data(), 10), p, make_view(u.data(), 10)); }, status::invalid_argument,
         "q is u8");
}

}  // namespace
}  // namespace mixprec::test
