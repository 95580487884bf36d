// The kernel registry: one table of every kernel, keyed by (op, backend, dtypes, ISA level).
//
// This header is also the ABI between the core and the CUDA plugin, which fills entries of
// the same layout; bump kernel_abi_version whenever a struct or signature here changes, and
// the core refuses a plugin built against another version.
//
// Kernels never throw and never validate: the op front ends in src/ have checked every
// argument before a kernel runs.
#pragma once

#include <cstdint>

#include "mixprec/blas1.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec::detail {

inline constexpr int kernel_abi_version = 13;

/// What a kernel needs from its context at run time.
struct exec_args {
  int threads = 1;               // CPU: threads to use
  void* stream = nullptr;        // CUDA: cudaStream_t of the context
  void* device_state = nullptr;  // CUDA: the plugin's per-context state (scratch memory)
};

/// The problem a BLAS-1 kernel is asked to solve; `supports()` looks at it.
struct blas1_problem {
  std::int64_t n = 0;
  std::int64_t incx = 1, incy = 1;
  accumulation acc = accumulation::standard;
};

// Signatures, one per op. Strides are in elements and may be negative or (inputs) zero.
using convert_fn = void (*)(const exec_args&, std::int64_t n, const void* x, std::int64_t incx, void* y,
                            std::int64_t incy);
using fill_fn = void (*)(const exec_args&, std::int64_t n, double value, void* x, std::int64_t incx);
using axpy_fn = void (*)(const exec_args&, std::int64_t n, double alpha, const void* x, std::int64_t incx, void* y,
                         std::int64_t incy);
/// y = alpha*x + beta*y; beta == 0 does not read y.
using axpby_fn = void (*)(const exec_args&, std::int64_t n, double alpha, const void* x, std::int64_t incx, double beta,
                          void* y, std::int64_t incy);
/// CG's update in one pass over dense vectors: x += alpha*p, r -= alpha*q, and the new r'r
/// accumulated in f64 into *rr.
using cg_update_fn = void (*)(const exec_args&, std::int64_t n, double alpha, const void* p, const void* q, void* x,
                              void* r, double* rr);
/// z = alpha*(d .* r) + beta*z over dense vectors of one dtype; beta == 0 does not read z.
/// A diagonal matrix applied without index arrays (point Jacobi).
using diag_scale_fn = void (*)(const exec_args&, std::int64_t n, double alpha, const void* d, const void* r,
                               double beta, void* z);
/// CG's update with a diagonal preconditioner D: x += alpha*p, r -= alpha*q, and the new
/// r'r and r'Dr accumulated in f64 into rr[0] and rr[1] (one pass instead of four).
using pcg_jacobi_update_fn = void (*)(const exec_args&, std::int64_t n, double alpha, const void* p, const void* q,
                                      const void* d, void* x, void* r, double* rr);
using scal_fn = void (*)(const exec_args&, std::int64_t n, double alpha, void* x, std::int64_t incx);
/// The most vectors one mdot or maxpy call takes: their accumulators or coefficients stay in
/// registers; front ends cut longer lists into groups.
inline constexpr int multi_vector_max = 8;
/// h[j] = v_j' w, accumulated in f64, for the k <= multi_vector_max dense vectors v_j at
/// v + j*ldv elements: w is read once per call instead of once per vector (GMRES's
/// Gram-Schmidt against its whole basis).
using mdot_fn = void (*)(const exec_args&, std::int64_t n, int k, const void* v, std::int64_t ldv, const void* w,
                         double* h);
/// w += sum_j a[j] v_j, j in order, each step rounded as axpy rounds it: one pass over w.
using maxpy_fn = void (*)(const exec_args&, std::int64_t n, int k, const double* a, const void* v, std::int64_t ldv,
                          void* w);
/// hx[j] = v_j' x and hy[j] = v_j' y, accumulated in f64, for any number k of dense vectors
/// v_j at v + j*ldv: each v_j is read once for both products (the one reduction of a DCGS2
/// Arnoldi step).
using mdot2_fn = void (*)(const exec_args&, std::int64_t n, int k, const void* v, std::int64_t ldv, const void* x,
                          const void* y, double* hx, double* hy);
/// out[i] += alpha * sum_j a[i*lda + j] y[j] for i in [0, rows), j in [0, len): rows of f64
/// or f32 (the kernel's `in` dtype) against an f64 vector, each product and sum in f64 (f32
/// entries widen exactly). The off-diagonal products of triangular solves that apply f32
/// factors in f64 (refinement's preconditioner), where no GEMM mixes the two types.
using row_dots_fn = void (*)(const exec_args&, std::int64_t rows, std::int64_t len, const void* a, std::int64_t lda,
                             const double* y, double alpha, double* out);
/// The update of a DCGS2 Arnoldi step over any number k of dense vectors v_j, in one pass:
/// x = inv_rho*(x - sum_j s[j] v_j), then y = scale*(y - sum_j t[j] v_j - gamma*x) with the
/// new x; yy[0] = y'y of the new y accumulated in f64. x and y do not overlap the v_j.
using dcgs2_update_fn = void (*)(const exec_args&, std::int64_t n, int k, const void* v, std::int64_t ldv,
                                 const double* s, const double* t, double inv_rho, double gamma, double scale, void* x,
                                 void* y, double* yy);
