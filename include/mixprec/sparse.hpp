// mixprec/sparse.hpp — sparse matrices: COO triplets, CSR, SELL-C-sigma, DIA, and SpMV.
//
//   mixprec::csr_matrix A = mixprec::poisson_3d(128);                 // f64 values, i32 indices
//   mixprec::csr_matrix A32 = A.with_values(mixprec::dtype::f32);     // same pattern, f32 values
//   if (auto c = A32.validate(); !c.ok) std::cerr << c.problem;
//   mixprec::array<double> x(A.cols()), y(A.rows());
//   mixprec::fill(x, 1.0);
//   mixprec::spmv(1.0, A32, x, 0.0, y);                                // y = A32 x, in f64
//   mixprec::sell_matrix S(A32);                                       // SELL-8-1 of the same
//   mixprec::spmv(1.0, S, x, 0.0, y);
//   mixprec::dia_matrix D(A32);                                        // 7 diagonals, no indices
//   mixprec::spmv(1.0, D, x, 0.0, y);
//
// Numerics contract of spmv: y = alpha*A*x + beta*y. Matrix values are widened exactly to
// the accumulation type: f64 when x and y are f64, when the values are f64, or when
// accumulation::f64 is asked; f32 otherwise (f32/f16/bf16 values with f32 vectors); each
// row's sum is accumulated in that type in column order, then
// alpha*sum + beta*y is rounded once to y's dtype. Error per row: gamma_k(u)*sum_j
// |a_ij x_j| with k the row's nonzeros. beta == 0 does not read y (NaN in y does not
// propagate). accumulation::compensated is not offered for SpMV.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class index_type : std::uint8_t { i32, i64 };
const char* name_of(index_type t);
constexpr std::size_t size_of(index_type t) { return t == index_type::i32 ? 4 : 8; }

/// Host-side triplets, the way matrices are assembled. Duplicates are allowed (summed when
/// converted to CSR).
namespace detail {
struct sparse_access;
}  // namespace detail

struct coo_matrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int64_t> row, col;
  std::vector<double> value;

  coo_matrix() = default;
  coo_matrix(std::int64_t r, std::int64_t c) : rows(r), cols(c) {}
  void add(std::int64_t i, std::int64_t j, double v) {
    row.push_back(i);
    col.push_back(j);
    value.push_back(v);
  }
  std::int64_t nnz() const { return std::int64_t(value.size()); }
};

/// What validate() found; `problem` names the row and position of the first defect.
struct csr_check {
  bool ok = true;
  std::string problem;
  std::int64_t row = -1, position = -1;
};

/// Non-owning CSR: pointers to row_ptr (rows+1), col_idx (nnz) and values (nnz) in one
/// memory space. Wraps a simulation code's arrays without copying.
///
/// wrap() checks the structure once, in O(nnz), and throws invalid_argument naming the first
/// defect (validate()'s text): row_ptr starts at 0 and never decreases, and every row's
/// columns lie in [0, cols), ascending, without repeats. Kernels then index x and y by these
/// arrays without further checks, so a wrapped matrix is always safe to multiply.
/// wrap_unchecked() skips that pass, for callers who guarantee the structure themselves
/// (arrays built by this library, or checked once and wrapped per time step); a defect
/// there makes SpMV read out of bounds. A csr_ref is only made by these two functions and
/// by csr_matrix (whose structure is valid by construction); the arrays must outlive it.
class csr_ref {
 public:
  /// An empty 0 x 0 matrix.
  csr_ref() = default;

  template <class V, class I>
  static csr_ref wrap(std::int64_t rows, std::int64_t cols, const I* row_ptr, const I* col_idx, const V* values,
                      context ctx = context::cpu());
  template <class V, class I>
  static csr_ref wrap_unchecked(std::int64_t rows, std::int64_t cols, const I* row_ptr, const I* col_idx,
                                const V* values, context ctx = context::cpu());

  /// Checks the structure (reads the arrays; CUDA data is copied to the host for it).
  csr_check validate() const;

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t nnz() const { return nnz_; }
  const void* row_ptr() const { return row_ptr_; }
  const void* col_idx() const { return col_idx_; }
  const void* values() const { return values_; }
  dtype value_type() const { return value_type_; }
  index_type index_kind() const { return index_kind_; }
  const context& ctx() const { return ctx_; }

