// GEMM: every registered kernel against a long-double (floats) or 64-bit integer reference,
// with bounds derived from the accumulation precision and k (mixprec/gemm.hpp), over
// tails, transposes, both storage orders, padded leading dimensions, batches, pre-packed B,
// every output dtype and the epilogues; then the refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "internal/gemm_packed_layout.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

struct shape {
  std::int64_t m, n, k;
};
// Tails of every tile (MR 4/14, NR 16/32, k-groups 2/4), k = 1, k crossing the KC blocks of
// every family (256 .. 2048), m = 1 (inference); tiles of 1-7 rows over a long k, which read
// k as 2-4 segments at once with a remainder (kernels/cpu/avx512/gemm_micro_avx512.hpp);
// n = 1 (A x) and m = n = 1, which f64 and f32 take as dot products where the matrix side
// is contiguous along k.
const shape shapes[] = {{1, 1, 1},     {3, 5, 7},      {17, 33, 1},   {29, 47, 19},  {64, 64, 64},
                        {15, 70, 300}, {1, 100, 1100}, {130, 17, 45}, {9, 40, 2100}, {3, 37, 2501},
                        {5, 40, 2103}, {70, 1, 1100},  {1, 1, 2100}};

struct layout_case {
  trans ta, tb;
  bool col_major;
  int pad;             // extra leading-dimension elements
  std::int64_t batch;  // > 1: A and C batched, B shared
};
const layout_case layouts[] = {{trans::no, trans::no, false, 0, 1},
                               {trans::yes, trans::no, false, 3, 1},
                               {trans::no, trans::yes, true, 0, 1},
                               {trans::yes, trans::yes, true, 5, 1},
                               {trans::no, trans::no, false, 1, 3}};

/// A logical batch x rows x cols matrix stored as op() says, in either order, with padding.
template <class T>
struct stored {
  std::vector<T> logical;  // batch * rows * cols, row-major
  array<T> storage;
  std::int64_t rows, cols, batch, rs, cs, bs;
  int rank;

  stored(std::vector<T> values, std::int64_t r, std::int64_t c, std::int64_t b, trans t, bool col_major, int pad,
         const context& ctx, int rank_ = 0)
      : logical(std::move(values)), rows(r), cols(c), batch(b), rank(rank_ ? rank_ : (b > 1 ? 3 : 2)) {
    const std::int64_t sr = t == trans::no ? r : c, sc = t == trans::no ? c : r;  // stored shape
    const std::int64_t ld = (col_major ? sr : sc) + pad;
    const std::int64_t srs = col_major ? 1 : ld, scs = col_major ? ld : 1;
    bs = ld * (col_major ? sc : sr) + 7;
    std::vector<T> host(std::size_t(std::max<std::int64_t>(1, bs * b)), T());
    // logical (i, j) of op(X) is stored (i, j) or (j, i)
    rs = t == trans::no ? srs : scs;
    cs = t == trans::no ? scs : srs;
    for (std::int64_t e = 0; e < b; ++e)
      for (std::int64_t i = 0; i < r; ++i)
        for (std::int64_t j = 0; j < c; ++j) host[std::size_t(e * bs + i * rs + j * cs)] = at(e, i, j);
    storage = array<T>(host, ctx);
    stored_rs = srs;
    stored_cs = scs;
    stored_r = sr;
    stored_c = sc;
  }
  T at(std::int64_t e, std::int64_t i, std::int64_t j) const { return logical[std::size_t((e * rows + i) * cols + j)]; }
  /// The stored matrix (op() not applied) as a view.
  const_view cview() const {
    if (rank == 3)
      return const_view(storage.data(), dtype_of<T>, {batch, stored_r, stored_c}, {bs, stored_rs, stored_cs},
                        storage.ctx());
    return const_view(storage.data(), dtype_of<T>, {stored_r, stored_c}, {stored_rs, stored_cs}, storage.ctx());
  }
  view mview() {
    if (rank == 3)
      return view(storage.data(), dtype_of<T>, {batch, stored_r, stored_c}, {bs, stored_rs, stored_cs}, storage.ctx());
    return view(storage.data(), dtype_of<T>, {stored_r, stored_c}, {stored_rs, stored_cs}, storage.ctx());
  }
  /// Element (e, i, j) of the logical matrix as stored now (after a kernel wrote it).
  T read(const std::vector<T>& host, std::int64_t e, std::int64_t i, std::int64_t j) const {
    return host[std::size_t(e * bs + i * rs + j * cs)];
  }
  std::int64_t stored_rs, stored_cs, stored_r, stored_c;
};

