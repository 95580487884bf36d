// Scalar SpMV bodies over a row range, shared by the reference and portable kernels and
// used by SIMD kernels for index types or rows they do not vectorise; plus the partition
// of rows into chunks of equal work (nonzeros + rows), so skewed matrices still scale.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "internal/registry.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Accumulator type of SpMV: f64 when the vectors or the values are f64 (or for
/// accumulation::f64), else f32 — values always widen exactly.
template <class V, class X>
using spmv_acc_t = std::conditional_t<std::is_same_v<X, double> || std::is_same_v<V, double>, double, float>;

/// Stores alpha*sum + beta*y[i] rounded to Y; y is not read when beta == 0.
template <class A, class Y>
MIXPREC_KI void spmv_store(Y* y, std::int64_t i, A sum, A alpha, A beta) {
  y[i] = beta == A(0) ? narrow<Y>(alpha * sum) : narrow<Y>(alpha * sum + beta * widen(y[i]));
}

/// Entries ahead of the current row that CSR SpMV prefetches values and column indices:
/// with rows of a few entries one core's hardware prefetching keeps too few misses in flight
/// to stream at the memory's pace (the distance and its gain: docs/performance-notes.md,
/// "Measurements behind kernel choices").
inline constexpr std::int64_t spmv_prefetch_entries = 256;

/// The address `ahead` elements past p, computed as an integer: near the end of the arrays
/// it points past them, and for a matrix without entries p is null; pointer arithmetic
/// there is undefined behaviour, while a prefetch of any address is harmless.
template <class T>
inline const void* address_ahead(const T* p, std::int64_t ahead) {
  return reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + std::uintptr_t(ahead) * sizeof(T));
}

template <class V, class I>
inline void prefetch_row_ahead(const V* v, const I* ci, std::int64_t k) {
  __builtin_prefetch(address_ahead(v, k + spmv_prefetch_entries));
  __builtin_prefetch(address_ahead(ci, k + spmv_prefetch_entries));
}

/// The order of every CSR row sum, SpMV's and SpMM's alike, so that their results agree
/// bit for bit: entries [b, e) are visited as add(part, k). Sums = 1 puts them all in part
/// 0, in order (the reference); Sums = 2 puts even positions in part 0 and odd ones in part
/// 1, which the caller adds to part 0 at the end: half the dependent chain of adds, which
/// with rows of 7-27 entries is what a core waits on between the loads.
template <int Sums, class I, class Add>
MIXPREC_KI void csr_row_order(I b, I e, Add&& add) {
  static_assert(Sums == 1 || Sums == 2, "one or two partial sums");
  if constexpr (Sums == 1) {
    for (I k = b; k < e; ++k) add(0, k);
  } else {
    I k = b;
    for (; k + 1 < e; k += 2) {
      add(0, k);
      add(1, k + 1);
    }
    if (k < e) add(0, k);
  }
}

/// Adds entry k's product to partial sum s: csr_row_order's step for one row sum. A named
/// functor, not a lambda: GCC stopped inlining the lambda when the instantiations around it
/// changed, and CSR SpMV ran 2.3x slower for the call per entry.
template <class A, class V, class I, class X>
struct csr_products {
  const V* v;
  const I* ci;
  const X* x;
  std::int64_t ldx;
  A* part;
  MIXPREC_KI void operator()(int s, I k) const { part[s] += A(widen(v[k])) * A(widen(x[std::int64_t(ci[k]) * ldx])); }
};

/// One row's sum, entries [0, len) of v and ci, in csr_row_order<Sums>, with x's entries
/// ldx apart: a column of a row-major X (SpMM on CUDA, a thread per output entry) sums as
/// SpMV of that column does.
template <int Sums, class A, class V, class I, class X>
MIXPREC_KI A csr_row_sum_strided(const V* v, const I* ci, I len, const X* x, std::int64_t ldx) {
  A part[2] = {0, 0};
  csr_row_order<Sums>(I(0), len, csr_products<A, V, I, X>{v, ci, x, ldx, part});
  if constexpr (Sums == 2) part[0] += part[1];
  return part[0];
}

/// One row's sum, entries [0, len) of v and ci, in csr_row_order<Sums>.
template <int Sums, class A, class V, class I, class X>
MIXPREC_KI A csr_row_sum(const V* v, const I* ci, I len, const X* x) {
  return csr_row_sum_strided<Sums, A>(v, ci, len, x, 1);
}

/// Slot `lane` of SELL slice s: its row's entries in column order, as the CPU's slice loops
/// add each lane (kernels/common/spmv_chunked.hpp); padding slots and entries are never read.
/// The CUDA kernel runs it a thread per slot, the CPU reference a slot at a time.
template <class V, class X, class A>
MIXPREC_KI A sell_slot_sum(const detail::sell_args& a, std::int64_t s, int lane, const X* x) {
  const V* v = static_cast<const V*>(a.values);
  const std::int32_t len = a.lane_len[s * a.chunk + lane];
  const std::int64_t first = a.slice_ptr[s] + lane;
  A sum = 0;
  for (std::int32_t k = 0; k < len; ++k) {
    const std::int64_t at = first + std::int64_t(k) * a.chunk;
    sum += A(widen(v[at])) * A(widen(x[a.col_idx[at]]));
  }
  return sum;
}

