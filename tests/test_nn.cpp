// Row-wise NN ops (mixprec/nn.hpp) on every registered kernel: activations, element-wise
// ops with broadcast, softmax (scale, masks, causal, log, all-masked rows) and RMS / layer
// normalization (with the fused residual), each against a long-double reference with the
// bound the header states; special values; and bad input refused with outputs untouched.
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "mixprec/nn.hpp"
#include "support/harness.hpp"
#include "support/placed_rows.hpp"
#include "support/subnormals.hpp"

namespace mixprec::test {
namespace {

using ld = long double;

/// Unit roundoff of a storage dtype and half its smallest subnormal (the absolute rounding
/// error of a result that underflows there).
double unit_of(dtype t) { return t == dtype::f32 ? 0x1p-24 : t == dtype::bf16 ? 0x1p-8 : 0x1p-11; }
double tiny_of(dtype t) { return t == dtype::f16 ? 0x1p-25 : t == dtype::bf16 ? 0x1p-134 : 0x1p-150; }

template <class T>
rows_of_t<T> random_rows(std::int64_t r, std::int64_t c, std::int64_t l, double lo, double hi, unsigned seed) {
  rows_of_t<T> m(r, c, l);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  for (std::int64_t i = 0; i < r; ++i)
    for (std::int64_t j = 0; j < c; ++j) m.at(i, j) = T(d(gen));
  return m;
}

ld gelu_erf_ref(ld x) { return 0.5L * x * std::erfc(-x / std::sqrt(2.0L)); }
// x/2 (1 + tanh t) = x / (1 + exp(-2t)): the tanh form cancels to 0 for x below about -7.
ld gelu_tanh_ref(ld x) { return x / (1 + std::exp(-2 * 0.79788456080286535588L * (x + 0.044715L * x * x * x))); }
ld silu_ref(ld x) { return x / (1 + std::exp(-x)); }

class nn_eltwise_kernels : public ::testing::TestWithParam<kernel_info> {};
class nn_softmax_kernels : public ::testing::TestWithParam<kernel_info> {};
class nn_norm_kernels : public ::testing::TestWithParam<kernel_info> {};

/// The shapes every kernel sees: several rows with a padded stride, one long row (split
/// among threads), widths around the vector lengths.
struct shape {
  std::int64_t rows, cols, ldv;
};
const shape shapes[] = {{3, 37, 41}, {1, 50000, 50000}, {5, 16, 16}, {2, 1, 3}, {4, 33, 40}};

TEST_P(nn_eltwise_kernels, activations_match_long_double_within_the_stated_bound) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double uT = unit_of(k.in), u = 0x1p-24, floor = std::max(0x1p-100, tiny_of(k.in));
      const double lo = std::is_same_v<T, half> ? -11 : -90, hi = std::is_same_v<T, half> ? 11 : 40;
      for (const shape& s : shapes) {
        const auto x = random_rows<T>(s.rows, s.cols, s.ldv, lo, hi, unsigned(s.cols));
        for (activation act : {activation::relu, activation::gelu_erf, activation::gelu_tanh, activation::silu}) {
          rows_of_t<T> y(s.rows, s.cols, s.ldv);
          activate(act, x.as_const(), y.as_view());
          for (std::int64_t i = 0; i < s.rows; ++i)
            for (std::int64_t j = 0; j < s.cols; ++j) {
              const ld xi = x.get(i, j);
              const ld r = act == activation::relu       ? std::max(xi, 0.0L)
                           : act == activation::gelu_erf ? gelu_erf_ref(xi)
                           : act == activation::silu     ? silu_ref(xi)
                                                         : gelu_tanh_ref(xi);
              // exp's argument (up to x^2 in size, from a rounded x) is rounded: 2 x^2 u relative.
              const double bound = (uT + (32 + 2 * double(xi * xi)) * u) * double(std::abs(r)) + floor;
              ASSERT_LE(std::abs(double(y.get(i, j) - r)), bound)
                  << k.name << " " << name_of(act) << " x=" << double(xi) << " at " << i << "," << j;
            }
          if (s.rows > 1 && s.ldv > s.cols) ASSERT_EQ(y.get(0, s.cols), 7.0) << "row padding written";
        }
      }
    }
  });
}