/// Which dtypes a kernel family takes and makes.
struct family_types {
  dtype b;
  std::vector<dtype> c;
  bool integer;
};
family_types types_of(dtype a) {
  switch (a) {
    case dtype::f64:
      return {dtype::f64, {dtype::f64}, false};
    case dtype::f32:
      return {dtype::f32, {dtype::f32}, false};
    case dtype::f16:
      return {dtype::f16, {dtype::f32, dtype::f16}, false};
    case dtype::bf16:
      return {dtype::bf16, {dtype::f32, dtype::bf16}, false};
    default:
      return {dtype::i8, {dtype::i32, dtype::f32, dtype::i8, dtype::u8}, true};
  }
}

template <class T>
ld unit_of() {
  if constexpr (std::is_same_v<T, half>)
    return std::ldexp(ld(1), -11);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return std::ldexp(ld(1), -8);
  else if constexpr (std::is_floating_point_v<T>)
    return unit_roundoff<T>();
  else
    return 0;
}

/// Integer data over the whole range (saturation edges included) for the exactness tests.
template <class T>
std::vector<T> full_range_values(std::int64_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  std::vector<T> v(std::size_t(std::max<std::int64_t>(n, 0)));
  for (auto& e : v) e = T(d(gen));
  return v;
}

/// Full-range integers, or floats in [-1, 1].
template <class T>
std::vector<T> test_values(std::int64_t n, std::uint32_t seed) {
  if constexpr (std::is_integral_v<T>)
    return full_range_values<T>(n, seed);
  else
    return random_values<T>(n, seed);
}

/// The smallest positive value of T (subnormal): the absolute part of a rounding bound.
template <class T>
ld smallest_of() {
  if constexpr (std::is_same_v<T, half>)
    return std::ldexp(ld(1), -24);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return std::ldexp(ld(1), -133);
  else
    return std::numeric_limits<T>::denorm_min();
}

struct run_options {
  bool packed = false;
  bool epilogue = false;
  activation act = activation::none;
  f16_mode f16 = f16_mode::exact_f32;
  f32_mode f32 = f32_mode::exact;
};

