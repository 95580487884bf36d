// BLAS-1 ops on every runnable kernel variant, against exact (long double) references with
// error bounds derived from the precisions and lengths involved (mixprec/blas1.hpp):
//   dot/asum, standard:   |r - s| <= gamma_n(u) * sum|x_i y_i|
//   compensated:          |r - s| <= u |s| + gamma_n(u)^2 * sum|x_i y_i|       (Dot2)
//   nrm2:                 |r - s| <= (gamma_n(u)/2 + 2^-52) s
//   axpy/scal, per entry: u_c|a x| + gamma_2(u_c)(|a x| + |y|) + u_s|exact| + eta_s
// with u the accumulator's unit roundoff, u_c the compute type's, u_s and eta_s the storage
// type's unit roundoff and half its smallest subnormal. The long double reference itself
// carries n * 2^-64 * sum|x_i y_i|, added to every bound.
#include <cmath>
#include <limits>

#include "internal/fused_ops.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

template <class T>
using compute_type = std::conditional_t<std::is_same_v<T, double> || std::is_integral_v<T>, double, float>;

template <class T>
ld storage_roundoff() {
  if constexpr (std::is_same_v<T, half>)
    return std::ldexp(ld(1), -11);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return std::ldexp(ld(1), -8);
  else if constexpr (std::is_same_v<T, float>)
    return std::ldexp(ld(1), -24);
  else if constexpr (std::is_same_v<T, double>)
    return std::ldexp(ld(1), -53);
  else
    return 0;
}
template <class T>
ld storage_underflow() {  // half the smallest subnormal
  if constexpr (std::is_same_v<T, half>)
    return std::ldexp(ld(1), -25);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return std::ldexp(ld(1), -134);
  else if constexpr (std::is_same_v<T, float>)
    return std::ldexp(ld(1), -150);
  else if constexpr (std::is_same_v<T, double>)
    return std::ldexp(ld(1), -1075);
  else
    return 0;
}

/// Unit roundoff of the accumulator the contract gives T under `acc`.
template <class T>
ld accumulator_roundoff(accumulation acc) {
  if (std::is_integral_v<T> && sizeof(T) == 1) return 0;  // exact
  if (acc == accumulation::f64 || std::is_same_v<T, double> || std::is_integral_v<T>) return unit_roundoff<double>();
  return unit_roundoff<float>();
}

const ld ref_u = std::ldexp(ld(1), -64);
const accumulation all_modes[] = {accumulation::standard, accumulation::f64, accumulation::compensated};

// ---- reductions ------------------------------------------------------------------------

class reduction : public ::testing::TestWithParam<kernel_info> {};

template <class T>
void check_dot(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  for (auto inc : test_strides(k))
    for (auto n : test_sizes()) {
      const auto xs = random_values<T>(n, 1 + std::uint32_t(n)), ys = random_values<T>(n, 7 + std::uint32_t(n));
      strided_vector<T> x(xs, inc, ctx, T{}), y(ys, 1, ctx, T{});
      ld s = 0, sabs = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        const ld p = exact(xs[i]) * exact(ys[i]);
        s += p;
        sabs += std::fabs(p);
      }
      for (auto acc : all_modes) {
        const double r = dot(x.as_view(), y.as_view(), acc);
        const ld u = accumulator_roundoff<T>(acc);
        const ld bound = (acc == accumulation::compensated ? u * std::fabs(s) + std::pow(gamma(n, u), 2) * sabs
                                                           : gamma(n, u) * sabs) +
                         n * ref_u * sabs;
        EXPECT_LE(std::fabs(ld(r) - s), bound) << k.name << " n=" << n << " inc=" << inc << " acc=" << name_of(acc)
                                               << " r=" << r << " exact=" << double(s);
      }
    }
}

template <class T>
void check_asum_nrm2(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  for (auto inc : test_strides(k))
    for (auto n : test_sizes()) {
      const auto xs = random_values<T>(n, 3 + std::uint32_t(n));
      strided_vector<T> x(xs, inc, ctx, T{});
      ld sa = 0, sq = 0;
      for (auto v : xs) {
        sa += std::fabs(exact(v));
        sq += exact(v) * exact(v);
      }
      for (auto acc : all_modes) {
        const ld u = accumulator_roundoff<T>(acc);
        const ld g = gamma(n, u);
        const bool comp = acc == accumulation::compensated;
        if (k.op == "asum") {
          const double r = asum(x.as_view(), acc);
          const ld bound = (comp ? u + g * g : g) * sa + n * ref_u * sa;
          EXPECT_LE(std::fabs(ld(r) - sa), bound) << k.name << " n=" << n << " inc=" << inc << " acc=" << name_of(acc);
        } else {
          const double r = nrm2(x.as_view(), acc);
          const ld e = std::sqrt(sq);
          const ld bound = ((comp ? u + g * g : g) / 2 + std::ldexp(ld(1), -52) + n * ref_u) * e;
          EXPECT_LE(std::fabs(ld(r) - e), bound) << k.name << " n=" << n << " inc=" << inc << " acc=" << name_of(acc);
        }
      }
    }
}