/// y[row] of SELL slot `lane` of slice s, when the slot holds a row.
template <class V, class X, class A>
MIXPREC_KI void sell_slot(const detail::sell_args& a, std::int64_t s, int lane, A alpha, const X* x, A beta, X* y) {
  const std::int32_t row = a.row_of[s * a.chunk + lane];
  if (row >= 0) spmv_store(y, row, sell_slot_sum<V, X, A>(a, s, lane, x), alpha, beta);
}

/// Rows from the first on, at most `rows`, while row_ptr says they hold L entries each:
/// csr_row_sum<2> with the length a constant, so the body is straight-line code and each
/// row's entries are addressed from a pointer that steps by L. row_ptr is read only to end
/// the run, a predicted branch, not an address the loads wait on. Returns the rows summed
/// (at least one: the caller has checked the first row's length).
template <int L, class V, class I, class X, class A>
std::int64_t csr_rows_of_length(const V* v, const I* ci, const I* rp, std::int64_t rows, A alpha, const X* x, A beta,
                                X* y) {
  std::int64_t r = 0;
  for (std::int64_t end = std::int64_t(rp[0]) + L; r < rows && std::int64_t(rp[r + 1]) == end;
       ++r, end += L, v += L, ci += L) {
    prefetch_row_ahead(v, ci, 0);
    spmv_store(y, r, csr_row_sum<2, A>(v, ci, I(L), x), alpha, beta);
  }
  return r;
}

/// Longest row length with a straight-line body (stencil and FEM matrices: 5-27).
inline constexpr int csr_fixed_lengths = 32;

template <class V, class I, class X, class A>
using csr_rows_of_length_fn = std::int64_t (*)(const V*, const I*, const I*, std::int64_t, A, const X*, A, X*);

template <class V, class I, class X, class A, int... L>
constexpr std::array<csr_rows_of_length_fn<V, I, X, A>, sizeof...(L)> csr_length_table(
    std::integer_sequence<int, L...>) {
  return {&csr_rows_of_length<L, V, I, X, A>...};
}

/// Rows [rb, re) of y = alpha*A*x + beta*y, each row summed as csr_row_sum<Sums>.
///
/// Sums = 2 goes by runs of rows with equal length: a row of at most csr_fixed_lengths
/// entries followed by one of the same length starts a run, summed by
/// csr_rows_of_length<L> until the length changes. In the plain loop the entry addresses
/// and loop bounds come from row_ptr loads, which the next row's loads wait on; over a fixed
/// stride they do not (about a third less time per entry with the matrix in cache). The
/// run's end is found inside the run body, not by a scan of row_ptr before it: with the
/// matrix streaming from memory the scan's row_ptr loads held up the entries'.
/// The sums, and so the results, are the same bit for bit either way.
///
/// Runs are taken for 32-bit indices and the default accumulator only: the 33 straight-line
/// bodies per type combination were most of the SpMV files' compilation, and 64-bit indices
/// (matrices past 2^31 entries) or f64 sums of f32 vectors are not what stencil and FEM
/// matrices run; those keep the row_ptr loop.
template <class V, class I, class X, class A, int Sums = 1>
void spmv_csr_rows(const detail::csr_args& a, std::int64_t rb, std::int64_t re, A alpha, const X* x, A beta, X* y) {
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  auto row_from_row_ptr = [&](std::int64_t i) {
    prefetch_row_ahead(v, ci, rp[i]);
    spmv_store(y, i, csr_row_sum<Sums, A>(v + rp[i], ci + rp[i], I(rp[i + 1] - rp[i]), x), alpha, beta);
  };
  if constexpr (Sums == 1 || !std::is_same_v<I, std::int32_t> || !std::is_same_v<A, spmv_acc_t<V, X>>) {
    for (std::int64_t i = rb; i < re; ++i) row_from_row_ptr(i);
  } else {
    static constexpr auto fixed =
        csr_length_table<V, I, X, A>(std::make_integer_sequence<int, csr_fixed_lengths + 1>{});
    std::int64_t i = rb;
    while (i < re) {
      const I start = rp[i], len = I(rp[i + 1] - start);
      if (len <= csr_fixed_lengths && i + 1 < re && rp[i + 2] - rp[i + 1] == len) {
        i += fixed[std::size_t(len)](v + start, ci + start, rp + i, re - i, alpha, x, beta, y + i);
      } else {
        row_from_row_ptr(i);
        ++i;
      }
    }
  }
}