/// Runs one GEMM on kernel k and checks every element of C against the reference.
template <class TA, class TB, class TC>
void run_case(const kernel_info& kinfo, shape s, const layout_case& lc, const run_options& ro) {
  const context ctx = context_for(kinfo);
  const std::int64_t m = s.m, n = s.n, k = s.k;  // no structured binding: C++17 lambdas cannot capture one
  const std::int64_t batch = lc.batch;
  constexpr bool integer = std::is_integral_v<TB>;
  constexpr bool int_c = std::is_integral_v<TC>;
  const std::uint32_t seed = std::uint32_t(m * 131 + n * 7 + k + batch);
  stored<TA> a(test_values<TA>(batch * m * k, seed), m, k, batch, lc.ta, lc.col_major, lc.pad, ctx);
  stored<TB> b(test_values<TB>(k * n, seed + 1), k, n, 1, lc.tb, lc.col_major, lc.pad, ctx);
  stored<TC> c(test_values<TC>(batch * m * n, seed + 2), m, n, batch, trans::no, lc.col_major, lc.pad, ctx);

  gemm_options o;
  o.f16 = ro.f16;
  o.f32 = ro.f32;
  double alpha = -1.25, beta = 0.5;
  if constexpr (std::is_same_v<TC, std::int32_t>) alpha = 1.0, beta = batch > 1 ? 1.0 : 0.0;
  if constexpr (integer && !std::is_same_v<TC, std::int32_t>) alpha = 1.0 / 4096;
  if constexpr (std::is_same_v<TC, std::int8_t> || std::is_same_v<TC, std::uint8_t>) beta = 0.0;
  if constexpr (integer) {
    // keep k * max|a - za| * max|b - zb| < 2^31 (checked by the front end)
    o.a_zero_point = std::is_same_v<TA, std::uint8_t> ? 3 : -2;
    o.b_zero_point = (m + n) % 2 ? 1 : 0;
  }
  using R = std::conditional_t<std::is_same_v<TA, double>, double, float>;
  std::vector<R> scale_v, bias_v;
  array<R> scale_a, bias_a;
  std::vector<TC> res0;
  std::unique_ptr<stored<TC>> res;
  if (ro.epilogue && !std::is_same_v<TC, std::int32_t>) {
    scale_v = random_values<R>(n, seed + 3, 2.0);
    bias_v = random_values<R>(n, seed + 4, 1.0);
    scale_a = array<R>(scale_v, ctx);
    bias_a = array<R>(bias_v, ctx);
    o.epilogue.scale = scale_a;
    o.epilogue.bias = bias_a;
    o.epilogue.act = ro.act;
    if constexpr (!int_c) {
      res0 = random_values<TC>(batch * m * n, seed + 5);
      res = std::make_unique<stored<TC>>(res0, m, n, batch, trans::no, !lc.col_major, 2, ctx);
      o.epilogue.residual = res->cview();
    }
  }
  if constexpr (std::is_same_v<TC, std::int8_t> || std::is_same_v<TC, std::uint8_t>) {
    o.epilogue.out_scale = 0.75f;
    o.epilogue.out_zero_point = std::is_same_v<TC, std::uint8_t> ? 100 : -3;
  }

  {
    force_kernel pin(kinfo.name);
    if (ro.packed) {
      const packed_matrix p = packed_matrix::pack(b.cview(), lc.tb);
      gemm(lc.ta, alpha, a.cview(), p, beta, c.mview(), o);
    } else {
      gemm(lc.ta, lc.tb, alpha, a.cview(), b.cview(), beta, c.mview(), o);
    }
  }
  const std::vector<TC> got = c.storage.to_vector();

  const ld u_acc = std::is_same_v<TA, double> ? unit_roundoff<double>() : unit_roundoff<float>();
  const ld u_real = unit_roundoff<R>();
  // Inputs a kernel may round first: f16 to bf16 (2^-8), f32 to TF32 (2^-11).
  const ld u_in = std::is_same_v<TA, half> && ro.f16 == f16_mode::allow_bf16_inputs ? std::ldexp(ld(1), -8)
                  : std::is_same_v<TA, float> && ro.f32 == f32_mode::allow_tf32     ? std::ldexp(ld(1), -11)
                                                                                    : 0;
  // A's rows and B's columns widened once (exactly: integers less their zero points, floats
  // to long double), so that the reference's inner loop reads contiguous entries.
  using wide = std::conditional_t<integer, std::int64_t, ld>;
  auto widen = [](auto x, std::int64_t zero_point) {
    if constexpr (integer)
      return std::int64_t(x) - zero_point;
    else
      return exact(x);
  };
  std::vector<wide> a_rows(std::size_t(batch * m * k)), b_cols(std::size_t(k * n));
  for (std::int64_t e = 0; e < batch; ++e)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t q = 0; q < k; ++q)
        a_rows[std::size_t((e * m + i) * k + q)] = widen(a.at(e, i, q), o.a_zero_point);
  for (std::int64_t q = 0; q < k; ++q)
    for (std::int64_t j = 0; j < n; ++j) b_cols[std::size_t(j * k + q)] = widen(b.at(0, q, j), o.b_zero_point);
  for (std::int64_t e = 0; e < batch; ++e)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        ld sum = 0, sabs = 0;
        std::int64_t isum = 0;
        const wide* a_row = a_rows.data() + (e * m + i) * k;
        const wide* b_col = b_cols.data() + j * k;
        for (std::int64_t q = 0; q < k; ++q) {
          if constexpr (integer) {
            isum += a_row[q] * b_col[q];
          } else {
            const ld p = a_row[q] * b_col[q];
            sum += p;
            sabs += std::fabs(p);
          }
        }
        const TC g = c.read(got, e, i, j);
        const TC old = c.at(e, i, j);
        auto where = [&] {
          return kinfo.name + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " batch " +
                 std::to_string(e) + " (" + std::to_string(i) + "," + std::to_string(j) + ")" +
                 (ro.packed ? " packed" : "") + " C " + name_of(dtype_of<TC>);
        };
        if constexpr (std::is_same_v<TC, std::int32_t>) {
          const std::int64_t want = beta == 0.0 ? isum : std::clamp<std::int64_t>(isum + old, INT32_MIN, INT32_MAX);
          ASSERT_EQ(std::int64_t(g), want) << where();
          continue;
        } else {
          if constexpr (integer) {
            sum = ld(isum);
            sabs = 0;  // exact accumulation; float(s32) rounding is in the epilogue term
          }
          const ld sc = scale_v.empty() ? 1 : ld(scale_v[std::size_t(j)]);
          const ld bi = bias_v.empty() ? 0 : ld(bias_v[std::size_t(j)]);
          const ld lin = ld(alpha) * sum * sc + bi + (beta != 0 ? ld(beta) * exact(old) : 0);
          const ld lin_mag = std::fabs(ld(alpha) * sc) * (integer ? std::fabs(sum) : sabs) + std::fabs(bi) +
                             std::fabs(ld(beta) * exact(old));
          // accumulation (k roundings) and input rounding, then the epilogue's few roundings
          ld err = std::fabs(ld(alpha) * sc) * (gamma(ld(k), u_acc) * sabs + (2 * u_in + u_in * u_in) * sabs) +
                   gamma(6, u_real) * lin_mag;
          ld x = lin;
          switch (ro.act) {
            case activation::none:
              break;
            case activation::relu:
              x = x < 0 ? 0 : x;
              break;
            case activation::gelu_erf:
              x = 0.5L * x * (1 + std::erf(x / std::sqrt(2.0L)));
              break;
            case activation::gelu_tanh:
              x = 0.5L * x * (1 + std::tanh(std::sqrt(2.0L / 3.14159265358979323846L) * (x + 0.044715L * x * x * x)));
              break;
            case activation::silu:
              x = x / (1 + std::exp(-x));
              break;
          }
          // activations have slope <= 1.13; their f32 evaluation costs a few ulp of |x|
          if (ro.act != activation::none) err = 1.13L * err + 8 * u_real * (std::fabs(x) + std::fabs(lin));
          if (res) {
            x += exact(res->at(e, i, j));
            err += gamma(1, u_real) * (std::fabs(x) + std::fabs(exact(res->at(e, i, j))));
          }
          if constexpr (std::is_same_v<TC, std::int8_t> || std::is_same_v<TC, std::uint8_t>) {
            // any value within err of x may have been the f32 result: C is its requantization
            auto q = [&](ld v) {
              return expected_conversion<TC>(std::nearbyintl(v / ld(o.epilogue.out_scale)) + o.epilogue.out_zero_point);
            };
            const ld lo = q(x - err), hi = q(x + err);
            ASSERT_TRUE(ld(g) >= std::min(lo, hi) && ld(g) <= std::max(lo, hi))
                << where() << ": got " << int(g) << ", expected between " << double(lo) << " and " << double(hi);
          } else {
            const ld bound = err * (1 + unit_of<TC>()) + unit_of<TC>() * std::fabs(x) + smallest_of<TC>();
            ASSERT_LE(std::fabs(exact(g) - x), bound)
                << where() << ": got " << double(exact(g)) << ", expected " << double(x);
          }
        }
      }
}