TEST_P(nn_eltwise_kernels, special_values_give_the_limits) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double inf = std::numeric_limits<double>::infinity();
      const rows_of_t<T> x(std::vector<T>{T(inf), T(-inf), T(std::nan("")), T(0.0), T(-1000.0), T(-0.0)});
      for (activation act : {activation::relu, activation::gelu_erf, activation::gelu_tanh, activation::silu}) {
        rows_of_t<T> y(1, 6, 6);
        activate(act, x.as_const(), y.as_view());
        EXPECT_EQ(y.get(0, 0), inf) << k.name << " " << name_of(act);
        EXPECT_EQ(y.get(0, 1), 0.0) << k.name << " " << name_of(act);
        EXPECT_TRUE(std::isnan(y.get(0, 2))) << k.name << " " << name_of(act);
        EXPECT_EQ(y.get(0, 3), 0.0) << k.name << " " << name_of(act);
        EXPECT_EQ(y.get(0, 4), 0.0) << k.name << " " << name_of(act);
      }
    }
  });
}

// A subnormal result is stored as the storage format's subnormal, not flushed to zero.
TEST_P(nn_eltwise_kernels, subnormal_values_are_kept_not_flushed) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const rows_of_t<T> x(subnormal_ladder<T>(k.in));
      rows_of_t<T> y(1, x.cols, x.cols);
      activate(activation::relu, x.as_const(), y.as_view());
      for (std::int64_t j = 0; j < x.cols; ++j)
        ASSERT_EQ(y.get(0, j), std::max(x.get(0, j), 0.0)) << k.name << " at " << j;
    }
  });
}

TEST_P(nn_eltwise_kernels, binary_ops_broadcast_rows_and_columns_and_run_in_place) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double uT = unit_of(k.in), u = 0x1p-24, floor = tiny_of(k.in);
      const auto a = random_rows<T>(4, 37, 40, -3, 3, 1);
      const auto full = random_rows<T>(4, 37, 39, -3, 3, 2);
      const auto row = random_rows<T>(1, 37, 37, -3, 3, 3);
      const auto col = random_rows<T>(4, 1, 2, -3, 3, 4);
      struct b_case {
        const_view v;
        std::function<double(std::int64_t, std::int64_t)> at;
      };
      const b_case cases[] = {{full.as_const(), [&](auto i, auto j) { return full.get(i, j); }},
                              {row.as_const(), [&](auto, auto j) { return row.get(0, j); }},
                              {col.as_const(), [&](auto i, auto) { return col.get(i, 0); }}};
      for (const b_case& c : cases)
        for (int op = 0; op < 2; ++op) {
          rows_of_t<T> y(4, 37, 40);
          (op == 0 ? add : mul)(a.as_const(), c.v, y.as_view());
          for (std::int64_t i = 0; i < 4; ++i)
            for (std::int64_t j = 0; j < 37; ++j) {
              const ld r = op == 0 ? ld(a.get(i, j)) + c.at(i, j) : ld(a.get(i, j)) * c.at(i, j);
              ASSERT_LE(std::abs(double(y.get(i, j) - r)), (uT + u) * double(std::abs(r)) + floor) << k.name;
            }
        }
      // swiglu and scale, in place on a copy of a.
      auto g = a;
      const auto up = random_rows<T>(4, 37, 40, -3, 3, 5);
      swiglu(g.as_const(), up.as_const(), g.as_view());
      for (std::int64_t i = 0; i < 4; ++i)
        for (std::int64_t j = 0; j < 37; ++j) {
          const ld r = silu_ref(a.get(i, j)) * up.get(i, j);
          const double xi = a.get(i, j);
          ASSERT_LE(std::abs(double(g.get(i, j) - r)), (uT + (34 + 2 * xi * xi) * u) * double(std::abs(r)) + 0x1p-100)
              << k.name;
        }
      auto sc = a;
      scale(-0.375, sc.as_const(), sc.as_view());
      for (std::int64_t j = 0; j < 37; ++j) ASSERT_EQ(sc.get(1, j), double(T(-0.375 * a.get(1, j)))) << k.name;
    }
  });
}

