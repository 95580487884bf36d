// getrf/getrs and potrf/potrs (mixprec/dense.hpp): blocked right-looking factorizations whose
// trailing updates are one GEMM per panel, so that the GEMM kernels of every ISA (and the
// bf16 dot-product unit, for lu_update::bf16) do nearly all the work.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <type_traits>
#include <utility>

#include "dense/dense_matrix.hpp"
#include "internal/error_macros.hpp"
#include "internal/parallel.hpp"
#include "mixprec/array.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/float16.hpp"
#include "mixprec/gemm.hpp"

namespace mixprec {
namespace {

using detail::dense_ref;
using detail::for_row_chunks;

/// Panel width: wide enough that the trailing GEMM runs near its peak, narrow enough that the
/// column-by-column panel work (O(n nb^2)) stays a few percent of the total.
constexpr std::int64_t default_block = 128;

/// getrf's panel width. A wider panel halves the trailing update's passes over the matrix
/// (each reads and writes all of it) but doubles the panel's own work, which the look-ahead
/// hides only behind an update long enough. 256 pays from n = 4096 in f64 and from 8192 in
/// f32, where each update takes longer than a panel of 256 (docs/performance-notes.md).
template <class T>
std::int64_t lu_block(std::int64_t n) {
  return n * std::int64_t(sizeof(T)) >= 32768 ? 256 : default_block;
}

/// rows x cols of a (from r0, c0) copied into `out`, dense row-major in S (GEMM refuses
/// operands whose address spans overlap its output, and sub-blocks of one matrix do). The
/// vector keeps its memory from call to call: no page faults after the first panel.
template <class S, class T>
S* packed_copy(std::vector<S>& out, const dense_ref<T>& a, std::int64_t r0, std::int64_t c0, std::int64_t rows,
               std::int64_t cols) {
  if (out.size() < static_cast<std::size_t>(rows * cols)) out.resize(static_cast<std::size_t>(rows * cols));
  S* p = out.data();
  for_row_chunks(a.threads(), 0, rows, 32, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i)
      for (std::int64_t j = 0; j < cols; ++j) p[i * cols + j] = S(a.at(r0 + i, c0 + j));
  });
  return p;
}

/// Workspace of one factorization: the packed operands of its GEMMs.
template <class T>
struct lu_workspace {
  std::vector<T> left, right;
  std::vector<bfloat16> left16, right16;
};

/// A22 -= L21 U12 over A22's columns [j0, j1), from L21 (rows x depth) and U12 (depth x
/// cols) packed row-major in S (the storage the update multiplies in).
template <class S, class T>
void subtract_columns(const dense_ref<T>& a22, const S* l21, const S* u12, std::int64_t depth, std::int64_t j0,
                      std::int64_t j1) {
  if (j1 <= j0) return;
  gemm(trans::no, trans::no, -1.0, make_view(l21, {a22.rows, depth}, {}, *a22.ctx),
       make_view(u12 + j0, {depth, j1 - j0}, {a22.cols, 1}, *a22.ctx), 1.0, a22.block(0, j0, a22.rows, j1 - j0));
}

/// Columns below which the panel is eliminated column by column (a strip of n x 16 values
/// stays in the L2 cache while its columns are swept).
constexpr std::int64_t base_columns = 16;

/// The largest |a_ij| of the upper triangle (diagonal included), or of all of a; NaN if any
/// entry is NaN. Rows in chunks over the threads.
template <class T>
double largest_entry(const dense_ref<T>& a, bool upper_only) {
  double m = 0;
  std::mutex merge;
  for_row_chunks(a.threads(), 0, a.rows, 64, [&](std::int64_t r0, std::int64_t r1) {
    double part = 0;
    for (std::int64_t i = r0; i < r1; ++i)
      for (std::int64_t j = upper_only ? i : 0; j < a.cols; ++j) {
        const double v = std::fabs(double(a.at(i, j)));
        if (!(v <= part) && !std::isnan(part)) part = v;  // a NaN stays
      }
    const std::lock_guard<std::mutex> lock(merge);
    if (!(part <= m) && !std::isnan(m)) m = part;
  });
  return m;
}