/// nrm2 must neither overflow nor underflow where the result is representable: magnitudes
/// near the type's largest value, near its smallest normal, and subnormal (where a scale
/// factor 1/max|x| is itself out of range), for every accumulation mode and n = 1 .. 1000.
template <class T>
void check_nrm2_range(const kernel_info& k) {
  if constexpr (!std::is_integral_v<T>) {
    const context ctx = context_for(k);
    force_kernel pin(k.name);
    std::vector<ld> magnitudes;
    if constexpr (std::is_same_v<T, half>)
      magnitudes = {5.0e4L, 1.0e-4L, 1.0e-6L};
    else if constexpr (std::is_same_v<T, double>)
      magnitudes = {1.0e308L, 1.0e-300L, 1.0e-310L, 1.0e-320L};
    else
      magnitudes = {1.0e38L, 1.0e-37L, 1.0e-40L};
    for (ld magnitude : magnitudes)
      for (std::int64_t n : {1, 2, 17, 1000}) {
        std::vector<T> xs(n);
        for (std::int64_t i = 0; i < n; ++i) xs[i] = expected_conversion<T>(magnitude * (((i % 3) - 1) * 0.5L + 0.75L));
        strided_vector<T> x(xs, 1, ctx, T{});
        ld sq = 0;
        for (auto v : xs) sq += exact(v) * exact(v);
        const ld e = std::sqrt(sq);
        if (e > ld(std::numeric_limits<double>::max())) continue;  // the norm itself overflows
        for (auto acc : all_modes) {
          const ld u = accumulator_roundoff<T>(acc);
          const ld g = gamma(n, u);
          const ld rel = (acc == accumulation::compensated ? u + g * g : g) / 2 + std::ldexp(ld(1), -52);
          // The result is a double: a subnormal one is also rounded to a multiple of 2^-1074.
          const ld bound = rel * e + ld(std::numeric_limits<double>::denorm_min()) / 2;
          const double r = nrm2(x.as_view(), acc);
          EXPECT_LE(std::fabs(ld(r) - e), bound) << k.name << " magnitude " << double(magnitude) << " n=" << n
                                                 << " acc=" << name_of(acc) << " r=" << r << " exact=" << double(e);
        }
      }
  }
}

template <class T>
void check_nan_propagates(const kernel_info& k) {
  if constexpr (!std::is_integral_v<T>) {
    const context ctx = context_for(k);
    force_kernel pin(k.name);
    auto xs = random_values<T>(100, 5);
    xs[37] = expected_conversion<T>(std::numeric_limits<ld>::quiet_NaN());
    strided_vector<T> x(xs, 1, ctx, T{});
    const double r = k.op == "dot"    ? dot(x.as_view(), x.as_view())
                     : k.op == "asum" ? asum(x.as_view())
                                      : nrm2(x.as_view());
    EXPECT_TRUE(std::isnan(r)) << k.name;
  }
}

TEST_P(reduction, matches_exact_within_derived_bound) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    if (k.op == "dot")
      check_dot<T>(k);
    else
      check_asum_nrm2<T>(k);
  });
}

TEST_P(reduction, nan_propagates) {
  with_type(GetParam().in, [&](auto t) { check_nan_propagates<decltype(t)>(GetParam()); });
}

std::vector<kernel_info> reduction_kernels() {
  auto v = runnable_kernels("dot");
  for (auto& k : runnable_kernels("asum")) v.push_back(k);
  // nrm2 is built on sumsq kernels: test it through each of them.
  for (auto k : runnable_kernels("sumsq")) {
    k.op = "nrm2";
    v.push_back(k);
  }
  return v;
}
INSTANTIATE_TEST_SUITE_P(every_kernel, reduction, ::testing::ValuesIn(reduction_kernels()), kernel_param_name);

class nrm2_range : public ::testing::TestWithParam<kernel_info> {};
TEST_P(nrm2_range, no_spurious_overflow_or_underflow) {
  with_type(GetParam().in, [&](auto t) { check_nrm2_range<decltype(t)>(GetParam()); });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, nrm2_range, ::testing::ValuesIn(runnable_kernels("sumsq")), kernel_param_name);

// ---- amax ------------------------------------------------------------------------------

class amax_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(amax_kernel, first_largest_magnitude_first_nan) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    const context ctx = context_for(k);
    force_kernel pin(k.name);
    for (auto inc : test_strides(k))
      for (auto n : test_sizes()) {
        auto xs = random_values<T>(n, 11 + std::uint32_t(n));
        if (n > 5) xs[n / 2] = xs[n - 2] = expected_conversion<T>(-1e6L);  // a tie: first wins
        strided_vector<T> x(xs, inc, ctx, T{});
        std::int64_t want = n ? 0 : -1;
        for (std::int64_t i = 1; i < n; ++i)
          if (std::fabs(exact(xs[i])) > std::fabs(exact(xs[want]))) want = i;
        EXPECT_EQ(amax(x.as_view()), want) << k.name << " n=" << n << " inc=" << inc;
        if constexpr (!std::is_integral_v<T>) {
          if (n > 10) {
            xs[n - 3] = expected_conversion<T>(std::numeric_limits<ld>::quiet_NaN());
            xs[n - 1] = expected_conversion<T>(std::numeric_limits<ld>::quiet_NaN());
            strided_vector<T> xn(xs, inc, ctx, T{});
            EXPECT_EQ(amax(xn.as_view()), n - 3) << k.name << " n=" << n << " (first NaN)";
          }
        }
      }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, amax_kernel, ::testing::ValuesIn(runnable_kernels("amax")), kernel_param_name);