using dot_fn = void (*)(const exec_args&, std::int64_t n, const void* x, std::int64_t incx, const void* y,
                        std::int64_t incy, accumulation acc, double* result);
/// sum (scale * x[i])^2 in the accumulation precision; nrm2 is built on it.
using sumsq_fn = void (*)(const exec_args&, std::int64_t n, const void* x, std::int64_t incx, double scale,
                          accumulation acc, double* result);
using asum_fn = void (*)(const exec_args&, std::int64_t n, const void* x, std::int64_t incx, accumulation acc,
                         double* result);
using amax_fn = void (*)(const exec_args&, std::int64_t n, const void* x, std::int64_t incx, std::int64_t* result);

/// A CSR matrix as kernels see it (validated by the front end).
struct csr_args {
  std::int64_t rows, cols, nnz;
  const void* row_ptr;
  const void* col_idx;
  const void* values;
  index_type index;
};

/// For each row i in rows[0, count): x_i = (b_i - sum_{j != i} a_ij x_j) * inv_diag[i] (a
/// stored diagonal entry is skipped). The rows of one call never reference each other (one
/// level of a triangular solve, one color of Gauss-Seidel), so they may run in parallel.
/// Values of dtype `in`, b and x of dtype `out`; inv_diag in f64, in the matrix's memory.
struct csr_rows_solve_args {
  csr_args a;
  const std::int64_t* rows;
  std::int64_t count;
  const double* inv_diag;
  const void* b;
  void* x;
};
using csr_rows_solve_fn = void (*)(const exec_args&, const csr_rows_solve_args&);

/// A SELL-C-sigma matrix as kernels see it; see mixprec::sell_matrix for the arrays.
struct sell_args {
  std::int64_t rows, cols, slices;
  int chunk;
  const std::int64_t* slice_ptr;
  const std::int32_t* slice_len;
  const std::int32_t* row_of;
  const std::int32_t* lane_len;  // entries of the row in each slot; padding is never read
  const std::int32_t* col_idx;
  const void* values;
};

/// A DIA matrix as kernels see it: diagonal d (offset offsets[d], ascending) holds `rows`
/// values from values + d * stride; value i is a(i, i + offsets[d]), read only where
/// 0 <= i + offsets[d] < cols.
struct dia_args {
  std::int64_t rows, cols, diagonals, stride;
  const std::int64_t* offsets;
  const void* values;
};

/// The problem an SpMV kernel's supports() looks at.
struct spmv_problem {
  index_type index = index_type::i32;
  accumulation acc = accumulation::standard;
  int chunk = 0;  // SELL slice height
};

/// y = alpha*A*x + beta*y; x and y dense, of the entry's `out` dtype; beta == 0: y not read.
using spmv_csr_fn = void (*)(const exec_args&, const csr_args& a, double alpha, const void* x, double beta, void* y,
                             accumulation acc);
using spmv_sell_fn = void (*)(const exec_args&, const sell_args& a, double alpha, const void* x, double beta, void* y,
                              accumulation acc);

using spmv_dia_fn = void (*)(const exec_args&, const dia_args& a, double alpha, const void* x, double beta, void* y,
                             accumulation acc);

/// Y = alpha*A*X + beta*Y for k right-hand sides: X (cols x k) and Y (rows x k) row-major
/// with leading dimensions ldx, ldy (so each row's k values are contiguous).
using spmm_csr_fn = void (*)(const exec_args&, const csr_args& a, std::int64_t k, double alpha, const void* x,
                             std::int64_t ldx, double beta, void* y, std::int64_t ldy, accumulation acc);

/// A grid as kernels see it: interior origin and element strides (see mixprec::grid).
struct grid_args {
  void* origin;
  std::int64_t nx, ny, nz, sy, sz;
  int halo, dims;
};

/// Boundary conditions per face as mixprec::boundary values: [axis][0 = lo, 1 = hi].
struct halo_args {
  std::uint8_t kind[3][2];
  double value[3][2];
};

using halo_fill_fn = void (*)(const exec_args&, const grid_args& g, const halo_args& bc);

/// dst's interior = src's interior, each value rounded once to dst's dtype (the convert
/// rule); equal extents (the front end checked). Keyed (src dtype, dst dtype), floating
/// dtypes. What copy_interior runs on a device, in one launch; CPU grids are copied row
/// by row by the convert kernels, whose ISA variants serve contiguous rows best.
using convert_grid_fn = void (*)(const exec_args&, const grid_args& src, const grid_args& dst);

struct stencil_offset {
  std::int32_t dx, dy, dz;
};

/// combine: out = alpha*S(u) + beta*u + gamma*f (f may be null; it may alias out).
/// jacobi (variable coefficients only): out = u + omega*(f - S(u)) / c_center(x).
/// Constant stencils arrive with alpha and beta folded into the coefficients (alpha = 1,
/// beta = 0) and points of coefficient 0 dropped, so kernels do sum_p c_p*u_p + gamma*f.
enum class stencil_mode : std::uint8_t { combine, jacobi };

