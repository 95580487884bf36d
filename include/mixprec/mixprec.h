/* mixprec/mixprec.h — the C API: mixprec from C, and from any language that calls C (Rust,
 * Go, Julia, Python's ctypes, an inference engine's C core).
 *
 *   mixprec_context ctx;
 *   mixprec_array x, y;
 *   double d;
 *   if (mixprec_context_create_cpu(0, &ctx) != MIXPREC_SUCCESS) {
 *     fprintf(stderr, "%s\n", mixprec_last_error());
 *     return 1;
 *   }
 *   int64_t n = 1000;
 *   mixprec_array_wrap(ctx, xs, MIXPREC_F32, 1, &n, NULL, &x);   // caller's memory, no copy
 *   mixprec_array_wrap(ctx, ys, MIXPREC_F32, 1, &n, NULL, &y);
 *   mixprec_axpy(2.0, x, y);                                     // y = 2x + y
 *   mixprec_dot(x, y, MIXPREC_ACC_F64, &d);
 *   mixprec_array_destroy(x); mixprec_array_destroy(y); mixprec_context_destroy(ctx);
 *
 * Conventions
 * - Every function that can fail returns a mixprec_status; MIXPREC_SUCCESS is 0. On failure
 *   mixprec_last_error() gives the message (per thread; it names the function, the argument
 *   and the values at fault) and nothing the call would write has been written: outputs are
 *   untouched, out-parameters keep their values, no handle is created.
 * - No C++ exception crosses this boundary: each one becomes a status, out-of-memory
 *   included.
 * - Objects are opaque handles, created by *_create / *_wrap / *_from_* functions and freed
 *   by the matching *_destroy (which accepts NULL). A handle passed where another kind is
 *   expected, or after its destroy when the memory has not been reused, is refused as
 *   MIXPREC_INVALID_ARGUMENT. Handles are safe to use from several threads for reading; a
 *   call that writes an array must not run beside another call on the same memory.
 * - Arrays wrap caller memory without copying (mixprec_array_wrap; the memory must outlive
 *   the handle) or own memory allocated in a context (mixprec_array_create). An array
 *   wrapped read-only (mixprec_array_wrap_const) is refused as an output.
 * - Options structs carry their own size: initialize them with the matching *_init
 *   function, which sets every field to the C++ API's default, then change what you need.
 *   A NULL options pointer means the defaults.
 * - Numerics are those of the C++ API (the headers in include/mixprec): every call here runs the
 *   same code, so results are bit-identical to the C++ calls with the same arguments.
 *
 * ABI: MIXPREC_C_ABI_VERSION changes when a function's signature or a struct's layout does;
 * compare it with mixprec_abi_version() at run time. Symbols are versioned (MIXPREC_0).
 */
#ifndef MIXPREC_MIXPREC_H
#define MIXPREC_MIXPREC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define MIXPREC_C_API __attribute__((visibility("default")))
#else
#define MIXPREC_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MIXPREC_C_ABI_VERSION 1

/* ---- status, dtypes, version ---------------------------------------------------------- */