// ---- elementwise: axpy, scal, fill -----------------------------------------------------

class elementwise : public ::testing::TestWithParam<kernel_info> {};

/// Per-element bound of y = alpha*x + y (x_term = 0 for scal's missing y).
template <class T>
ld axpy_bound(ld ax, ld y, ld exact_result) {
  using C = compute_type<T>;
  const ld uc = unit_roundoff<C>();
  if constexpr (std::is_integral_v<T>) return 0;  // integer tests use dyadic alpha: exact in f64
  const ld us = std::is_same_v<T, C> ? 0 : storage_roundoff<T>();
  return uc * std::fabs(ax) + gamma(2, uc) * (std::fabs(ax) * (1 + uc) + std::fabs(y)) +
         us * (std::fabs(exact_result) + gamma(3, uc) * (std::fabs(ax) + std::fabs(y))) + storage_underflow<T>();
}

template <class T>
void check_axpy_scal(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  const T sentinel = expected_conversion<T>(42);
  const double alphas[] = {std::is_integral_v<T> ? 2.0 : 0.3, -1.5, 0.0};
  for (double alpha : alphas)
    for (auto inc : test_strides(k))
      for (std::int64_t lead : {0, 3})  // 3: the data starts off a vector boundary
        for (auto n : test_sizes()) {
          const auto xs = random_values<T>(n, 21 + std::uint32_t(n)), ys = random_values<T>(n, 23 + std::uint32_t(n));
          strided_vector<T> x(xs, inc, ctx, sentinel, lead), y(ys, inc, ctx, sentinel, lead);
          if (k.op == "axpy")
            axpy(alpha, x.as_view(), y.as_view());
          else
            scal(alpha, y.as_view());
          const auto got = y.logical();
          for (std::int64_t i = 0; i < n; ++i) {
            const ld ax = ld(alpha) * exact(k.op == "axpy" ? xs[i] : ys[i]);
            const ld yi = k.op == "axpy" ? exact(ys[i]) : 0;
            const ld e = ax + yi;
            if constexpr (std::is_integral_v<T>) {
              ASSERT_EQ(got[i], expected_conversion<T>(e)) << k.name << " i=" << i << " n=" << n;
            } else {
              ASSERT_LE(std::fabs(exact(got[i]) - e), axpy_bound<T>(ax, yi, e))
                  << k.name << " alpha=" << alpha << " n=" << n << " inc=" << inc << " lead=" << lead << " i=" << i;
            }
          }
          // Gaps between strided elements and the lead are never written.
          const auto raw = y.raw();
          for (std::size_t j = 0; j < raw.size(); ++j)
            if (!y.holds_element(j)) ASSERT_TRUE(same_value(raw[j], sentinel)) << k.name << " gap " << j;
        }
}

template <class T>
void check_fill(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  const T sentinel = expected_conversion<T>(7);
  for (ld value : {ld(0.1), ld(-3.75), ld(1e10), ld(-1e-30)})
    for (auto inc : test_strides(k))
      for (std::int64_t lead : {0, 3})
        for (auto n : test_sizes()) {
          strided_vector<T> x(std::vector<T>(static_cast<std::size_t>(n), T{}), inc, ctx, sentinel, lead);
          fill(x.as_view(), double(value));
          const T want = expected_conversion<T>(ld(double(value)));
          const auto raw = x.raw();
          for (std::size_t j = 0; j < raw.size(); ++j) {
            const bool element = x.holds_element(j);
            ASSERT_TRUE(same_value(raw[j], element ? want : sentinel))
                << k.name << " value=" << double(value) << " n=" << n << " j=" << j;
          }
        }
}

TEST_P(elementwise, matches_exact_within_derived_bound) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    if (k.op == "fill")
      check_fill<T>(k);
    else
      check_axpy_scal<T>(k);
  });
}

TEST_P(elementwise, nan_stays_in_its_element) {
  const kernel_info& k = GetParam();
  if (k.op == "fill" || !is_floating(k.in)) GTEST_SKIP() << "no NaN in " << name_of(k.in) << " " << k.op;
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    if constexpr (!std::is_integral_v<T>) {
      const context ctx = context_for(k);
      force_kernel pin(k.name);
      auto xs = random_values<T>(40, 3), ys = random_values<T>(40, 4);
      xs[17] = expected_conversion<T>(std::numeric_limits<ld>::quiet_NaN());
      strided_vector<T> x(xs, 1, ctx, T{}), y(k.op == "axpy" ? ys : xs, 1, ctx, T{});
      if (k.op == "axpy")
        axpy(2.0, x.as_view(), y.as_view());
      else
        scal(0.0, y.as_view());  // 0 * NaN is NaN
      const auto got = y.logical();
      for (int i = 0; i < 40; ++i) EXPECT_EQ(std::isnan(exact(got[i])), i == 17) << k.name << " i=" << i;
    }
  });
}