struct stencil_args {
  std::int64_t nx, ny, nz;  // interior extent; 2D grids: nz = 1 and every dz = 0
  int dims;
  int npoints, radius;
  const stencil_offset* offsets;
  const double* coeffs;            // constant stencils: npoints coefficients; else null
  const void* const* coeff_grids;  // variable stencils: npoints grid origins; else null
  std::int64_t csy, csz;           // strides of the coefficient grids
  int center;                      // index of point (0,0,0), -1 if none (jacobi needs it)
  const void* u;
  std::int64_t usy, usz;
  const void* f;  // may be null
  std::int64_t fsy, fsz;
  void* out;
  std::int64_t osy, osz;
  double alpha, beta, gamma, omega;
  stencil_mode mode;
};

/// The problem a stencil kernel's supports() looks at.
struct stencil_problem {
  int npoints = 0, radius = 0, dims = 3;
  bool variable = false;
  stencil_mode mode = stencil_mode::combine;
  bool periodic_yz = false;  // stencil_sweeps: a y or z face is periodic
};

using stencil_fn = void (*)(const exec_args&, const stencil_args& a);
/// Up to `sweeps` constant-coefficient sweeps from a.u (halo filled) into a.out; between
/// sweeps the halo follows `bc`, with dirichlet values read from a.u's halo. Returns how many
/// it ran (at least 1): a kernel that blocks in time may take fewer per pass than asked, and
/// the caller fills a.out's halo and calls again for the rest. a.u's interior may be
/// overwritten; a.out's halo is not written.
using stencil_sweeps_fn = int (*)(const exec_args&, const stencil_args& a, const halo_args& bc, int sweeps);

// Geometric multigrid on structured grids: constant-coefficient stencils of radius 1, zero
// (Dirichlet) halos that kernels read and never write. Coarse point I of a coarsened axis
// is fine point 2I + 1; a 2D grid (nz == 1) is not coarsened in z.

/// Multicolor Gauss-Seidel, one color: every point of the color gets
/// u += (f - S(u)) * inv_center. colors 2: color = (i + j + k) & 1 (star stencils);
/// colors 8: color = (i & 1) | (j & 1) << 1 | (k & 1) << 2 (box stencils). Points of one
/// color never neighbour each other, so the update is the same in any order or split.
struct mg_smooth_args {
  std::int64_t nx, ny, nz;
  int npoints;
  const stencil_offset* offsets;
  const double* coeffs;
  double inv_center;
  void* u;
  std::int64_t usy, usz;
  const void* f;
  std::int64_t fsy, fsz;
  int colors, color;
};

enum class mg_transfer : std::uint8_t { injection, full_weighting };

/// injection: out(I) = (f - S(u)) at fine point 2I+1 (the residual computed there only);
/// full_weighting: out(I) = sum over the 3^d fine neighbours d of 2I+1 of
/// prod_axes (d_a == 0 ? 1/2 : 1/4) * f (f holds the fine residual; u, the stencil unused).
struct mg_restrict_args {
  mg_transfer kind;
  std::int64_t nx, ny, nz, cx, cy, cz;
  int npoints;
  const stencil_offset* offsets;
  const double* coeffs;
  const void* u;
  std::int64_t usy, usz;
  const void* f;
  std::int64_t fsy, fsz;
  void* out;
  std::int64_t osy, osz;
};

/// u += P uc. injection: fine point 2I+1 gets uc(I); full_weighting: trilinear
/// interpolation (P = 2^d R^T of full weighting), reading uc's zero halo at the edges.
struct mg_prolong_args {
  mg_transfer kind;
  std::int64_t nx, ny, nz, cx, cy, cz;
  const void* uc;
  std::int64_t csy, csz;
  void* u;
  std::int64_t usy, usz;
};

using mg_smooth_fn = void (*)(const exec_args&, const mg_smooth_args&);
using mg_restrict_fn = void (*)(const exec_args&, const mg_restrict_args&);
using mg_prolong_fn = void (*)(const exec_args&, const mg_prolong_args&);

/// One GEMM operand as kernels see it: element strides along rows, columns and the batch
/// (op() already applied by the front end: a transposed operand has its strides swapped).
struct gemm_matrix {
  const void* data;
  std::int64_t rs, cs, bs;
};

/// B packed by a gemm_pack kernel: panels of `nr` columns, each k_padded x nr with k in
/// groups of `kgroup` (see kernels/common/gemm_layout.hpp); col_sums (integer B in CPU
/// memory only) are the sums over k of each column, for zero-point and signed-A corrections.
/// In GPU memory nr = 1 and kgroup = k_padded: B(k, j) at j * k_padded + k, the same formula
/// read for one-column panels (gemm_packed_layout.hpp's packed_columns_ld).
struct gemm_packed {
  const void* panels;
  std::int64_t k, n, k_padded;
  int nr, kgroup;
  dtype type;
  const std::int32_t* col_sums;
};

/// The epilogue as kernels see it (mixprec::gemm_epilogue, validated): scale and bias are
/// n values of the accumulation's float type (f64 for f64 GEMM, f32 otherwise) or null.
struct gemm_epilogue_args {
  const void* scale;
  const void* bias;
  activation act;
  const void* residual;  // C's dtype, or null
  std::int64_t rrs, rcs, rbs;
  float out_scale;
  std::int32_t out_zero_point;
};

