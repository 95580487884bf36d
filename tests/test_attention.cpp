// Attention (mixprec/attention.hpp) on every registered kernel, against a naive long-double
// attention of the values as stored, within the header's bound: prefill and decode, causal
// and not, multi-head, grouped-query and multi-query heads, head dims 64, 128 and one that
// no vector divides, key counts that fill no block; the KV cache's append kernels and the
// finiteness scan; and bad input refused by name with outputs and the cache untouched. The
// cache and operands live in the memory of the kernel under test (a device's for CUDA).
#include <cmath>
#include <random>

#include "mixprec/attention.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

using ld = long double;

double unit_of(dtype t) { return t == dtype::f32 ? 0x1p-24 : t == dtype::bf16 ? 0x1p-8 : 0x1p-11; }

/// Rows x cols stored values of T, uniform in [-scale, scale], in CPU memory.
template <class T>
std::vector<T> random_matrix(std::int64_t rows, std::int64_t cols, double scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(-scale, scale);
  std::vector<T> v(static_cast<std::size_t>(rows * cols));
  for (auto& e : v) e = T(d(gen));
  return v;
}

template <class T>
view view_of(std::vector<T>& v, std::int64_t rows, std::int64_t cols) {
  return make_view(v.data(), {rows, cols}, {cols, 1});
}

/// Host rows (from row `first` on) copied into the memory a kernel under test reads, as a
/// dense rows x cols view.
template <class T>
struct placed_rows {
  array<T> values;
  std::int64_t rows, cols;
  placed_rows(const std::vector<T>& host, std::int64_t first, std::int64_t r, std::int64_t c, const context& where)
      : values(std::vector<T>(host.begin() + first * c, host.begin() + (first + r) * c), where), rows(r), cols(c) {}
  placed_rows(const std::vector<T>& host, std::int64_t r, std::int64_t c, const context& where)
      : placed_rows(host, 0, r, c, where) {}
  view as_view() { return make_view(values.data(), {rows, cols}, {cols, 1}, values.ctx()); }
};

struct attention_case {
  std::int64_t heads, kv_heads, head_dim, kv_len, m;
  bool causal;
  double value_scale;  // keys and queries uniform in +-this: logits span about scale^2 sqrt(d)
};

/// The f64 attention of q (as stored) over the cache's stored values, and the header's bound
/// on each output entry.
struct reference {
  std::vector<ld> out, bound;
};

/// u_P of the header's bound: 2^-8 where bf16 q and a bf16 cache may have their
/// probabilities rounded to bf16 for P * V (unless asked to keep them in f32).
double probability_unit(dtype q_type, dtype kv_type, const attention_options& o) {
  return q_type == dtype::bf16 && kv_type == dtype::bf16 && !o.f32_probabilities ? 0x1p-8 : 0.0;
}

template <class T>
reference naive_attention(const std::vector<T>& q, const kv_cache& cache, const attention_case& c, double scale,
                          dtype out_type, double prob_u) {
  const std::int64_t hd = c.head_dim, L = cache.size(), group = c.heads / c.kv_heads;
  const double u = 0x1p-24, uT = unit_of(out_type);
  reference r;
  r.out.assign(std::size_t(c.m * c.heads * hd), 0);
  r.bound = r.out;
  std::vector<float> keys(static_cast<std::size_t>(L * hd)), values(keys.size());
  for (std::int64_t g = 0; g < c.kv_heads; ++g) {
    cache.read(g, view_of(keys, L, hd), view_of(values, L, hd));
    for (std::int64_t hh = 0; hh < group; ++hh) {
      const std::int64_t h = g * group + hh;
      for (std::int64_t i = 0; i < c.m; ++i) {
        const std::int64_t visible = c.causal ? L - c.m + i + 1 : L;
        std::vector<ld> s(static_cast<std::size_t>(visible));
        ld smax = -INFINITY, delta = 0;
        for (std::int64_t j = 0; j < visible; ++j) {
          ld dot = 0, mag = 0;
          for (std::int64_t d = 0; d < hd; ++d) {
            const ld prod = ld(double(q[std::size_t(i * c.heads * hd + h * hd + d)])) * keys[std::size_t(j * hd + d)];
            dot += prod;
            mag += std::fabs(prod);
          }
          s[std::size_t(j)] = scale * dot;
          smax = std::max(smax, s[std::size_t(j)]);
          delta = std::max(delta, (hd + 4) * u * scale * mag + 8 * u);
        }
        ld sum = 0;
        for (auto& e : s) sum += (e = std::exp(e - smax));
        for (std::int64_t d = 0; d < hd; ++d) {
          ld acc = 0, mag = 0;
          for (std::int64_t j = 0; j < visible; ++j) {
            acc += s[std::size_t(j)] * values[std::size_t(j * hd + d)];
            mag += s[std::size_t(j)] * std::fabs(values[std::size_t(j * hd + d)]);
          }
          const std::size_t at = std::size_t(i * c.heads * hd + h * hd + d);
          r.out[at] = acc / sum;
          r.bound[at] = uT * std::fabs(r.out[at]) + (1 + uT) * (2 * delta + (visible + 8) * u + prob_u) * mag / sum;
        }
      }
    }
  }
  return r;
}

