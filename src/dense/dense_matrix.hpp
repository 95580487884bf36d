// The dense front ends' view of an operand: a row-major matrix (pointer, rows, cols, row
// stride) of one dtype in CPU memory, checked once, with the context it came in; and the
// blocked triangular solves the factorizations and their solves share. Every pass and GEMM
// on an operand runs on its context's threads: a caller that gives a dense routine a
// one-thread context (one MPI rank per core) gets one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "internal/row_major.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/view.hpp"

namespace mixprec::detail {

template <class T>
struct dense_ref {
  T* data = nullptr;
  std::int64_t rows = 0, cols = 0, ld = 0;
  /// The operand's context (never null; outlives the call): whose threads work on it.
  const context* ctx = nullptr;
  T* row(std::int64_t i) const { return data + i * ld; }
  T& at(std::int64_t i, std::int64_t j) const { return data[i * ld + j]; }
  int threads() const { return ctx->threads(); }
  /// The sub-matrix from (r0, c0), r x c.
  dense_ref sub(std::int64_t r0, std::int64_t c0, std::int64_t r, std::int64_t c) const {
    return {data + r0 * ld + c0, r, c, ld, ctx};
  }
  /// The block [r0, r0 + r) x [c0, c0 + c) as a view (const_view for const T), for GEMM.
  auto block(std::int64_t r0, std::int64_t c0, std::int64_t r, std::int64_t c) const {
    return make_view(data + r0 * ld + c0, {r, c}, {ld, 1}, *ctx);
  }
};

/// A rank-2 (or, for right-hand sides, rank-1: one column) view with unit column stride,
/// f64 or f32, in CPU memory; dense_operand throws naming `what` otherwise.
using dense_shape = row_major;
dense_shape dense_operand(const char* op, const char* what, const const_view& v, bool square);

/// The matrix of s, which must outlive the result (it holds the context).
template <class T>
dense_ref<T> typed(const dense_shape& s) {
  return {static_cast<T*>(s.data), s.rows, s.cols, s.ld, &s.ctx};
}

/// getrf and potrf (mixprec/dense.hpp) for a matrix the caller has already found finite (a
/// rounded copy it checked while writing it): the check's pass over the matrix is skipped.
void getrf_of_finite(view a, std::vector<std::int64_t>& pivots, const lu_options& o);
void potrf_of_finite(view a, const cholesky_options& o);

/// first = min(first, key), from any thread. A check run over the threads records each bad
/// entry's position in the serial scan's order, and names the earliest: the one a serial
/// scan would have named.
inline void keep_smallest(std::atomic<std::int64_t>& first, std::int64_t key) {
  std::int64_t seen = first.load();
  while (key < seen && !first.compare_exchange_weak(seen, key)) {
  }
}

/// Throws invalid_argument naming the first NaN or infinite entry of a.
template <class T>
void check_finite(const char* op, const dense_ref<T>& a);

/// B = L^-1 B (L lower, unit or not) and B = U^-1 B (U upper, unit or not), or with the
/// transpose of L (B = L^-T B: back substitution). Blocks of `block` rows; the off-diagonal
/// blocks by GEMM.
template <class T>
void lower_solve(const dense_ref<T>& l, bool unit, const dense_ref<T>& b, std::int64_t block);
template <class T>
void upper_solve(const dense_ref<T>& u, bool unit, const dense_ref<T>& b, std::int64_t block);
template <class T>
void lower_transpose_solve(const dense_ref<T>& l, const dense_ref<T>& b, std::int64_t block);

/// y = L^-1 y and U^-1 y for one f64 vector y with factors stored in F (f32 factors of a
/// low-precision factorization applied in f64, as GMRES-IR's analysis asks): blocks of rows
/// whose off-diagonal part is a matrix-vector product over the CPU threads, then the block's
/// triangle by substitution. Reads each factor entry once.
template <class F>
void lower_solve_vector(const dense_ref<const F>& l, bool unit, double* y);
template <class F>
void upper_solve_vector(const dense_ref<const F>& u, bool unit, double* y);
/// The same for k vectors ys[0..k) at once: block by block, the vectors split over the
/// threads, so that each block of the factor comes from memory once, not once per vector.
/// Each vector's result is exactly what solving it alone gives.
template <class F>
void lower_solve_vectors(const dense_ref<const F>& l, bool unit, double* const* ys, int k);
template <class F>
void upper_solve_vectors(const dense_ref<const F>& u, bool unit, double* const* ys, int k);
/// y = L^-T y for an f64 factor (potrs; the low-precision Cholesky keeps L^T in its upper
/// triangle and solves with upper_solve_vector).
void lower_transpose_solve_vector(const dense_ref<const double>& l, double* y);

/// Runs body(r0, r1) over [begin, end) in chunks on up to `threads` threads (rows that are
/// independent: a panel's rows, a block's columns).
void for_row_chunks(int threads, std::int64_t begin, std::int64_t end, std::int64_t min_rows,
                    const std::function<void(std::int64_t, std::int64_t)>& body);

}  // namespace mixprec::detail