/// C = epilogue(alpha op(A) op(B) + beta C) for `batch` problems of m x n x k.
/// Kernels are keyed by (A's dtype, the accumulator dtype): f64:f64, f32:f32, f16:f32,
/// bf16:f32, u8:i32, i8:i32; B has A's dtype (i8 for the integer ones) and C any dtype the
/// front end allows for the family. beta == 0: C is not read.
struct gemm_args {
  std::int64_t m, n, k, batch;
  gemm_matrix a;
  gemm_matrix b;         // unused when packed_b is set
  dtype a_type, b_type;  // the stored dtypes (f16 for a bf16 kernel in f16_mode::allow_bf16_inputs)
  const gemm_packed* packed_b;
  void* c;
  std::int64_t crs, ccs, cbs;
  dtype c_type;
  double alpha, beta;
  std::int32_t a_zero_point, b_zero_point;
  gemm_epilogue_args ep;
  bool allow_tf32;  // f32_mode::allow_tf32: an f32 kernel may round A and B to TF32
};
/// Returns false when the kernel could not get its scratch memory (C may then be partly
/// written; the front end says so).
using gemm_fn = bool (*)(const exec_args&, const gemm_args& a);

/// Packs op(B) (k x n, strides rs/cs) into `out` (gemm_packed_bytes of it); fills col_sums
/// (n values) for integer B. Keyed by (B's dtype, B's dtype).
using gemm_pack_fn = void (*)(const exec_args&, std::int64_t k, std::int64_t n, const void* b, std::int64_t rs,
                              std::int64_t cs, void* out, std::int32_t* col_sums);

/// A rank-2 quantize / dequantize: element (i, j) of x and q at i*rs + j*cs; its scale and
/// zero point at (i / row_div) * grid_cols + j / col_div (mixprec::quant_params).
struct quant_args {
  std::int64_t rows, cols;
  const void* src;
  std::int64_t srs, scs;
  void* dst;
  std::int64_t drs, dcs;
  const float* scale;
  const std::int32_t* zero_point;
  std::int64_t row_div, col_div, grid_cols;
};
/// What a quantize / dequantize kernel's supports() looks at.
struct quant_problem {
  bool unit_cols = false;  // both sides have column stride 1
};
/// quantize: keyed (x dtype, q dtype); dequantize: keyed (q dtype, x dtype).
using quant_fn = void (*)(const exec_args&, const quant_args& a);
/// An ISA folder's quantize kernels from f32, bf16, f16 to i8, u8 (in that order) and
/// dequantize kernels from i8, u8 to f32.
struct quant_kernel_table {
  quant_fn quantize[6];
  quant_fn dequantize[2];
};
/// An ISA folder's halo fill, stencil and time-blocked sweeps kernels for f64, f32, f16 and
/// bf16 storage (in that order).
struct stencil_kernel_table {
  halo_fill_fn halo[4];
  stencil_fn apply[4];
  stencil_sweeps_fn sweeps[4];
};
/// An ISA folder's unit-stride BLAS-1 kernels for f64, f32, f16 and bf16 (in that order).
struct blas1_kernel_table {
  fill_fn fill[4];
  axpy_fn axpy[4];
  axpby_fn axpby[4];
  scal_fn scal[4];
  dot_fn dot[4];
  sumsq_fn sumsq[4];
  asum_fn asum[4];
  amax_fn amax[4];
  mdot_fn mdot[2];                            // f64, f32
  maxpy_fn maxpy[2];                          // f64, f32
  mdot2_fn mdot2[2];                          // f64, f32
  dcgs2_update_fn dcgs2_update[2];            // f64, f32
  cg_update_fn cg_update[2];                  // f64, f32
  diag_scale_fn diag_scale[2];                // f64, f32
  pcg_jacobi_update_fn pcg_jacobi_update[2];  // f64, f32
  row_dots_fn row_dots[2];                    // f64, f32 rows (f64 y and out)
};
/// An ISA folder's CSR (i32 and i64 indices), SELL and CSR SpMM kernels, indexed by the
/// values' dtype (f64, f32, f16, bf16) and then the vectors' (f64, f32).
struct spmv_kernel_table {
  struct entries {
    spmv_csr_fn csr_i32, csr_i64;
    spmv_sell_fn sell;
    spmm_csr_fn spmm_i32, spmm_i64;
  };
  entries of[4][2];
};
/// An ISA folder's DIA SpMV kernels, indexed by the values' dtype (f64, f32, f16, bf16) and
/// then the vectors' (f64, f32).
struct spmv_dia_kernel_table {
  spmv_dia_fn of[4][2];
};
/// An ISA folder's multigrid smoother and transfers for f64 and f32 storage (in that order).
struct multigrid_kernel_table {
  mg_smooth_fn smooth[2];
  mg_restrict_fn restrict_residual[2];
  mg_prolong_fn prolong[2];
};

// Row-wise NN ops (mixprec/nn.hpp): rank-2 row-major operands of one storage dtype (f32,
// bf16, f16), unit column stride, row strides in elements; f32 compute. Keyed (dtype, dtype).

enum class eltwise_kind : std::uint8_t { relu, gelu_erf, gelu_tanh, silu, copy, scale, add, mul, swiglu };

