// Operand checks and blocked triangular solves of the dense front ends (dense_matrix.hpp).
#include "dense/dense_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "internal/parallel.hpp"
#include "mixprec/context.hpp"
#include "mixprec/gemm.hpp"

namespace mixprec::detail {

dense_shape dense_operand(const char* op, const char* what, const const_view& v, bool square) {
  const dense_shape s = row_major_operand(op, what, v, vector_as::column);
  if (v.ctx().kind() != backend::cpu)
    MIXPREC_THROW(unsupported, op, what, " is not in CPU memory: dense solves run on the CPU");
  if (v.type() != dtype::f64 && v.type() != dtype::f32)
    MIXPREC_THROW(unsupported, op, what, " is ", name_of(v.type()), "; dense factorizations take f64 or f32");
  if (square && s.rows != s.cols)
    MIXPREC_THROW(shape_mismatch, op, what, " is ", s.rows, " x ", s.cols, ", not square");
  return s;
}

template <class T>
void check_finite(const char* op, const dense_ref<T>& a) {
  // Rows in chunks over the threads, each chunk stopping at its first bad entry; the earliest
  // of those (row-major order) is named, as a serial scan would.
  constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();
  std::atomic<std::int64_t> first_bad{none};
  for_row_chunks(a.threads(), 0, a.rows, 64, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t i = r0; i < r1; ++i) {
      bool finite = true;
      for (std::int64_t j = 0; j < a.cols; ++j) finite &= std::isfinite(a.at(i, j));
      if (finite) continue;
      std::int64_t j = 0;
      while (std::isfinite(a.at(i, j))) ++j;
      keep_smallest(first_bad, i * a.cols + j);
      return;
    }
  });
  if (first_bad.load() == none) return;
  const std::int64_t i = first_bad.load() / a.cols, j = first_bad.load() % a.cols;
  MIXPREC_THROW(invalid_argument, op, "entry (", i, ", ", j, ") is ", double(a.at(i, j)),
                "; the matrix must be finite");
}

void for_row_chunks(int threads, std::int64_t begin, std::int64_t end, std::int64_t min_rows,
                    const std::function<void(std::int64_t, std::int64_t)>& body) {
  const std::int64_t n = end - begin;
  if (n <= 0) return;
  const int chunks = chunk_count(n, threads, min_rows);
  parallel_chunks(chunks, [&](int c) {
    std::int64_t b = 0, e = 0;
    chunk_range(n, chunks, c, 1, &b, &e);
    if (b < e) body(begin + b, begin + e);
  });
}

namespace {

/// Columns of B each thread takes in the diagonal blocks' substitutions.
constexpr std::int64_t min_columns = 64;

template <class T>
void subtract_row(T* dst, const T* src, T factor, std::int64_t c0, std::int64_t c1) {
  for (std::int64_t c = c0; c < c1; ++c) dst[c] -= factor * src[c];
}

}  // namespace

/// Rows below which a triangular solve substitutes row by row.
constexpr std::int64_t base_rows = 16;

/// B = L^-1 B recursively: the top half, then the bottom rows less L's lower-left block times
/// the top half's solution (a GEMM, with that block copied out: L and B may be blocks of one
/// matrix, whose address spans GEMM would find overlapping), then the bottom half.
template <class T>
void lower_solve_recursive(const dense_ref<T>& l, bool unit, const dense_ref<T>& b, std::vector<T>& pack) {
  const std::int64_t m = l.rows, nrhs = b.cols;
  if (m <= base_rows) {
    for_row_chunks(b.threads(), 0, nrhs, min_columns, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t i = 0; i < m; ++i) {
        T* bi = b.row(i);
        for (std::int64_t p = 0; p < i; ++p) subtract_row(bi, b.row(p), l.at(i, p), c0, c1);
        if (!unit)
          for (std::int64_t c = c0; c < c1; ++c) bi[c] /= l.at(i, i);
      }
    });
    return;
  }
  const std::int64_t h = m / 2;
  lower_solve_recursive(l.sub(0, 0, h, h), unit, b.sub(0, 0, h, nrhs), pack);
  pack.resize(static_cast<std::size_t>((m - h) * h));
  for (std::int64_t i = h; i < m; ++i) std::copy(l.row(i), l.row(i) + h, pack.data() + (i - h) * h);
  gemm(trans::no, trans::no, -1.0, make_view(pack.data(), {m - h, h}, {}, *b.ctx), b.block(0, 0, h, nrhs), 1.0,
       b.block(h, 0, m - h, nrhs));
  lower_solve_recursive(l.sub(h, h, m - h, m - h), unit, b.sub(h, 0, m - h, nrhs), pack);
}

