// convert on every runnable kernel variant, checked element by element against the
// rounding oracle (tests/support/oracle.hpp), which never uses the library's code:
// - from f16 and bf16: all 65,536 bit patterns, to every dtype;
// - from f32 and f64: every rounding boundary of the 16-bit formats (each midpoint between
//   neighbours, and the nearest source values on both sides of it), f32 midpoints for
//   f64 -> f32, specials (±0, ±inf, NaN, extremes, subnormals) and random values;
// - from integers: every i8/u8 value, i32 extremes and samples.
#include <cmath>
#include <limits>
#include <set>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#include "support/harness.hpp"

namespace mixprec::test {
namespace {

template <class S>
std::vector<S> sources() {
  std::vector<S> v;
  if constexpr (std::is_same_v<S, half> || std::is_same_v<S, bfloat16>) {
    for (std::uint32_t b = 0; b < 65536; ++b) v.push_back(S::from_bits(std::uint16_t(b)));
  } else if constexpr (std::is_floating_point_v<S>) {
    std::vector<long double> vals;
    for (format16 f : {f16_format, bf16_format}) {
      const std::uint32_t inf_bits = ((1u << f.exp) - 1) << f.mant;
      for (std::uint32_t b = 0; b + 1 < inf_bits; ++b) {
        const ld lo = decode16(std::uint16_t(b), f), hi = decode16(std::uint16_t(b + 1), f);
        const ld mid = (lo + hi) / 2;
        vals.push_back(lo);
        vals.push_back(mid);
      }
      // The overflow boundary: max + half an ulp.
      const ld top = decode16(std::uint16_t(inf_bits - 1), f), prev = decode16(std::uint16_t(inf_bits - 2), f);
      vals.push_back(top + (top - prev) / 2);
    }
    for (ld x : vals) {
      if (std::fabs(x) > ld(std::numeric_limits<S>::max())) continue;
      const S s = S(x);  // nearest S; then the S values on both sides of it
      for (S t : {s, std::nextafter(s, S(0)), std::nextafter(s, std::numeric_limits<S>::infinity())}) {
        v.push_back(t);
        v.push_back(-t);
      }
    }
    if constexpr (std::is_same_v<S, double>) {  // f64 -> f32 boundaries
      std::mt19937 gen(5);
      std::uniform_int_distribution<std::uint32_t> d(0, 0x7f7ffffe);
      for (int i = 0; i < 20000; ++i) {
        const float lo = detail::bit_cast<float>(d(gen));
        const double mid = (double(lo) + double(std::nextafter(lo, std::numeric_limits<float>::infinity()))) / 2;
        for (double t : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300)}) {
          v.push_back(t);
          v.push_back(-t);
        }
      }
    }
    const S specials[] = {S(0),
                          -S(0),
                          std::numeric_limits<S>::infinity(),
                          -std::numeric_limits<S>::infinity(),
                          std::numeric_limits<S>::quiet_NaN(),
                          std::numeric_limits<S>::max(),
                          std::numeric_limits<S>::lowest(),
                          std::numeric_limits<S>::min(),
                          std::numeric_limits<S>::denorm_min(),
                          -std::numeric_limits<S>::denorm_min(),
                          S(1e-40),
                          S(-3e-39),
                          S(127.5),
                          S(128.5),
                          S(-128.5),
                          S(255.5),
                          S(256),
                          S(2147483647.0),
                          S(-2147483648.5),
                          S(1e10)};
    v.insert(v.end(), std::begin(specials), std::end(specials));
    std::mt19937_64 gen(9);
    std::uniform_real_distribution<double> m(-1, 1);
    std::uniform_int_distribution<int> e(-160, 140);
    for (int i = 0; i < 20000; ++i) v.push_back(S(std::ldexp(m(gen), e(gen))));
  } else {
    using L = std::numeric_limits<S>;
    if constexpr (sizeof(S) == 1) {
      for (int i = L::min(); i <= L::max(); ++i) v.push_back(S(i));
    } else {
      for (std::int64_t i :
           {std::int64_t(L::min()), std::int64_t(L::max()), std::int64_t(0), std::int64_t(-1), std::int64_t(65504),
            std::int64_t(65519), std::int64_t(65520), std::int64_t(16777217), std::int64_t(-16777219)})
        v.push_back(S(i));
      std::mt19937 gen(3);
      for (int i = 0; i < 10000; ++i) v.push_back(S(gen()));
    }
  }
  return v;
}

class convert_kernel : public ::testing::TestWithParam<kernel_info> {};

/// Sets flush-to-zero and denormals-are-zero for the life of the object (what programs built
/// with -ffast-math run under), then restores the mode.
struct caller_flushes_subnormals {
#if defined(__SSE__) || defined(_M_X64)
  unsigned saved = _mm_getcsr();
  caller_flushes_subnormals() { _mm_setcsr(saved | 0x8040u); }
  ~caller_flushes_subnormals() { _mm_setcsr(saved); }
#endif
};