/// The eltwise kind that computes an activation (activation::none: copy). Constexpr so that
/// device code (the CUDA GEMM's epilogue) calls it too.
constexpr eltwise_kind eltwise_kind_of(activation act) {
  switch (act) {
    case activation::relu:
      return eltwise_kind::relu;
    case activation::gelu_erf:
      return eltwise_kind::gelu_erf;
    case activation::gelu_tanh:
      return eltwise_kind::gelu_tanh;
    case activation::silu:
      return eltwise_kind::silu;
    case activation::none:
      break;
  }
  return eltwise_kind::copy;
}

/// y(i, j) = f(a(i, j)[, b(i, j)]): b(i, j) at b + i * ldb + j * bcs, bcs 0 or 1 (ldb 0 with
/// bcs 1: one row for all rows; bcs 0: one value per row). y may equal a or b (same
/// strides); unary kinds ignore b. scale: y = alpha * a.
struct eltwise_args {
  eltwise_kind kind;
  std::int64_t rows, cols;
  const void* a;
  std::int64_t lda;
  const void* b;
  std::int64_t ldb, bcs;
  void* y;
  std::int64_t ldy;
  float alpha;
};

/// Per row: z = scale * x + mask (mask row i at mask + i * ldm, ldm 0: one row for all),
/// z(i, j) = -inf for j > i + causal_offset when causal; y = softmax(z) or log-softmax(z).
/// A row of only -inf gives 0 (log: -inf). Statistics in f32, or f64 when acc is f64.
struct softmax_args {
  std::int64_t rows, cols;
  const void* x;
  std::int64_t ldx;
  const void* mask;  // x's dtype, or null
  std::int64_t ldm;
  void* y;
  std::int64_t ldy;
  float scale;
  bool causal, log;
  std::int64_t causal_offset;
  accumulation acc;
};

enum class norm_kind : std::uint8_t { rms, layer };

/// Per row: s = x (+ residual, rounded to the dtype and stored to sum when sum is set),
/// then rms: y = s / sqrt(mean(s^2) + eps) * gamma; layer: y = (s - mean) / sqrt(var + eps)
/// * gamma + beta. gamma, beta: cols f32 values or null. Statistics in f32 or f64 (acc).
struct norm_args {
  norm_kind kind;
  std::int64_t rows, cols;
  const void* x;
  std::int64_t ldx;
  const void* residual;  // or null
  std::int64_t ldr;
  void* sum;  // or null
  std::int64_t lds;
  const float* gamma;
  const float* beta;
  float eps;
  void* y;
  std::int64_t ldy;
  accumulation acc;
};

/// Rotary position embedding, in place: head h of row i at x + i * ldx + h * head_dim; its
/// first rot_dims entries rotated by angles positions[i] * theta^(-2k / rot_dims), pairs
/// (k, k + rot_dims / 2) (half split) or (2k, 2k + 1) (adjacent). Angles and their sines in
/// f64, rounded to f32 once per row; the rotation in f32.
struct rope_args {
  std::int64_t rows, heads, head_dim, rot_dims;
  void* x;
  std::int64_t ldx;
  const std::int32_t* positions;
  double theta;
  bool adjacent;
};

/// y (m x n, f32) = x (m x k, f32) * W^T with W in a GGUF block format (src/internal/
/// block_format.hpp): n rows of k / 32 blocks. x's blocks are quantized to Q8_0 on the fly;
/// each block pair adds d_x d_w (q_x . q_w) in f32. Keyed (f32, f32); the format is the
/// problem's.
struct block_matmul_args {
  std::int64_t m, n, k;
  const float* x;
  std::int64_t ldx;
  const std::uint8_t* w;
  bool q4_0;  // else Q8_0
  float* y;
  std::int64_t ldy;
};
struct block_matmul_problem {
  bool q4_0 = false;
  std::int64_t m = 0;
};
using block_matmul_fn = void (*)(const exec_args&, const block_matmul_args& a);

/// Scaled dot-product attention, tiled with an online softmax (mixprec/attention.hpp). Query
/// row i, head h at q + i * ldq + h * head_dim (T: f32, bf16, f16; out alike). Key and value
/// t of KV head g at k + g * k_head_stride + t * k_token_stride (v likewise), in the KV
/// storage dtype (f32, bf16, f16, or i8 with one f32 scale per token and head at
/// k_scales[g * scale_head_stride + t]). Query head h reads KV head h / (heads / kv_heads).
/// Query i sits at position kv_len - m + i; causal: it sees keys 0 .. that position.
/// Logits scale * (q . k), softmax and P * V accumulated in f32. Keyed (KV dtype, T).
struct attention_args {
  std::int64_t m, heads, kv_heads, head_dim, kv_len;
  const void* q;
  std::int64_t ldq;
  const void* k;
  const void* v;
  std::int64_t k_head_stride, k_token_stride, v_head_stride, v_token_stride;
  const float* k_scales;  // i8 storage only
  const float* v_scales;
  std::int64_t scale_head_stride;
  void* out;
  std::int64_t ldo;
  float scale;
  bool causal;
  bool f32_probabilities;  // attention_options::f32_probabilities
};
using attention_fn = void (*)(const exec_args&, const attention_args& a);