const attention_case cases[] = {
    {4, 4, 64, 37, 37, true, 1.0},   // prefill, multi-head, 37 keys: one full block and a tail
    {8, 2, 128, 70, 5, true, 1.0},   // five new tokens after 65 cached, grouped-query
    {8, 2, 128, 1, 1, true, 1.0},    // the first token: one key
    {4, 1, 64, 300, 1, true, 2.0},   // decode, multi-query, logits over +-100: the max moves
    {4, 2, 64, 45, 7, false, 1.0},   // not causal
    {6, 3, 40, 50, 19, true, 1.5},   // head dim 40: padded to whole vectors
    {32, 8, 128, 33, 2, true, 1.0},  // many heads: several tiles per KV head
    {8, 4, 128, 103, 1, true, 1.0},  // decode, two query heads per KV head: spare rows in the dot path
    {6, 2, 40, 77, 1, true, 1.0},    // decode, three heads per KV head, head dim 40: values widened
    {4, 2, 33, 41, 9, true, 1.0},    // odd head dim: no bf16 pairs, the f32 products
};

/// Every case on kernel k with options `base` (causal set per case), against the long-double
/// attention within the header's bound.
void check_cases_against_reference(const kernel_info& k, const attention_options& base) {
  on_nn_storage(k, k.out, [&](auto tag) {
    using T = decltype(tag);
    for (const attention_case& c : cases) {
      SCOPED_TRACE(::testing::Message() << "heads " << c.heads << "/" << c.kv_heads << " x " << c.head_dim << ", L "
                                        << c.kv_len << ", m " << c.m << (c.causal ? ", causal" : ""));
      const std::int64_t kv_dim = c.kv_heads * c.head_dim, q_dim = c.heads * c.head_dim;
      // The cache and the operands in the kernel's memory.
      const context where = context_for(k);
      kv_cache cache(c.kv_len + 3, c.kv_heads, c.head_dim, k.in, where);
      // Appended in two pieces: what was cached before, then the m new tokens.
      auto keys = random_matrix<float>(c.kv_len, kv_dim, c.value_scale, 11);
      auto values = random_matrix<float>(c.kv_len, kv_dim, 1.0, 12);
      const std::int64_t before = c.kv_len - c.m;
      for (const auto [first, count] : {std::pair{std::int64_t(0), before}, std::pair{before, c.m}}) {
        placed_rows<float> k_rows(keys, first, count, kv_dim, where), v_rows(values, first, count, kv_dim, where);
        cache.append(k_rows.as_view(), v_rows.as_view());
      }
      ASSERT_EQ(cache.size(), c.kv_len);
      auto q = random_matrix<T>(c.m, q_dim, c.value_scale, 13);
      placed_rows<T> q_rows(q, c.m, q_dim, where), out_rows(std::vector<T>(q.size(), T(7.0f)), c.m, q_dim, where);
      attention_options o = base;
      o.causal = c.causal;
      attention(q_rows.as_view(), cache, out_rows.as_view(), o);
      const std::vector<T> out = out_rows.values.to_vector();
      const double scale = double(float(1.0 / std::sqrt(double(c.head_dim))));
      const reference r = naive_attention(q, cache, c, scale, k.out, probability_unit(k.out, k.in, o));
      int bad = 0;
      for (std::size_t i = 0; i < out.size() && bad < 5; ++i) {
        const ld err = std::fabs(ld(double(out[i])) - r.out[i]);
        if (!(err <= r.bound[i])) {
          ++bad;
          ADD_FAILURE() << "entry " << i << ": " << double(out[i]) << " vs " << double(r.out[i]) << ", error "
                        << double(err) << " > bound " << double(r.bound[i]);
        }
      }
    }
  });
}

