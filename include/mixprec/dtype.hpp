// mixprec/dtype.hpp — the element types mixprec stores and computes in.
//
//   mixprec::dtype t = mixprec::dtype_of<mixprec::bfloat16>;   // dtype::bf16
//   std::size_t bytes = mixprec::size_of(t);                   // 2
//   const char* name = mixprec::name_of(t);                    // "bf16"
//   mixprec::dtype u = mixprec::parse_dtype("f16");            // throws on an unknown name
//
// Every op documents the precision it computes in; `compute_type_of` gives the default
// (f32 for f16/bf16, the type itself for f32/f64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "mixprec/float16.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class dtype : std::uint8_t { f64, f32, f16, bf16, i8, u8, i32 };

/// Number of dtypes, for tables indexed by dtype.
inline constexpr int dtype_count = 7;

constexpr std::size_t size_of(dtype t) {
  switch (t) {
    case dtype::f64:
      return 8;
    case dtype::f32:
      return 4;
    case dtype::f16:
      return 2;
    case dtype::bf16:
      return 2;
    case dtype::i8:
      return 1;
    case dtype::u8:
      return 1;
    case dtype::i32:
      return 4;
  }
  return 0;
}

constexpr const char* name_of(dtype t) {
  switch (t) {
    case dtype::f64:
      return "f64";
    case dtype::f32:
      return "f32";
    case dtype::f16:
      return "f16";
    case dtype::bf16:
      return "bf16";
    case dtype::i8:
      return "i8";
    case dtype::u8:
      return "u8";
    case dtype::i32:
      return "i32";
  }
  return "?";
}

constexpr bool is_floating(dtype t) {
  return t == dtype::f64 || t == dtype::f32 || t == dtype::f16 || t == dtype::bf16;
}

/// The dtype a kernel computes in by default for data stored as `t`.
constexpr dtype compute_type_of(dtype t) {
  return t == dtype::f64 ? dtype::f64 : is_floating(t) ? dtype::f32 : dtype::i32;
}

/// The unit roundoff u of a floating dtype (a value rounded to it is off by at most u
/// relative): 2^-53, 2^-24, 2^-11, 2^-8; 1 for an integer dtype, which keeps no fraction.
constexpr double unit_roundoff(dtype t) {
  switch (t) {
    case dtype::f64:
      return 0x1p-53;
    case dtype::f32:
      return 0x1p-24;
    case dtype::f16:
      return 0x1p-11;
    case dtype::bf16:
      return 0x1p-8;
    default:
      return 1;
  }
}

/// Parses "f64", "f32", "f16", "bf16", "i8", "u8", "i32"; throws mixprec::error otherwise.
dtype parse_dtype(const std::string& name);

template <class T>
struct dtype_traits;
template <>
struct dtype_traits<double> {
  static constexpr dtype value = dtype::f64;
};
template <>
struct dtype_traits<float> {
  static constexpr dtype value = dtype::f32;
};
template <>
struct dtype_traits<half> {
  static constexpr dtype value = dtype::f16;
};
template <>
struct dtype_traits<bfloat16> {
  static constexpr dtype value = dtype::bf16;
};
template <>
struct dtype_traits<std::int8_t> {
  static constexpr dtype value = dtype::i8;
};
template <>
struct dtype_traits<std::uint8_t> {
  static constexpr dtype value = dtype::u8;
};
template <>
struct dtype_traits<std::int32_t> {
  static constexpr dtype value = dtype::i32;
};

/// dtype_of<T> is the dtype tag of a C++ element type.
template <class T>
inline constexpr dtype dtype_of = dtype_traits<T>::value;

}  // namespace mixprec

MIXPREC_PUBLIC_END