/// Stores m tokens in a KV cache (mixprec/attention.hpp): row t of x (T: f32, bf16, f16) is
/// token first + t; KV head g's head_dim values go to dst + (g * capacity + first + t) *
/// head_dim in the storage dtype, rounded once; i8 stores round(x / s) with s = max|x| / 127
/// of that token and head, at scales[g * capacity + first + t]. x is finite (checked first).
/// Keyed (storage dtype, T).
struct kv_append_args {
  std::int64_t m, kv_heads, head_dim, capacity, first;
  const void* x;
  std::int64_t ldx;
  void* dst;
  float* scales;  // i8 storage only
};
using kv_append_fn = void (*)(const exec_args&, const kv_append_args& a);

/// out row t = table row ids[t] (f32, bf16, f16; or i8 times its row's scale, the product in
/// f32; or, keyed u8, a GGUF Q8_0 / Q4_0 row dequantized: (q - offset) * its block's f16
/// scale in f32) rounded once to T (f32, bf16, f16); table row r at table + r * ldt elements
/// (bytes for u8), out row t at out + t * ldo, ids n i32 values in the same memory. Before
/// anything is written the kernel checks every id against [0, vocab): *bad_at is the first
/// position outside it (*bad_id its id), or -1. bad_at and bad_id are host memory. Keyed
/// (table dtype, T).
struct embedding_args {
  std::int64_t n, d, vocab;
  const void* table;
  std::int64_t ldt;
  const float* row_scales;  // i8 tables only
  bool q4_0;                // u8 (block) tables: Q4_0, else Q8_0
  const std::int32_t* ids;
  void* out;
  std::int64_t ldo;
  std::int64_t* bad_at;
  std::int32_t* bad_id;
};
using embedding_fn = void (*)(const exec_args&, const embedding_args& a);

/// The first entry of a rows x cols matrix (T: f32, bf16, f16; row i at x + i * ld) that is
/// NaN or infinite, in row-major order: *at = i * cols + j and *value its value widened to
/// f64, or *at = -1 when every entry is finite. at and value are host memory. Keyed (T, T).
struct find_non_finite_args {
  std::int64_t rows, cols;
  const void* x;
  std::int64_t ld;
  std::int64_t* at;
  double* value;
};
using find_non_finite_fn = void (*)(const exec_args&, const find_non_finite_args& a);

/// An ISA folder's attention kernels: [q/out dtype f32, bf16, f16][KV dtype f32, bf16, f16, i8].
struct attention_kernel_table {
  attention_fn fn[3][4];
};

// Training ops (mixprec/train.hpp): the same row-major operands as the NN row ops, f32
// compute; gradients stored in the storage dtype, weight statistics (dgamma, dbeta) in f32.

/// Activation backward: da = dy * f'(a) for relu, gelu_erf, gelu_tanh, silu; swiglu
/// (y = silu(a) * b): da = dy * b * silu'(a), db = dy * silu(a). da may equal dy.
struct eltwise_backward_args {
  eltwise_kind kind;
  std::int64_t rows, cols;
  const void* a;
  std::int64_t lda;
  const void* b;  // swiglu only
  std::int64_t ldb;
  const void* dy;
  std::int64_t lddy;
  void* da;
  std::int64_t ldda;
  void* db;  // swiglu only
  std::int64_t lddb;
};

/// Softmax backward from the forward's output y: dx = scale * y * (dy - sum(dy * y));
/// log-softmax: dx = scale * (dy - exp(y) * sum(dy)). dx may equal dy or y.
struct softmax_backward_args {
  std::int64_t rows, cols;
  const void* y;
  std::int64_t ldy;
  const void* dy;
  std::int64_t lddy;
  void* dx;
  std::int64_t lddx;
  float scale;
  bool log;
};

/// RMS / layer norm backward from the forward's input x (statistics recomputed in f32):
/// dx (T) and, when set, dgamma and dbeta (cols f32 values each) += their sums over rows.
struct norm_backward_args {
  norm_kind kind;
  std::int64_t rows, cols;
  const void* x;
  std::int64_t ldx;
  const void* dy;
  std::int64_t lddy;
  const float* gamma;  // or null (1)
  float eps;
  void* dx;
  std::int64_t lddx;
  float* dgamma;  // or null
  float* dbeta;   // or null (layer only)
};

/// Softmax cross-entropy forward and backward in one call: per row i with label l =
/// labels[i] (!= ignore_index), p = softmax(logits row), loss[i] = (1 - s)(lse - z_l) +
/// s (lse - mean(z)), s the label smoothing, and dlogits = grad_scale * (p - (1 - s) e_l -
/// s / cols); an ignored row gets loss 0 and a zero gradient. dlogits may equal logits.
struct cross_entropy_args {
  std::int64_t rows, cols;
  const void* logits;
  std::int64_t ldl;
  const std::int32_t* labels;
  std::int32_t ignore_index;
  float smoothing;
  float grad_scale;
  void* dlogits;  // or null: loss only
  std::int64_t ldd;
  float* loss;  // rows values
};

/// In place x *= scale over n values, and *found = true if any value was NaN or +-inf
/// (before scaling, or made so by it); *found is never cleared.
struct unscale_args {
  std::int64_t n;
  void* x;
  float scale;
  bool* found;
};

enum class optimizer_kind : std::uint8_t { sgd, adamw };