// ---- axpby and CG's fused update -----------------------------------------------------------

class axpby_kernel : public ::testing::TestWithParam<kernel_info> {};

/// y = alpha x + beta y: axpy's bound with the extra rounding of beta*y; beta == 0 must not
/// read y (NaN there stays out of the result).
TEST_P(axpby_kernel, matches_exact_within_derived_bound) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    using C = compute_type<T>;
    const context ctx = context_for(k);
    force_kernel pin(k.name);
    const T sentinel = expected_conversion<T>(42);
    for (double alpha : {std::is_integral_v<T> ? 2.0 : 0.3, -1.5})
      for (double beta : {std::is_integral_v<T> ? -1.0 : 0.7, 0.0})
        for (auto inc : test_strides(k))
          for (std::int64_t lead : {0, 3})
            for (auto n : test_sizes()) {
              const auto xs = random_values<T>(n, 31 + std::uint32_t(n));
              auto ys = random_values<T>(n, 37 + std::uint32_t(n));
              if constexpr (!std::is_integral_v<T>)
                if (beta == 0.0 && n > 3) ys[2] = expected_conversion<T>(std::numeric_limits<ld>::quiet_NaN());
              strided_vector<T> x(xs, inc, ctx, sentinel, lead), y(ys, inc, ctx, sentinel, lead);
              axpby(alpha, x.as_view(), beta, y.as_view());
              const auto got = y.logical();
              for (std::int64_t i = 0; i < n; ++i) {
                const ld ax = ld(alpha) * exact(xs[i]), by = beta == 0.0 ? 0 : ld(beta) * exact(ys[i]);
                const ld e = ax + by;
                if constexpr (std::is_integral_v<T>) {
                  ASSERT_EQ(got[i], expected_conversion<T>(e)) << k.name << " i=" << i << " n=" << n;
                } else {
                  const ld bound = axpy_bound<T>(ax, by, e) + unit_roundoff<C>() * std::fabs(by);
                  ASSERT_LE(std::fabs(exact(got[i]) - e), bound)
                      << k.name << " alpha=" << alpha << " beta=" << beta << " n=" << n << " inc=" << inc << " i=" << i;
                }
              }
              const auto raw = y.raw();
              for (std::size_t j = 0; j < raw.size(); ++j)
                if (!y.holds_element(j)) ASSERT_TRUE(same_value(raw[j], sentinel)) << k.name << " gap " << j;
            }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, axpby_kernel, ::testing::ValuesIn(runnable_kernels("axpby")), kernel_param_name);

/// Runs body(T{}, ctx) with kernel k pinned, for k's f64 and f32 instances (the fused ops
/// of the solvers take only those).
template <class Body>
void with_pinned_solver_kernel(const kernel_info& k, Body&& body) {
  with_type(k.in, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
      const context ctx = context_for(k);
      force_kernel pin(k.name);
      body(t, ctx);
    }
  });
}

class cg_update_kernel : public ::testing::TestWithParam<kernel_info> {};

/// x += alpha p and r -= alpha q within axpy's bound each; the returned r'r is the f64 sum
/// of squares of the r written, within gamma_n(2^-53) of it.
TEST_P(cg_update_kernel, matches_axpy_twice_and_the_norm_of_the_new_residual) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    for (auto n : test_sizes()) {
      const auto ps = random_values<T>(n, 41), qs = random_values<T>(n, 43), xs = random_values<T>(n, 47),
                 rs = random_values<T>(n, 53);
      array<T> p(ps, ctx), q(qs, ctx), x(xs, ctx), r(rs, ctx);
      const double alpha = 0.37;
      const double rr = detail::cg_update(alpha, p.as_view(), q.as_view(), x.as_view(), r.as_view());
      const auto xg = x.to_vector(), rg = r.to_vector();
      ld sum = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::size_t s = std::size_t(i);
        const ld ap = ld(alpha) * exact(ps[s]), aq = -ld(alpha) * exact(qs[s]);
        ASSERT_LE(std::fabs(exact(xg[s]) - (ap + exact(xs[s]))), axpy_bound<T>(ap, exact(xs[s]), ap + exact(xs[s])))
            << k.name << " x i=" << i;
        ASSERT_LE(std::fabs(exact(rg[s]) - (aq + exact(rs[s]))), axpy_bound<T>(aq, exact(rs[s]), aq + exact(rs[s])))
            << k.name << " r i=" << i;
        sum += exact(rg[s]) * exact(rg[s]);
      }
      EXPECT_LE(std::fabs(ld(rr) - sum), gamma(ld(n + 1), unit_roundoff<double>()) * sum + ref_u * ld(n) * sum)
          << k.name << " n=" << n;
    }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, cg_update_kernel, ::testing::ValuesIn(runnable_kernels("cg_update")),
                         kernel_param_name);