/// Without row exchanges nothing bounds the factors: a small pivot (not an exact zero) makes
/// huge multipliers, and the entries of U grow by as much. Its backward error bound
/// gamma_n |L||U| then exceeds A itself once the growth max|U| / max|A| reaches 1 / gamma_n:
/// the factors no longer describe A, and getrf says so rather than return them. Checked on
/// U at the end, and on everything factored or updated so far when a pivot has come out as
/// exactly 0 (growth followed by cancellation: the zero is the growth's doing, not A's).
template <class T>
void check_growth_without_pivoting(std::int64_t n, double largest_now, double largest_of_a) {
  const double u = unit_roundoff(dtype_of<T>), nu = double(n) * u;
  const double limit = (1 - nu) / nu, growth = largest_now / largest_of_a;
  if (!(growth < limit))
    MIXPREC_THROW(numerical_breakdown, "getrf", "without pivoting the factors grew to ", growth,
                  " times A's largest entry, past 1/gamma_n = ", limit, " in ", name_of(dtype_of<T>),
                  ": the LU no longer describes A (a pivot near 0): factor with pivoting");
}

template <class T>
[[noreturn]] void throw_zero_pivot(std::int64_t j, bool pivoting);

/// What a panel factorization needs besides its columns.
struct panel_state {
  bool pivoting;
  std::int64_t first_column;  // the panel's first column (and row) in the whole matrix
};

/// Thrown by a panel factorization without pivoting whose pivot came out as exactly 0, with
/// the largest |entry| of the panel's copy: getrf_impl then checks the growth over the
/// whole matrix, once no other thread is updating it, and reports.
struct zero_pivot_without_pivoting {
  std::int64_t column;
  double largest_in_panel;
};

/// Rows j0..j1-1 exchanged with rows pivots[j], in that order, in the columns [col0, col1)
/// only; column chunks on the CPU threads when the range is wide.
template <class T>
void swap_rows(const dense_ref<T>& a, const std::int64_t* pivots, std::int64_t j0, std::int64_t j1, std::int64_t col0,
               std::int64_t col1) {
  const auto swap_in = [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t j = j0; j < j1; ++j)
      if (pivots[j] != j) std::swap_ranges(a.row(j) + c0, a.row(j) + c1, a.row(pivots[j]) + c0);
  };
  if (col1 - col0 < 1024)
    swap_in(col0, col1);
  else
    for_row_chunks(a.threads(), col0, col1, 512, swap_in);
}

/// The row with the largest |a(i, j)| for i in [j, rows), the first such row on ties (LAPACK's
/// i?amax); j itself when no entry compares larger (NaN included).
template <class T>
std::int64_t largest_in_column(const dense_ref<T>& a, std::int64_t j) {
  std::int64_t p = j;
  T best = std::fabs(a.at(j, j));
  for (std::int64_t i = j + 1; i < a.rows; ++i)
    if (std::fabs(a.at(i, j)) > best) best = std::fabs(a.at(i, j)), p = i;
  return p;
}