/// One parameter tensor of an optimizer step: n values; master f32 weights (or null: model
/// is the parameter itself), the model copy (the model dtype, or null), the gradient (the
/// grad dtype), the state (m: momentum / first moment, v: second moment; f32), and the
/// index of its first value among all the step's values (stochastic rounding's counter).
struct optimizer_tensor {
  std::int64_t n;
  float* master;
  void* model;
  const void* grad;
  float* m;
  float* v;
  std::uint64_t first;
};

/// One step of SGD (PyTorch's: coupled weight decay, momentum, dampening, nesterov) or
/// AdamW (decoupled weight decay, bias correction) over every tensor, grads multiplied by
/// grad_scale first. New weights are written to master and rounded to model, to nearest or,
/// with stochastic_rounding (bf16 models), by a counter-based hash of (seed, first + i).
/// Keyed (grad dtype, model dtype).
struct optimizer_args {
  optimizer_kind kind;
  const optimizer_tensor* tensors;
  std::int64_t count;
  float lr, weight_decay, grad_scale;
  float beta1, beta2, eps, bias_correction1, bias_correction2;  // adamw: 1 - beta^t
  float momentum, dampening;                                    // sgd
  // Differences from 1, computed in f64 and rounded once (as PyTorch passes them): in f32,
  // 1 - float(0.999) is 0.00099998713, an error of 1.3e-5 in every second moment.
  float one_minus_beta1, one_minus_beta2, one_minus_dampening;
  float decay;  // adamw: 1 - lr * weight_decay
  bool nesterov, first_step;
  bool stochastic_rounding;
  std::uint64_t seed;
};

using eltwise_backward_fn = void (*)(const exec_args&, const eltwise_backward_args& a);
using softmax_backward_fn = void (*)(const exec_args&, const softmax_backward_args& a);
using norm_backward_fn = void (*)(const exec_args&, const norm_backward_args& a);
using cross_entropy_fn = void (*)(const exec_args&, const cross_entropy_args& a);
using unscale_fn = void (*)(const exec_args&, const unscale_args& a);
using optimizer_fn = void (*)(const exec_args&, const optimizer_args& a);

/// An ISA folder's training kernels for f32, bf16 and f16 storage (in that order); the
/// optimizer's [grad dtype][model dtype].
struct train_kernel_table {
  eltwise_backward_fn eltwise_backward[3];
  softmax_backward_fn softmax_backward[3];
  norm_backward_fn norm_backward[3];
  cross_entropy_fn cross_entropy[3];
  unscale_fn unscale[3];
  optimizer_fn optimizer[3][3];
};

/// What a row-wise NN kernel's supports() looks at.
struct nn_problem {
  accumulation acc = accumulation::standard;
};

using eltwise_fn = void (*)(const exec_args&, const eltwise_args& a);
using softmax_fn = void (*)(const exec_args&, const softmax_args& a);
using norm_fn = void (*)(const exec_args&, const norm_args& a);
using rope_fn = void (*)(const exec_args&, const rope_args& a);

/// An ISA folder's NN kernels for f32, bf16 and f16 storage (in that order).
struct nn_kernel_table {
  eltwise_fn eltwise[3];
  softmax_fn softmax[3];
  norm_fn norm[3];
  rope_fn rope[3];
};

/// Every op, declared once: its name (in kernel names and verbose lines) and its kernel
/// function type. Kernels are registered (kern::add_kernel<Op>) and called (kernel_fn<Op>)
/// only through that type, so a kernel of the wrong signature for its op does not compile;
/// the registry stores it type-erased. The order is the ABI (op_id values): add at the end.
#define MIXPREC_FOR_EACH_OP(X)               \
  X(convert, convert_fn)                     \
  X(fill, fill_fn)                           \
  X(axpy, axpy_fn)                           \
  X(axpby, axpby_fn)                         \
  X(scal, scal_fn)                           \
  X(dot, dot_fn)                             \
  X(sumsq, sumsq_fn)                         \
  X(asum, asum_fn)                           \
  X(amax, amax_fn)                           \
  X(spmv_csr, spmv_csr_fn)                   \
  X(spmv_sell, spmv_sell_fn)                 \
  X(spmm_csr, spmm_csr_fn)                   \
  X(halo_fill, halo_fill_fn)                 \
  X(stencil, stencil_fn)                     \
  X(stencil_sweeps, stencil_sweeps_fn)       \
  X(gemm, gemm_fn)                           \
  X(gemm_pack, gemm_pack_fn)                 \
  X(quantize, quant_fn)                      \
  X(dequantize, quant_fn)                    \
  X(mg_smooth, mg_smooth_fn)                 \
  X(mg_restrict, mg_restrict_fn)             \
  X(mg_prolong, mg_prolong_fn)               \
  X(csr_rows_solve, csr_rows_solve_fn)       \
  X(cg_update, cg_update_fn)                 \
  X(spmv_dia, spmv_dia_fn)                   \
  X(mdot, mdot_fn)                           \
  X(maxpy, maxpy_fn)                         \
  X(mdot2, mdot2_fn)                         \
  X(dcgs2_update, dcgs2_update_fn)           \
  X(diag_scale, diag_scale_fn)               \
  X(pcg_jacobi_update, pcg_jacobi_update_fn) \
  X(eltwise, eltwise_fn)                     \
  X(softmax, softmax_fn)                     \
  X(norm, norm_fn)                           \
  X(rope, rope_fn)                           \
  X(block_matmul, block_matmul_fn)           \
  X(attention, attention_fn)                 \
  X(eltwise_backward, eltwise_backward_fn)   \
  X(softmax_backward, softmax_backward_fn)   \
  X(norm_backward, norm_backward_fn)         \
  X(cross_entropy, cross_entropy_fn)         \
  X(unscale, unscale_fn)                     \
  X(optimizer, optimizer_fn)                 \
  X(row_dots, row_dots_fn)                   \
  X(kv_append, kv_append_fn)                 \
  X(find_non_finite, find_non_finite_fn)     \
  X(embedding, embedding_fn)                 \
  X(convert_grid, convert_grid_fn)