// ---- the diagonal ops of point Jacobi ---------------------------------------------------

class diag_scale_kernel : public ::testing::TestWithParam<kernel_info> {};

/// z = alpha (d r) + beta z: three roundings in T, within gamma_3(u)(|alpha d r| + |beta z|);
/// with beta = 0, z starts as NaN and must not be read.
TEST_P(diag_scale_kernel, matches_the_exact_scaled_product_within_three_roundings) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    const ld u = unit_roundoff<T>();
    for (auto n : test_sizes())
      for (double beta : {0.0, -0.75}) {
        const auto ds = random_values<T>(n, 61), rs = random_values<T>(n, 67);
        auto zs = random_values<T>(n, 71);
        if (beta == 0.0) zs.assign(zs.size(), T(std::numeric_limits<double>::quiet_NaN()));
        array<T> d(ds, ctx), r(rs, ctx), z(zs, ctx);
        const double alpha = 1.3;
        detail::diag_scale(alpha, d.as_view(), r.as_view(), beta, z.as_view());
        const auto got = z.to_vector();
        for (std::size_t i = 0; i < got.size(); ++i) {
          const ld adr = ld(alpha) * exact(ds[i]) * exact(rs[i]);
          const ld bz = beta == 0.0 ? 0 : ld(beta) * exact(zs[i]);
          ASSERT_LE(std::fabs(exact(got[i]) - (adr + bz)), gamma(3, u) * (std::fabs(adr) + std::fabs(bz)))
              << k.name << " n=" << n << " beta=" << beta << " i=" << i;
        }
      }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, diag_scale_kernel, ::testing::ValuesIn(runnable_kernels("diag_scale")),
                         kernel_param_name);

class pcg_jacobi_update_kernel : public ::testing::TestWithParam<kernel_info> {};

/// x and r as cg_update writes them; r'r and r'Dr of the r written within
/// gamma_{n+2}(2^-53) of their exact sums of magnitudes. d is left as it was.
TEST_P(pcg_jacobi_update_kernel, matches_cg_update_and_both_norms_of_the_new_residual) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    for (auto n : test_sizes()) {
      const auto ps = random_values<T>(n, 41), qs = random_values<T>(n, 43), xs = random_values<T>(n, 47),
                 rs = random_values<T>(n, 53), ds = random_values<T>(n, 59);
      array<T> p(ps, ctx), q(qs, ctx), d(ds, ctx), x(xs, ctx), r(rs, ctx);
      const double alpha = 0.37;
      const detail::pcg_jacobi_sums got =
          detail::pcg_jacobi_update(alpha, p.as_view(), q.as_view(), d.as_view(), x.as_view(), r.as_view());
      const auto xg = x.to_vector(), rg = r.to_vector();
      ld rr = 0, rdr = 0, rdr_magnitude = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::size_t s = std::size_t(i);
        const ld ap = ld(alpha) * exact(ps[s]), aq = -ld(alpha) * exact(qs[s]);
        ASSERT_LE(std::fabs(exact(xg[s]) - (ap + exact(xs[s]))), axpy_bound<T>(ap, exact(xs[s]), ap + exact(xs[s])))
            << k.name << " x i=" << i;
        ASSERT_LE(std::fabs(exact(rg[s]) - (aq + exact(rs[s]))), axpy_bound<T>(aq, exact(rs[s]), aq + exact(rs[s])))
            << k.name << " r i=" << i;
        const ld r2 = exact(rg[s]) * exact(rg[s]);
        rr += r2;
        rdr += r2 * exact(ds[s]);
        rdr_magnitude += r2 * std::fabs(exact(ds[s]));
      }
      const ld g = gamma(ld(n + 2), unit_roundoff<double>()) + ref_u * ld(n);
      EXPECT_LE(std::fabs(ld(got.rr) - rr), g * rr) << k.name << " n=" << n;
      EXPECT_LE(std::fabs(ld(got.rdr) - rdr), g * rdr_magnitude) << k.name << " n=" << n;
      EXPECT_EQ(d.to_vector(), ds) << k.name;
    }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, pcg_jacobi_update_kernel,
                         ::testing::ValuesIn(runnable_kernels("pcg_jacobi_update")), kernel_param_name);

// ---- mdot and maxpy (Krylov bases) -----------------------------------------------------------

class multi_vector_kernel : public ::testing::TestWithParam<kernel_info> {};