/// The panel's base case: columns [c0, c0 + w), w <= base_columns, of rows [c0, n), column
/// by column. Each column is one pass over the rows that divides out the multiplier, updates
/// the block's later columns (a fixed-length loop over `W` values the compiler vectorizes,
/// with the pivot row's entries at and before the column zeroed) and finds the next column's
/// pivot on the way: a row's cache lines are read once per column, not twice. Exchanges move
/// these columns only; the callers apply them to the rest.
template <class T, int W>
void factor_base_block(const dense_ref<T>& a, std::int64_t c0, std::int64_t w, std::int64_t* pivots,
                       const panel_state& st, std::int64_t n) {
  static_assert(W == 0 || W == base_columns);
  std::int64_t p = st.pivoting ? largest_in_column(a, c0) : c0;
  for (std::int64_t j = c0; j < c0 + w; ++j) {
    pivots[j] = p;
    if (a.at(p, j) == T(0)) {
      if (!st.pivoting) throw zero_pivot_without_pivoting{st.first_column + j, largest_entry(a, false)};
      throw_zero_pivot<T>(st.first_column + j, true);
    }
    if (p != j) std::swap_ranges(a.row(j) + c0, a.row(j) + c0 + w, a.row(p) + c0);
    const std::int64_t q = j - c0;
    const T pivot = a.at(j, j);
    alignas(64) T u[base_columns] = {};
    for (std::int64_t c = q + 1; c < w; ++c) u[c] = a.at(j, c0 + c);
    const auto eliminate = [&](std::int64_t i) {
      T* r = a.row(i) + c0;
      const T l = r[q] / pivot;
      r[q] = l;
      if constexpr (W > 0) {
        for (int c = 0; c < W; ++c) r[c] -= l * u[c];
      } else {
        for (std::int64_t c = 0; c < w; ++c) r[c] -= l * u[c];
      }
      return std::fabs(r[q + 1 < w ? q + 1 : q]);
    };
    if (j + 1 >= n) break;
    // Row j + 1 is the first candidate for the next pivot, as in largest_in_column.
    T best = eliminate(j + 1);
    std::int64_t next = j + 1;
    for (std::int64_t i = j + 2; i < n; ++i) {
      const T v = eliminate(i);
      if (v > best) best = v, next = i;
    }
    p = st.pivoting && j + 1 < c0 + w ? next : j + 1;
  }
}

/// Without pivoting, the base case's rows below its diagonal block: each row eliminated
/// against the factored block (rows [c0, c0 + w)) in one pass over its w columns, as no
/// pivot depends on these rows. factor_base_block swept every row once per column, from L2
/// at best; each entry later than its column gets the same operations in the same order as
/// there, so the factors are the same (factor_base_block also subtracts l * 0 from the
/// entries at and before the column, which can change only a zero's sign).
///
/// A row's columns are one chain of dependent divisions and updates; so sixteen rows go
/// together, transposed into `lanes` (column c of the sixteen rows contiguous), where each
/// step is a division and then updates of sixteen independent values the compiler
/// vectorizes. Row by row, even with four rows overlapping, these chains bounded the base
/// case.
template <class T>
void eliminate_below_block(const dense_ref<T>& a, std::int64_t c0, std::int64_t w) {
  alignas(64) T u[base_columns][base_columns] = {};  // pivot row q after column q; 0 at and before
  T pivot[base_columns];
  for (std::int64_t q = 0; q < w; ++q) {
    pivot[q] = a.at(c0 + q, c0 + q);
    for (std::int64_t c = q + 1; c < w; ++c) u[q][c] = a.at(c0 + q, c0 + c);
  }
  constexpr int rows = 16;
  std::int64_t i = c0 + w;
  for (; i + rows <= a.rows; i += rows) {
    alignas(64) T lanes[base_columns][rows];
    for (int g = 0; g < rows; ++g) {
      const T* r = a.row(i + g) + c0;
      for (std::int64_t c = 0; c < w; ++c) lanes[c][g] = r[c];
    }
    for (std::int64_t q = 0; q < w; ++q) {
      T* l = lanes[q];
      for (int g = 0; g < rows; ++g) l[g] /= pivot[q];
      for (std::int64_t c = q + 1; c < w; ++c) {
        T* x = lanes[c];
        const T uc = u[q][c];
        for (int g = 0; g < rows; ++g) x[g] -= l[g] * uc;
      }
    }
    for (int g = 0; g < rows; ++g) {
      T* r = a.row(i + g) + c0;
      for (std::int64_t c = 0; c < w; ++c) r[c] = lanes[c][g];
    }
  }
  for (; i < a.rows; ++i) {  // the last rows, one at a time
    T* r = a.row(i) + c0;
    for (std::int64_t q = 0; q < w; ++q) {
      const T l = r[q] / pivot[q];
      r[q] = l;
      for (std::int64_t c = q + 1; c < w; ++c) r[c] -= l * u[q][c];
    }
  }
}

