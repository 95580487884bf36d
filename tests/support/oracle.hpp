// Test oracles independent of the library's conversion code: values decoded from bits with
// ldexp, rounding by searching the sorted table of a format's values in long double, and
// the error-bound helpers (gamma_n) of the numerics contract.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "mixprec/float16.hpp"

namespace mixprec::test {

using ld = long double;

/// Unit roundoff of an accumulator: 2^-24 for f32, 2^-53 for f64.
template <class A>
constexpr ld unit_roundoff() {
  return std::ldexp(ld(1), -std::numeric_limits<A>::digits);
}

/// gamma_n = n u / (1 - n u): the classic bound on n roundings (Higham, ch. 3).
inline ld gamma(ld n, ld u) { return n * u / (1 - n * u); }

/// A 16-bit float format: mantissa bits, exponent bits.
struct format16 {
  int mant, exp;
};
inline constexpr format16 f16_format{10, 5};
inline constexpr format16 bf16_format{7, 8};

/// Exact value of a 16-bit pattern, decoded by definition (not by the library).
inline ld decode16(std::uint16_t bits, format16 f) {
  const bool neg = bits >> 15;
  const int e = (bits >> f.mant) & ((1 << f.exp) - 1);
  const int m = bits & ((1 << f.mant) - 1);
  const int bias = (1 << (f.exp - 1)) - 1;
  ld v;
  if (e == (1 << f.exp) - 1)
    v = m ? std::numeric_limits<ld>::quiet_NaN() : std::numeric_limits<ld>::infinity();
  else if (e == 0)
    v = std::ldexp(ld(m), 1 - bias - f.mant);
  else
    v = std::ldexp(ld(m + (1 << f.mant)), e - bias - f.mant);
  return neg ? -v : v;
}

/// Rounds v to the nearest value of format f, ties to the even pattern, overflow to inf,
/// between the two neighbours of |v| in the format's sorted positive values (their index is
/// the bit pattern, found from v's exponent and leading mantissa bits).
class rounding_oracle16 {
 public:
  explicit rounding_oracle16(format16 f) : f_(f) {
    const std::uint16_t inf_bits = std::uint16_t(((1 << f.exp) - 1) << f.mant);
    for (std::uint32_t b = 0; b < inf_bits; ++b) values_.push_back(decode16(std::uint16_t(b), f));
    // The value just past the largest finite one: a tie with it rounds to inf (the largest
    // finite pattern is odd), like the IEEE overflow rule.
    const ld top = values_.back(), ulp = top - values_[values_.size() - 2];
    values_.push_back(top + ulp);
  }

  std::uint16_t round(ld v) const {
    const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
    const std::uint16_t inf_bits = std::uint16_t(((1 << f_.exp) - 1) << f_.mant);
    if (std::isnan(v)) return inf_bits | (1 << (f_.mant - 1)) | sign;
    const ld a = std::fabs(v);
    if (a >= values_.back()) return sign | inf_bits;
    const std::size_t l = at_or_below(a), h = l + 1;
    if (values_[l] == a) return sign | std::uint16_t(l);
    const ld dl = a - values_[l], dh = values_[h] - a;
    std::size_t pick = dl < dh ? l : dh < dl ? h : (l % 2 == 0 ? l : h);
    return sign | std::uint16_t(pick);  // index == pattern; index == inf_bits means inf
  }

 private:
  /// The index of the largest format value <= a, for 0 <= a < values_.back(): a's binade
  /// (exponent) gives the high bits and its leading mant fraction bits the low ones; the
  /// subnormals are the multiples of the smallest one.
  std::size_t at_or_below(ld a) const {
    const int bias = (1 << (f_.exp - 1)) - 1;
    std::size_t i;
    if (a < values_[std::size_t(1) << f_.mant]) {
      i = std::size_t(std::floor(std::ldexp(a, bias - 1 + f_.mant)));
    } else {
      const int e = std::ilogb(a);
      i = (std::size_t(e + bias) << f_.mant) + std::size_t(std::floor(std::ldexp(std::ldexp(a, -e) - 1, f_.mant)));
    }
    if (!(values_[i] <= a && a < values_[i + 1])) throw std::logic_error("rounding_oracle16: neighbour search");
    return i;
  }

  format16 f_;
  std::vector<ld> values_;
};

/// The expected result of converting the exact value v to T.
template <class T>
T expected_conversion(ld v) {
  if constexpr (std::is_same_v<T, half>) {
    static const rounding_oracle16 o(f16_format);
    return half::from_bits(o.round(v));
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    static const rounding_oracle16 o(bf16_format);
    return bfloat16::from_bits(o.round(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return T(v);  // long double -> f32/f64: one IEEE rounding to nearest even
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= ld(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    if (v >= ld(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return T(std::nearbyintl(v));
  }
}

/// Exact value of any stored element.
template <class T>
ld exact(T v) {
  if constexpr (std::is_same_v<T, half>)
    return decode16(v.bits(), f16_format);
  else if constexpr (std::is_same_v<T, bfloat16>)
    return decode16(v.bits(), bf16_format);
  else
    return ld(v);
}

/// Bitwise equality, with any NaN equal to any NaN.
template <class T>
bool same_value(T a, T b) {
  const ld x = exact(a), y = exact(b);
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>)
    return a.bits() == b.bits();
  else {
    if (x != y) return false;
    return std::signbit(x) == std::signbit(y);
  }
}

}  // namespace mixprec::test