class gemm_kernel : public ::testing::TestWithParam<kernel_info> {};

/// A dense row-major r x c matrix at p, in ctx (the kernel's memory).
template <class T>
auto rows(T* p, std::int64_t r, std::int64_t c, const context& ctx) {
  return make_view(p, {r, c}, {c, 1}, ctx);
}

/// Calls f(TA{}, TB{}) with the C++ types of the kernel's A and B.
template <class F>
void with_ab(const kernel_info& k, F&& f) {
  with_type(k.in, [&](auto ta) {
    using TA = decltype(ta);
    if constexpr (std::is_same_v<TA, std::int32_t>)
      return;
    else if constexpr (std::is_integral_v<TA>)
      f(ta, std::int8_t{});
    else
      f(ta, ta);
  });
}

template <class F>
void for_each_c(const kernel_info& k, F&& f) {
  for (dtype ct : types_of(k.in).c) with_type(ct, [&](auto tc) { f(tc); });
}

TEST_P(gemm_kernel, matches_reference_within_derived_bound) {
  const kernel_info& k = GetParam();
  with_ab(k, [&](auto ta, auto tb) {
    for_each_c(k, [&](auto tc) {
      using TA = decltype(ta);
      using TB = decltype(tb);
      using TC = decltype(tc);
      if constexpr (std::is_floating_point_v<TA> && !std::is_same_v<TA, TC>)
        return;  // f64/f32: C of A's type
      else {
        for (const shape& s : shapes)
          for (const layout_case& lc : layouts) {
            run_case<TA, TB, TC>(k, s, lc, {});
            if (::testing::Test::HasFatalFailure()) return;
          }
      }
    });
  });
}

TEST_P(gemm_kernel, prepacked_b_gives_the_same_bound) {
  const kernel_info& k = GetParam();  // packed in the kernel's memory: CPU panels or GPU columns
  with_ab(k, [&](auto ta, auto tb) {
    using TA = decltype(ta);
    using TB = decltype(tb);
    using TC = std::conditional_t<std::is_integral_v<TA>, std::int32_t,
                                  std::conditional_t<std::is_same_v<TA, double>, double, float>>;
    // the last two: tiles of 1 and 3 rows reading k in four segments, with remainders
    for (const shape& s :
         {shape{1, 70, 300}, shape{29, 47, 19}, shape{130, 33, 1100}, shape{3, 37, 2501}, shape{1, 40, 2503}})
      for (const layout_case& lc : {layouts[0], layouts[3], layouts[4]}) {
        run_case<TA, TB, TC>(k, s, lc, {true});
        if (::testing::Test::HasFatalFailure()) return;
      }
  });
}