/// The panel's base case: factor_base_block, or without pivoting its diagonal block only and
/// the rows below by eliminate_below_block.
template <class T, int W>
void factor_base(const dense_ref<T>& a, std::int64_t c0, std::int64_t w, std::int64_t* pivots, const panel_state& st) {
  if (st.pivoting) return factor_base_block<T, W>(a, c0, w, pivots, st, a.rows);
  factor_base_block<T, W>(a, c0, w, pivots, st, c0 + w);
  eliminate_below_block(a, c0, w);
}

/// Recursive panel LU (Toledo) of a panel whose row and column 0 are the diagonal's: the
/// columns [c0, c0 + width) of rows [c0, rows), left half, the right half's U block by a
/// triangular solve and its lower part by a GEMM, then the right half. pivots are the
/// panel's own row indices. On return every exchange has been applied to all of the panel's
/// columns. Always native precision: the panel's updates are a small share of the work and
/// set the pivots.
template <class T>
void panel_lu(const dense_ref<T>& a, std::int64_t c0, std::int64_t width, std::int64_t* pivots, const panel_state& st,
              lu_workspace<T>& w) {
  const std::int64_t n = a.rows;
  if (width <= base_columns) {
    // The fixed-length loop reads base_columns values of a row from c0: all in the panel?
    if (c0 + base_columns <= a.cols)
      factor_base<T, base_columns>(a, c0, width, pivots, st);
    else
      factor_base<T, 0>(a, c0, width, pivots, st);
    return;
  }
  const std::int64_t left = width / 2, right = width - left;
  panel_lu(a, c0, left, pivots, st, w);
  swap_rows(a, pivots, c0, c0 + left, c0 + left, c0 + width);
  detail::lower_solve(a.sub(c0, c0, left, left), true, a.sub(c0, c0 + left, left, right), left);
  const std::int64_t below = n - c0 - left;
  subtract_columns(a.sub(c0 + left, c0 + left, below, right), packed_copy(w.left, a, c0 + left, c0, below, left),
                   packed_copy(w.right, a, c0, c0 + left, left, right), left, 0, right);
  panel_lu(a, c0 + left, right, pivots, st, w);
  swap_rows(a, pivots, c0 + left, c0 + width, c0, c0 + left);
}

/// Row stride of a packed panel of `width` columns: rows an odd number of cache lines apart,
/// so that its rows spread over every set of the caches. In the matrix itself, rows a power
/// of two apart (n = 4096, 8192) fall into a few sets, and the panel's column sweeps missed
/// the caches however few lines they touched.
template <class T>
std::int64_t packed_panel_stride(std::int64_t width) {
  constexpr std::int64_t line = 64 / std::int64_t(sizeof(T));
  const std::int64_t lines = (width + line - 1) / line;
  return (lines % 2 ? lines : lines + 1) * line;
}

template <class T>
[[noreturn]] void throw_zero_pivot(std::int64_t j, bool pivoting) {
  MIXPREC_THROW(numerical_breakdown, "getrf", "column ", j, ": ",
                pivoting ? "every candidate pivot is 0: the matrix is singular (to working precision)"
                         : "the pivot is 0 (without pivoting): the matrix is singular or needs row exchanges");
}