/// mdot: h_j = v_j' w within gamma_n(2^-53) sum|v_j w| (f64 accumulation; f32 products are
/// exact in f64). maxpy: w + sum_j a_j v_j within gamma_2k(u_T)(|w| + sum|a_j v_j|), k steps
/// each rounding a product and a sum. Rows 3 elements apart beyond n (ld = n + 3), k from 1
/// to 11 so that the front end's groups of 8 are crossed; w is checked not to move for mdot.
TEST_P(multi_vector_kernel, match_exact_sums_within_derived_bounds) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    for (auto n : test_sizes())
      for (int count : {1, 3, 8, 11}) {
        const std::int64_t ld_ = n + 3;
        const auto vs = random_values<T>(count * ld_, 61 + std::uint32_t(n)), ws = random_values<T>(n, 67);
        array<T> v(vs, ctx), w(ws, ctx);
        const const_view rows(v.data(), dtype_of<T>, {count, n}, {ld_, 1}, ctx);
        const std::string where = k.name + " n=" + std::to_string(n) + " k=" + std::to_string(count);
        if (k.op == "mdot") {
          std::vector<double> h(std::size_t(count), -1.0);
          detail::mdot(rows, w.as_view(), h.data());
          for (int j = 0; j < count; ++j) {
            ld s = 0, sabs = 0;
            for (std::int64_t i = 0; i < n; ++i) {
              const ld p = exact(vs[std::size_t(j * ld_ + i)]) * exact(ws[std::size_t(i)]);
              s += p;
              sabs += std::fabs(p);
            }
            EXPECT_LE(std::fabs(ld(h[std::size_t(j)]) - s),
                      gamma(ld(n), unit_roundoff<double>()) * sabs + ref_u * ld(n) * sabs)
                << where << " j=" << j;
          }
          EXPECT_EQ(w.to_vector(), ws) << where;
        } else {
          std::vector<double> a(static_cast<std::size_t>(count));
          for (int j = 0; j < count; ++j) a[std::size_t(j)] = 0.25 - 0.125 * j;
          detail::maxpy(a.data(), rows, w.as_view());
          const auto got = w.to_vector();
          const ld u = unit_roundoff<T>();
          for (std::int64_t i = 0; i < n; ++i) {
            ld e = exact(ws[std::size_t(i)]), eabs = std::fabs(e);
            for (int j = 0; j < count; ++j) {
              const ld p = ld(T(a[std::size_t(j)])) * exact(vs[std::size_t(j * ld_ + i)]);
              e += p;
              eabs += std::fabs(p);
            }
            ASSERT_LE(std::fabs(exact(got[std::size_t(i)]) - e), gamma(ld(2 * count), u) * eabs) << where << " i=" << i;
          }
        }
      }
  });
}

std::vector<kernel_info> multi_vector_kernels() {
  auto v = runnable_kernels("mdot");
  for (auto& k : runnable_kernels("maxpy")) v.push_back(k);
  return v;
}
INSTANTIATE_TEST_SUITE_P(every_kernel, multi_vector_kernel, ::testing::ValuesIn(multi_vector_kernels()),
                         kernel_param_name);

// ---- row_dots (the dense solves' f32 or f64 rows against an f64 vector) ------------------

class row_dots_kernel : public ::testing::TestWithParam<kernel_info> {};

/// out_i + alpha sum_j a_ij y_j within gamma_{len+2}(2^-53) (|out_i| + |alpha| sum_j |a_ij y_j|):
/// f32 entries widen exactly, then len products and sums and the update in f64. Rows 5
/// elements apart beyond len; the entries of out around the rows' must not move.
TEST_P(row_dots_kernel, match_exact_sums_within_derived_bounds) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    for (auto len : test_sizes())
      for (std::int64_t rows : {1, 7, 40}) {
        const std::int64_t lda = len + 5;
        const auto as = random_values<T>(rows * lda, 71 + std::uint32_t(len));
        const auto ys = random_values<double>(len, 73), outs = random_values<double>(rows + 2, 79);
        array<T> a(as, ctx);
        array<double> y(ys, ctx), out(outs, ctx);
        const double alpha = -0.75;
        detail::row_dots(const_view(a.data(), dtype_of<T>, {rows, len}, {lda, 1}, ctx), y.as_view(), alpha,
                         view(out.data() + 1, dtype::f64, {rows}, {1}, ctx));
        const auto got = out.to_vector();
        const std::string where = k.name + " len=" + std::to_string(len) + " rows=" + std::to_string(rows);
        EXPECT_EQ(got[0], outs[0]) << where;
        EXPECT_EQ(got[std::size_t(rows + 1)], outs[std::size_t(rows + 1)]) << where;
        for (std::int64_t i = 0; i < rows; ++i) {
          ld s = 0, sabs = 0;
          for (std::int64_t j = 0; j < len; ++j) {
            const ld p = exact(as[std::size_t(i * lda + j)]) * ld(ys[std::size_t(j)]);
            s += p;
            sabs += std::fabs(p);
          }
          const ld before = outs[std::size_t(i + 1)], e = before + ld(alpha) * s;
          const ld mag = std::fabs(before) + std::fabs(ld(alpha)) * sabs;
          ASSERT_LE(std::fabs(ld(got[std::size_t(i + 1)]) - e),
                    gamma(ld(len + 2), unit_roundoff<double>()) * mag + ref_u * ld(len) * mag)
              << where << " i=" << i;
        }
      }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, row_dots_kernel, ::testing::ValuesIn(runnable_kernels("row_dots")),
                         kernel_param_name);