template <class T>
void lower_solve(const dense_ref<T>& l, bool unit, const dense_ref<T>& b, std::int64_t block) {
  const std::int64_t n = l.rows, nrhs = b.cols;
  std::vector<T> pack;
  for (std::int64_t k = 0; k < n; k += block) {
    const std::int64_t kb = std::min(block, n - k);
    lower_solve_recursive(l.sub(k, k, kb, kb), unit, b.sub(k, 0, kb, nrhs), pack);
    if (k + kb < n)
      gemm(trans::no, trans::no, -1.0, l.block(k + kb, k, n - k - kb, kb), b.block(k, 0, kb, nrhs), 1.0,
           b.block(k + kb, 0, n - k - kb, nrhs));
  }
}

template <class T>
void upper_solve(const dense_ref<T>& u, bool unit, const dense_ref<T>& b, std::int64_t block) {
  const std::int64_t n = u.rows, nrhs = b.cols;
  for (std::int64_t end = n; end > 0;) {
    const std::int64_t k = std::max<std::int64_t>(0, end - block);
    for_row_chunks(b.threads(), 0, nrhs, min_columns, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t i = end - 1; i >= k; --i) {
        T* bi = b.row(i);
        for (std::int64_t p = i + 1; p < end; ++p) subtract_row(bi, b.row(p), u.at(i, p), c0, c1);
        if (!unit)
          for (std::int64_t c = c0; c < c1; ++c) bi[c] /= u.at(i, i);
      }
    });
    if (k > 0)
      gemm(trans::no, trans::no, -1.0, u.block(0, k, k, end - k), b.block(k, 0, end - k, nrhs), 1.0,
           b.block(0, 0, k, nrhs));
    end = k;
  }
}

template <class T>
void lower_transpose_solve(const dense_ref<T>& l, const dense_ref<T>& b, std::int64_t block) {
  // L^T is upper triangular with (L^T)(i, p) = L(p, i).
  const std::int64_t n = l.rows, nrhs = b.cols;
  for (std::int64_t end = n; end > 0;) {
    const std::int64_t k = std::max<std::int64_t>(0, end - block);
    for_row_chunks(b.threads(), 0, nrhs, min_columns, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t i = end - 1; i >= k; --i) {
        T* bi = b.row(i);
        for (std::int64_t p = i + 1; p < end; ++p) subtract_row(bi, b.row(p), l.at(p, i), c0, c1);
        for (std::int64_t c = c0; c < c1; ++c) bi[c] /= l.at(i, i);
      }
    });
    if (k > 0)
      gemm(trans::yes, trans::no, -1.0, l.block(k, 0, end - k, k), b.block(k, 0, end - k, nrhs), 1.0,
           b.block(0, 0, k, nrhs));
    end = k;
  }
}

/// Rows per block of the vector solves: the block's triangle (b^2 / 2 entries) stays in L1/L2
/// while the rectangle beside it streams.
constexpr std::int64_t vector_block = 256;