/// Row i, columns [0, W) of X and Y (from the pointers given), of Y = alpha*A*X + beta*Y:
/// each column is summed in csr_row_order<Sums>, as SpMV sums it, so every column of SpMM
/// equals SpMV of that column bit for bit. W is a constant, so the 2W partial sums stay in
/// registers and the column loop becomes vector arithmetic.
template <int W, int Sums, class V, class I, class X, class A>
MIXPREC_KI void spmm_csr_row(const I* rp, const I* ci, const V* v, std::int64_t i, A alpha, const X* x,
                             std::int64_t ldx, A beta, X* y) {
  A even[W] = {}, odd[W] = {};
  prefetch_row_ahead(v, ci, rp[i]);
  csr_row_order<Sums>(rp[i], rp[i + 1], [&](int s, I p) {
    A(&sum)[W] = s == 0 ? even : odd;
    const A av = A(widen(v[p]));
    const X* xr = x + std::int64_t(ci[p]) * ldx;
    for (int j = 0; j < W; ++j) sum[j] += av * A(widen(xr[j]));
  });
  if constexpr (Sums == 2)
    for (int j = 0; j < W; ++j) even[j] += odd[j];
  for (int j = 0; j < W; ++j) spmv_store(y, j, even[j], alpha, beta);
}

/// Columns SpMM sums per pass over a row: 8 columns are 16 f64 partial sums, 8 SSE2
/// registers or 2 AVX-512 ones, and 8 widths to instantiate.
inline constexpr std::int64_t spmm_block = 8;

/// Rows [rb, re) of Y = alpha*A*X + beta*Y for k = spmm_block*q + Tail columns (Tail in
/// 1..spmm_block): per row, q blocks of spmm_block columns, then the Tail, so A's row is
/// read from memory once.
template <int Tail, int Sums, class V, class I, class X, class A>
void spmm_csr_rows_tail(const detail::csr_args& a, std::int64_t rb, std::int64_t re, std::int64_t k, A alpha,
                        const X* x, std::int64_t ldx, A beta, X* y, std::int64_t ldy) {
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  const std::int64_t full = k - Tail;
  for (std::int64_t i = rb; i < re; ++i) {
    X* yr = y + i * ldy;
    for (std::int64_t j0 = 0; j0 < full; j0 += spmm_block)
      spmm_csr_row<spmm_block, Sums>(rp, ci, v, i, alpha, x + j0, ldx, beta, yr + j0);
    spmm_csr_row<Tail, Sums>(rp, ci, v, i, alpha, x + full, ldx, beta, yr + full);
  }
}

template <int Sums, class V, class I, class X, class A, int... T>
void spmm_csr_rows_by_tail(std::integer_sequence<int, T...>, const detail::csr_args& a, std::int64_t rb,
                           std::int64_t re, std::int64_t k, A alpha, const X* x, std::int64_t ldx, A beta, X* y,
                           std::int64_t ldy) {
  const int tail = int(k - spmm_block * ((k - 1) / spmm_block));
  ((tail == T + 1 ? spmm_csr_rows_tail<T + 1, Sums, V, I, X, A>(a, rb, re, k, alpha, x, ldx, beta, y, ldy) : void()),
   ...);
}

/// Y = alpha*A*X + beta*Y for k >= 1 right-hand sides (X, Y row-major, leading dimensions
/// ldx, ldy), rows [rb, re): each column of Y gets exactly SpMV's sum (Sums as there). One
/// contiguous column is SpMV itself, runs of equal-length rows included.
template <class V, class I, class X, class A, int Sums = 1>
void spmm_csr_rows(const detail::csr_args& a, std::int64_t rb, std::int64_t re, std::int64_t k, A alpha, const X* x,
                   std::int64_t ldx, A beta, X* y, std::int64_t ldy) {
  if (k == 1 && ldx == 1 && ldy == 1) return spmv_csr_rows<V, I, X, A, Sums>(a, rb, re, alpha, x, beta, y);
  spmm_csr_rows_by_tail<Sums, V, I, X, A>(std::make_integer_sequence<int, spmm_block>{}, a, rb, re, k, alpha, x, ldx,
                                          beta, y, ldy);
}

/// Row range of chunk c of `chunks`, balancing row_ptr[i] + i (nonzeros plus rows) so that
/// a few long rows or many empty ones do not leave a thread with most of the work.
template <class I>
void balanced_rows(const I* row_ptr, std::int64_t rows, int chunks, int c, std::int64_t* rb, std::int64_t* re) {
  const std::int64_t total = std::int64_t(row_ptr[rows]) + rows;
  auto first_row_at = [&](std::int64_t target) {
    std::int64_t lo = 0, hi = rows;  // smallest i with row_ptr[i] + i >= target
    while (lo < hi) {
      const std::int64_t mid = (lo + hi) / 2;
      if (std::int64_t(row_ptr[mid]) + mid < target)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  };
  *rb = c == 0 ? 0 : first_row_at(total * c / chunks);
  *re = c == chunks - 1 ? rows : first_row_at(total * (c + 1) / chunks);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