/// Factors the panel of columns [k, k + kb) (rows [k, n)) in a packed copy (see
/// packed_panel_stride) and copies it back; pivots[k, k + kb) become rows of the whole
/// matrix. The exchanges outside the panel are the caller's.
template <class T>
void factor_panel(const dense_ref<T>& a, std::int64_t k, std::int64_t kb, std::vector<std::int64_t>& pivots,
                  const panel_state& st, std::vector<T>& values, lu_workspace<T>& w) {
  const std::int64_t rows = a.rows - k, ld = packed_panel_stride<T>(kb);
  values.resize(static_cast<std::size_t>(rows * ld));
  const dense_ref<T> panel{values.data(), rows, kb, ld, a.ctx};
  for_row_chunks(a.threads(), 0, rows, 256, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t i = r0; i < r1; ++i) std::copy(a.row(k + i) + k, a.row(k + i) + k + kb, panel.row(i));
  });
  std::int64_t* panel_pivots = pivots.data() + k;
  panel_lu(panel, 0, kb, panel_pivots, panel_state{st.pivoting, k}, w);
  for_row_chunks(a.threads(), 0, rows, 256, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t i = r0; i < r1; ++i) std::copy(panel.row(i), panel.row(i) + kb, a.row(k + i) + k);
  });
  for (std::int64_t j = 0; j < kb; ++j) panel_pivots[j] += k;
}

/// One step's trailing update A22 -= L21 U12 (columns [k + kb, n)) with the next panel's
/// factorization looked ahead: the next panel's columns are updated first, and one thread
/// factors that panel while the others update the remaining columns in blocks they take as
/// they finish (blocks shrinking as the columns run out, so the threads end together); the
/// panel's thread joins them when done. The panel, serial and latency-bound, then costs
/// (nearly) no time of its own. Each entry of A22 gets the same arithmetic whichever thread
/// or block updates it: results do not depend on the thread count.
template <class T>
void update_and_factor_next(const dense_ref<T>& a, std::int64_t k, std::int64_t kb, std::int64_t next_kb,
                            std::vector<std::int64_t>& pivots, const panel_state& st, lu_update update,
                            std::vector<T>& panel_values, lu_workspace<T>& trailing, lu_workspace<T>& panel_w) {
  const std::int64_t next = k + kb, rest = a.rows - next;
  const int threads = a.threads();
  const dense_ref<T> a22 = a.sub(next, next, rest, rest);
  const auto run = [&](const auto* l21, const auto* u12) {
    if (threads < 2 || rest - next_kb < 256) {
      subtract_columns(a22, l21, u12, kb, 0, rest);
      factor_panel(a, next, next_kb, pivots, st, panel_values, panel_w);
      return;
    }
    std::atomic<std::int64_t> taken{next_kb};
    std::exception_ptr panel_error, update_error;
    std::atomic<bool> update_failed{false};
    const auto take_blocks = [&] {
      std::int64_t j0 = taken.load();
      while (j0 < rest) {
        const std::int64_t size =
            std::min(rest - j0, std::max<std::int64_t>(128, (rest - j0) / (2 * threads) / 64 * 64));
        if (!taken.compare_exchange_weak(j0, j0 + size)) continue;
        subtract_columns(a22, l21, u12, kb, j0, j0 + size);
        j0 = taken.load();
      }
    };
    detail::parallel_chunks(threads, [&](int c) {
      if (c == 0) {
        try {
          subtract_columns(a22, l21, u12, kb, 0, next_kb);
          factor_panel(a, next, next_kb, pivots, st, panel_values, panel_w);
        } catch (...) {
          panel_error = std::current_exception();
        }
      }
      try {
        take_blocks();
      } catch (...) {
        if (!update_failed.exchange(true)) update_error = std::current_exception();
      }
    });
    if (update_error) std::rethrow_exception(update_error);
    if (panel_error) std::rethrow_exception(panel_error);
  };
  if (update == lu_update::bf16 && std::is_same_v<T, float>)
    run(packed_copy(trailing.left16, a, next, k, rest, kb), packed_copy(trailing.right16, a, k, next, kb, rest));
  else
    run(packed_copy(trailing.left, a, next, k, rest, kb), packed_copy(trailing.right, a, k, next, kb, rest));
}

