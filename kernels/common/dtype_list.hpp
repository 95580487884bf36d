// The instantiation lists: which C++ type stands for which dtype, written once. Kernel
// folders expand these to instantiate and register one kernel per dtype (or dtype pair).
#pragma once

#include <cstdint>

#include "mixprec/float16.hpp"

// X(type, name) for every dtype.
#define MIXPREC_FOR_EACH_DTYPE(X) \
  X(double, f64)                  \
  X(float, f32)                   \
  X(::mixprec::half, f16)         \
  X(::mixprec::bfloat16, bf16)    \
  X(std::int8_t, i8)              \
  X(std::uint8_t, u8)             \
  X(std::int32_t, i32)

// X(type, name) for the floating dtypes.
#define MIXPREC_FOR_EACH_FLOAT_DTYPE(X) \
  X(double, f64)                        \
  X(float, f32)                         \
  X(::mixprec::half, f16)               \
  X(::mixprec::bfloat16, bf16)

// Every ordered pair (Src, Dst): X(SrcType, srcname, DstType, dstname).
#define MIXPREC_DTYPE_PAIRS_WITH(SRC_T, SRC_N, X) \
  X(SRC_T, SRC_N, double, f64)                    \
  X(SRC_T, SRC_N, float, f32)                     \
  X(SRC_T, SRC_N, ::mixprec::half, f16)           \
  X(SRC_T, SRC_N, ::mixprec::bfloat16, bf16)      \
  X(SRC_T, SRC_N, std::int8_t, i8)                \
  X(SRC_T, SRC_N, std::uint8_t, u8)               \
  X(SRC_T, SRC_N, std::int32_t, i32)
#define MIXPREC_FOR_EACH_DTYPE_PAIR(X)                   \
  MIXPREC_DTYPE_PAIRS_WITH(double, f64, X)               \
  MIXPREC_DTYPE_PAIRS_WITH(float, f32, X)                \
  MIXPREC_DTYPE_PAIRS_WITH(::mixprec::half, f16, X)      \
  MIXPREC_DTYPE_PAIRS_WITH(::mixprec::bfloat16, bf16, X) \
  MIXPREC_DTYPE_PAIRS_WITH(std::int8_t, i8, X)           \
  MIXPREC_DTYPE_PAIRS_WITH(std::uint8_t, u8, X)          \
  MIXPREC_DTYPE_PAIRS_WITH(std::int32_t, i32, X)

// Every ordered pair of distinct floating dtypes (the conversions SIMD folders provide).
#define MIXPREC_FOR_EACH_FLOAT_CONVERSION(X)         \
  X(double, f64, float, f32)                         \
  X(double, f64, ::mixprec::half, f16)               \
  X(double, f64, ::mixprec::bfloat16, bf16)          \
  X(float, f32, double, f64)                         \
  X(float, f32, ::mixprec::half, f16)                \
  X(float, f32, ::mixprec::bfloat16, bf16)           \
  X(::mixprec::half, f16, double, f64)               \
  X(::mixprec::half, f16, float, f32)                \
  X(::mixprec::half, f16, ::mixprec::bfloat16, bf16) \
  X(::mixprec::bfloat16, bf16, double, f64)          \
  X(::mixprec::bfloat16, bf16, float, f32)           \
  X(::mixprec::bfloat16, bf16, ::mixprec::half, f16)

// Every ordered pair of floating dtypes, equal ones included.
#define MIXPREC_FOR_EACH_FLOAT_PAIR(X)                    \
  X(double, f64, double, f64)                             \
  X(float, f32, float, f32)                               \
  X(::mixprec::half, f16, ::mixprec::half, f16)           \
  X(::mixprec::bfloat16, bf16, ::mixprec::bfloat16, bf16) \
  MIXPREC_FOR_EACH_FLOAT_CONVERSION(X)
