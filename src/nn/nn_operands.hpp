// The operands of the NN ops' front ends (src/nn/*.cpp): rank-1 or rank-2 row-major views
// of f32, bf16 or f16, as the kernels see them, and the checks every op makes on them.
#pragma once

#include <cstdint>

#include "internal/error_macros.hpp"
#include "internal/registry.hpp"
#include "internal/row_major.hpp"
#include "mixprec/float16.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/view.hpp"

namespace mixprec::detail {

/// A rank-1 (one row) or rank-2 row-major operand as the kernels see it, with its name.
struct rows_view : row_major {
  const char* name = "";
  /// First and one-past-last byte the operand spans (for aliasing checks). An empty operand
  /// spans nothing, and its data may be null.
  const char* begin() const { return static_cast<const char*>(data); }
  const char* end() const {
    if (rows == 0 || cols == 0) return begin();
    return begin() + ((rows - 1) * ld + cols) * std::int64_t(size_of(type));
  }
};

/// Element i of an array of T, widened to f32.
template <class T>
float at(const void* base, std::int64_t i) {
  return float(static_cast<const T*>(base)[i]);
}

/// f(T{}) for T the C++ type of an f32, bf16 or f16 dtype (f32 for any other).
template <class F>
auto with_storage(dtype t, F&& f) {
  switch (t) {
    case dtype::bf16:
      return f(bfloat16{});
    case dtype::f16:
      return f(half{});
    default:
      return f(float{});
  }
}

inline bool is_nn_storage(dtype t) { return t == dtype::f32 || t == dtype::bf16 || t == dtype::f16; }

/// v as the kernels see it, refused (naming `name`) unless rank 1 or 2, row-major with unit
/// column stride, of an NN storage dtype, in a context.
rows_view rows_of(const char* op, const char* name, const const_view& v);
void check_same_shape(const char* op, const rows_view& a, const rows_view& b);
/// One storage dtype and one memory space.
void check_together(const char* op, const rows_view& a, const rows_view& b);
/// An output may be the very same view as an input (in place), and must not overlap one
/// otherwise: its rows would be overwritten while they are still read.
void check_alias(const char* op, const rows_view& out, const rows_view& in);
/// Row i of x widened to f32 (x.cols values).
void widen_row(const rows_view& x, std::int64_t i, float* out);

/// The first NaN or infinite entry of x (f32, bf16 or f16) in row-major order, as
/// row * cols + col with its value, or -1: a kernel scans x where it lives (one result
/// copied back from a device).
std::int64_t first_non_finite(const row_major& x, double* value);

/// Refuses a NaN or infinite value of x (rows of heads x head_dim), naming the operand, the
/// token and the head (src/nn/kv_cache.cpp).
void check_finite_rows(const char* op, const rows_view& x, std::int64_t head_dim);

/// Runs the embedding kernel for a's lookup into out (a's bad_at and bad_id point at host
/// values), and refuses an id outside the vocabulary, naming it, after the kernel checked
/// them all and wrote nothing.
void run_embedding(const char* op, dtype table_type, const rows_view& out, const embedding_args& a);

}  // namespace mixprec::detail