typedef enum mixprec_status {
  MIXPREC_SUCCESS = 0,
  MIXPREC_INVALID_ARGUMENT,    /* a value is out of its domain (null data, negative size, bad handle) */
  MIXPREC_SHAPE_MISMATCH,      /* operand sizes do not agree */
  MIXPREC_UNSUPPORTED,         /* a valid request that no kernel here implements */
  MIXPREC_BACKEND_UNAVAILABLE, /* CUDA asked for where there is no plugin, driver or device */
  MIXPREC_OUT_OF_MEMORY,
  MIXPREC_NUMERICAL_BREAKDOWN, /* the computation cannot go on (overflow in low precision, zero pivot) */
  MIXPREC_IO,
  MIXPREC_INTERNAL,
  MIXPREC_STATUS_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_status;

typedef enum mixprec_dtype {
  MIXPREC_F64 = 0,
  MIXPREC_F32,
  MIXPREC_F16,  /* IEEE binary16, stored as uint16_t */
  MIXPREC_BF16, /* bfloat16 (the top half of an f32), stored as uint16_t */
  MIXPREC_I8,
  MIXPREC_U8,
  MIXPREC_I32,
  MIXPREC_DTYPE_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_dtype;

typedef enum mixprec_accumulation {
  MIXPREC_ACC_STANDARD = 0, /* the compute precision: f32 for f32/f16/bf16 data, f64 for f64 */
  MIXPREC_ACC_F64,
  MIXPREC_ACC_COMPENSATED,
  MIXPREC_ACCUMULATION_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_accumulation;

/* The message of the last call on this thread that failed ("" if it succeeded). */
MIXPREC_C_API const char* mixprec_last_error(void);
/* The status of the last call on this thread. */
MIXPREC_C_API mixprec_status mixprec_last_status(void);
MIXPREC_C_API const char* mixprec_status_name(mixprec_status s);
MIXPREC_C_API const char* mixprec_dtype_name(mixprec_dtype t);
/* Bytes per element; 0 for a value that is not a dtype. */
MIXPREC_C_API size_t mixprec_dtype_size(mixprec_dtype t);
MIXPREC_C_API mixprec_status mixprec_dtype_parse(const char* name, mixprec_dtype* out);
MIXPREC_C_API const char* mixprec_version_string(void);
MIXPREC_C_API int mixprec_abi_version(void);

/* Copies `text` into buf (at most len bytes, always terminated when len > 0) and returns
   the bytes the whole text needs, terminator included: call with len 0 to size buf. Every
   function below that returns text into a caller buffer follows this rule. */

/* ---- contexts ------------------------------------------------------------------------- */

typedef struct mixprec_context_s* mixprec_context;

typedef enum mixprec_backend {
  MIXPREC_BACKEND_CPU = 0,
  MIXPREC_BACKEND_CUDA,
  MIXPREC_BACKEND_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_backend;

/* threads 0: the runtime's default (OMP_NUM_THREADS or the core count). */
MIXPREC_C_API mixprec_status mixprec_context_create_cpu(int threads, mixprec_context* out);
MIXPREC_C_API mixprec_status mixprec_context_create_cuda(int device, mixprec_context* out);
/* CUDA when a device is usable, else the CPU; mixprec_context_describe says why. */
MIXPREC_C_API mixprec_status mixprec_context_create_best(mixprec_context* out);
MIXPREC_C_API void mixprec_context_destroy(mixprec_context ctx);
MIXPREC_C_API mixprec_status mixprec_context_backend(mixprec_context ctx, mixprec_backend* out);
MIXPREC_C_API mixprec_status mixprec_context_threads(mixprec_context ctx, int* out);
MIXPREC_C_API size_t mixprec_context_describe(mixprec_context ctx, char* buf, size_t len);
MIXPREC_C_API mixprec_status mixprec_context_synchronize(mixprec_context ctx);
/* Whether `op` (as mixprec-info lists kernels) runs here for dtypes (in, out). */
MIXPREC_C_API mixprec_status mixprec_context_supports(mixprec_context ctx, const char* op, mixprec_dtype in,
                                                      mixprec_dtype out_type, int* out);

/* ---- arrays --------------------------------------------------------------------------- */

typedef struct mixprec_array_s* mixprec_array;

#define MIXPREC_MAX_RANK 4

/* Wraps caller memory in ctx's memory space: rank 1..4, shape[rank], strides[rank] in
   elements (NULL: dense row-major; negative strides walk backwards from data). */
MIXPREC_C_API mixprec_status mixprec_array_wrap(mixprec_context ctx, void* data, mixprec_dtype type, int rank,
                                                const int64_t* shape, const int64_t* strides, mixprec_array* out);
/* The same for memory the library must only read: refused wherever an op would write. */
MIXPREC_C_API mixprec_status mixprec_array_wrap_const(mixprec_context ctx, const void* data, mixprec_dtype type,
                                                      int rank, const int64_t* shape, const int64_t* strides,
                                                      mixprec_array* out);
/* A new dense row-major array owned by the handle (64-byte aligned, uninitialized). */
MIXPREC_C_API mixprec_status mixprec_array_create(mixprec_context ctx, mixprec_dtype type, int rank,
                                                  const int64_t* shape, mixprec_array* out);
MIXPREC_C_API void mixprec_array_destroy(mixprec_array a);
MIXPREC_C_API mixprec_status mixprec_array_data(mixprec_array a, void** out);
MIXPREC_C_API mixprec_status mixprec_array_dtype(mixprec_array a, mixprec_dtype* out);
MIXPREC_C_API mixprec_status mixprec_array_rank(mixprec_array a, int* out);
/* shape and strides: MIXPREC_MAX_RANK entries each (either may be NULL). */
MIXPREC_C_API mixprec_status mixprec_array_shape(mixprec_array a, int64_t* shape, int64_t* strides);
MIXPREC_C_API mixprec_status mixprec_array_size(mixprec_array a, int64_t* out);

/* DLPack (NumPy, PyTorch, JAX, CuPy tensors). from_dlpack wraps t's memory without copying
   and takes ownership of t: its deleter runs when the array is destroyed (on failure the
   caller keeps t). to_dlpack describes the array's memory for another framework; the array
   must outlive the tensor, whose deleter frees only the description. Both are
   MIXPREC_UNSUPPORTED in a library built without DLPack. */
struct DLManagedTensor;
MIXPREC_C_API mixprec_status mixprec_array_from_dlpack(struct DLManagedTensor* t, mixprec_array* out);
MIXPREC_C_API mixprec_status mixprec_array_to_dlpack(mixprec_array a, struct DLManagedTensor** out);

/* ---- conversions and BLAS-1 (include/mixprec/blas1.hpp) -------------------------------- */

/* dst = src: same dtype and size; contexts may differ (CPU <-> CUDA). */
MIXPREC_C_API mixprec_status mixprec_copy(mixprec_array src, mixprec_array dst);
/* y = x converted to y's dtype (round to nearest even; integers saturate). */
MIXPREC_C_API mixprec_status mixprec_convert(mixprec_array x, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_fill(mixprec_array x, double value);
MIXPREC_C_API mixprec_status mixprec_axpy(double alpha, mixprec_array x, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_axpby(double alpha, mixprec_array x, double beta, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_scal(double alpha, mixprec_array x);
MIXPREC_C_API mixprec_status mixprec_dot(mixprec_array x, mixprec_array y, mixprec_accumulation acc, double* out);
MIXPREC_C_API mixprec_status mixprec_nrm2(mixprec_array x, mixprec_accumulation acc, double* out);
MIXPREC_C_API mixprec_status mixprec_asum(mixprec_array x, mixprec_accumulation acc, double* out);
/* Index of the first element of largest magnitude (first NaN wins); -1 when x is empty. */
MIXPREC_C_API mixprec_status mixprec_amax(mixprec_array x, int64_t* out);

/* ---- sparse matrices (include/mixprec/sparse.hpp) -------------------------------------- */

typedef struct mixprec_csr_s* mixprec_csr;
typedef struct mixprec_dia_s* mixprec_dia;

typedef enum mixprec_index_type {
  MIXPREC_INDEX_I32 = 0,
  MIXPREC_INDEX_I64,
  MIXPREC_INDEX_TYPE_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_index_type;

/* mixprec_csr_wrap flags. By default the structure is checked once, O(nnz): row pointers
   from 0, non-decreasing, ending at nnz; column indices in [0, cols). A caller who
   guarantees that may skip the check; SpMV on a bad structure is then undefined. */
#define MIXPREC_CSR_TRUST_STRUCTURE 1u

/* Wraps caller CSR arrays (row_ptr: rows + 1 entries, 0-based) without copying. */
MIXPREC_C_API mixprec_status mixprec_csr_wrap(mixprec_context ctx, int64_t rows, int64_t cols,
                                              mixprec_index_type index, const void* row_ptr, const void* col_idx,
                                              mixprec_dtype value_type, const void* values, unsigned flags,
                                              mixprec_csr* out);
/* A matrix owned by the handle from coordinate triplets (0-based; duplicates summed). */
MIXPREC_C_API mixprec_status mixprec_csr_from_coo(mixprec_context ctx, int64_t rows, int64_t cols, int64_t nnz,
                                                  const int64_t* row, const int64_t* col, const double* value,
                                                  mixprec_dtype value_type, mixprec_index_type index,
                                                  mixprec_csr* out);
/* A Matrix Market file (real/integer/pattern; general/symmetric/skew-symmetric). */
MIXPREC_C_API mixprec_status mixprec_csr_read_matrix_market(mixprec_context ctx, const char* path,
                                                            mixprec_dtype value_type, mixprec_csr* out);
MIXPREC_C_API mixprec_status mixprec_csr_write_matrix_market(mixprec_csr a, const char* path);
/* The model problems: poisson_2d/3d (n points per side), convection_diffusion_3d. */
MIXPREC_C_API mixprec_status mixprec_csr_poisson_2d(int64_t n, mixprec_csr* out);
MIXPREC_C_API mixprec_status mixprec_csr_poisson_3d(int64_t n, mixprec_csr* out);
MIXPREC_C_API mixprec_status mixprec_csr_convection_diffusion_3d(int64_t n, double peclet, mixprec_csr* out);
/* A copy with values stored as value_type (f64, f32, f16, bf16). */
MIXPREC_C_API mixprec_status mixprec_csr_with_values(mixprec_csr a, mixprec_dtype value_type, mixprec_csr* out);
MIXPREC_C_API void mixprec_csr_destroy(mixprec_csr a);
MIXPREC_C_API mixprec_status mixprec_csr_info(mixprec_csr a, int64_t* rows, int64_t* cols, int64_t* nnz,
                                              mixprec_dtype* value_type);
/* y = alpha A x + beta y (x, y rank 1); spmm: x, y rank 2 (cols x k, rows x k). */
MIXPREC_C_API mixprec_status mixprec_csr_spmv(double alpha, mixprec_csr a, mixprec_array x, double beta,
                                              mixprec_array y, mixprec_accumulation acc);
MIXPREC_C_API mixprec_status mixprec_csr_spmm(double alpha, mixprec_csr a, mixprec_array x, double beta,
                                              mixprec_array y, mixprec_accumulation acc);
/* Diagonal storage of a banded CSR matrix; refused when it would store more than max_fill
   times the nonzeros (0: the default, 3). */
MIXPREC_C_API mixprec_status mixprec_dia_from_csr(mixprec_csr a, double max_fill, mixprec_dia* out);
MIXPREC_C_API void mixprec_dia_destroy(mixprec_dia a);
MIXPREC_C_API mixprec_status mixprec_dia_info(mixprec_dia a, int64_t* rows, int64_t* cols, int64_t* diagonals);
MIXPREC_C_API mixprec_status mixprec_dia_spmv(double alpha, mixprec_dia a, mixprec_array x, double beta,
                                              mixprec_array y, mixprec_accumulation acc);

/* ---- stencils on structured grids (include/mixprec/grid.hpp, stencil.hpp) -------------- */

typedef struct mixprec_grid_s* mixprec_grid;

typedef enum mixprec_boundary {
  MIXPREC_DIRICHLET = 0,
  MIXPREC_PERIODIC,
  MIXPREC_NEUMANN,
  MIXPREC_BOUNDARY_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_boundary;

/* A zero-filled grid: dims 2 (nz ignored) or 3, with a halo of `halo` points. */
MIXPREC_C_API mixprec_status mixprec_grid_create(mixprec_context ctx, mixprec_dtype type, int dims, int64_t nx,
                                                 int64_t ny, int64_t nz, int halo, mixprec_grid* out);
MIXPREC_C_API void mixprec_grid_destroy(mixprec_grid g);
/* The interior's values from / into a dense array of nz x ny x nx (or ny x nx) points, x
   fastest, of any float dtype (converted, rounding to nearest even). */
MIXPREC_C_API mixprec_status mixprec_grid_write(mixprec_grid g, mixprec_array values);
MIXPREC_C_API mixprec_status mixprec_grid_read(mixprec_grid g, mixprec_array values);
/* `steps` explicit Euler steps of the heat equation, u += r * Laplacian(u), every face
   `kind` (Dirichlet faces at `value`). r must be at most 1 / (2 dims). The result ends in
   u or in scratch: *result_in_scratch says which. */
MIXPREC_C_API mixprec_status mixprec_heat_steps(mixprec_grid u, mixprec_grid scratch, double r,
                                                mixprec_boundary kind, double value, int steps,
                                                int* result_in_scratch);
/* `sweeps` Jacobi sweeps of the -Laplacian (5- or 7-point) for -Lap u = f (f may be NULL),
   weight omega, boundary as mixprec_heat_steps. */
MIXPREC_C_API mixprec_status mixprec_laplace_jacobi_sweeps(mixprec_grid u, mixprec_grid f, mixprec_grid scratch,
                                                           mixprec_boundary kind, double value, int sweeps,
                                                           double omega, int* result_in_scratch);

/* ---- operators, preconditioners, solvers (solver.hpp, preconditioner.hpp, refinement.hpp) */

typedef struct mixprec_operator_s* mixprec_operator;
typedef struct mixprec_preconditioner_s* mixprec_preconditioner;
typedef struct mixprec_report_s* mixprec_report;

/* An operator from a matrix: it keeps what it needs (a wrapped CSR matrix is copied once
   into the library's storage), so the matrix handle may be destroyed after. */
MIXPREC_C_API mixprec_status mixprec_operator_from_csr(mixprec_csr a, mixprec_accumulation acc,
                                                       mixprec_operator* out);
MIXPREC_C_API mixprec_status mixprec_operator_from_dia(mixprec_dia a, mixprec_accumulation acc,
                                                       mixprec_operator* out);
/* The -Laplacian (5-point for dims 2, 7-point for 3) on nx x ny (x nz) interior points
   with zero Dirichlet faces: the matrix of mixprec_csr_poisson_2d/3d, never assembled. */
MIXPREC_C_API mixprec_status mixprec_operator_laplace(mixprec_context ctx, int dims, int64_t nx, int64_t ny,
                                                      int64_t nz, mixprec_operator* out);
/* A matrix-free operator: apply(user, x, y) must set y = A x (x: cols, y: rows, f64 or the
   solver's vectors' dtype) and return 0, or nonzero to make the solve fail. */
typedef int (*mixprec_apply_fn)(void* user, mixprec_array x, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_operator_from_callback(mixprec_context ctx, int64_t rows, int64_t cols,
                                                            mixprec_apply_fn apply, void* user,
                                                            mixprec_operator* out);
MIXPREC_C_API void mixprec_operator_destroy(mixprec_operator a);
/* y = alpha A x + beta y. */
MIXPREC_C_API mixprec_status mixprec_operator_apply(mixprec_operator a, double alpha, mixprec_array x, double beta,
                                                    mixprec_array y);
MIXPREC_C_API size_t mixprec_operator_describe(mixprec_operator a, char* buf, size_t len);

typedef enum mixprec_preconditioner_kind {
  MIXPREC_PRECOND_JACOBI = 0,
  MIXPREC_PRECOND_BLOCK_JACOBI, /* adaptive-precision blocks of 8 */
  MIXPREC_PRECOND_SGS,          /* multicolor symmetric Gauss-Seidel */
  MIXPREC_PRECOND_ILU0,
  MIXPREC_PRECOND_IC0,
  MIXPREC_PRECOND_MULTIGRID, /* a geometric V-cycle; only on mixprec_operator_laplace's operator */
  MIXPREC_PRECONDITIONER_KIND_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_preconditioner_kind;

/* Built from an operator over a CSR or DIA matrix; storage: the dtype its values are kept
   in (f64, f32, f16, bf16). A zero pivot is MIXPREC_NUMERICAL_BREAKDOWN, naming the row.
   MIXPREC_PRECOND_MULTIGRID: the V-cycle of multigrid.hpp (4 levels, full weighting, one
   SGS sweep before and after) on the grid of an operator from mixprec_operator_laplace, its
   levels kept and computed in storage (f64 or f32). */
MIXPREC_C_API mixprec_status mixprec_preconditioner_create(mixprec_operator a, mixprec_preconditioner_kind kind,
                                                           mixprec_dtype storage, mixprec_preconditioner* out);
/* The caller's own preconditioner (an algebraic multigrid, a domain decomposition, ...):
   apply(user, r, z) must set z = M^-1 r for r and z of n elements (f64, or the solver's
   vectors' dtype: f32 in an f32 policy's inner solves) and return 0, or nonzero to make the
   solve fail. Called on the solving thread, once per preconditioned step. */
MIXPREC_C_API mixprec_status mixprec_preconditioner_from_callback(mixprec_context ctx, int64_t n,
                                                                  mixprec_apply_fn apply, void* user,
                                                                  mixprec_preconditioner* out);
MIXPREC_C_API void mixprec_preconditioner_destroy(mixprec_preconditioner p);

typedef enum mixprec_method {
  MIXPREC_CG = 0,
  MIXPREC_BICGSTAB,
  MIXPREC_GMRES,
  MIXPREC_FGMRES,
  MIXPREC_CHEBYSHEV /* bounds from the options, or estimated when both are 0 */,
  MIXPREC_CG_PIPELINED /* one overlapped reduction per iteration: for many processes; on one, CG is faster */,
  MIXPREC_METHOD_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_method;

typedef enum mixprec_orthogonalization {
  MIXPREC_ORTHO_MGS = 0,
  MIXPREC_ORTHO_CGS2,
  MIXPREC_ORTHO_DCGS2 /* CGS2 with the second pass one step late: one reduction per step; the default */,
  MIXPREC_ORTHOGONALIZATION_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_orthogonalization;

typedef struct mixprec_solve_options {
  size_t struct_size; /* set by mixprec_solve_options_init */
  double rel_tol;     /* stop when ||b - A x|| <= max(rel_tol ||b||, abs_tol) */
  double abs_tol;
  int max_iterations;
  int stagnation_window;
  double stagnation_factor;
  int restart; /* GMRES/FGMRES */
  mixprec_orthogonalization ortho;
  mixprec_preconditioner preconditioner; /* NULL: none */
  int record_history;                    /* keep the residual after each iteration */
  double lambda_min, lambda_max;         /* Chebyshev's spectrum bounds */
} mixprec_solve_options;

MIXPREC_C_API void mixprec_solve_options_init(mixprec_solve_options* o);

/* Solves A x = b from the x given. The call succeeds when the solver ran, whatever it
   concluded: read the report (mixprec_report_reason) for that. Bad arguments fail before
   x is touched. */
MIXPREC_C_API mixprec_status mixprec_solve(mixprec_method method, mixprec_operator a, mixprec_array b,
                                           mixprec_array x, const mixprec_solve_options* o, mixprec_report* report);

typedef enum mixprec_inner_solver {
  MIXPREC_INNER_CG = 0,
  MIXPREC_INNER_BICGSTAB,
  MIXPREC_INNER_GMRES,
  MIXPREC_INNER_FGMRES,
  MIXPREC_INNER_CG_RELIABLE,
  MIXPREC_INNER_SOLVER_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_inner_solver;

typedef struct mixprec_refine_options {
  size_t struct_size;
  mixprec_dtype policy_matrix; /* the inner solves' matrix storage: f64, f32, f16, bf16 */
  mixprec_dtype policy_krylov; /* the inner Krylov vectors: f64 or f32 */
  mixprec_inner_solver inner_method;
  mixprec_solve_options outer; /* the f64 outer loop's tolerance and limits */
  mixprec_solve_options inner; /* each inner solve's (its preconditioner applies there) */
  double min_reduction;
  int fallback; /* raise the precision when a policy stalls, and say why in the report */
} mixprec_refine_options;

MIXPREC_C_API void mixprec_refine_options_init(mixprec_refine_options* o);
/* Parses a policy name as reports print it: "f64", "f32-ir", "bf16/f32-ir", "f16/f32-ir".
   A halo part ("+f32-halo") is refused: halos belong to distributed operators (C++ only). */
MIXPREC_C_API mixprec_status mixprec_policy_parse(const char* name, mixprec_dtype* matrix, mixprec_dtype* krylov);
/* FP64-accurate solve with the inner solves in the policy's precision. */
MIXPREC_C_API mixprec_status mixprec_refine(mixprec_operator a, mixprec_array b, mixprec_array x,
                                            const mixprec_refine_options* o, mixprec_report* report);

typedef enum mixprec_stop_reason {
  MIXPREC_STOP_CONVERGED = 0,
  MIXPREC_STOP_MAX_ITERATIONS,
  MIXPREC_STOP_STAGNATION,
  MIXPREC_STOP_BREAKDOWN,
  MIXPREC_STOP_NON_FINITE,
  MIXPREC_STOP_BY_CALLBACK,
  MIXPREC_STOP_INACCURATE,
  MIXPREC_STOP_REASON_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_stop_reason;

MIXPREC_C_API void mixprec_report_destroy(mixprec_report r);
MIXPREC_C_API mixprec_status mixprec_report_reason(mixprec_report r, mixprec_stop_reason* out);
MIXPREC_C_API const char* mixprec_stop_reason_name(mixprec_stop_reason reason);
MIXPREC_C_API mixprec_status mixprec_report_iterations(mixprec_report r, int* iterations, int* inner_iterations);
/* Relative residuals: the method's at the end, and the true one ||b - A x|| / ||b|| in f64. */
MIXPREC_C_API mixprec_status mixprec_report_residuals(mixprec_report r, double* final_residual,
                                                      double* true_residual);
MIXPREC_C_API mixprec_status mixprec_report_seconds(mixprec_report r, double* out);
/* Dense solves: the normwise backward error (other reports: -1). */
MIXPREC_C_API mixprec_status mixprec_report_backward_error(mixprec_report r, double* out);
/* Copies up to `capacity` history entries into out; *count gets how many there are. */
MIXPREC_C_API mixprec_status mixprec_report_history(mixprec_report r, double* out, size_t capacity, size_t* count);
/* One line: method, reason, iterations, residuals, precisions, fallbacks. */
MIXPREC_C_API size_t mixprec_report_summary(mixprec_report r, char* buf, size_t len);
/* The reason in words; dense solves: the path taken ("f32 LU + refinement", ...). */
MIXPREC_C_API size_t mixprec_report_message(mixprec_report r, char* buf, size_t len);
MIXPREC_C_API size_t mixprec_report_path(mixprec_report r, char* buf, size_t len);

/* ---- dense solves (include/mixprec/dense.hpp) ------------------------------------------ */

typedef struct mixprec_dense_options {
  size_t struct_size;
  mixprec_dtype factorization; /* f64, f32, bf16 (bf16 trailing updates) or f16 */
  int gmres;                   /* GMRES-IR instead of classical refinement */
  int pivoting;
  int max_iterations;
  int fallback;
  double gmres_tolerance;
  int gmres_restart;
  int gmres_max_iterations;
  int scale; /* scale a by powers of two before rounding it (default 1) */
  int gmres_halving_window; /* GMRES-IR: stop a correction whose residual has not halved in this many
                               iterations, then fall back (default 50; 0: never) */
} mixprec_dense_options;

MIXPREC_C_API void mixprec_dense_options_init(mixprec_dense_options* o);
/* A x = b for a square f64 a (n x n; rank 2, any strides) to f64 accuracy, factoring in
   o->factorization; b, x: n (or n x k) f64. x may be b (in place, as LAPACK), not a. */
MIXPREC_C_API mixprec_status mixprec_gesv_ir(mixprec_array a, mixprec_array b, mixprec_array x,
                                             const mixprec_dense_options* o, mixprec_report* report);
/* The same for a symmetric positive definite a (exactly symmetric), factored by Cholesky in
   o->factorization; o->pivoting is not used. */
MIXPREC_C_API mixprec_status mixprec_posv_ir(mixprec_array a, mixprec_array b, mixprec_array x,
                                             const mixprec_dense_options* o, mixprec_report* report);
/* gesv_ir / posv_ir (spd != 0) for many solves with one matrix: a is checked and factored
   once, here; each mixprec_dense_solver_solve refines on that factorization, exactly as
   mixprec_gesv_ir would for its b. The memory a wraps is referenced, not copied: it must
   outlive the solver, unchanged (a's handle itself may be destroyed). Solves may run on
   several threads at once. */
typedef struct mixprec_dense_solver_s* mixprec_dense_solver;
MIXPREC_C_API mixprec_status mixprec_dense_solver_create(mixprec_array a, int spd, const mixprec_dense_options* o,
                                                         mixprec_dense_solver* out);
MIXPREC_C_API mixprec_status mixprec_dense_solver_solve(mixprec_dense_solver s, mixprec_array b, mixprec_array x,
                                                        mixprec_report* report);
/* Factors a new matrix a of the solver's size in place of the first, with its options, in the
   memory of the earlier factors (no n^2 allocation per matrix). a is referenced as at create.
   Not while a solve runs. On failure the solver holds no factorization until a refactor
   succeeds; its solves say so. */
MIXPREC_C_API mixprec_status mixprec_dense_solver_refactor(mixprec_dense_solver s, mixprec_array a);
MIXPREC_C_API void mixprec_dense_solver_destroy(mixprec_dense_solver s);
/* LU with partial pivoting in place (f64 or f32); pivots: min(m, n) entries. */
MIXPREC_C_API mixprec_status mixprec_getrf(mixprec_array a, int64_t* pivots, int pivoting);
MIXPREC_C_API mixprec_status mixprec_getrs(mixprec_array lu, const int64_t* pivots, mixprec_array b);
MIXPREC_C_API mixprec_status mixprec_potrf(mixprec_array a);
MIXPREC_C_API mixprec_status mixprec_potrs(mixprec_array l, mixprec_array b);

/* ---- GEMM and quantization (include/mixprec/gemm.hpp, quantize.hpp, block_quant.hpp) --- */

typedef enum mixprec_trans {
  MIXPREC_NO_TRANS = 0,
  MIXPREC_TRANS,
  MIXPREC_TRANS_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_trans;

typedef enum mixprec_activation {
  MIXPREC_ACT_NONE = 0,
  MIXPREC_ACT_RELU,
  MIXPREC_ACT_GELU_ERF,
  MIXPREC_ACT_GELU_TANH,
  MIXPREC_ACT_SILU,
  MIXPREC_ACTIVATION_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_activation;

typedef struct mixprec_gemm_options {
  size_t struct_size;
  mixprec_array scale;    /* NULL or n values: per output channel */
  mixprec_array bias;     /* NULL or n values */
  mixprec_activation act;
  mixprec_array residual; /* NULL or C's shape: added after the activation */
  float out_scale;        /* s8/u8 C: C = sat(rne(x / out_scale) + out_zero_point) */
  int32_t out_zero_point;
  int32_t a_zero_point;
  int32_t b_zero_point;
  int f16_allow_bf16_inputs; /* f16 GEMM may round inputs to bf16 (oneDNN's fpmath_mode) */
  int f32_allow_tf32;        /* f32 GEMM may round inputs to TF32 for tensor cores (CUDA) */
} mixprec_gemm_options;

MIXPREC_C_API void mixprec_gemm_options_init(mixprec_gemm_options* o);
/* C = epilogue(alpha op(A) op(B) + beta C); rank 2 or 3 (batched) arrays, any strides. */
MIXPREC_C_API mixprec_status mixprec_gemm(mixprec_trans ta, mixprec_trans tb, double alpha, mixprec_array a,
                                          mixprec_array b, double beta, mixprec_array c,
                                          const mixprec_gemm_options* o);

typedef struct mixprec_packed_matrix_s* mixprec_packed_matrix;
/* op(b) (k x n) packed once into the layout the kernels stream (f64, f32, f16, bf16, s8). */
MIXPREC_C_API mixprec_status mixprec_packed_matrix_create(mixprec_array b, mixprec_trans tb,
                                                          mixprec_packed_matrix* out);
MIXPREC_C_API void mixprec_packed_matrix_destroy(mixprec_packed_matrix p);
MIXPREC_C_API size_t mixprec_packed_matrix_layout(mixprec_packed_matrix p, char* buf, size_t len);
MIXPREC_C_API mixprec_status mixprec_gemm_packed(mixprec_trans ta, double alpha, mixprec_array a,
                                                 mixprec_packed_matrix b, double beta, mixprec_array c,
                                                 const mixprec_gemm_options* o);

typedef enum mixprec_quant_granularity {
  MIXPREC_PER_TENSOR = 0,
  MIXPREC_PER_CHANNEL,
  MIXPREC_PER_GROUP,
  MIXPREC_QUANT_GRANULARITY_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_quant_granularity;

typedef struct mixprec_quant_scheme {
  mixprec_dtype target; /* I8 or U8 */
  int symmetric;        /* zero point 0 (I8 only) */
  mixprec_quant_granularity granularity;
  int axis;       /* per channel: the channel axis; per group: the blocked axis */
  int group_size; /* per group */
} mixprec_quant_scheme;

typedef struct mixprec_quant_params_s* mixprec_quant_params;

MIXPREC_C_API void mixprec_quant_scheme_init(mixprec_quant_scheme* s);
/* Scales and zero points from the data (x: rank 1 or 2, f32/bf16/f16, CPU). */
MIXPREC_C_API mixprec_status mixprec_quant_params_choose(mixprec_array x, const mixprec_quant_scheme* s,
                                                         mixprec_quant_params* out);
/* The parameter grid for rows x cols with scales 1 and zero points 0, to be set. */
MIXPREC_C_API mixprec_status mixprec_quant_params_create(int64_t rows, int64_t cols, const mixprec_quant_scheme* s,
                                                         mixprec_quant_params* out);
MIXPREC_C_API void mixprec_quant_params_destroy(mixprec_quant_params p);
/* Number of (scale, zero point) pairs, row-major over the grid. */
MIXPREC_C_API mixprec_status mixprec_quant_params_count(mixprec_quant_params p, int64_t* out);
MIXPREC_C_API mixprec_status mixprec_quant_params_get(mixprec_quant_params p, int64_t index, float* scale,
                                                      int32_t* zero_point);
MIXPREC_C_API mixprec_status mixprec_quant_params_set(mixprec_quant_params p, int64_t index, float scale,
                                                      int32_t zero_point);
MIXPREC_C_API mixprec_status mixprec_quantize(mixprec_array x, mixprec_quant_params p, mixprec_array q);
MIXPREC_C_API mixprec_status mixprec_dequantize(mixprec_array q, mixprec_quant_params p, mixprec_array x);

typedef enum mixprec_block_format {
  MIXPREC_Q8_0 = 0,
  MIXPREC_Q4_0,
  MIXPREC_BLOCK_FORMAT_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_block_format;
typedef struct mixprec_block_matrix_s* mixprec_block_matrix;

/* w: rows x cols f32, cols a multiple of 32, quantized row by row (GGUF's layouts). */
MIXPREC_C_API mixprec_status mixprec_block_matrix_quantize(mixprec_array w, mixprec_block_format f,
                                                           mixprec_block_matrix* out);
/* Copies blocks already in the format (a GGUF tensor's bytes); bytes must match the shape. */
MIXPREC_C_API mixprec_status mixprec_block_matrix_from_bytes(const void* data, size_t bytes, int64_t rows,
                                                             int64_t cols, mixprec_block_format f,
                                                             mixprec_block_matrix* out);
MIXPREC_C_API void mixprec_block_matrix_destroy(mixprec_block_matrix w);
MIXPREC_C_API mixprec_status mixprec_block_matrix_bytes(mixprec_block_matrix w, const void** data, size_t* bytes);
MIXPREC_C_API mixprec_status mixprec_block_matrix_dequantize(mixprec_block_matrix w, mixprec_array out);
/* y (m x n f32) = x (m x k f32) W^T. */
MIXPREC_C_API mixprec_status mixprec_block_matmul(mixprec_array x, mixprec_block_matrix w, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_block_embedding(mixprec_block_matrix table, mixprec_array ids,
                                                     mixprec_array out);

/* ---- transformer layers (include/mixprec/nn.hpp, attention.hpp) ------------------------ */

/* Rank 1 or 2 row-major arrays (unit column stride) of one storage dtype, f32/bf16/f16;
   y may be an input (in place). NULL for an optional operand means "none". */
MIXPREC_C_API mixprec_status mixprec_activate(mixprec_activation act, mixprec_array x, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_swiglu(mixprec_array gate, mixprec_array up, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_add(mixprec_array a, mixprec_array b, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_mul(mixprec_array a, mixprec_array b, mixprec_array y);
MIXPREC_C_API mixprec_status mixprec_scale(double alpha, mixprec_array x, mixprec_array y);

typedef struct mixprec_softmax_options {
  size_t struct_size;
  double scale;
  mixprec_array mask; /* NULL or x's shape (or one row) */
  int causal;
  int64_t causal_offset;
  int log;
  mixprec_accumulation acc;
} mixprec_softmax_options;

MIXPREC_C_API void mixprec_softmax_options_init(mixprec_softmax_options* o);
MIXPREC_C_API mixprec_status mixprec_softmax(mixprec_array x, mixprec_array y, const mixprec_softmax_options* o);
MIXPREC_C_API mixprec_status mixprec_rms_norm(mixprec_array x, mixprec_array gamma, mixprec_array y, double eps,
                                              mixprec_accumulation acc);
MIXPREC_C_API mixprec_status mixprec_layer_norm(mixprec_array x, mixprec_array gamma, mixprec_array beta,
                                                mixprec_array y, double eps, mixprec_accumulation acc);
MIXPREC_C_API mixprec_status mixprec_add_rms_norm(mixprec_array x, mixprec_array residual, mixprec_array gamma,
                                                  mixprec_array sum, mixprec_array y, double eps,
                                                  mixprec_accumulation acc);
MIXPREC_C_API mixprec_status mixprec_add_layer_norm(mixprec_array x, mixprec_array residual, mixprec_array gamma,
                                                    mixprec_array beta, mixprec_array sum, mixprec_array y, double eps,
                                                    mixprec_accumulation acc);

typedef enum mixprec_rope_layout {
  MIXPREC_ROPE_HALF_SPLIT = 0,
  MIXPREC_ROPE_ADJACENT,
  MIXPREC_ROPE_LAYOUT_MAX_ENUM = 0x7fffffff /* int-sized: any int is a value the library can refuse */
} mixprec_rope_layout;

/* Rotates x (tokens x heads * head_dim) in place; positions: i32, one per row. */
MIXPREC_C_API mixprec_status mixprec_rope(mixprec_array x, int64_t head_dim, mixprec_array positions, double theta,
                                          mixprec_rope_layout layout, int64_t rotary_dims);
/* out row t = table row ids[t] (table f32/bf16/f16, or i8 with row_scales). */
MIXPREC_C_API mixprec_status mixprec_embedding(mixprec_array table, mixprec_array ids, mixprec_array out,
                                               mixprec_array row_scales);

typedef struct mixprec_kv_cache_s* mixprec_kv_cache;
MIXPREC_C_API mixprec_status mixprec_kv_cache_create(mixprec_context ctx, int64_t capacity, int64_t kv_heads,
                                                     int64_t head_dim, mixprec_dtype storage,
                                                     mixprec_kv_cache* out);
MIXPREC_C_API void mixprec_kv_cache_destroy(mixprec_kv_cache c);
MIXPREC_C_API mixprec_status mixprec_kv_cache_append(mixprec_kv_cache c, mixprec_array k, mixprec_array v);
MIXPREC_C_API mixprec_status mixprec_kv_cache_truncate(mixprec_kv_cache c, int64_t tokens);
MIXPREC_C_API mixprec_status mixprec_kv_cache_size(mixprec_kv_cache c, int64_t* out);
/* out = softmax(scale q K^T [causal]) V per head (scale 0: 1/sqrt(head_dim)); numerics as
   attention.hpp states (bf16 q and cache: probabilities may be rounded to bf16). */
MIXPREC_C_API mixprec_status mixprec_attention(mixprec_array q, mixprec_kv_cache cache, mixprec_array out,
                                               double scale, int causal);

/* ---- training (include/mixprec/train.hpp) ---------------------------------------------- */

MIXPREC_C_API mixprec_status mixprec_activate_backward(mixprec_activation act, mixprec_array a, mixprec_array dy,
                                                       mixprec_array da);
MIXPREC_C_API mixprec_status mixprec_softmax_backward(mixprec_array y, mixprec_array dy, mixprec_array dx,
                                                      const mixprec_softmax_options* o);
/* Backward of y = silu(gate) * up: d_gate = dy * up * silu'(gate), d_up = dy * silu(gate). */
MIXPREC_C_API mixprec_status mixprec_swiglu_backward(mixprec_array gate, mixprec_array up, mixprec_array dy,
                                                     mixprec_array d_gate, mixprec_array d_up);
/* dx, and dgamma (dbeta) += the row sums of dy * xhat (dy) when not NULL (f32, cols values). */
MIXPREC_C_API mixprec_status mixprec_rms_norm_backward(mixprec_array x, mixprec_array gamma, mixprec_array dy,
                                                       mixprec_array dx, mixprec_array dgamma, double eps);
MIXPREC_C_API mixprec_status mixprec_layer_norm_backward(mixprec_array x, mixprec_array gamma, mixprec_array dy,
                                                         mixprec_array dx, mixprec_array dgamma, mixprec_array dbeta,
                                                         double eps);
/* dx = dy W, dw += dy^T x (f32), db += column sums of dy (f32); dx, dw, db may be NULL. */
MIXPREC_C_API mixprec_status mixprec_linear_backward(mixprec_array x, mixprec_array w, mixprec_array dy,
                                                     mixprec_array dx, mixprec_array dw, mixprec_array db);

/* Attention for training (train.hpp): out = P V per head with P = softmax(scale q K^T
   [causal]) kept in probs (heads x m x L, f32) for the backward; scale 0: 1/sqrt(head_dim).
   The backward writes dq (q's shape), dk and dv (k's shape), dense f32, overwritten. */
MIXPREC_C_API mixprec_status mixprec_attention_forward_saved(mixprec_array q, mixprec_array k, mixprec_array v,
                                                             mixprec_array out, mixprec_array probs, int64_t head_dim,
                                                             double scale, int causal);
MIXPREC_C_API mixprec_status mixprec_attention_backward(mixprec_array q, mixprec_array k, mixprec_array v,
                                                        mixprec_array probs, mixprec_array d_out, mixprec_array dq,
                                                        mixprec_array dk, mixprec_array dv, int64_t head_dim,
                                                        double scale, int causal);

typedef struct mixprec_cross_entropy_options {
  size_t struct_size;
  int32_t ignore_index;
  double label_smoothing;
  int sum_reduction; /* 0: mean over the rows not ignored; 1: sum */
  double grad_scale;
} mixprec_cross_entropy_options;

MIXPREC_C_API void mixprec_cross_entropy_options_init(mixprec_cross_entropy_options* o);
/* The loss of logits (rows x classes, f32 or bf16) against i32 labels; dlogits (or NULL)
   gets its gradient in the same pass. */
MIXPREC_C_API mixprec_status mixprec_cross_entropy(mixprec_array logits, mixprec_array labels, mixprec_array dlogits,
                                                   const mixprec_cross_entropy_options* o, double* loss);

typedef struct mixprec_optimizer_s* mixprec_optimizer;

typedef struct mixprec_adamw_options {
  size_t struct_size;
  double lr, beta1, beta2, eps, weight_decay;
  int stochastic_rounding;
  uint64_t seed;
} mixprec_adamw_options;

typedef struct mixprec_sgd_options {
  size_t struct_size;
  double lr, momentum, dampening, weight_decay;
  int nesterov;
  int stochastic_rounding;
  uint64_t seed;
} mixprec_sgd_options;

/* One parameter tensor: f32 master weights (or NULL: the model is updated directly, with
   stochastic rounding for bf16), the model copy (f32/bf16/f16) and its gradient. */
typedef struct mixprec_parameter {
  mixprec_array master;
  mixprec_array model;
  mixprec_array grad;
} mixprec_parameter;

MIXPREC_C_API void mixprec_adamw_options_init(mixprec_adamw_options* o);
MIXPREC_C_API void mixprec_sgd_options_init(mixprec_sgd_options* o);
MIXPREC_C_API mixprec_status mixprec_optimizer_create_adamw(const mixprec_adamw_options* o, mixprec_optimizer* out);
MIXPREC_C_API mixprec_status mixprec_optimizer_create_sgd(const mixprec_sgd_options* o, mixprec_optimizer* out);
MIXPREC_C_API void mixprec_optimizer_destroy(mixprec_optimizer opt);
/* One step over every parameter; gradients times grad_scale first; skip: nothing changes. */
MIXPREC_C_API mixprec_status mixprec_optimizer_step(mixprec_optimizer opt, const mixprec_parameter* params,
                                                    size_t count, double grad_scale, int skip);

/* Dynamic loss scaling (train.hpp, loss_scaler): multiply the loss by the scale before the
   backward pass; unscale divides the gradients back in one pass and says whether all are
   finite (*finite: 1 or 0); update then halves the scale after a non-finite step (which the
   optimizer is told to skip) or grows it after growth_interval finite ones. */
typedef struct mixprec_loss_scaler_s* mixprec_loss_scaler;

typedef struct mixprec_loss_scaler_options {
  size_t struct_size;
  double initial_scale, growth_factor, backoff_factor;
  int64_t growth_interval;
} mixprec_loss_scaler_options;

MIXPREC_C_API void mixprec_loss_scaler_options_init(mixprec_loss_scaler_options* o);
MIXPREC_C_API mixprec_status mixprec_loss_scaler_create(const mixprec_loss_scaler_options* o,
                                                        mixprec_loss_scaler* out);
MIXPREC_C_API void mixprec_loss_scaler_destroy(mixprec_loss_scaler s);
MIXPREC_C_API mixprec_status mixprec_loss_scaler_scale(mixprec_loss_scaler s, double* out);
MIXPREC_C_API mixprec_status mixprec_loss_scaler_unscale(mixprec_loss_scaler s, const mixprec_array* grads,
                                                         size_t count, int* finite);
MIXPREC_C_API mixprec_status mixprec_loss_scaler_update(mixprec_loss_scaler s);
MIXPREC_C_API mixprec_status mixprec_loss_scaler_skipped_steps(mixprec_loss_scaler s, int64_t* out);

#ifdef __cplusplus
}
#endif

#endif /* MIXPREC_MIXPREC_H */