class attention_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(attention_kernels, matches_long_double_attention_of_the_stored_values_within_the_bound) {
  check_cases_against_reference(GetParam(), {});
}

/// Kernels with bf16 q and cache, which may round probabilities to bf16 unless asked not to.
std::vector<kernel_info> bf16_kernels() {
  std::vector<kernel_info> out;
  for (const kernel_info& k : runnable_kernels("attention"))
    if (k.in == dtype::bf16 && k.out == dtype::bf16) out.push_back(k);
  return out;
}

class attention_bf16_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(attention_bf16_kernels, f32_probabilities_meet_the_bound_without_the_probability_rounding) {
  attention_options o;
  o.f32_probabilities = true;
  check_cases_against_reference(GetParam(), o);
}

/// The kernels whose keys and values can also come as views (f32, bf16, f16: not i8).
std::vector<kernel_info> float_kv_kernels() {
  std::vector<kernel_info> out;
  for (const kernel_info& k : runnable_kernels("attention"))
    if (k.in != dtype::i8) out.push_back(k);
  return out;
}

class attention_view_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(attention_view_kernels, keys_and_values_as_views_give_what_the_cache_gives) {
  const kernel_info& k = GetParam();
  on_nn_storage(k, k.out, [&](auto tag) {
    using T = decltype(tag);
    with_type(k.in, [&](auto kv_tag) {
      using K = decltype(kv_tag);
      if constexpr (!std::is_integral_v<K> && !std::is_same_v<K, double>) {
        const attention_case c{8, 2, 64, 75, 9, true, 1.0};
        const std::int64_t kv_dim = c.kv_heads * c.head_dim, q_dim = c.heads * c.head_dim;
        const context where = context_for(k);
        placed_rows<K> keys(random_matrix<K>(c.kv_len, kv_dim, 1.0, 21), c.kv_len, kv_dim, where);
        placed_rows<K> values(random_matrix<K>(c.kv_len, kv_dim, 1.0, 22), c.kv_len, kv_dim, where);
        kv_cache cache(c.kv_len, c.kv_heads, c.head_dim, k.in, where);
        cache.append(keys.as_view(), values.as_view());
        const auto q_host = random_matrix<T>(c.m, q_dim, 1.0, 23);
        placed_rows<T> q(q_host, c.m, q_dim, where), from_cache(q_host, c.m, q_dim, where),
            from_views(q_host, c.m, q_dim, where);
        attention(q.as_view(), cache, from_cache.as_view());
        attention(q.as_view(), keys.as_view(), values.as_view(), from_views.as_view(), c.head_dim);
        const std::vector<T> a = from_cache.values.to_vector(), b = from_views.values.to_vector();
        for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(double(a[i]), double(b[i])) << "entry " << i;
      }
    });
  });
}