template <class S, class D>
void check_convert(const kernel_info& k, bool flushing_caller = false) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  const auto xs = sources<S>();
  const std::int64_t n = std::int64_t(xs.size());
  for (auto inc : test_strides(k)) {
    strided_vector<S> x(xs, inc, ctx, S{});
    strided_vector<D> y(std::vector<D>(xs.size(), D{}), inc, ctx, D{});
    if (flushing_caller) {
      const caller_flushes_subnormals mode{};  // only around the kernel: the oracle uses floats
      convert(x.as_view(), y.as_view());
    } else {
      convert(x.as_view(), y.as_view());
    }
    const auto got = y.logical();
    std::int64_t failures = 0;
    for (std::int64_t i = 0; i < n && failures < 10; ++i) {
      const D want = expected_conversion<D>(exact(xs[i]));
      if (!same_value(got[i], want)) {
        ++failures;
        ADD_FAILURE() << k.name << " inc=" << inc << ": input " << double(exact(xs[i])) << " gave "
                      << double(exact(got[i])) << ", want " << double(exact(want));
      }
    }
  }
}

TEST_P(convert_kernel, rounds_like_the_oracle) {
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto s) { with_type(k.out, [&](auto d) { check_convert<decltype(s), decltype(d)>(k); }); });
}

/// The contract holds whatever floating-point mode the caller runs in.
TEST_P(convert_kernel, keeps_subnormals_when_the_caller_flushes_them) {
#if !defined(__SSE__) && !defined(_M_X64)
  GTEST_SKIP() << "flush-to-zero is set through MXCSR on x86 only here";
#endif
  const kernel_info& k = GetParam();
  with_type(k.in, [&](auto s) { with_type(k.out, [&](auto d) { check_convert<decltype(s), decltype(d)>(k, true); }); });
}

INSTANTIATE_TEST_SUITE_P(every_kernel, convert_kernel, ::testing::ValuesIn(runnable_kernels("convert")),
                         kernel_param_name);

// The scalar types themselves, against the same oracle.
TEST(float16_scalar, all_patterns_widen_exactly_and_round_trip) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const half h = half::from_bits(std::uint16_t(b));
    const bfloat16 f = bfloat16::from_bits(std::uint16_t(b));
    const ld hv = decode16(std::uint16_t(b), f16_format), fv = decode16(std::uint16_t(b), bf16_format);
    if (std::isnan(hv)) {
      EXPECT_TRUE(std::isnan(float(h)));
      EXPECT_TRUE(std::isnan(float(half(float(h)))));
    } else {
      ASSERT_EQ(ld(float(h)), hv) << std::hex << b;
      ASSERT_EQ(half(float(h)).bits(), b) << std::hex << b;
      ASSERT_EQ(half(double(h)).bits(), b) << std::hex << b;
    }
    if (std::isnan(fv)) {
      EXPECT_TRUE(std::isnan(float(f)));
    } else {
      ASSERT_EQ(ld(float(f)), fv) << std::hex << b;
      ASSERT_EQ(bfloat16(float(f)).bits(), b) << std::hex << b;
      ASSERT_EQ(bfloat16(double(f)).bits(), b) << std::hex << b;
    }
  }
}

TEST(float16_scalar, narrowing_rounds_like_the_oracle) {
  for (float x : sources<float>()) {
    ASSERT_TRUE(same_value(half(x), expected_conversion<half>(x))) << x;
    ASSERT_TRUE(same_value(bfloat16(x), expected_conversion<bfloat16>(x))) << x;
  }
  for (double x : sources<double>()) {
    ASSERT_TRUE(same_value(half(x), expected_conversion<half>(x))) << x;
    ASSERT_TRUE(same_value(bfloat16(x), expected_conversion<bfloat16>(x))) << x;
  }
}

TEST(float16_scalar, double_rounding_is_avoided) {
  // 1 + 2^-11 + 2^-40 rounds up in f16 directly, but through f32 it becomes the tie
  // 1 + 2^-11 (the 2^-40 is lost), which rounds to even: 1.0. One rounding is right.
  const double x = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(half(x).bits(), 0x3c01);
  EXPECT_EQ(half(float(x)).bits(), 0x3c00);
}

TEST(unit_roundoff, is_half_the_gap_above_one) {
  // 1 + u is the tie between 1 and its successor 1 + 2u: it rounds to even (1); anything
  // above it rounds up to 1 + 2u.
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const double u = unit_roundoff(t);
    const std::vector<double> in = {1 + u, 1 + 1.5 * u, 1 + 2 * u};
    buffer stored(t, 3);
    convert(make_view(in.data(), 3), stored.as_view());
    std::vector<double> out(3);
    convert(stored.as_view(), make_view(out.data(), 3));
    EXPECT_EQ(out[0], 1.0) << name_of(t);
    EXPECT_EQ(out[1], 1 + 2 * u) << name_of(t);
    EXPECT_EQ(out[2], 1 + 2 * u) << name_of(t);
  }
  EXPECT_EQ(unit_roundoff(dtype::i8), 1.0);
}

}  // namespace
}  // namespace mixprec::test