/// Blocked right-looking LU with a look-ahead of one panel. After panel k is factored its
/// exchanges move the columns left and right of it, U's block row is solved, and the trailing
/// update runs beside the next panel's factorization (update_and_factor_next).
template <class T>
void getrf_impl(const dense_ref<T>& a, std::vector<std::int64_t>& pivots, const lu_options& o) {
  const std::int64_t n = a.rows, nb = o.block > 0 ? o.block : lu_block<T>(n);
  pivots.assign(static_cast<std::size_t>(n), 0);
  if (n == 0) return;
  const double largest_of_a = o.pivoting ? 0 : largest_entry(a, false);
  const panel_state st{o.pivoting, 0};
  lu_workspace<T> trailing, panel_w;
  std::vector<T> panel_values;
  try {
    factor_panel(a, 0, std::min(nb, n), pivots, st, panel_values, panel_w);
    for (std::int64_t k = 0; k < n; k += nb) {
      const std::int64_t kb = std::min(nb, n - k), next = k + kb;
      swap_rows(a, pivots.data(), k, next, 0, k);
      swap_rows(a, pivots.data(), k, next, next, n);
      if (next >= n) break;
      detail::lower_solve(a.sub(k, k, kb, kb), true, a.sub(k, next, kb, n - next), kb);  // U12 = L11^-1 A12
      update_and_factor_next(a, k, kb, std::min(nb, n - next), pivots, st, o.update, panel_values, trailing, panel_w);
    }
  } catch (const zero_pivot_without_pivoting& z) {
    check_growth_without_pivoting<T>(n, std::max(largest_entry(a, false), z.largest_in_panel), largest_of_a);
    throw_zero_pivot<T>(z.column, false);
  }
  if (!o.pivoting) check_growth_without_pivoting<T>(n, largest_entry(a, true), largest_of_a);
}

template <class T>
void apply_pivots(const std::vector<std::int64_t>& pivots, const dense_ref<T>& b) {
  for (std::size_t i = 0; i < pivots.size(); ++i)
    if (pivots[i] != std::int64_t(i))
      std::swap_ranges(b.row(std::int64_t(i)), b.row(std::int64_t(i)) + b.cols, b.row(pivots[i]));
}

/// B = B L^-T in place (L: m x m lower triangular, B: rows x m), recursively on L's columns:
/// the left half by substitution row by row, the right half less the left's solution times
/// L's lower-left block (a GEMM, on packed copies: both operands and the output are blocks of
/// one matrix), then the right half. The GEMM does all but O(rows m base_columns) of the work.
template <class T>
void right_transpose_solve(const dense_ref<T>& l, const dense_ref<T>& b, lu_workspace<T>& w) {
  const std::int64_t m = l.rows, rows = b.rows;
  if (m <= base_columns) {
    for_row_chunks(b.threads(), 0, rows, 64, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t i = r0; i < r1; ++i) {
        T* bi = b.row(i);
        for (std::int64_t j = 0; j < m; ++j) {
          T s = bi[j];
          const T* lj = l.row(j);
          for (std::int64_t p = 0; p < j; ++p) s -= bi[p] * lj[p];
          bi[j] = s / lj[j];
        }
      }
    });
    return;
  }
  const std::int64_t h = m / 2;
  right_transpose_solve(l.sub(0, 0, h, h), b.sub(0, 0, rows, h), w);
  const T* x1 = packed_copy(w.left, b, 0, 0, rows, h);
  const T* l21 = packed_copy(w.right, l, h, 0, m - h, h);
  gemm(trans::no, trans::yes, -1.0, make_view(x1, {rows, h}, {}, *b.ctx), make_view(l21, {m - h, h}, {}, *b.ctx), 1.0,
       b.block(0, h, rows, m - h));
  right_transpose_solve(l.sub(h, h, m - h, m - h), b.sub(0, h, rows, m - h), w);
}