 private:
  friend class csr_matrix;
  enum class structure { check, trust };
  static csr_ref make(std::int64_t rows, std::int64_t cols, const void* row_ptr, const void* col_idx,
                      const void* values, dtype vt, index_type it, context ctx, structure s);
  csr_ref(std::int64_t rows, std::int64_t cols, std::int64_t nnz, const void* row_ptr, const void* col_idx,
          const void* values, dtype vt, index_type it, context ctx)
      : rows_(rows),
        cols_(cols),
        nnz_(nnz),
        row_ptr_(row_ptr),
        col_idx_(col_idx),
        values_(values),
        value_type_(vt),
        index_kind_(it),
        ctx_(std::move(ctx)) {}

  std::int64_t rows_ = 0, cols_ = 0, nnz_ = 0;
  const void* row_ptr_ = nullptr;
  const void* col_idx_ = nullptr;
  const void* values_ = nullptr;
  dtype value_type_ = dtype::f64;
  index_type index_kind_ = index_type::i32;
  context ctx_;
};

/// Owning CSR matrix in a context, values of any float dtype, i32 or i64 indices.
class csr_matrix {
 public:
  csr_matrix() = default;
  /// Uninitialised arrays for a rows x cols matrix with nnz entries.
  csr_matrix(std::int64_t rows, std::int64_t cols, std::int64_t nnz, dtype values, index_type indices = index_type::i32,
             const context& ctx = context::cpu());
  /// From triplets: entries sorted by (row, column), duplicates summed in f64, then values
  /// rounded once to `values`. Throws invalid_argument naming an out-of-range entry.
  static csr_matrix from_coo(const coo_matrix& coo, dtype values = dtype::f64, index_type indices = index_type::i32,
                             const context& ctx = context::cpu());
  /// An owned copy of a wrapped matrix (the caller's arrays), same dtypes, in its context.
  static csr_matrix copy_of(const csr_ref& a);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t nnz() const { return values_.size(); }
  dtype value_type() const { return values_.type(); }
  index_type index_kind() const { return index_; }
  const context& ctx() const { return values_.ctx(); }

  void* row_ptr_data() { return row_ptr_.data(); }
  void* col_idx_data() { return col_idx_.data(); }
  const void* row_ptr_data() const { return row_ptr_.data(); }
  const void* col_idx_data() const { return col_idx_.data(); }
  view values() { return values_.as_view(); }
  const_view values() const { return values_.as_view(); }

  csr_ref ref() const;
  operator csr_ref() const { return ref(); }  // NOLINT(google-explicit-constructor)

  /// A copy in another context.
  csr_matrix to(const context& target) const;
  /// The same pattern with values converted (rounded once, to nearest even) to `values`.
  csr_matrix with_values(dtype values) const;
  /// The same matrix with `indices` (throws if an i64 matrix does not fit i32).
  csr_matrix with_indices(index_type indices) const;
  /// Host triplets of the matrix (values widened exactly to f64).
  coo_matrix to_coo() const;
  /// The main diagonal widened to f64, on the host (0 where a row stores no diagonal entry;
  /// duplicates summed).
  std::vector<double> diagonal() const;
  csr_check validate() const { return ref().validate(); }

 private:
  static csr_matrix build_from_coo(const coo_matrix& coo, dtype values, index_type indices, const context& ctx);

  std::int64_t rows_ = 0, cols_ = 0;
  index_type index_ = index_type::i32;
  buffer row_ptr_, col_idx_, values_;  // index buffers hold raw i32/i64 in u8 storage
};

/// SELL-C-sigma: rows sorted by length within windows of sigma rows, cut into slices of C
/// rows, each slice stored column by column and padded to its longest row. Suits SIMD
/// (one slice row per lane) and GPUs. Kernels mask padding by each row's length, so a
/// padding entry never multiplies an x entry (0 * inf would make NaN).
class sell_matrix {
 public:
  sell_matrix() = default;
  /// Converts a CPU CSR matrix; C = 8 or 16, sigma >= 1 and a multiple of C (or 1).
  explicit sell_matrix(const csr_matrix& a, int chunk = 8, int sigma = 1);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t nnz() const { return nnz_; }               // of the source matrix
  std::int64_t stored() const { return values_.size(); }  // with padding
  int chunk() const { return chunk_; }
  int sigma() const { return sigma_; }
  dtype value_type() const { return values_.type(); }
  const context& ctx() const { return values_.ctx(); }