/// Long-double softmax of one row of logits z (entries of -inf allowed), and the row's
/// bound terms: |z| and the max.
std::vector<ld> softmax_ref(const std::vector<ld>& z, bool log) {
  ld m = -std::numeric_limits<ld>::infinity();
  for (ld v : z) m = std::max(m, v);
  std::vector<ld> out(z.size());
  if (m == -std::numeric_limits<ld>::infinity()) {
    std::fill(out.begin(), out.end(), log ? m : 0.0L);
    return out;
  }
  ld s = 0;
  for (ld v : z) s += std::exp(v - m);
  for (std::size_t j = 0; j < z.size(); ++j) out[j] = log ? z[j] - m - std::log(s) : std::exp(z[j] - m) / s;
  return out;
}

TEST_P(nn_softmax_kernels, rows_match_long_double_with_masks_causality_and_log) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double uT = unit_of(k.in), floor = tiny_of(k.in);
      const ld inf = std::numeric_limits<ld>::infinity();
      for (accumulation acc : {accumulation::standard, accumulation::f64}) {
        const double u = acc == accumulation::f64 ? 0x1p-53 : 0x1p-24;
        for (const shape& s : {shape{5, 37, 40}, shape{3, 4096, 4100}, shape{6, 9, 9}, shape{1, 1, 1}}) {
          const auto x = random_rows<T>(s.rows, s.cols, s.ldv, -6, 6, unsigned(s.cols + 7));
          auto mask = random_rows<T>(s.rows, s.cols, s.cols, -2, 2, 99);
          mask.at(0, 0) = T(-std::numeric_limits<double>::infinity());  // one masked position
          for (int variant = 0; variant < 4; ++variant) {
            softmax_options o;
            o.acc = acc;
            o.scale = 0.75;
            o.log = variant == 3;
            if (variant >= 1) o.mask = mask.as_const();
            if (variant >= 2) o.causal = true, o.causal_offset = variant == 2 ? 1 : -1;  // row 0 fully masked at -1
            rows_of_t<T> y(s.rows, s.cols, s.ldv);
            try {
              softmax(x.as_const(), y.as_view(), o);
            } catch (const error& e) {
              if (acc == accumulation::f64 && e.code() == status::unsupported) continue;  // forced f32-only kernel
              throw;
            }
            for (std::int64_t i = 0; i < s.rows; ++i) {
              std::vector<ld> z(std::size_t(s.cols));
              ld zmax = 0;
              for (std::int64_t j = 0; j < s.cols; ++j) {
                z[std::size_t(j)] = ld(0.75) * x.get(i, j) + (o.mask.size() ? ld(mask.get(i, j)) : 0.0L);
                if (o.causal && j > i + o.causal_offset) z[std::size_t(j)] = -inf;
                if (std::isfinite(double(z[std::size_t(j)]))) zmax = std::max(zmax, std::abs(z[std::size_t(j)]));
              }
              const std::vector<ld> r = softmax_ref(z, o.log);
              for (std::int64_t j = 0; j < s.cols; ++j) {
                const ld rj = r[std::size_t(j)], yj = y.get(i, j);
                if (!std::isfinite(double(rj))) {
                  ASSERT_EQ(double(yj), double(rj)) << k.name << " row " << i << " col " << j;
                  continue;
                }
                const double zj = std::isfinite(double(z[std::size_t(j)])) ? double(std::abs(z[std::size_t(j)])) : 0;
                const double rel = double(s.cols + 8) + 2 * (zj + zmax) + 2 * (zmax + zmax);
                // log-softmax: the error is absolute, about u times the terms subtracted.
                const double bound =
                    o.log ? uT * double(std::abs(rj)) + u * (rel + 2 * zmax + 4) : (uT + rel * u) * double(rj) + floor;
                ASSERT_LE(std::abs(double(yj - rj)), bound)
                    << k.name << " variant " << variant << " row " << i << " col " << j;
              }
            }
          }
        }
      }
    }
  });
}