TEST_P(gemm_kernel, every_epilogue_within_bound) {
  const kernel_info& k = GetParam();
  with_ab(k, [&](auto ta, auto tb) {
    for_each_c(k, [&](auto tc) {
      using TA = decltype(ta);
      using TB = decltype(tb);
      using TC = decltype(tc);
      if constexpr (std::is_floating_point_v<TA> && !std::is_same_v<TA, TC>)
        return;
      else if constexpr (!std::is_same_v<TC, std::int32_t>) {
        for (activation act :
             {activation::none, activation::relu, activation::gelu_erf, activation::gelu_tanh, activation::silu})
          for (const layout_case& lc : {layouts[0], layouts[2], layouts[4]}) {
            run_case<TA, TB, TC>(k, {37, 45, 70}, lc, {false, true, act});
            if (::testing::Test::HasFatalFailure()) return;
          }
      }
    });
  });
}

TEST_P(gemm_kernel, f16_inputs_in_bf16_mode_within_input_rounding_bound) {
  const kernel_info& k = GetParam();
  if (k.in != dtype::bf16) return;
  for (const shape& s : {shape{29, 47, 19}, shape{15, 70, 300}}) {
    run_case<half, half, float>(k, s, layouts[0], {false, false, activation::none, f16_mode::allow_bf16_inputs});
    run_case<half, half, half>(k, s, layouts[3], {false, false, activation::none, f16_mode::allow_bf16_inputs});
  }
}

TEST_P(gemm_kernel, f32_inputs_in_tf32_mode_within_input_rounding_bound) {
  // A kernel may round A and B to TF32 (CUDA's tensor cores) or compute exactly (the CPU):
  // both within the bound with TF32's input rounding.
  const kernel_info& k = GetParam();
  if (k.in != dtype::f32) return;
  for (const shape& s : {shape{29, 47, 19}, shape{15, 70, 300}})
    for (const layout_case& lc : {layouts[0], layouts[3]})
      run_case<float, float, float>(k, s, lc,
                                    {false, false, activation::none, f16_mode::exact_f32, f32_mode::allow_tf32});
}

TEST_P(gemm_kernel, beta_zero_never_reads_c_and_nan_in_a_propagates) {
  const kernel_info& k = GetParam();
  with_ab(k, [&](auto ta, auto tb) {
    using TA = decltype(ta);
    using TB = decltype(tb);
    if constexpr (std::is_floating_point_v<TA> || std::is_same_v<TA, half> || std::is_same_v<TA, bfloat16>) {
      using TC = std::conditional_t<std::is_same_v<TA, double>, double, float>;
      const context ctx = context_for(k);
      const std::int64_t m = 20, n = 40, kk = 33;
      auto av = random_values<TA>(m * kk, 1);
      av[3 * kk + 5] = TA(std::numeric_limits<float>::quiet_NaN());  // row 3 all NaN
      av[7 * kk + 2] = TA(std::numeric_limits<float>::infinity());   // row 7: Inf or NaN
      array<TA> a(av, ctx);
      array<TB> b(random_values<TB>(kk * n, 2), ctx);
      array<TC> c(std::vector<TC>(std::size_t(m * n), std::numeric_limits<TC>::quiet_NaN()), ctx);
      {
        force_kernel pin(k.name);
        gemm(trans::no, trans::no, 1.0, rows(a.data(), m, kk, ctx), rows(b.data(), kk, n, ctx), 0.0,
             rows(c.data(), m, n, ctx));
      }
      const auto got = c.to_vector();
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          const TC v = got[std::size_t(i * n + j)];
          if (i == 3)
            ASSERT_TRUE(std::isnan(v)) << k.name << " (" << i << "," << j << ")";
          else if (i == 7)
            ASSERT_FALSE(std::isfinite(v)) << k.name << " (" << i << "," << j << ")";
          else
            ASSERT_TRUE(std::isfinite(v)) << k.name << " (" << i << "," << j << "): C's NaN leaked with beta = 0";
        }
      // every activation keeps NaN (relu too: NaN < 0 is false)
      for (activation act : {activation::relu, activation::gelu_erf, activation::gelu_tanh, activation::silu}) {
        gemm_options o;
        o.epilogue.act = act;
        force_kernel pin(k.name);
        gemm(trans::no, trans::no, 1.0, rows(a.data(), m, kk, ctx), rows(b.data(), kk, n, ctx), 0.0,
             rows(c.data(), m, n, ctx), o);
        const auto after = c.to_vector();
        for (std::int64_t j = 0; j < n; ++j)
          ASSERT_TRUE(std::isnan(after[std::size_t(3 * n + j)])) << k.name << " " << name_of(act) << " lost a NaN";
      }
    } else {
      // integer: C = NaN-free by type; beta = 0 must still ignore C's old values
      const context ctx = context_for(k);
      array<TA> a(std::vector<TA>(6, TA(2)), ctx);
      array<TB> b(std::vector<TB>(6, TB(-3)), ctx);
      array<float> c(std::vector<float>(4, std::numeric_limits<float>::quiet_NaN()), ctx);
      force_kernel pin(k.name);
      gemm(trans::no, trans::no, 1.0, rows(a.data(), 2, 3, ctx), rows(b.data(), 3, 2, ctx), 0.0,
           rows(c.data(), 2, 2, ctx));
      for (float v : c.to_vector()) ASSERT_EQ(v, -18.0f) << k.name;
    }
  });
}