enum class op_id : std::uint8_t {
#define MIXPREC_OP_ENUM(op, fn) op,
  MIXPREC_FOR_EACH_OP(MIXPREC_OP_ENUM)
#undef MIXPREC_OP_ENUM
      count_
};

/// BLAS-1 ops take a blas1_problem in supports(); the others their own.
constexpr bool is_blas1(op_id op) { return op <= op_id::amax; }

inline const char* name_of(op_id op) {
  static constexpr const char* names[] = {
#define MIXPREC_OP_NAME(op, fn) #op,
      MIXPREC_FOR_EACH_OP(MIXPREC_OP_NAME)
#undef MIXPREC_OP_NAME
  };
  return op < op_id::count_ ? names[int(op)] : "?";
}

template <op_id Op>
struct op_kernel;
#define MIXPREC_OP_KERNEL(op, fn_type) \
  template <>                          \
  struct op_kernel<op_id::op> {        \
    using fn = fn_type;                \
  };
MIXPREC_FOR_EACH_OP(MIXPREC_OP_KERNEL)
#undef MIXPREC_OP_KERNEL

using any_fn = void (*)();
/// Accepts or rejects a problem; on rejection sets *why to a static string.
using supports_fn = bool (*)(const void* problem, const char** why);

struct kernel_entry {
  op_id op;
  backend where;
  dtype in, out;         // for single-dtype ops in == out
  cpu_isa min_isa;       // generic for CUDA kernels
  const char* variant;   // the name's last part, as listed in the op's implementation list
  int rank;              // set by the registry: the variant's place in that list, 0 = best
  const char* name;      // <op>_<dtypes>_<variant>, static storage
  supports_fn supports;  // null: accepts every problem
  any_fn fn;
};

template <op_id Op>
using kernel_fn_t = typename op_kernel<Op>::fn;

/// The entry's kernel as the function type of op Op (the entry was found for Op).
template <op_id Op>
kernel_fn_t<Op> kernel_fn(const kernel_entry& k) {
  return reinterpret_cast<kernel_fn_t<Op>>(k.fn);
}

/// Where kernel folders add their entries; the core's registry implements it.
struct kernel_sink {
  void (*add)(void* self, const kernel_entry& entry);
  void* self;
  void operator()(const kernel_entry& e) const { add(self, e); }
};

/// One implementation of an op: the variant part of its kernels' names and why it sits where
/// it does in the op's list.
struct implementation {
  const char* variant;
  const char* why;
};
struct implementation_list {
  const implementation* items;
  int count;
};
/// The op's implementations, best first and the reference last (src/implementation_lists.cpp,
/// the one place that orders kernels): dispatch tries an (op, backend, dtypes) call's kernels
/// in this order.
implementation_list implementations_of(op_id op);
/// The variant's place in the op's list (0 = best), or -1 when the list lacks it.
int implementation_rank(op_id op, const char* variant);

/// Unit-stride kernels (SIMD bodies) accept only incx == incy == 1.
bool supports_unit_stride(const void* problem, const char** why);
/// Quantize kernels with SIMD rows accept only unit column strides on both sides.
bool supports_unit_columns(const void* problem, const char** why);

// One registration call per kernel folder, in a fixed order (static initialisers would be
// dropped from static archives). Each is compiled without ISA flags.
void register_cpu_ref_kernels(const kernel_sink& sink);
void register_cpu_generic_kernels(const kernel_sink& sink);
void register_cpu_ref_spmv_kernels(const kernel_sink& sink);
void register_cpu_generic_spmv_kernels(const kernel_sink& sink);
void register_cpu_ref_stencil_kernels(const kernel_sink& sink);
void register_cpu_generic_stencil_kernels(const kernel_sink& sink);
void register_cpu_generic_multigrid_kernels(const kernel_sink& sink);
void register_cpu_ref_multigrid_kernels(const kernel_sink& sink);
void register_cpu_generic_sparse_solve_kernels(const kernel_sink& sink);
void register_cpu_ref_gemm_kernels(const kernel_sink& sink);
void register_cpu_generic_gemm_kernels(const kernel_sink& sink);
void register_cpu_quantize_kernels(const kernel_sink& sink);
void register_cpu_nn_kernels(const kernel_sink& sink);
void register_cpu_block_matmul_kernels(const kernel_sink& sink);
void register_cpu_attention_kernels(const kernel_sink& sink);
void register_cpu_train_kernels(const kernel_sink& sink);
void register_cpu_avx2_kernels(const kernel_sink& sink);
void register_cpu_avx512_kernels(const kernel_sink& sink);
void register_cpu_avx512_bf16_kernels(const kernel_sink& sink);

}  // namespace mixprec::detail