TEST_P(nn_softmax_kernels, an_all_masked_row_is_zero_and_a_nan_row_is_nan) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double inf = std::numeric_limits<double>::infinity();
      rows_of_t<T> x(2, 21, 21, -inf);
      for (std::int64_t j = 0; j < 21; ++j) x.at(1, j) = T(double(j % 5));
      x.at(1, 17) = T(std::nan(""));
      for (bool log : {false, true}) {
        rows_of_t<T> y(2, 21, 21);
        softmax_options o;
        o.log = log;
        softmax(x.as_const(), y.as_view(), o);
        for (std::int64_t j = 0; j < 21; ++j) {
          EXPECT_EQ(y.get(0, j), log ? -inf : 0.0) << k.name;
          EXPECT_TRUE(std::isnan(y.get(1, j))) << k.name << " col " << j;
        }
      }
    }
  });
}

TEST_P(nn_norm_kernels, rms_and_layer_norm_match_long_double_and_the_fused_sum_is_exact) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double uT = unit_of(k.in), floor = tiny_of(k.in);
      for (accumulation acc : {accumulation::standard, accumulation::f64})
        for (const shape& s : {shape{4, 37, 40}, shape{2, 4096, 4096}, shape{3, 5, 8}}) {
          const double u = acc == accumulation::f64 ? 0x1p-53 : 0x1p-24;
          const auto x = random_rows<T>(s.rows, s.cols, s.ldv, 1, 5, 11);  // a mean far from 0
          const auto res = random_rows<T>(s.rows, s.cols, s.ldv, -2, 2, 12);
          std::vector<float> gamma(std::size_t(s.cols)), beta(std::size_t(s.cols));
          std::mt19937 gen(13);
          std::uniform_real_distribution<float> d(-2, 2);
          for (auto& g : gamma) g = d(gen);
          for (auto& b : beta) b = d(gen);
          norm_options o;
          o.acc = acc;
          o.eps = 1e-5;
          for (int variant = 0; variant < 4; ++variant) {
            const bool layer = variant % 2 == 1, fused = variant >= 2;
            rows_of_t<T> y(s.rows, s.cols, s.ldv), sum(s.rows, s.cols, s.ldv);
            const placed_values<float> gamma_placed(gamma), beta_placed(beta);
            const const_view g = gamma_placed.as_const(), b = beta_placed.as_const();
            try {
              if (!fused && !layer) rms_norm(x.as_const(), g, y.as_view(), o);
              if (!fused && layer) layer_norm(x.as_const(), g, b, y.as_view(), o);
              if (fused && !layer) add_rms_norm(x.as_const(), res.as_const(), g, sum.as_view(), y.as_view(), o);
              if (fused && layer) add_layer_norm(x.as_const(), res.as_const(), g, b, sum.as_view(), y.as_view(), o);
            } catch (const error& e) {
              if (acc == accumulation::f64 && e.code() == status::unsupported) continue;
              throw;
            }
            for (std::int64_t i = 0; i < s.rows; ++i) {
              std::vector<ld> in(std::size_t(s.cols));
              for (std::int64_t j = 0; j < s.cols; ++j) {
                if (fused) {
                  const double want = double(T(float(x.get(i, j)) + float(res.get(i, j))));
                  ASSERT_EQ(sum.get(i, j), want) << k.name << " sum at " << i << "," << j;
                }
                in[std::size_t(j)] = fused ? sum.get(i, j) : x.get(i, j);
              }
              ld mean = 0, sq = 0, mean_abs = 0;
              for (ld v : in) mean += v, mean_abs += std::abs(v);
              mean /= s.cols;
              mean_abs /= s.cols;
              for (ld v : in) sq += layer ? (v - mean) * (v - mean) : v * v;
              const ld sigma = std::sqrt(sq / s.cols + ld(o.eps));
              for (std::int64_t j = 0; j < s.cols; ++j) {
                const ld gj = gamma[std::size_t(j)], bj = layer ? beta[std::size_t(j)] : 0;
                const ld d = layer ? in[std::size_t(j)] - mean : in[std::size_t(j)];
                const ld r = d / sigma * gj + bj;
                const double bound = layer ? uT * double(std::abs(r)) +
                                                 double(s.cols + 8) * u * double(std::abs(gj)) *
                                                     double((std::abs(d) + 2 * mean_abs) / sigma) +
                                                 u * double(std::abs(bj)) + floor
                                           : (uT + (double(s.cols) / 2 + 8) * u) * double(std::abs(r)) + floor;
                ASSERT_LE(std::abs(double(y.get(i, j) - r)), bound)
                    << k.name << " variant " << variant << " at " << i << "," << j;
              }
            }
          }
        }
    }
  });
}