TEST(row_dots, refuses_mismatched_shapes_types_and_an_output_over_its_inputs) {
  std::vector<float> a(12, 1.0f);
  std::vector<double> y(4, 1.0), out(3, 0.0);
  const const_view av = make_view(static_cast<const float*>(a.data()), {3, 4});
  expect_error(
      [&] { detail::row_dots(av, make_view(static_cast<const double*>(y.data()), 3), 1.0, make_view(out.data(), 3)); },
      status::shape_mismatch, "a is 3 x 4 but y has 3 and out 3 elements");
  std::vector<float> yf(4, 1.0f);
  expect_error(
      [&] { detail::row_dots(av, make_view(static_cast<const float*>(yf.data()), 4), 1.0, make_view(out.data(), 3)); },
      status::unsupported, "y and out must be f64");
  std::vector<double> both(8, 1.0);
  expect_error(
      [&] {
        detail::row_dots(make_view(static_cast<const double*>(both.data()), {1, 4}),
                         make_view(static_cast<const double*>(both.data() + 4), 4), 1.0, make_view(both.data() + 2, 1));
      },
      status::invalid_argument, "out overlaps a or y");
  for (double v : out) EXPECT_EQ(v, 0.0);
}

// ---- mdot2 and dcgs2_update (DCGS2's Arnoldi step) -----------------------------------------

class dcgs2_kernel : public ::testing::TestWithParam<kernel_info> {};

/// Rows of v 3 elements apart beyond n, k from 0 to 19 (crossing the groups of 8 and, with
/// n up to 70001, mdot2's tiles and the chunks of two threads).
/// mdot2: each product within mdot's bound, gamma_n(2^-53) sum|v_j x| (f64 accumulation; f32
/// products are exact in f64); x and y unchanged.
/// dcgs2_update, with the coefficients rounded to T as the kernel rounds them: the new x
/// within gamma_2k+2(u_T) |inv_rho| (|x| + sum|s_j v_j|) of inv_rho (x - sum s_j v_j); the new y,
/// against the x the kernel wrote, within gamma_2k+4(u_T) |scale| (|y| + sum|t_j v_j| +
/// |gamma x|) of scale (y - sum t_j v_j - gamma x); the returned y'y within gamma_n(2^-53) of
/// the sum of squares of the y written.
TEST_P(dcgs2_kernel, match_exact_sums_within_derived_bounds) {
  const kernel_info& k = GetParam();
  with_pinned_solver_kernel(k, [&](auto t, const context& ctx) {
    using T = decltype(t);
    for (auto n : test_sizes())
      for (int count : {0, 1, 3, 8, 11, 19}) {
        const std::int64_t ld_ = n + 3;
        const auto vs = random_values<T>(count * ld_ + 1, 71 + std::uint32_t(n)), xs = random_values<T>(n, 73),
                   ys = random_values<T>(n, 79);
        array<T> v(vs, ctx), x(xs, ctx), y(ys, ctx);
        const const_view rows(v.data(), dtype_of<T>, {count, n}, {ld_, 1}, ctx);
        const std::string where = k.name + " n=" + std::to_string(n) + " k=" + std::to_string(count);
        auto row_value = [&](int j, std::int64_t i) { return exact(vs[std::size_t(j * ld_ + i)]); };
        if (k.op == "mdot2") {
          std::vector<double> hx(std::size_t(count), -1.0), hy(std::size_t(count), -1.0);
          detail::mdot2(rows, x.as_view(), y.as_view(), hx.data(), hy.data());
          for (int j = 0; j < count; ++j) {
            ld sx = 0, sy = 0, ax = 0, ay = 0;
            for (std::int64_t i = 0; i < n; ++i) {
              const ld px = row_value(j, i) * exact(xs[std::size_t(i)]),
                       py = row_value(j, i) * exact(ys[std::size_t(i)]);
              sx += px;
              sy += py;
              ax += std::fabs(px);
              ay += std::fabs(py);
            }
            const ld g = gamma(ld(n), unit_roundoff<double>()) + ref_u * ld(n);
            EXPECT_LE(std::fabs(ld(hx[std::size_t(j)]) - sx), g * ax) << where << " x j=" << j;
            EXPECT_LE(std::fabs(ld(hy[std::size_t(j)]) - sy), g * ay) << where << " y j=" << j;
          }
          EXPECT_EQ(x.to_vector(), xs) << where;
          EXPECT_EQ(y.to_vector(), ys) << where;
          continue;
        }
        std::vector<double> s(static_cast<std::size_t>(count)), c(static_cast<std::size_t>(count));
        for (int j = 0; j < count; ++j) {
          s[std::size_t(j)] = 0.3 - 0.07 * j;
          c[std::size_t(j)] = -0.2 + 0.05 * j;
        }
        const double inv_rho = 1.25, gam = 0.375, scale = 0.75;
        const double yy = detail::dcgs2_update(rows, s.data(), c.data(), inv_rho, gam, scale, x.as_view(), y.as_view());
        const auto gx = x.to_vector(), gy = y.to_vector();
        const ld u = unit_roundoff<T>();
        ld squares = 0;
        for (std::int64_t i = 0; i < n; ++i) {
          ld ex = exact(xs[std::size_t(i)]), mx = std::fabs(ex), ey = exact(ys[std::size_t(i)]), my = std::fabs(ey);
          for (int j = 0; j < count; ++j) {
            const ld ps = ld(T(s[std::size_t(j)])) * row_value(j, i), pt = ld(T(c[std::size_t(j)])) * row_value(j, i);
            ex -= ps;
            mx += std::fabs(ps);
            ey -= pt;
            my += std::fabs(pt);
          }
          const ld xi = exact(gx[std::size_t(i)]), yi = exact(gy[std::size_t(i)]);
          ASSERT_LE(std::fabs(xi - ld(T(inv_rho)) * ex), gamma(ld(2 * count + 2), u) * ld(T(inv_rho)) * mx)
              << where << " x i=" << i;
          ey -= ld(T(gam)) * xi;
          my += std::fabs(ld(T(gam)) * xi);
          ASSERT_LE(std::fabs(yi - ld(T(scale)) * ey), gamma(ld(2 * count + 4), u) * ld(T(scale)) * my)
              << where << " y i=" << i;
          squares += yi * yi;
        }
        EXPECT_LE(std::fabs(ld(yy) - squares), (gamma(ld(n + 1), unit_roundoff<double>()) + ref_u * ld(n)) * squares)
            << where;
      }
  });
}