/// sum_j row[j] y[j] over [0, len), in f64, with four partial sums (vectorizable).
template <class F>
double row_dot(const F* row, const double* y, std::int64_t len) {
  double s[4] = {0, 0, 0, 0};
  std::int64_t j = 0;
  for (; j + 4 <= len; j += 4)
    for (int q = 0; q < 4; ++q) s[q] += double(row[j + q]) * y[j + q];
  for (; j < len; ++j) s[0] += double(row[j]) * y[j];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/// y[r0, r1) -= A[r0, r1) x [c0, c1) y[c0, c1), the rows independent, by the ISA's row_dots
/// kernel (this file is built for the baseline ISA; no GEMM takes f32 factors with an f64
/// vector).
template <class F>
void subtract_rectangle(const dense_ref<const F>& a, std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
                        double* y) {
  row_dots(a.block(r0, c0, r1 - r0, c1 - c0), make_view(static_cast<const double*>(y + c0), c1 - c0, 1, *a.ctx), -1.0,
           make_view(y + r0, r1 - r0, 1, *a.ctx));
}

/// Runs step(f, y) on each of the k vectors ys[v]. One vector gets all of f's threads (its
/// row_dots split the rows); several are split over the threads, each worked on by one (`one`,
/// a one-thread context), so that a block of factor rows read from memory for one vector is
/// read from the shared cache for the others.
template <class F, class Step>
void over_vectors(const dense_ref<const F>& f, double* const* ys, int k, const context& one, Step&& step) {
  if (k == 1) {
    step(f, ys[0]);
    return;
  }
  dense_ref<const F> single = f;
  single.ctx = &one;
  const int chunks = std::min(k, f.threads());
  parallel_chunks(chunks, [&](int c) {
    for (int v = c; v < k; v += chunks) step(single, ys[v]);
  });
}

template <class F>
void lower_solve_vectors(const dense_ref<const F>& l, bool unit, double* const* ys, int k) {
  const std::int64_t n = l.rows;
  const context one = context::cpu(1);
  for (std::int64_t b = 0; b < n; b += vector_block) {
    const std::int64_t e = std::min(n, b + vector_block);
    over_vectors(l, ys, k, one, [&](const dense_ref<const F>& f, double* y) {
      if (b > 0) subtract_rectangle(f, b, e, 0, b, y);
      for (std::int64_t i = b; i < e; ++i) {
        const double s = y[i] - row_dot(f.row(i) + b, y + b, i - b);
        y[i] = unit ? s : s / double(f.at(i, i));
      }
    });
  }
}

template <class F>
void upper_solve_vectors(const dense_ref<const F>& u, bool unit, double* const* ys, int k) {
  const std::int64_t n = u.rows;
  const context one = context::cpu(1);
  for (std::int64_t e = n; e > 0; e -= vector_block) {
    const std::int64_t b = std::max<std::int64_t>(0, e - vector_block);
    over_vectors(u, ys, k, one, [&](const dense_ref<const F>& f, double* y) {
      if (e < n) subtract_rectangle(f, b, e, e, n, y);
      for (std::int64_t i = e - 1; i >= b; --i) {
        const double s = y[i] - row_dot(f.row(i) + i + 1, y + i + 1, e - i - 1);
        y[i] = unit ? s : s / double(f.at(i, i));
      }
    });
  }
}

template <class F>
void lower_solve_vector(const dense_ref<const F>& l, bool unit, double* y) {
  lower_solve_vectors(l, unit, &y, 1);
}

template <class F>
void upper_solve_vector(const dense_ref<const F>& u, bool unit, double* y) {
  upper_solve_vectors(u, unit, &y, 1);
}

void lower_transpose_solve_vector(const dense_ref<const double>& l, double* y) {
  // L^T y = b from the bottom: y_i = b_i / l_ii, then b[0, i) -= y_i L(i, 0..i) (row i of L is
  // column i of L^T). By blocks: the block's triangle, then the rows above it at once by the
  // ISA's multi-vector kernel, in row order: y[0, k) read and written once per group of
  // rows, not once per row.
  const std::int64_t n = l.rows;
  std::vector<double> minus_y;
  for (std::int64_t e = n; e > 0; e -= vector_block) {
    const std::int64_t k = std::max<std::int64_t>(0, e - vector_block);
    for (std::int64_t i = e - 1; i >= k; --i) {
      y[i] /= l.at(i, i);
      const double* li = l.row(i);
      for (std::int64_t j = k; j < i; ++j) y[j] -= li[j] * y[i];
    }
    if (k == 0) continue;
    minus_y.resize(static_cast<std::size_t>(e - k));
    for (std::int64_t i = k; i < e; ++i) minus_y[std::size_t(i - k)] = -y[i];
    maxpy(minus_y.data(), l.block(k, 0, e - k, k), make_view(y, k, 1, *l.ctx));
  }
}

#define MIXPREC_VECTOR_SOLVE_INSTANTIATE(F)                                                   \
  template void lower_solve_vector<F>(const dense_ref<const F>&, bool, double*);              \
  template void upper_solve_vector<F>(const dense_ref<const F>&, bool, double*);              \
  template void lower_solve_vectors<F>(const dense_ref<const F>&, bool, double* const*, int); \
  template void upper_solve_vectors<F>(const dense_ref<const F>&, bool, double* const*, int);
MIXPREC_VECTOR_SOLVE_INSTANTIATE(float)
MIXPREC_VECTOR_SOLVE_INSTANTIATE(double)
#undef MIXPREC_VECTOR_SOLVE_INSTANTIATE

#define MIXPREC_DENSE_INSTANTIATE(T)                                                          \
  template void check_finite<T>(const char*, const dense_ref<T>&);                            \
  template void lower_solve<T>(const dense_ref<T>&, bool, const dense_ref<T>&, std::int64_t); \
  template void upper_solve<T>(const dense_ref<T>&, bool, const dense_ref<T>&, std::int64_t); \
  template void lower_transpose_solve<T>(const dense_ref<T>&, const dense_ref<T>&, std::int64_t);
MIXPREC_DENSE_INSTANTIATE(double)
MIXPREC_DENSE_INSTANTIATE(float)
template void check_finite<const double>(const char*, const dense_ref<const double>&);
#undef MIXPREC_DENSE_INSTANTIATE

}  // namespace mixprec::detail
