// Element-level numerics shared by every backend (CPU reference, portable CPU, SIMD tails
// and CUDA): how a stored value widens to its compute type, how a result rounds back, and
// the accumulators of the reductions. One definition, so every kernel honours the same
// contract (mixprec/blas1.hpp).
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "mixprec/blas1.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

#define MIXPREC_KI MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE

template <class T>
struct compute_of {
  using type = double;
};  // f64 and the integers
template <>
struct compute_of<float> {
  using type = float;
};
template <>
struct compute_of<half> {
  using type = float;
};
template <>
struct compute_of<bfloat16> {
  using type = float;
};
template <class T>
using compute_t = typename compute_of<T>::type;

template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T>;

// <cmath> functions are host-only under nvcc; device code takes CUDA's own.
#if defined(__CUDA_ARCH__)
#define MIXPREC_MATH(f) ::f
#else
#define MIXPREC_MATH(f) std::f
#endif

template <class A>
MIXPREC_KI A fused_multiply_add(A a, A b, A c) {
  return MIXPREC_MATH(fma)(a, b, c);
}
/// Round to integer, ties to even (the default IEEE rounding mode).
MIXPREC_KI double round_ties_even(double v) {
#if defined(__CUDA_ARCH__)
  return ::rint(v);
#else
  return std::nearbyint(v);
#endif
}
MIXPREC_KI float round_ties_even(float v) {
#if defined(__CUDA_ARCH__)
  return ::rintf(v);
#else
  return std::nearbyint(v);
#endif
}

/// Exact: every dtype's values are doubles.
template <class T>
MIXPREC_KI double to_f64(T v) {
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>)
    return double(float(v));
  else
    return double(v);
}

/// Rounds once to nearest-even; integers saturate and take 0 for NaN.
template <class T>
MIXPREC_KI T from_f64(double v) {
  if constexpr (std::is_same_v<T, double>) {
    return v;
  } else if constexpr (std::is_same_v<T, float>) {
    return detail::f64_to_f32(v);
  } else if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
    return T(v);
  } else {
    if (v != v) return T(0);
    const double lo = double(std::numeric_limits<T>::min());
    const double hi = double(std::numeric_limits<T>::max());
    if (v <= lo) return std::numeric_limits<T>::min();
    if (v >= hi) return std::numeric_limits<T>::max();
    return T(round_ties_even(v));
  }
}

/// Widens a stored value to its compute type (exact).
template <class T>
MIXPREC_KI compute_t<T> widen(T v) {
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>)
    return float(v);
  else
    return compute_t<T>(v);
}

/// Rounds a compute-type value to storage.
template <class T>
MIXPREC_KI T narrow(compute_t<T> v) {
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, bfloat16>)
    return T(v);
  else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
    return v;
  else
    return from_f64<T>(v);
}

/// Any dtype to any dtype: widen exactly to f64, round once.
template <class Dst, class Src>
MIXPREC_KI Dst convert_value(Src v) {
  if constexpr (std::is_same_v<Src, Dst>)
    return v;
  else
    return from_f64<Dst>(to_f64(v));
}

// ---- accumulators ------------------------------------------------------------------------

/// Knuth's TwoSum: s + e == a + b exactly.
template <class A>
MIXPREC_KI void two_sum(A a, A b, A& s, A& e) {
  s = a + b;
  const A bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

/// Plain recursive summation in A.
template <class A>
struct plain_sum {
  A s = 0;
  MIXPREC_KI void add(A v) { s += v; }
  MIXPREC_KI void add_product(A a, A b) { s += a * b; }
  MIXPREC_KI void merge(const plain_sum& o) { s += o.s; }
  MIXPREC_KI double value() const { return double(s); }
};

/// Compensated summation (Ogita-Rump-Oishi Sum2/Dot2): the rounding error of every
/// addition and product is carried in `c` and added back once at the end.
template <class A>
struct compensated_sum {
  A s = 0, c = 0;
  MIXPREC_KI void add(A v) {
    A e;
    two_sum(s, v, s, e);
    c += e;
  }
  MIXPREC_KI void add_product(A a, A b) {
    const A p = a * b;
    const A pe = fused_multiply_add(a, b, -p);  // exact rounding error of the product
    A e;
    two_sum(s, p, s, e);
    c += e + pe;
  }
  MIXPREC_KI void merge(const compensated_sum& o) {
    A e;
    two_sum(s, o.s, s, e);
    c += e + o.c;
  }
  MIXPREC_KI double value() const { return double(s + c); }
};

/// Exact integer accumulation (i8/u8 data: products and sums fit in 64 bits for any
/// n below 2^48).
struct exact_int_sum {
  std::int64_t s = 0;
  MIXPREC_KI void add(std::int64_t v) { s += v; }
  MIXPREC_KI void add_product(std::int64_t a, std::int64_t b) { s += a * b; }
  MIXPREC_KI void merge(const exact_int_sum& o) { s += o.s; }
  MIXPREC_KI double value() const { return double(s); }
};

/// Calls f(acc) with the accumulator the contract prescribes for storage type T and mode.
/// f receives the accumulator by reference and the element type to feed it (as a tag).
template <class T, class F>
MIXPREC_HOST_DEVICE void with_accumulator(accumulation mode, F&& f) {
  if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>) {
    exact_int_sum a;
    f(a, std::int64_t{});
  } else {
    using C = compute_t<T>;
    if (mode == accumulation::f64) {
      plain_sum<double> a;
      f(a, double{});
    } else if (mode == accumulation::compensated) {
      compensated_sum<C> a;
      f(a, C{});
    } else {
      plain_sum<C> a;
      f(a, C{});
    }
  }
}

/// |v| ordering for amax with NaN greater than everything (first NaN wins).
template <class C>
MIXPREC_KI bool magnitude_greater(C a, C best) {
  return (a != a && best == best) || a > best;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