  std::int64_t slices() const { return std::int64_t(slice_len_.bytes() / sizeof(std::int32_t)); }

 private:
  friend struct detail::sparse_access;  // hands the arrays to the kernels
  std::int64_t rows_ = 0, cols_ = 0, nnz_ = 0;
  int chunk_ = 8, sigma_ = 1;
  // slice_ptr (slices+1, i64), slice_len (slices, i32), row_of and lane_len (one per slot:
  // slices*C, i32; row -1 and length 0 for padding slots), col_idx (i32), values.
  buffer slice_ptr_, slice_len_, row_of_, lane_len_, col_idx_, values_;
};

/// DIA (diagonal storage): the matrix as a few whole diagonals. Diagonal d has offset
/// off_d = j - i and stores `rows` values, value i being a(i, i + off_d); positions that fall
/// off the matrix, or that the source pattern lacks, hold 0. Suits banded matrices such as
/// assembled stencils: each diagonal reads x contiguously, with no column indices and no
/// gathers, so SpMV moves only values and vectors (8 B per f64 nonzero against CSR's 12,
/// 4 against 8 in f32) and SIMD loads replace per-entry scalar ones. Absent entries inside
/// the band are stored zeros: a zero times an infinite or NaN x_j gives NaN, as an explicit
/// zero in CSR would; positions off the matrix are never read.
class dia_matrix {
 public:
  dia_matrix() = default;
  /// Converts a CSR matrix (any context; built on the host, stored in a's context). Values
  /// keep a's dtype (duplicates summed in f64, then rounded once). Throws invalid_argument
  /// when the diagonals would store more than `max_fill` x a's nonzeros, naming how many
  /// diagonals that is: a matrix that does not suit DIA is refused, not silently blown up.
  explicit dia_matrix(const csr_matrix& a, double max_fill = 3.0);
  /// Stored entries over nonzeros if `a` were converted (1 for a full band; 0 for no nonzeros).
  static double fill_of(const csr_matrix& a);
  /// The DIA form of a CPU matrix that converts within `max_fill`, else nothing (nor for
  /// other memory spaces or a matrix without nonzeros). The scan of a's indices stops at the
  /// first offset past the bound, so a scattered matrix costs a few of its rows.
  static std::optional<dia_matrix> if_fits(const csr_matrix& a, double max_fill);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t nnz() const { return nnz_; }  // of the source matrix
  std::int64_t diagonals() const { return std::int64_t(offsets_.size()); }
  std::int64_t stored() const { return diagonals() * rows_; }  // what SpMV reads
  /// Elements from one diagonal's start to the next's: rows(), padded on large matrices so
  /// that the diagonals do not all start at one offset within a 4 KiB page (their streams
  /// would then compete for the same L1 cache sets; 27 of them overflow its 12 ways).
  std::int64_t stride() const { return stride_; }
  dtype value_type() const { return values_.type(); }
  const context& ctx() const { return values_.ctx(); }
  /// Offsets j - i, ascending, on the host.
  const std::vector<std::int64_t>& offsets() const { return offsets_; }

  /// The same diagonals with values converted (rounded once, to nearest even) to `values`.
  dia_matrix with_values(dtype values) const;
  /// The main diagonal widened to f64, on the host (0 where it is not stored).
  std::vector<double> diagonal() const;
  /// Host triplets of the stored nonzeros (values widened exactly to f64; stored zeros left out).
  coo_matrix to_coo() const;

 private:
  friend struct detail::sparse_access;  // hands the arrays to the kernels
  /// Stores host matrix h's entries on `offsets` (all of its diagonals, ascending); `sorted`:
  /// every row's columns strictly increase.
  void fill_from(const csr_matrix& h, std::vector<std::int64_t> offsets, bool sorted);