template <class T>
void potrf_impl(const dense_ref<T>& a, const cholesky_options& o) {
  const std::int64_t n = a.rows, nb = o.block > 0 ? o.block : default_block;
  lu_workspace<T> w;
  for (std::int64_t k = 0; k < n; k += nb) {
    const std::int64_t kb = std::min(nb, n - k);
    // The diagonal block (earlier panels' updates already applied).
    for (std::int64_t j = k; j < k + kb; ++j) {
      T d = a.at(j, j);
      for (std::int64_t l = k; l < j; ++l) d -= a.at(j, l) * a.at(j, l);
      if (!(d > T(0)))
        MIXPREC_THROW(numerical_breakdown, "potrf", "column ", j, ": the pivot is ", double(d),
                      " <= 0: the matrix is not positive definite (to working precision)");
      a.at(j, j) = std::sqrt(d);
      for (std::int64_t i = j + 1; i < k + kb; ++i) {
        T s = a.at(i, j);
        for (std::int64_t l = k; l < j; ++l) s -= a.at(i, l) * a.at(j, l);
        a.at(i, j) = s / a.at(j, j);
      }
    }
    if (k + kb >= n) break;
    const std::int64_t rest = n - k - kb;
    right_transpose_solve(a.sub(k, k, kb, kb), a.sub(k + kb, k, rest, kb), w);  // L21 = A21 L11^-T
    // A22 -= L21 L21^T on and below the diagonal, one block row at a time; L21 rounded to
    // bf16 first for bf16 updates (f32 accumulation into A22).
    const auto update = [&](const auto* l21) {
      for (std::int64_t r = 0; r < rest; r += nb) {
        const std::int64_t rb = std::min(nb, rest - r);
        gemm(trans::no, trans::yes, -1.0, make_view(l21 + r * kb, {rb, kb}, {}, *a.ctx),
             make_view(l21, {r + rb, kb}, {}, *a.ctx), 1.0, a.block(k + kb + r, k + kb, rb, r + rb));
      }
    };
    if (o.update == lu_update::bf16 && std::is_same_v<T, float>)
      update(packed_copy(w.left16, a, k + kb, k, rest, kb));
    else
      update(packed_copy(w.left, a, k + kb, k, rest, kb));
  }
}

void check_pivots(const char* op, const std::vector<std::int64_t>& pivots, std::int64_t n) {
  if (std::int64_t(pivots.size()) != n)
    MIXPREC_THROW(shape_mismatch, op, "pivots has ", pivots.size(), " entries for a ", n, " x ", n, " factorization");
  for (std::size_t i = 0; i < pivots.size(); ++i)
    if (pivots[i] < std::int64_t(i) || pivots[i] >= n)
      MIXPREC_THROW(invalid_argument, op, "pivots[", i, "] = ", pivots[i], " is outside [", i, ", ", n,
                    "): not getrf's pivots");
}

/// lu (n x n) and b (n x nrhs) of one dtype.
void check_solve_operands(const char* op, const detail::dense_shape& lu, const detail::dense_shape& b) {
  if (lu.type != b.type)
    MIXPREC_THROW(unsupported, op, "the factors are ", name_of(lu.type), " but b is ", name_of(b.type),
                  "; they must share a dtype");
  if (b.rows != lu.rows)
    MIXPREC_THROW(shape_mismatch, op, "b has ", b.rows, " rows for a ", lu.rows, " x ", lu.rows, " matrix");
}

void check_factor_options(const char* op, const detail::dense_shape& a, std::int64_t block, lu_update update) {
  if (block < 0) MIXPREC_THROW(invalid_argument, op, "block ", block, " < 0");
  if (update == lu_update::bf16 && a.type != dtype::f32)
    MIXPREC_THROW(unsupported, op, "bf16 trailing updates need an f32 matrix, not ", name_of(a.type));
}

}  // namespace