TEST_P(gemm_kernel, integer_results_exact_at_the_accumulator_limit) {
  const kernel_info& k = GetParam();
  if (k.out != dtype::i32) return;
  const context ctx = context_for(k);
  // the largest k whose worst case still fits in s32: 255 * 128 * 65793 < 2^31 (u8 x s8),
  // 128 * 128 * 131071 (s8 x s8)
  const bool u8 = k.in == dtype::u8;
  const std::int64_t kk = u8 ? 65793 : 131071;
  std::vector<std::uint8_t> ah(std::size_t(2 * kk), u8 ? 255 : 0x80);                     // row 0: extreme
  for (std::int64_t q = 0; q < kk; ++q) ah[std::size_t(kk + q)] = std::uint8_t(q % 251);  // row 1: mixed
  std::vector<std::int8_t> bh(std::size_t(kk * 3));
  for (std::int64_t q = 0; q < kk; ++q) {
    bh[std::size_t(q * 3)] = -128;
    bh[std::size_t(q * 3 + 1)] = std::int8_t(q % 256 - 128);
    bh[std::size_t(q * 3 + 2)] = 127;
  }
  array<std::uint8_t> astore(ah, ctx);
  array<std::int8_t> b(bh, ctx);
  array<std::int32_t> c(6, ctx);
  const const_view av(astore.data(), k.in, {2, kk}, {kk, 1}, ctx);
  {
    force_kernel pin(k.name);
    gemm(trans::no, trans::no, 1.0, av, rows(b.data(), kk, 3, ctx), 0.0, rows(c.data(), 2, 3, ctx));
  }
  const auto got = c.to_vector();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      std::int64_t s = 0;
      for (std::int64_t q = 0; q < kk; ++q) {
        const std::uint8_t raw = ah[std::size_t(i * kk + q)];
        const std::int64_t x = u8 ? std::int64_t(raw) : std::int64_t(std::int8_t(raw));
        s += x * bh[std::size_t(q * 3 + j)];
      }
      ASSERT_EQ(std::int64_t(got[std::size_t(i * 3 + j)]), s) << k.name << " (" << i << "," << j << ")";
    }
  // one more k could overflow: refused up front, C untouched
  array<std::int32_t> c2(std::vector<std::int32_t>(6, 7), ctx);
  buffer a2(k.in, 2 * (kk + 1), ctx);
  array<std::int8_t> b2((kk + 1) * 3, ctx);
  try {
    force_kernel pin(k.name);
    gemm(trans::no, trans::no, 1.0, const_view(a2.data(), k.in, {2, kk + 1}, {kk + 1, 1}, ctx),
         rows(b2.data(), kk + 1, 3, ctx), 0.0, rows(c2.data(), 2, 3, ctx));
    FAIL() << "k beyond the exact s32 range was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), status::unsupported);
    EXPECT_NE(std::string(e.what()).find("k = "), std::string::npos) << e.what();
  }
  for (auto v : c2.to_vector()) EXPECT_EQ(v, 7);
}

// Every runnable kernel, CUDA's too where a GPU is: run_case keeps A, B, C and the epilogue's
// operands in the kernel's memory.
INSTANTIATE_TEST_SUITE_P(every_kernel, gemm_kernel, ::testing::ValuesIn(runnable_kernels("gemm")), kernel_param_name);

TEST(gemm_blas_style, column_major_with_leading_dimensions) {
  const std::int64_t m = 5, n = 4, k = 3, lda = 7, ldb = 4, ldc = 6;
  std::vector<double> a(std::size_t(lda * k)), b(std::size_t(ldb * n)), c(std::size_t(ldc * n), -1.0);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = double(i % 5) - 2;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = double(i % 3) + 1;
  gemm(layout::col_major, trans::no, trans::no, m, n, k, 2.0, a.data(), lda, b.data(), ldb, 0.0, c.data(), ldc);
  for (std::int64_t j = 0; j < n; ++j) {
    for (std::int64_t i = 0; i < m; ++i) {
      double s = 0;
      for (std::int64_t q = 0; q < k; ++q) s += a[std::size_t(i + q * lda)] * b[std::size_t(q + j * ldb)];
      EXPECT_EQ(c[std::size_t(i + j * ldc)], 2.0 * s);
    }
    EXPECT_EQ(c[std::size_t(m + j * ldc)], -1.0) << "padding row written";
  }
  try {
    gemm(layout::col_major, trans::no, trans::no, m, n, k, 1.0, a.data(), 4, b.data(), ldb, 0.0, c.data(), ldc);
    FAIL();
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("lda"), std::string::npos) << e.what();
  }
}