  std::int64_t rows_ = 0, cols_ = 0, nnz_ = 0, stride_ = 0;
  std::vector<std::int64_t> offsets_;
  buffer device_offsets_;  // the offsets in the matrix's memory (what kernels read)
  buffer values_;          // diagonal d's values start at d * stride()
};

/// y = alpha * A * x + beta * y (see the contract above). x and y: dense, f64 or f32.
void spmv(double alpha, const csr_ref& a, const_view x, double beta, view y, accumulation acc = accumulation::standard);
/// Y = alpha*A*X + beta*Y for k right-hand sides: X is cols x k and Y rows x k, rank-2
/// row-major views (unit stride along k, any leading dimension), both f64 or both f32.
/// Each column of Y is computed exactly as spmv computes y (same accumulation and order), so
/// the SpMV error bound holds per column; A is read once per 16 columns, not once per column.
void spmm(double alpha, const csr_ref& a, const_view x, double beta, view y, accumulation acc = accumulation::standard);
void spmv(double alpha, const sell_matrix& a, const_view x, double beta, view y,
          accumulation acc = accumulation::standard);
/// DIA SpMV: each row's sum runs over the diagonals in ascending offset (column) order, so
/// the contract and bound above hold with k the row's nonzeros (stored zeros add exactly 0).
void spmv(double alpha, const dia_matrix& a, const_view x, double beta, view y,
          accumulation acc = accumulation::standard);

// ---- generators (CPU, f64 values, i32 indices) ---------------------------------------------

/// 5-point Laplacian on an n x n grid, Dirichlet boundary: 4 on the diagonal, -1 off it.
csr_matrix poisson_2d(std::int64_t n);
/// 7-point Laplacian on an n^3 grid: 6 on the diagonal, -1 off it.
csr_matrix poisson_3d(std::int64_t n);
/// HPCG's 27-point operator on an n^3 grid: 26 on the diagonal, -1 for every neighbour.
csr_matrix hpcg_27pt(std::int64_t n);
/// Anisotropic diffusion -eps*u_xx - u_yy on an n x n grid (5 points).
csr_matrix anisotropic_2d(std::int64_t n, double eps);
/// Convection-diffusion -Laplace(u) + peclet*(b . grad u) on an n^3 grid, first-order
/// upwind convection along b = (1, 1, 1)/sqrt(3): nonsymmetric, diagonally dominant.
csr_matrix convection_diffusion_3d(std::int64_t n, double peclet);

// ---- Matrix Market -------------------------------------------------------------------------

/// Reads a Matrix Market file (coordinate or array; real, integer or pattern; general,
/// symmetric or skew-symmetric). Malformed input throws status::io naming the line and
/// what is wrong; nothing is half built.
coo_matrix read_matrix_market(std::istream& in);
coo_matrix read_matrix_market(const std::string& path);
/// Writes coordinate real general, values with 17 significant digits (round-trips f64).
void write_matrix_market(std::ostream& out, const coo_matrix& a);
void write_matrix_market(const std::string& path, const coo_matrix& a);

// ---- implementation of the template above -----------------------------------------------

namespace detail {
template <class I>
struct index_of;
template <>
struct index_of<std::int32_t> {
  static constexpr index_type value = index_type::i32;
};
template <>
struct index_of<std::int64_t> {
  static constexpr index_type value = index_type::i64;
};
}  // namespace detail

template <class V, class I>
csr_ref csr_ref::wrap(std::int64_t rows, std::int64_t cols, const I* row_ptr, const I* col_idx, const V* values,
                      context ctx) {
  return make(rows, cols, row_ptr, col_idx, values, dtype_of<V>, detail::index_of<I>::value, std::move(ctx),
              structure::check);
}

template <class V, class I>
csr_ref csr_ref::wrap_unchecked(std::int64_t rows, std::int64_t cols, const I* row_ptr, const I* col_idx,
                                const V* values, context ctx) {
  return make(rows, cols, row_ptr, col_idx, values, dtype_of<V>, detail::index_of<I>::value, std::move(ctx),
              structure::trust);
}

}  // namespace mixprec

MIXPREC_PUBLIC_END