std::vector<kernel_info> dcgs2_kernels() {
  auto v = runnable_kernels("mdot2");
  for (auto& k : runnable_kernels("dcgs2_update")) v.push_back(k);
  return v;
}
INSTANTIATE_TEST_SUITE_P(every_kernel, dcgs2_kernel, ::testing::ValuesIn(dcgs2_kernels()), kernel_param_name);

TEST(dcgs2_ops, bad_arguments_are_named_and_nothing_is_written) {
  const std::vector<double> values(60, 1.0);
  array<double> v(values), x(std::vector<double>(10, 2.0)), y(std::vector<double>(10, 3.0)),
      y9(std::vector<double>(9, 3.0));
  const const_view rows(v.data(), dtype::f64, {4, 10}, {10, 1}, v.ctx());
  double hx[4], hy[4];
  expect_error([&] { detail::mdot2(rows, x.as_view(), y9.as_view(), hx, hy); }, status::shape_mismatch, "y has 9");
  const double s[4] = {1, 1, 1, 1};
  const view row_3(v.data() + 30, dtype::f64, {10}, {1}, v.ctx()),
      past_rows(v.data() + 40, dtype::f64, {10}, {1}, v.ctx());
  expect_error([&] { (void)detail::dcgs2_update(rows, s, s, 1, 1, 1, x.as_view(), row_3); }, status::invalid_argument,
               "must not overlap");
  const const_view three_rows(v.data(), dtype::f64, {3, 10}, {10, 1}, v.ctx());
  expect_error([&] { (void)detail::dcgs2_update(three_rows, s, s, 1, 1, 1, past_rows, past_rows); },
               status::invalid_argument, "must not overlap");
  EXPECT_EQ(v.to_vector(), values);
  EXPECT_EQ(x.to_vector(), std::vector<double>(10, 2.0));
}

TEST(multi_vector_ops, bad_arguments_are_named) {
  array<double> v(std::vector<double>(40, 1.0)), w(std::vector<double>(10, 1.0)), w9(std::vector<double>(9, 1.0));
  const const_view rows(v.data(), dtype::f64, {4, 10}, {10, 1}, v.ctx());
  double h[4];
  EXPECT_THROW(detail::mdot(rows, w9.as_view(), h), error);
  const view overlapping(v.data() + 10, dtype::f64, {10}, {1}, v.ctx());
  const double a[4] = {1, 1, 1, 1};
  try {
    detail::maxpy(a, rows, overlapping);
    ADD_FAILURE() << "maxpy accepted a w inside its vectors";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("overlaps"), std::string::npos) << e.what();
  }
}

std::vector<kernel_info> elementwise_kernels() {
  auto v = runnable_kernels("axpy");
  for (auto& k : runnable_kernels("scal")) v.push_back(k);
  for (auto& k : runnable_kernels("fill")) v.push_back(k);
  return v;
}
INSTANTIATE_TEST_SUITE_P(every_kernel, elementwise, ::testing::ValuesIn(elementwise_kernels()), kernel_param_name);

// ---- integer saturation -----------------------------------------------------------------

TEST(integer_ops, axpy_saturates_and_dot_is_exact) {
  std::vector<std::int8_t> x{100, -100, 127, -128, 1}, y{100, -100, 1, -1, 0};
  axpy(1.0, make_view(x.data(), 5), make_view(y.data(), 5));
  EXPECT_EQ(y, (std::vector<std::int8_t>{127, -128, 127, -128, 1}));
  std::vector<std::int8_t> a(100000, -128), b(100000, -128);
  EXPECT_EQ(dot(make_view(a.data(), 100000), make_view(b.data(), 100000)), 100000.0 * 16384.0);
}

}  // namespace
}  // namespace mixprec::test