TEST(gemm_errors, bad_operands_are_named_and_c_untouched) {
  std::vector<float> a(12, 1.0f), b(12, 1.0f), c(9, 5.0f);
  std::vector<double> d(12, 1.0);
  std::vector<std::int8_t> s8(12, 1);
  std::vector<std::uint8_t> u8(12, 1);
  std::vector<std::int32_t> c32(9, 5);
  const auto A = make_view(a.data(), {3, 4});
  const auto B = make_view(b.data(), {4, 3});
  const auto C = make_view(c.data(), {3, 3});
  auto expect = [&](auto&& call, status code, const char* words) {
    expect_refusal(call, code, words);
    for (float v : c) ASSERT_EQ(v, 5.0f) << "C written by a refused call (" << words << ")";
    for (auto v : c32) ASSERT_EQ(v, 5) << "C written by a refused call (" << words << ")";
  };
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, A, make_view(b.data(), {3, 4}), 0.0, C);
      },
      status::shape_mismatch, "op(A) is 3 x 4");
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, A, make_view(d.data(), {4, 3}), 0.0, C);
      },
      status::invalid_argument, "B must be f32");
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, make_view(a.data(), {3, 3}), make_view(a.data() + 3, {3, 3}), 0.0,
             make_view(a.data() + 1, {3, 3}));
      },
      status::invalid_argument, "overlaps");
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, A, B, 0.0, make_view(c.data(), {3, 3}, {1, 1}));
      },
      status::invalid_argument, "share memory");
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, make_view(u8.data(), {3, 4}), make_view(s8.data(), {4, 3}), 0.0,
             make_view(c.data(), {3, 3}, {3, 1}), [] {
               gemm_options o;
               o.a_zero_point = 300;
               return o;
             }());
      },
      status::invalid_argument, "a_zero_point = 300");
  expect(
      [&] {
        gemm(trans::no, trans::no, 2.0, make_view(u8.data(), {3, 4}), make_view(s8.data(), {4, 3}), 0.0,
             make_view(c32.data(), {3, 3}));
      },
      status::unsupported, "alpha must be 1");
  expect(
      [&] {
        gemm_options o;
        o.a_zero_point = 1;
        gemm(trans::no, trans::no, 1.0, A, B, 0.0, C, o);
      },
      status::invalid_argument, "zero points");
  expect(
      [&] {
        gemm_options o;
        std::vector<float> bias(2);
        o.epilogue.bias = make_view(bias.data(), 2);
        gemm(trans::no, trans::no, 1.0, A, B, 0.0, C, o);
      },
      status::shape_mismatch, "epilogue.bias");
  expect(
      [&] {
        gemm_options o;
        o.epilogue.residual = make_view(d.data(), {3, 3});
        gemm(trans::no, trans::no, 1.0, A, B, 0.0, C, o);
      },
      status::invalid_argument, "residual");
  expect(
      [&] {
        gemm(trans::no, trans::no, 1.0, make_view(u8.data(), {3, 4}), make_view(s8.data(), {4, 3}), 0.0,
             make_view(u8.data(), {3, 3}, {3, 1}));
      },
      status::invalid_argument, "overlaps");
  expect(
      [&] {
        gemm_options o;
        o.epilogue.residual = make_view(u8.data() + 3, {3, 3}, {3, 1});
        gemm(trans::no, trans::no, 1.0, make_view(u8.data(), {1, 1}), make_view(s8.data(), {1, 1}), 0.0,
             make_view(s8.data() + 4, {1, 1}), o);
      },
      status::unsupported, "added unscaled");
  const packed_matrix p64 = packed_matrix::pack(make_view(d.data(), {4, 3}));
  expect([&] { gemm(trans::no, 1.0, A, p64, 0.0, C); }, status::invalid_argument, "packed as f64:nr16:kg1");
  const packed_matrix p32 = packed_matrix::pack(make_view(b.data(), {3, 4}));
  expect([&] { gemm(trans::no, 1.0, A, p32, 0.0, C); }, status::shape_mismatch, "op(B) 3 x 4");
  expect([&] { gemm(trans::no, 1.0, A, packed_matrix{}, 0.0, C); }, status::invalid_argument, "empty");
}