class nn_rope_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(nn_rope_kernels, rotations_match_long_double_for_both_layouts_and_partial_rotation) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    {
      const double uT = unit_of(k.in), u = 0x1p-24;
      const std::int64_t heads = 3, rows = 5;
      std::vector<std::int32_t> pos = {0, 1, 17, 4095, 100000};
      for (std::int64_t head_dim : {64, 128, 6})
        for (std::int64_t rot : {head_dim, head_dim / 2 - (head_dim / 2) % 2})
          for (rope_layout layout : {rope_layout::half_split, rope_layout::adjacent})
            for (double theta : {10000.0, 500000.0}) {
              if (rot <= 0) continue;
              const std::int64_t cols = heads * head_dim, ldv = cols + 5;
              const auto x0 = random_rows<T>(rows, cols, ldv, -2, 2, unsigned(head_dim + rot));
              auto x = x0;
              rope_options o;
              o.theta = theta;
              o.layout = layout;
              o.rotary_dims = rot;
              rope(x.as_view(), head_dim, placed_values<std::int32_t>(pos).as_const(), o);
              for (std::int64_t i = 0; i < rows; ++i)
                for (std::int64_t h = 0; h < heads; ++h)
                  for (std::int64_t kk = 0; kk < rot / 2; ++kk) {
                    const std::int64_t ja = h * head_dim + (layout == rope_layout::adjacent ? 2 * kk : kk);
                    const std::int64_t jb =
                        h * head_dim + (layout == rope_layout::adjacent ? 2 * kk + 1 : kk + rot / 2);
                    const ld angle = ld(pos[std::size_t(i)]) * std::pow(ld(theta), -2.0L * ld(kk) / ld(rot));
                    const ld a = x0.get(i, ja), b = x0.get(i, jb);
                    const ld ra = a * std::cos(angle) - b * std::sin(angle),
                             rb = a * std::sin(angle) + b * std::cos(angle);
                    const double slack = 4 * u * double(std::abs(a) + std::abs(b)) + tiny_of(k.in);
                    ASSERT_LE(std::abs(double(x.get(i, ja) - ra)), uT * double(std::abs(ra)) + slack)
                        << k.name << " head_dim " << head_dim << " rot " << rot << " row " << i << " pair " << kk;
                    ASSERT_LE(std::abs(double(x.get(i, jb) - rb)), uT * double(std::abs(rb)) + slack) << k.name;
                  }
              // Entries past rotary_dims in each head, and the row padding, are untouched.
              for (std::int64_t i = 0; i < rows; ++i)
                for (std::int64_t h = 0; h < heads; ++h)
                  for (std::int64_t j = rot; j < head_dim; ++j)
                    ASSERT_EQ(x.get(i, h * head_dim + j), x0.get(i, h * head_dim + j)) << k.name;
              ASSERT_EQ(x.get(0, cols), 7.0) << k.name;
            }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(kernels, nn_rope_kernels, ::testing::ValuesIn(runnable_kernels("rope")),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(kernels, nn_eltwise_kernels, ::testing::ValuesIn(runnable_kernels("eltwise")),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(kernels, nn_softmax_kernels, ::testing::ValuesIn(runnable_kernels("softmax")),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(kernels, nn_norm_kernels, ::testing::ValuesIn(runnable_kernels("norm")),
                         [](const auto& info) { return info.param.name; });

// ---- bad input: named errors, outputs untouched ---------------------------------------------

TEST(nn, bad_input_is_refused_by_name_and_leaves_outputs_untouched) {
  std::vector<float> x(12, 1.0f), y(12, 5.0f), small(5, 1.0f);
  std::vector<double> f64(12, 1.0);
  const auto x34 = make_view(x.data(), {3, 4});
  const auto y34 = make_view(y.data(), {3, 4});
  expect_error(
      [&] {
        activate(activation::silu, x34, make_view(y.data(), {4, 3}));
      },
      status::shape_mismatch, "x is 3 x 4 but y is 4 x 3");
  expect_error([&] { activate(activation::silu, make_view(f64.data(), 12), make_view(f64.data(), 12)); },
               status::unsupported, "the NN ops store f32, bf16 or f16");
  expect_error(
      [&] {
        add(x34, make_view(small.data(), {1, 5}), y34);
      },
      status::shape_mismatch, "1 x 4 (one row) or 3 x 1 (one column)");
  expect_error([&] { swiglu(x34, make_view(small.data(), {1, 4}), y34); }, status::shape_mismatch, "b is 1 x 4");
  expect_error(
      [&] {
        activate(activation::relu, make_view(x.data(), {3, 4}), make_view(x.data() + 1, {3, 4}));
      },
      status::invalid_argument, "overlaps x without being the same view");
  expect_error([&] { rms_norm(x34, make_view(small.data(), 5), y34); }, status::shape_mismatch,
               "gamma must be 4 contiguous values");
  expect_error([&] { layer_norm(x34, const_view(), const_view(), y34, norm_options{-1.0}); }, status::invalid_argument,
               "eps = -1");
  softmax_options bad_mask;
  bad_mask.mask = make_view(small.data(), {1, 5});
  expect_error([&] { softmax(x34, y34, bad_mask); }, status::shape_mismatch, "mask is 1 x 5");
  softmax_options comp;
  comp.acc = accumulation::compensated;
  expect_error([&] { softmax(x34, y34, comp); }, status::unsupported, "compensated");
  std::vector<bfloat16> yb(12);
  expect_error([&] { softmax(x34, make_view(yb.data(), {3, 4})); }, status::invalid_argument, "x is f32 but y is bf16");
  expect_error([&] { add_rms_norm(x34, x34, const_view(), y34, y34); }, status::invalid_argument, "y overlaps sum");
  EXPECT_EQ(y, std::vector<float>(12, 5.0f));
  EXPECT_EQ(x, std::vector<float>(12, 1.0f));
}

class nn_embedding_kernels : public ::testing::TestWithParam<kernel_info> {};

/// Every embedding kernel (keyed table dtype, output dtype), the table, ids and output in its
/// memory (rows of table and output padded): each entry is the stored one rounded once (an i8 entry times its row's
/// scale, the product in f32), the output's padding is untouched, and an id outside the vocabulary is refused with
/// nothing written.
TEST_P(nn_embedding_kernels, gather_rows_rounded_once_and_refuse_ids_outside_the_vocabulary) {
  const kernel_info& k = GetParam();
  on_nn_storage(k, k.out, [&](auto out_tag) {
    using T = decltype(out_tag);
    with_type(k.in, [&](auto table_tag) {
      using S = decltype(table_tag);
      if constexpr (std::is_same_v<S, float> || std::is_same_v<S, bfloat16> || std::is_same_v<S, half> ||
                    std::is_same_v<S, std::int8_t>) {
        const context where = context_for(k);
        const std::int64_t vocab = 11, d = 37, ldt = d + 2, ldo = d + 3;
        std::vector<S> table(static_cast<std::size_t>(vocab * ldt));
        std::vector<float> scales(static_cast<std::size_t>(vocab));
        for (std::size_t i = 0; i < table.size(); ++i) {
          if constexpr (std::is_same_v<S, std::int8_t>)
            table[i] = std::int8_t(int(i % 251) - 125);
          else
            table[i] = S(float(int(i % 97) - 48) * 0.37f);
        }
        for (std::size_t r = 0; r < scales.size(); ++r) scales[r] = 0.01f * float(r + 1);
        const std::vector<std::int32_t> ids = {3, 0, 10, 3};
        const std::int64_t n = std::int64_t(ids.size());
        const array<S> table_at(table, where);
        const array<float> scales_at(scales, where);
        const array<std::int32_t> ids_at(ids, where);
        array<T> out_at(std::vector<T>(std::size_t(n * ldo), T(5.0f)), where);
        const const_view table_view = make_view(table_at.data(), {vocab, d}, {ldt, 1}, where);
        const const_view scale_view =
            std::is_same_v<S, std::int8_t> ? const_view(make_view(scales_at.data(), vocab, 1, where)) : const_view();
        embedding(table_view, make_view(ids_at.data(), n, 1, where), make_view(out_at.data(), {n, d}, {ldo, 1}, where),
                  scale_view);
        const std::vector<T> out = out_at.to_vector();
        for (std::int64_t t = 0; t < n; ++t)
          for (std::int64_t j = 0; j < ldo; ++j) {
            const std::int32_t r = ids[std::size_t(t)];
            float want = 5.0f;  // the padding
            if (j < d) {
              const S v = table[std::size_t(r * ldt + j)];
              want = std::is_same_v<S, std::int8_t> ? scales[std::size_t(r)] * float(v) : float(v);
            }
            ASSERT_EQ(double(out[std::size_t(t * ldo + j)]), double(T(want))) << "row " << t << ", entry " << j;
          }
        const array<std::int32_t> bad(std::vector<std::int32_t>{1, 11, -1}, where);
        array<T> untouched(std::vector<T>(std::size_t(3 * d), T(5.0f)), where);
        expect_error(
            [&] {
              embedding(table_view, make_view(bad.data(), 3, 1, where),
                        make_view(untouched.data(), {3, d}, {d, 1}, where), scale_view);
            },
            status::invalid_argument, "ids[1] = 11 is outside the vocabulary [0, 11)");
        for (const T& x : untouched.to_vector()) ASSERT_EQ(double(x), 5.0);
      }
    });
  });
}

/// The kernels of dense tables (the u8 ones read GGUF blocks: test_block_quant.cpp).
std::vector<kernel_info> dense_embedding_kernels() {
  std::vector<kernel_info> out;
  for (const kernel_info& k : runnable_kernels("embedding"))
    if (k.in != dtype::u8) out.push_back(k);
  return out;
}

INSTANTIATE_TEST_SUITE_P(kernels, nn_embedding_kernels, ::testing::ValuesIn(dense_embedding_kernels()),
                         kernel_param_name);

TEST(nn, embedding_refuses_an_i8_table_without_its_scales) {
  const std::int64_t vocab = 11, d = 37;
  std::vector<std::int8_t> q(static_cast<std::size_t>(vocab * d), 1);
  std::vector<std::int32_t> ids = {3, 0};
  std::vector<float> out(2 * std::size_t(d), 5.0f);
  expect_error(
      [&] {
        embedding(make_view(q.data(), {vocab, d}), make_view(ids.data(), 2), make_view(out.data(), {2, d}));
      },
      status::invalid_argument, "an i8 table needs row_scales");
  EXPECT_EQ(out, std::vector<float>(2 * std::size_t(d), 5.0f));
}

TEST(nn, rope_refuses_what_it_cannot_rotate) {
  std::vector<float> x(2 * 12, 1.0f);
  std::vector<std::int32_t> pos = {0, 1};
  const auto xv = make_view(x.data(), {2, 12});
  expect_error([&] { rope(xv, 5, make_view(pos.data(), 2)); }, status::invalid_argument, "head_dim = 5");
  expect_error([&] { rope(xv, 8, make_view(pos.data(), 2)); }, status::shape_mismatch, "not a multiple of head_dim 8");
  expect_error([&] { rope(xv, 6, make_view(pos.data(), 1)); }, status::shape_mismatch, "positions has 1 entries");
  rope_options o;
  o.rotary_dims = 8;
  expect_error([&] { rope(xv, 6, make_view(pos.data(), 2), o); }, status::invalid_argument, "rotary_dims = 8");
  EXPECT_EQ(x, std::vector<float>(24, 1.0f));
}

TEST(nn, in_place_through_the_same_view_is_allowed) {
  std::vector<float> x = {-1, 0, 1, 2}, r = {1, 1, 1, 1};
  const view v = make_view(x.data(), {1, 4});
  activate(activation::relu, v, v);
  EXPECT_EQ(x, (std::vector<float>{0, 0, 1, 2}));
  std::vector<float> y(4);
  add_rms_norm(v, make_view(r.data(), {1, 4}), const_view(), v, make_view(y.data(), {1, 4}));
  EXPECT_EQ(x, (std::vector<float>{1, 1, 2, 3}));
  const double rms = std::sqrt((1 + 1 + 4 + 9) / 4.0 + 1e-6);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(y[std::size_t(j)], x[std::size_t(j)] / rms, 1e-6);
}

}  // namespace
}  // namespace mixprec::test