INSTANTIATE_TEST_SUITE_P(kernels, attention_kernels, ::testing::ValuesIn(runnable_kernels("attention")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, attention_bf16_kernels, ::testing::ValuesIn(bf16_kernels()), kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, attention_view_kernels, ::testing::ValuesIn(float_kv_kernels()), kernel_param_name);

class kv_append_kernels : public ::testing::TestWithParam<kernel_info> {};

/// Every append kernel (keyed storage dtype, input dtype), the cache in its memory.
TEST_P(kv_append_kernels, store_each_value_rounded_once_or_within_half_its_int8_scale) {
  const kernel_info& kernel = GetParam();
  on_nn_storage(kernel, kernel.out, [&](auto tag) {
    using T = decltype(tag);
    const dtype t = kernel.in;
    const context where = context_for(kernel);
    const std::int64_t L = 5, heads = 2, hd = 64;
    const auto k = random_matrix<T>(L, heads * hd, 3.0, 31);
    const auto v = random_matrix<T>(L, heads * hd, 0.01, 32);
    kv_cache cache(8, heads, hd, t, where);
    placed_rows<T> k_rows(k, L, heads * hd, where), v_rows(v, L, heads * hd, where);
    cache.append(k_rows.as_view(), v_rows.as_view());
    std::vector<float> keys(static_cast<std::size_t>(L * hd)), values(keys.size());
    for (std::int64_t g = 0; g < heads; ++g) {
      cache.read(g, view_of(keys, L, hd), view_of(values, L, hd));
      for (std::int64_t i = 0; i < L; ++i) {
        auto input = [&](const std::vector<T>& x, std::int64_t d) {
          return float(x[std::size_t(i * heads * hd + g * hd + d)]);
        };
        float amax_k = 0, amax_v = 0;
        for (std::int64_t d = 0; d < hd; ++d) {
          amax_k = std::max(amax_k, std::fabs(input(k, d)));
          amax_v = std::max(amax_v, std::fabs(input(v, d)));
        }
        for (std::int64_t d = 0; d < hd; ++d) {
          const float xk = input(k, d), xv = input(v, d);
          const float sk = keys[std::size_t(i * hd + d)], sv = values[std::size_t(i * hd + d)];
          if (t == dtype::f32) {
            ASSERT_EQ(sk, xk);
            ASSERT_EQ(sv, xv);
          } else if (t == dtype::bf16) {
            ASSERT_EQ(sk, float(bfloat16(xk)));
            ASSERT_EQ(sv, float(bfloat16(xv)));
          } else if (t == dtype::f16) {
            ASSERT_EQ(sk, float(half(xk)));
            ASSERT_EQ(sv, float(half(xv)));
          } else {
            // The scale max|x| / 127 and the quotient are f32: half a step plus a few roundings.
            ASSERT_LE(std::fabs(sk - xk), (0.5f + 0x1p-20f) * amax_k / 127) << "token " << i << ", entry " << d;
            ASSERT_LE(std::fabs(sv - xv), (0.5f + 0x1p-20f) * amax_v / 127);
          }
        }
      }
    }
    EXPECT_EQ(cache.size(), L);
    cache.truncate(2);
    EXPECT_EQ(cache.size(), 2);
  });
}

class find_non_finite_kernels : public ::testing::TestWithParam<kernel_info> {};

/// The scan behind every finiteness check of attention and the cache: the first bad entry in
/// row order is named, and the padding between rows (NaN here) is not read as entries.
TEST_P(find_non_finite_kernels, name_the_first_bad_entry_in_row_order_and_skip_the_padding) {
  const kernel_info& kernel = GetParam();
  on_nn_storage(kernel, kernel.out, [&](auto tag) {
    using T = decltype(tag);
    const context where = context_for(kernel);
    const std::int64_t L = 3, heads = 2, hd = 40, cols = heads * hd, ld = cols + 5;
    std::vector<T> host(std::size_t(L * ld), T(0.5f));
    for (std::int64_t r = 0; r < L; ++r)
      for (std::int64_t j = cols; j < ld; ++j) host[std::size_t(r * ld + j)] = T(NAN);
    const array<T> finite(std::vector<T>(std::size_t(L * cols), T(0.25f)), where);
    const auto dense = [&](const array<T>& a) { return make_view(a.data(), {L, cols}, {cols, 1}, where); };
    kv_cache cache(4, heads, hd, dtype::f32, where);
    {
      const array<T> padded(host, where);
      cache.append(make_view(padded.data(), {L, cols}, {ld, 1}, where), dense(finite));
      EXPECT_EQ(cache.size(), L);
      cache.clear();
    }
    host[std::size_t(2 * ld + 3)] = T(NAN);
    host[std::size_t(1 * ld + 47)] = T(INFINITY);
    const array<T> bad(host, where);
    expect_error(
        [&] {
          cache.append(make_view(bad.data(), {L, cols}, {ld, 1}, where), dense(finite));
        },
        status::invalid_argument, "k holds inf at token 1, head 1, entry 7");
    expect_error(
        [&] {
          cache.append(dense(finite), make_view(bad.data(), {L, cols}, {ld, 1}, where));
        },
        status::invalid_argument, "v holds inf at token 1, head 1, entry 7");
    EXPECT_EQ(cache.size(), 0);
  });
}

INSTANTIATE_TEST_SUITE_P(kernels, kv_append_kernels, ::testing::ValuesIn(runnable_kernels("kv_append")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, find_non_finite_kernels, ::testing::ValuesIn(runnable_kernels("find_non_finite")),
                         kernel_param_name);

TEST(attention, bad_input_is_refused_by_name_with_outputs_and_cache_untouched) {
  const std::int64_t hd = 64, kv_heads = 2, heads = 6;
  kv_cache cache(4, kv_heads, hd, dtype::bf16);
  auto k = random_matrix<float>(3, kv_heads * hd, 1.0, 41);
  auto v = random_matrix<float>(3, kv_heads * hd, 1.0, 42);
  cache.append(view_of(k, 3, kv_heads * hd), view_of(v, 3, kv_heads * hd));

  // Overflow and non-finite values leave the cache as it was.
  expect_error([&] { cache.append(view_of(k, 3, kv_heads * hd), view_of(v, 3, kv_heads * hd)); },
               status::invalid_argument, "overflow");
  auto bad = k;
  bad[70] = NAN;
  kv_cache roomy(8, kv_heads, hd, dtype::f32);
  expect_error([&] { roomy.append(view_of(bad, 3, kv_heads * hd), view_of(v, 3, kv_heads * hd)); },
               status::invalid_argument, "at token 0, head 1, entry 6");
  EXPECT_EQ(roomy.size(), 0);
  EXPECT_EQ(cache.size(), 3);
  expect_error([&] { cache.append(view_of(k, 3, kv_heads * hd), view_of(v, 1, 3 * kv_heads * hd)); },
               status::shape_mismatch, "v is 1 x 384");
  expect_error([&] { kv_cache(4, kv_heads, hd, dtype::f64); }, status::unsupported, "f64");
  expect_error([&] { cache.truncate(5); }, status::invalid_argument, "holds 3");

  auto q = random_matrix<float>(2, heads * hd, 1.0, 43);
  std::vector<float> out(q.size(), 7.0f);
  auto untouched = [&] {
    for (float x : out) ASSERT_EQ(x, 7.0f);
  };
  // Heads not dividing: 5 query heads over 2 KV heads.
  expect_error(
      [&] {
        attention(make_view(q.data(), {2, 5 * hd}, {heads * hd, 1}), cache,
                  make_view(out.data(), {2, 5 * hd}, {heads * hd, 1}));
      },
      status::invalid_argument, "5 heads are not a multiple of the 2 KV heads");
  expect_error(
      [&] {
        attention(make_view(q.data(), {2, 100}, {heads * hd, 1}), cache,
                  make_view(out.data(), {2, 100}, {heads * hd, 1}));
      },
      status::shape_mismatch, "not a whole number of heads of 64");
  // More queries than keys.
  std::vector<float> q4(std::size_t(4 * heads * hd), 0.5f), out4(q4.size(), 7.0f);
  expect_error([&] { attention(view_of(q4, 4, heads * hd), cache, view_of(out4, 4, heads * hd)); },
               status::shape_mismatch, "only 3 keys");
  for (float x : out4) ASSERT_EQ(x, 7.0f);
  // Shapes and dtypes of q and out.
  expect_error([&] { attention(view_of(q, 2, heads * hd), cache, view_of(out, 1, heads * hd)); },
               status::shape_mismatch, "out is 1 x 384");
  std::vector<bfloat16> out_bf16(q.size());
  expect_error([&] { attention(view_of(q, 2, heads * hd), cache, view_of(out_bf16, 2, heads * hd)); },
               status::invalid_argument, "one storage dtype");
  // A NaN or infinite query.
  auto q_inf = q;
  q_inf[std::size_t(heads * hd + 3 * hd + 1)] = INFINITY;
  expect_error([&] { attention(view_of(q_inf, 2, heads * hd), cache, view_of(out, 2, heads * hd)); },
               status::invalid_argument, "q holds inf at token 1, head 3, entry 1");
  untouched();
  // Keys as views: kv_heads from k's width, and k / v of different shapes.
  expect_error(
      [&] {
        attention(view_of(q, 2, heads * hd), make_view(k.data(), {3, 64}, {128, 1}), view_of(v, 3, kv_heads * hd),
                  view_of(out, 2, heads * hd), hd);
      },
      status::shape_mismatch, "k is 3 x 64 but v is 3 x 128");
  auto wide = random_matrix<float>(3, 4 * hd, 1.0, 44);
  expect_error(
      [&] {
        attention(view_of(q, 2, heads * hd), view_of(wide, 3, 4 * hd), view_of(wide, 3, 4 * hd),
                  view_of(out, 2, heads * hd), hd);
      },
      status::invalid_argument, "6 heads are not a multiple of the 4 KV heads");
  untouched();
}

}  // namespace
}  // namespace mixprec::test