// The GPU's packed layout, element by element through the body its packer runs: column j
// of op(B) contiguous at j * ld, zeros from k to ld, ld a multiple of 16 (cuBLAS's int8
// operands want multiples of 4) and never below 16.
TEST(gemm_packed_columns, each_column_is_contiguous_and_zero_padded) {
  EXPECT_EQ(detail::packed_columns_ld(0), 16);
  EXPECT_EQ(detail::packed_columns_ld(16), 16);
  EXPECT_EQ(detail::packed_columns_ld(17), 32);
  EXPECT_EQ(detail::packed_columns_ld(4096), 4096);
  const std::int64_t k = 19, n = 5, ld = detail::packed_columns_ld(k);
  std::vector<std::int16_t> b(std::size_t(k * n));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::int16_t(i + 1);
  for (const bool transposed : {false, true}) {
    // B(kk, j) stored row-major (rs n, cs 1), or as the transpose of an n x k row-major matrix
    const std::int64_t rs = transposed ? 1 : n, cs = transposed ? k : 1;
    for (std::int64_t e = 0; e < n * ld; ++e) {
      const std::int64_t j = e / ld, kk = e % ld;
      const std::int16_t want = kk < k ? b[std::size_t(kk * rs + j * cs)] : 0;
      ASSERT_EQ(detail::packed_columns_element(b.data(), k, rs, cs, ld, e), want) << "element " << e;
    }
  }
}

// The int8 GEMM's staged lines on a GPU, through the body its staging kernel runs: A's rows
// (u8, shifted by -128) and B's columns (s8) as lines of packed_columns_ld(k) values, zero past
// k and in B's padding lines. Their dot products, corrected by the row and column sums of the
// same lines as the finishing threads do (za less 128 for the shift), equal sum((a - za)(b -
// zb)) exactly, for strided operands and an odd k.
TEST(gemm_int8_lines, staged_sums_corrected_by_zero_points_equal_the_offset_products) {
  const std::int64_t m = 3, n = 5, k = 19, ld = detail::packed_columns_ld(k), np = 8;
  const std::int32_t za = 131, zb = -3;
  std::vector<std::uint8_t> a(std::size_t(m * k * 2));  // A(i, q) at i * 2k + 2q: column stride 2
  std::vector<std::int8_t> b(std::size_t(k * n));       // B(q, j) at j * k + q: stored as B^T
  for (std::size_t e = 0; e < a.size(); ++e) a[e] = std::uint8_t((e * 37 + 11) % 256);
  for (std::size_t e = 0; e < b.size(); ++e) b[e] = std::int8_t(int((e * 53 + 7) % 256) - 128);
  std::vector<std::int8_t> a_lines(std::size_t(m * ld)), b_lines(std::size_t(np * ld));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t q = 0; q < ld; ++q)
      a_lines[std::size_t(i * ld + q)] = detail::int8_line_element(a.data() + i * 2 * k, k, 2, q);
  for (std::int64_t j = 0; j < np; ++j)
    for (std::int64_t q = 0; q < ld; ++q)
      b_lines[std::size_t(j * ld + q)] = j < n ? detail::int8_line_element(b.data() + j * k, k, 1, q) : 0;
  for (std::int64_t j = n; j < np; ++j)
    for (std::int64_t q = 0; q < ld; ++q) ASSERT_EQ(b_lines[std::size_t(j * ld + q)], 0);
  const std::int64_t za_shifted = za - 128;
  for (std::int64_t i = 0; i < m; ++i) {
    std::int64_t row_sum = 0;
    for (std::int64_t q = 0; q < ld; ++q) row_sum += a_lines[std::size_t(i * ld + q)];
    for (std::int64_t j = 0; j < n; ++j) {
      std::int64_t s = 0, col_sum = 0, want = 0;
      for (std::int64_t q = 0; q < ld; ++q) {
        s += std::int64_t(a_lines[std::size_t(i * ld + q)]) * b_lines[std::size_t(j * ld + q)];
        col_sum += b_lines[std::size_t(j * ld + q)];
      }
      for (std::int64_t q = 0; q < k; ++q)
        want += (std::int64_t(a[std::size_t(i * 2 * k + 2 * q)]) - za) * (std::int64_t(b[std::size_t(j * k + q)]) - zb);
      EXPECT_EQ(s - za_shifted * col_sum - zb * row_sum + k * za_shifted * zb, want) << "C(" << i << ", " << j << ")";
    }
  }
}

}  // namespace
}  // namespace mixprec::test