namespace {

/// getrf and potrf after their operand checks; a matrix not known to be finite is checked.
void factor(const char* op, view av, std::vector<std::int64_t>* pivots, const lu_options& lo,
            const cholesky_options& co, bool known_finite) {
  const detail::dense_shape a = detail::dense_operand(op, "a", av, true);
  check_factor_options(op, a, pivots ? lo.block : co.block, pivots ? lo.update : co.update);
  const auto run = [&](auto tag) {
    using T = decltype(tag);
    const dense_ref<T> m = detail::typed<T>(a);
    if (!known_finite) detail::check_finite(op, m);
    if (pivots)
      getrf_impl(m, *pivots, lo);
    else
      potrf_impl(m, co);
  };
  if (a.type == dtype::f64)
    run(double{});
  else
    run(float{});
}

}  // namespace

void getrf(view av, std::vector<std::int64_t>& pivots, const lu_options& o) {
  factor("getrf", av, &pivots, o, {}, false);
}

void detail::getrf_of_finite(view a, std::vector<std::int64_t>& pivots, const lu_options& o) {
  factor("getrf", a, &pivots, o, {}, true);
}

void getrs(const_view luv, const std::vector<std::int64_t>& pivots, view bv) {
  constexpr const char* op = "getrs";
  const detail::dense_shape lu = detail::dense_operand(op, "lu", luv, true);
  const detail::dense_shape b = detail::dense_operand(op, "b", bv, false);
  check_solve_operands(op, lu, b);
  check_pivots(op, pivots, lu.rows);
  const auto solve = [&](auto tag) {
    using T = decltype(tag);
    const auto f = detail::typed<T>(lu);
    auto x = detail::typed<T>(b);
    x.ctx = f.ctx;  // the factors' context runs the solve (mixprec/dense.hpp)
    apply_pivots(pivots, x);
    if constexpr (std::is_same_v<T, double>) {
      if (x.cols == 1) {  // one vector: substitution reading each factor entry once, not GEMMs
        const dense_ref<const double> cf{f.data, f.rows, f.cols, f.ld, f.ctx};
        detail::lower_solve_vector(cf, true, x.data);
        detail::upper_solve_vector(cf, false, x.data);
        return;
      }
    }
    detail::lower_solve(f, true, x, default_block);
    detail::upper_solve(f, false, x, default_block);
  };
  if (lu.type == dtype::f64)
    solve(double{});
  else
    solve(float{});
}

void potrf(view av, const cholesky_options& o) { factor("potrf", av, nullptr, {}, o, false); }

void detail::potrf_of_finite(view a, const cholesky_options& o) { factor("potrf", a, nullptr, {}, o, true); }

void potrs(const_view lv, view bv) {
  constexpr const char* op = "potrs";
  const detail::dense_shape l = detail::dense_operand(op, "l", lv, true);
  const detail::dense_shape b = detail::dense_operand(op, "b", bv, false);
  check_solve_operands(op, l, b);
  const auto solve = [&](auto tag) {
    using T = decltype(tag);
    const auto f = detail::typed<T>(l);
    auto x = detail::typed<T>(b);
    x.ctx = f.ctx;  // the factors' context runs the solve (mixprec/dense.hpp)
    if constexpr (std::is_same_v<T, double>) {
      if (x.cols == 1) {
        const dense_ref<const double> cf{f.data, f.rows, f.cols, f.ld, f.ctx};
        detail::lower_solve_vector(cf, false, x.data);
        detail::lower_transpose_solve_vector(cf, x.data);
        return;
      }
    }
    detail::lower_solve(f, false, x, default_block);
    detail::lower_transpose_solve(f, x, default_block);
  };
  if (l.type == dtype::f64)
    solve(double{});
  else
    solve(float{});
}

}  // namespace mixprec
