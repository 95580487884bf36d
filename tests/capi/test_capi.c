/* The C API from a C99 program: every family once, each result checked against a reference
 * computed here in double with the bound the C++ header documents, and the failure modes
 * (bad handles, read-only outputs, shapes, options structs, enums) with their messages.
 *
 *   test_capi <dir with the SciPy-made systems>
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixprec/mixprec.h"

static int failures = 0;
static const char* data_dir = ".";

#define CHECK(call)                                                                                      \
  do {                                                                                                   \
    mixprec_status s_ = (call);                                                                          \
    if (s_ != MIXPREC_SUCCESS) {                                                                         \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call, mixprec_status_name(s_), \
              mixprec_last_error());                                                                     \
      ++failures;                                                                                        \
      return;                                                                                            \
    }                                                                                                    \
  } while (0)

#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

/* The call must fail with `status`, and the message must contain `needle`. */
#define EXPECT_FAIL(call, status, needle)                                                                     \
  do {                                                                                                        \
    mixprec_status s_ = (call);                                                                               \
    if (s_ != (status) || !strstr(mixprec_last_error(), (needle))) {                                          \
      fprintf(stderr, "%s:%d: %s returned %s (\"%s\"), expected %s naming '%s'\n", __FILE__, __LINE__, #call, \
              mixprec_status_name(s_), mixprec_last_error(), mixprec_status_name(status), (needle));          \
      ++failures;                                                                                             \
    }                                                                                                         \
  } while (0)

static mixprec_context cpu;

static mixprec_array wrap1(void* data, mixprec_dtype t, int64_t n) {
  mixprec_array a = NULL;
  if (mixprec_array_wrap(cpu, data, t, 1, &n, NULL, &a) != MIXPREC_SUCCESS) {
    fprintf(stderr, "wrap1: %s\n", mixprec_last_error());
    exit(2);
  }
  return a;
}

static mixprec_array wrap2(void* data, mixprec_dtype t, int64_t rows, int64_t cols) {
  int64_t shape[2] = {rows, cols};
  mixprec_array a = NULL;
  if (mixprec_array_wrap(cpu, data, t, 2, shape, NULL, &a) != MIXPREC_SUCCESS) {
    fprintf(stderr, "wrap2: %s\n", mixprec_last_error());
    exit(2);
  }
  return a;
}

static double uniform(uint64_t* state) { /* xorshift64*, in [-1, 1) */
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return (double)((*state * 2685821657736338717ull) >> 11) / 4503599627370496.0 - 1.0;
}

static const double u32 = 5.9604644775390625e-08; /* 2^-24 */
static const double u64 = 1.1102230246251565e-16; /* 2^-53 */

/* ---- version, names, errors ------------------------------------------------------------ */

static void test_names_and_errors(void) {
  mixprec_dtype t;
  char small[4];
  float x[4] = {1, 2, 3, 4}, y[5] = {0, 0, 0, 0, 7};
  const float before[5] = {0, 0, 0, 0, 7};
  mixprec_array ax, ay, ro;
  int64_t n = 4;
  mixprec_csr csr = NULL;
  mixprec_solve_options so;
  size_t needed;

  EXPECT(mixprec_abi_version() == MIXPREC_C_ABI_VERSION);
  EXPECT(strlen(mixprec_version_string()) > 0);
  EXPECT(strcmp(mixprec_dtype_name(MIXPREC_BF16), "bf16") == 0);
  EXPECT(mixprec_dtype_size(MIXPREC_F16) == 2);
  EXPECT(strcmp(mixprec_status_name(MIXPREC_SHAPE_MISMATCH), "shape_mismatch") == 0);
  CHECK(mixprec_dtype_parse("f16", &t));
  EXPECT(t == MIXPREC_F16);
  EXPECT_FAIL(mixprec_dtype_parse("f8", &t), MIXPREC_INVALID_ARGUMENT, "'f8' is not a dtype");
  EXPECT(t == MIXPREC_F16); /* out-parameter untouched on failure */

  ax = wrap1(x, MIXPREC_F32, 4);
  ay = wrap1(y, MIXPREC_F32, 5);
  /* Shapes that disagree: named, and y untouched. */
  EXPECT_FAIL(mixprec_axpy(2.0, ax, ay), MIXPREC_SHAPE_MISMATCH, "axpy");
  EXPECT(memcmp(y, before, sizeof y) == 0);
  /* NULL and wrong-kind handles. */
  EXPECT_FAIL(mixprec_axpy(2.0, NULL, ay), MIXPREC_INVALID_ARGUMENT, "x is NULL");
  CHECK(mixprec_csr_poisson_2d(4, &csr));
  EXPECT_FAIL(mixprec_scal(2.0, (mixprec_array)(void*)csr), MIXPREC_INVALID_ARGUMENT, "not a live mixprec_array");
  /* A read-only array is refused as an output. */
  CHECK(mixprec_array_wrap_const(cpu, x, MIXPREC_F32, 1, &n, NULL, &ro));
  EXPECT_FAIL(mixprec_scal(2.0, ro), MIXPREC_INVALID_ARGUMENT, "read-only");
  EXPECT(x[0] == 1.0f);
  /* Bad views: a negative extent, a rank beyond 4. */
  n = -3;
  {
    mixprec_array bad = NULL;
    EXPECT_FAIL(mixprec_array_wrap(cpu, x, MIXPREC_F32, 1, &n, NULL, &bad), MIXPREC_INVALID_ARGUMENT, "negative");
    EXPECT(bad == NULL);
    EXPECT_FAIL(mixprec_array_wrap(cpu, x, MIXPREC_F32, 5, &n, NULL, &bad), MIXPREC_INVALID_ARGUMENT, "rank 5");
    EXPECT_FAIL(mixprec_array_wrap(cpu, x, (mixprec_dtype)42, 1, &n, NULL, &bad), MIXPREC_INVALID_ARGUMENT,
                "42 is not a mixprec_dtype");
  }
  /* An options struct not set up by its init function. */
  memset(&so, 0, sizeof so);
  {
    mixprec_operator op = NULL;
    mixprec_report rep = NULL;
    double b[16], xs[16];
    mixprec_array ab, axs;
    int i;
    for (i = 0; i < 16; ++i) b[i] = 1, xs[i] = 0;
    ab = wrap1(b, MIXPREC_F64, 16);
    axs = wrap1(xs, MIXPREC_F64, 16);
    CHECK(mixprec_operator_from_csr(csr, MIXPREC_ACC_STANDARD, &op));
    EXPECT_FAIL(mixprec_solve(MIXPREC_CG, op, ab, axs, &so, &rep), MIXPREC_INVALID_ARGUMENT,
                "mixprec_solve_options_init");
    EXPECT(rep == NULL);
    EXPECT_FAIL(mixprec_solve((mixprec_method)9, op, ab, axs, NULL, &rep), MIXPREC_INVALID_ARGUMENT,
                "not a mixprec_method");
    EXPECT(xs[0] == 0);
    mixprec_operator_destroy(op);
    mixprec_array_destroy(ab);
    mixprec_array_destroy(axs);
  }
  /* Text into a small buffer: truncated, terminated, the full length returned. */
  needed = mixprec_context_describe(cpu, small, sizeof small);
  EXPECT(needed > sizeof small && strlen(small) == sizeof small - 1);
  /* A successful call clears the message. */
  CHECK(mixprec_scal(1.0, ax));
  EXPECT(mixprec_last_status() == MIXPREC_SUCCESS && mixprec_last_error()[0] == '\0');
  /* Destroying a handle of the wrong kind frees nothing and says so. */
  mixprec_array_destroy((mixprec_array)(void*)csr);
  EXPECT(strstr(mixprec_last_error(), "nothing was freed") != NULL);
  mixprec_csr_destroy(csr);
  mixprec_array_destroy(ro);
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ay);
}

/* ---- BLAS-1 and conversions ---------------------------------------------------------- */

static void test_blas1(void) {
  enum { n = 1000 };
  static float x[n], y[n];
  static uint16_t xb[n];
  static double xd[n];
  uint64_t seed = 7;
  double exact = 0, abs_sum = 0, got, nrm;
  int i;
  int64_t at;
  mixprec_array ax, ay, axb, axd;
  for (i = 0; i < n; ++i) {
    x[i] = (float)uniform(&seed);
    y[i] = (float)uniform(&seed);
    exact += (double)x[i] * y[i];
    abs_sum += fabs((double)x[i] * y[i]);
  }
  ax = wrap1(x, MIXPREC_F32, n);
  ay = wrap1(y, MIXPREC_F32, n);
  CHECK(mixprec_dot(ax, ay, MIXPREC_ACC_STANDARD, &got));
  EXPECT(fabs(got - exact) <= n * u32 / (1 - n * u32) * abs_sum); /* gamma_n(u) sum |x y| */
  CHECK(mixprec_dot(ax, ay, MIXPREC_ACC_F64, &got));
  EXPECT(fabs(got - exact) <= n * u64 * abs_sum);
  /* f32 -> bf16 -> f64: each value within bf16's unit roundoff (2^-8, relative). */
  axb = wrap1(xb, MIXPREC_BF16, n);
  axd = wrap1(xd, MIXPREC_F64, n);
  CHECK(mixprec_convert(ax, axb));
  CHECK(mixprec_convert(axb, axd));
  for (i = 0; i < n; ++i) EXPECT(fabs(xd[i] - x[i]) <= fabs(x[i]) * 0.00390625);
  /* nrm2 of values near the f64 subnormal range. */
  for (i = 0; i < n; ++i) xd[i] = 3e-310;
  CHECK(mixprec_nrm2(axd, MIXPREC_ACC_STANDARD, &nrm));
  EXPECT(fabs(nrm - 3e-310 * sqrt((double)n)) <= 1e-12 * nrm);
  xd[17] = -1;
  CHECK(mixprec_amax(axd, &at));
  EXPECT(at == 17);
  CHECK(mixprec_fill(ay, 0.5));
  CHECK(mixprec_axpby(2.0, ax, -1.0, ay));
  for (i = 0; i < n; ++i) EXPECT(y[i] == 2.0f * x[i] - 0.5f);
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ay);
  mixprec_array_destroy(axb);
  mixprec_array_destroy(axd);
}

/* ---- sparse matrices and solvers on the SciPy-made systems ---------------------------- */

static double true_relative_residual(mixprec_csr a, const double* b, double* x, int64_t n) {
  double* r = malloc(sizeof(double) * (size_t)n);
  double rn = 0, bn = 0;
  int64_t i;
  mixprec_array ax = wrap1(x, MIXPREC_F64, n), ar = wrap1(r, MIXPREC_F64, n);
  memcpy(r, b, sizeof(double) * (size_t)n);
  if (mixprec_csr_spmv(-1.0, a, ax, 1.0, ar, MIXPREC_ACC_F64) != MIXPREC_SUCCESS) rn = NAN;
  for (i = 0; i < n; ++i) rn += r[i] * r[i], bn += b[i] * b[i];
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ar);
  free(r);
  return sqrt(rn / bn);
}

static void solve_system(const char* file, mixprec_method method, mixprec_preconditioner_kind pk, int refine) {
  char path[1024], summary[512];
  mixprec_csr a = NULL;
  mixprec_operator op = NULL;
  mixprec_preconditioner pc = NULL;
  mixprec_report rep = NULL;
  mixprec_solve_options so;
  mixprec_refine_options ro;
  mixprec_stop_reason reason;
  int64_t rows, cols, nnz, i;
  double *b, *x, *ones, tr_report, fr;
  mixprec_array ab, ax, a1;
  int it;
  snprintf(path, sizeof path, "%s/%s", data_dir, file);
  CHECK(mixprec_csr_read_matrix_market(cpu, path, MIXPREC_F64, &a));
  CHECK(mixprec_csr_info(a, &rows, &cols, &nnz, NULL));
  EXPECT(rows == cols && nnz > rows);
  b = malloc(sizeof(double) * (size_t)rows);
  x = calloc((size_t)rows, sizeof(double));
  ones = malloc(sizeof(double) * (size_t)rows);
  for (i = 0; i < rows; ++i) ones[i] = 1;
  ab = wrap1(b, MIXPREC_F64, rows);
  ax = wrap1(x, MIXPREC_F64, rows);
  a1 = wrap1(ones, MIXPREC_F64, rows);
  CHECK(mixprec_csr_spmv(1.0, a, a1, 0.0, ab, MIXPREC_ACC_F64)); /* b = A 1 */
  CHECK(mixprec_operator_from_csr(a, MIXPREC_ACC_STANDARD, &op));
  CHECK(mixprec_preconditioner_create(op, pk, MIXPREC_F64, &pc));
  mixprec_solve_options_init(&so);
  so.preconditioner = pc;
  so.max_iterations = 5000;
  if (refine) {
    mixprec_refine_options_init(&ro);
    CHECK(mixprec_policy_parse("f32-ir", &ro.policy_matrix, &ro.policy_krylov));
    EXPECT_FAIL(mixprec_policy_parse("f64+f32-halo", NULL, NULL), MIXPREC_UNSUPPORTED, "distributed operators");
    ro.inner_method = method == MIXPREC_CG ? MIXPREC_INNER_CG : MIXPREC_INNER_GMRES;
    CHECK(mixprec_refine(op, ab, ax, &ro, &rep));
  } else {
    CHECK(mixprec_solve(method, op, ab, ax, &so, &rep));
  }
  CHECK(mixprec_report_reason(rep, &reason));
  CHECK(mixprec_report_iterations(rep, &it, NULL));
  CHECK(mixprec_report_residuals(rep, &fr, &tr_report));
  mixprec_report_summary(rep, summary, sizeof summary);
  printf("  %s: %s\n", file, summary);
  EXPECT(reason == MIXPREC_STOP_CONVERGED);
  EXPECT(it > 0);
  /* Converged must mean the true f64 residual meets the tolerance. */
  EXPECT(tr_report <= 1e-8);
  EXPECT(true_relative_residual(a, b, x, rows) <= 1e-8);
  mixprec_report_destroy(rep);
  mixprec_preconditioner_destroy(pc);
  mixprec_operator_destroy(op);
  mixprec_csr_destroy(a);
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ax);
  mixprec_array_destroy(a1);
  free(b);
  free(x);
  free(ones);
}

static void test_sparse(void) {
  /* A wrapped CSR matrix (the caller's arrays): checked on wrap, naming what is wrong. */
  int32_t rp[4] = {0, 2, 3, 5}, ci[5] = {0, 1, 1, 0, 2}, bad_ci[5] = {0, 1, 1, 0, 3};
  double v[5] = {2, -1, 3, -1, 4}, x[3] = {1, 2, 3}, y[3] = {9, 9, 9};
  mixprec_csr a = NULL, bad = NULL, p = NULL;
  mixprec_dia d = NULL;
  mixprec_array ax, ay;
  int64_t diags;
  int i;
  CHECK(mixprec_csr_wrap(cpu, 3, 3, MIXPREC_INDEX_I32, rp, ci, MIXPREC_F64, v, 0, &a));
  EXPECT_FAIL(mixprec_csr_wrap(cpu, 3, 3, MIXPREC_INDEX_I32, rp, bad_ci, MIXPREC_F64, v, 0, &bad),
              MIXPREC_INVALID_ARGUMENT, "column");
  EXPECT(bad == NULL);
  ax = wrap1(x, MIXPREC_F64, 3);
  ay = wrap1(y, MIXPREC_F64, 3);
  CHECK(mixprec_csr_spmv(1.0, a, ax, 0.0, ay, MIXPREC_ACC_STANDARD));
  EXPECT(y[0] == 0 && y[1] == 6 && y[2] == 11);
  /* DIA agrees with CSR on a banded matrix. */
  CHECK(mixprec_csr_poisson_2d(8, &p));
  CHECK(mixprec_dia_from_csr(p, 0, &d));
  CHECK(mixprec_dia_info(d, NULL, NULL, &diags));
  EXPECT(diags == 5);
  {
    double xs[64], y1[64], y2[64];
    mixprec_array a1, a2, a3;
    for (i = 0; i < 64; ++i) xs[i] = i % 7 - 3;
    a1 = wrap1(xs, MIXPREC_F64, 64);
    a2 = wrap1(y1, MIXPREC_F64, 64);
    a3 = wrap1(y2, MIXPREC_F64, 64);
    CHECK(mixprec_csr_spmv(1.0, p, a1, 0.0, a2, MIXPREC_ACC_STANDARD));
    CHECK(mixprec_dia_spmv(1.0, d, a1, 0.0, a3, MIXPREC_ACC_STANDARD));
    for (i = 0; i < 64; ++i) EXPECT(y1[i] == y2[i]);
    mixprec_array_destroy(a1);
    mixprec_array_destroy(a2);
    mixprec_array_destroy(a3);
  }
  mixprec_dia_destroy(d);
  mixprec_csr_destroy(p);
  mixprec_csr_destroy(a);
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ay);

  solve_system("anisotropic_2d_scipy.mtx", MIXPREC_CG, MIXPREC_PRECOND_JACOBI, 0);
  solve_system("anisotropic_2d_scipy.mtx", MIXPREC_CG, MIXPREC_PRECOND_IC0, 1);
  solve_system("convection_diffusion_2d_scipy.mtx", MIXPREC_GMRES, MIXPREC_PRECOND_ILU0, 0);
  solve_system("convection_diffusion_2d_scipy.mtx", MIXPREC_BICGSTAB, MIXPREC_PRECOND_JACOBI, 0);
  solve_system("convection_diffusion_2d_scipy.mtx", MIXPREC_GMRES, MIXPREC_PRECOND_JACOBI, 1);
}

/* A matrix-free operator: the 1D Laplacian tridiag(-1, 2, -1), applied by the caller. */
static int laplace_1d(void* user, mixprec_array x, mixprec_array y) {
  int64_t n, i;
  double *xs, *ys;
  (void)user;
  if (mixprec_array_size(x, &n) || mixprec_array_data(x, (void**)&xs) || mixprec_array_data(y, (void**)&ys)) return 1;
  for (i = 0; i < n; ++i) ys[i] = 2 * xs[i] - (i > 0 ? xs[i - 1] : 0) - (i + 1 < n ? xs[i + 1] : 0);
  return 0;
}

static int failing_apply(void* user, mixprec_array x, mixprec_array y) {
  (void)user, (void)x, (void)y;
  return 3;
}

/* The caller's preconditioner: z = r / 4 (Jacobi for the 2D Poisson matrix, whose
   diagonal is 4), in whichever dtype the solver hands over; counts its calls per dtype. */
static int quarter_calls[2];
static int quarter(void* user, mixprec_array r, mixprec_array z) {
  int64_t n, i;
  mixprec_dtype t;
  void *rs, *zs;
  (void)user;
  if (mixprec_array_size(r, &n) || mixprec_array_dtype(r, &t) || mixprec_array_data(r, &rs) ||
      mixprec_array_data(z, &zs))
    return 1;
  for (i = 0; i < n; ++i) {
    if (t == MIXPREC_F32)
      ((float*)zs)[i] = ((const float*)rs)[i] / 4;
    else
      ((double*)zs)[i] = ((const double*)rs)[i] / 4;
  }
  ++quarter_calls[t == MIXPREC_F32];
  return 0;
}

static void test_callback_preconditioner(void) {
  enum { side = 24, n = side * side };
  double b[n], x_own[n], x_lib[n];
  mixprec_csr p = NULL;
  mixprec_operator op = NULL;
  mixprec_preconditioner own = NULL, lib = NULL, bad = NULL;
  mixprec_report rep = NULL;
  mixprec_solve_options so;
  mixprec_refine_options ro;
  mixprec_array ab, ax_own, ax_lib;
  int it_own, it_lib, i;
  for (i = 0; i < n; ++i) b[i] = 1 + (i % 7), x_own[i] = x_lib[i] = 0;
  ab = wrap1(b, MIXPREC_F64, n);
  ax_own = wrap1(x_own, MIXPREC_F64, n);
  ax_lib = wrap1(x_lib, MIXPREC_F64, n);
  CHECK(mixprec_csr_poisson_2d(side, &p));
  CHECK(mixprec_operator_from_csr(p, MIXPREC_ACC_STANDARD, &op));
  CHECK(mixprec_preconditioner_from_callback(cpu, n, quarter, NULL, &own));
  CHECK(mixprec_preconditioner_create(op, MIXPREC_PRECOND_JACOBI, MIXPREC_F64, &lib));
  mixprec_solve_options_init(&so);
  so.rel_tol = 1e-10;
  /* PCG with the caller's M takes the steps of the library's Jacobi (1/4 is exact). */
  so.preconditioner = own;
  CHECK(mixprec_solve(MIXPREC_CG, op, ab, ax_own, &so, &rep));
  CHECK(mixprec_report_iterations(rep, &it_own, NULL));
  mixprec_report_destroy(rep);
  so.preconditioner = lib;
  CHECK(mixprec_solve(MIXPREC_CG, op, ab, ax_lib, &so, &rep));
  CHECK(mixprec_report_iterations(rep, &it_lib, NULL));
  mixprec_report_destroy(rep);
  EXPECT(it_own == it_lib && quarter_calls[0] >= it_own);
  for (i = 0; i < n; ++i) EXPECT(fabs(x_own[i] - x_lib[i]) <= 1e-10 * fabs(x_lib[i]));
  /* In f32 refinement it preconditions the inner solves, on f32 vectors. */
  for (i = 0; i < n; ++i) x_own[i] = 0;
  mixprec_refine_options_init(&ro);
  CHECK(mixprec_policy_parse("f32-ir", &ro.policy_matrix, &ro.policy_krylov));
  ro.outer.rel_tol = 1e-10;
  ro.inner.preconditioner = own;
  CHECK(mixprec_refine(op, ab, ax_own, &ro, &rep));
  mixprec_report_destroy(rep);
  EXPECT(quarter_calls[1] > 0);
  EXPECT(true_relative_residual(p, b, x_own, n) <= 1e-10);
  /* A failing callback fails the solve, by the function that wrapped it. */
  CHECK(mixprec_preconditioner_from_callback(cpu, n, failing_apply, NULL, &bad));
  so.preconditioner = bad;
  rep = NULL;
  EXPECT_FAIL(mixprec_solve(MIXPREC_CG, op, ab, ax_own, &so, &rep), MIXPREC_INVALID_ARGUMENT,
              "mixprec_preconditioner_from_callback: invalid_argument: the apply callback returned 3");
  EXPECT(rep == NULL);
  mixprec_preconditioner_destroy(bad);
  bad = NULL;
  EXPECT_FAIL(mixprec_preconditioner_from_callback(cpu, n, NULL, NULL, &bad), MIXPREC_INVALID_ARGUMENT,
              "apply is NULL");
  EXPECT(bad == NULL);
  EXPECT_FAIL(mixprec_preconditioner_from_callback(cpu, -1, quarter, NULL, &bad), MIXPREC_INVALID_ARGUMENT, "-1");
  EXPECT(bad == NULL);
  mixprec_preconditioner_destroy(own);
  mixprec_preconditioner_destroy(lib);
  mixprec_operator_destroy(op);
  mixprec_csr_destroy(p);
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ax_own);
  mixprec_array_destroy(ax_lib);
}

static void test_callback_operator(void) {
  enum { n = 50 };
  double b[n], x[n];
  mixprec_operator op = NULL, bad = NULL;
  mixprec_report rep = NULL;
  mixprec_stop_reason reason;
  mixprec_array ab, ax;
  int i;
  for (i = 0; i < n; ++i) b[i] = 1, x[i] = 0;
  ab = wrap1(b, MIXPREC_F64, n);
  ax = wrap1(x, MIXPREC_F64, n);
  CHECK(mixprec_operator_from_callback(cpu, n, n, laplace_1d, NULL, &op));
  CHECK(mixprec_solve(MIXPREC_CG, op, ab, ax, NULL, &rep));
  CHECK(mixprec_report_reason(rep, &reason));
  EXPECT(reason == MIXPREC_STOP_CONVERGED);
  /* The exact solution of -u'' = 1 with zero ends: x_i = (i+1)(n-i)/2. */
  for (i = 0; i < n; ++i) EXPECT(fabs(x[i] - (i + 1) * (double)(n - i) / 2) <= 1e-6 * n * n);
  CHECK(mixprec_operator_from_callback(cpu, n, n, failing_apply, NULL, &bad));
  mixprec_report_destroy(rep);
  rep = NULL;
  EXPECT_FAIL(mixprec_solve(MIXPREC_CG, bad, ab, ax, NULL, &rep), MIXPREC_INVALID_ARGUMENT, "callback returned 3");
  EXPECT(rep == NULL);
  mixprec_operator_destroy(bad);
  mixprec_operator_destroy(op);
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ax);
}

/* ---- dense solves ----------------------------------------------------------------------- */

static void test_dense(void) {
  enum { n = 200 };
  static double a[n * n], b[n], x[n];
  uint64_t seed = 11;
  int i, j;
  double be;
  char path[128];
  mixprec_array aa, ab, ax;
  mixprec_dense_options o;
  mixprec_report rep = NULL;
  mixprec_stop_reason reason;
  for (i = 0; i < n; ++i) {
    double row = 0;
    for (j = 0; j < n; ++j) row += fabs(a[i * n + j] = uniform(&seed) / 2);
    a[i * n + i] = row; /* HPL-MxP's diagonally dominant matrix */
    b[i] = uniform(&seed);
  }
  aa = wrap2(a, MIXPREC_F64, n, n);
  ab = wrap1(b, MIXPREC_F64, n);
  ax = wrap1(x, MIXPREC_F64, n);
  mixprec_dense_options_init(&o);
  o.factorization = MIXPREC_BF16;
  o.gmres = 1;
  CHECK(mixprec_gesv_ir(aa, ab, ax, &o, &rep));
  CHECK(mixprec_report_reason(rep, &reason));
  CHECK(mixprec_report_backward_error(rep, &be));
  mixprec_report_path(rep, path, sizeof path);
  printf("  gesv_ir: %s, backward error %.2e\n", path, be);
  EXPECT(reason == MIXPREC_STOP_CONVERGED);
  EXPECT(be <= n * u64 * 16);
  EXPECT(strstr(path, "bf16") != NULL);
  mixprec_report_destroy(rep);

  /* The same solve through a solver that keeps the factorization: x exactly gesv_ir's, twice;
     a's handle may go while the solver lives (a's memory may not). */
  {
    static double y[n];
    mixprec_dense_solver solver = NULL;
    mixprec_array ay = wrap1(y, MIXPREC_F64, n);
    int same = 1, round;
    CHECK(mixprec_dense_solver_create(aa, 0, &o, &solver));
    mixprec_array_destroy(aa);
    aa = NULL;
    for (round = 0; round < 2; ++round) {
      rep = NULL;
      CHECK(mixprec_dense_solver_solve(solver, ab, ay, &rep));
      CHECK(mixprec_report_reason(rep, &reason));
      EXPECT(reason == MIXPREC_STOP_CONVERGED);
      for (i = 0; i < n; ++i) same &= y[i] == x[i];
      EXPECT(same);
      mixprec_report_destroy(rep);
    }
    /* A b of the wrong length is refused, naming the function. */
    {
      mixprec_array short_b = wrap1(b, MIXPREC_F64, n - 1);
      rep = NULL;
      EXPECT(mixprec_dense_solver_solve(solver, short_b, ay, &rep) == MIXPREC_SHAPE_MISMATCH);
      EXPECT(rep == NULL);
      EXPECT(strstr(mixprec_last_error(), "b and x must be vectors") != NULL);
      mixprec_array_destroy(short_b);
    }
    /* A new matrix of the same size, factored in the first's memory, solves as gesv_ir does;
       one of another size is refused and the solver keeps the matrix it had. */
    {
      static double a2[n * n], z[n];
      mixprec_array a2a = wrap2(a2, MIXPREC_F64, n, n), az = wrap1(z, MIXPREC_F64, n);
      mixprec_array small = wrap2(a2, MIXPREC_F64, n - 1, n - 1);
      for (i = 0; i < n * n; ++i) a2[i] = i % (n + 1) == 0 ? 2 * a[i] : a[i];
      CHECK(mixprec_dense_solver_refactor(solver, a2a));
      rep = NULL;
      CHECK(mixprec_dense_solver_solve(solver, ab, ay, &rep));
      mixprec_report_destroy(rep);
      rep = NULL;
      CHECK(mixprec_gesv_ir(a2a, ab, az, &o, &rep));
      mixprec_report_destroy(rep);
      for (i = 0; i < n; ++i) same &= y[i] == z[i];
      EXPECT(same);
      EXPECT(mixprec_dense_solver_refactor(solver, small) == MIXPREC_SHAPE_MISMATCH);
      EXPECT(strstr(mixprec_last_error(), "this solver factors 200 x 200") != NULL);
      mixprec_array_destroy(small);
      mixprec_array_destroy(az);
      mixprec_array_destroy(a2a);
    }
    mixprec_dense_solver_destroy(solver);
    mixprec_array_destroy(ay);
  }
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ax);
}

/* ---- GEMM, quantization ---------------------------------------------------------------- */

static void test_gemm(void) {
  enum { m = 7, k = 67, n = 33 };
  static uint8_t a[m * k];
  static int8_t b[k * n];
  static int32_t c[m * n], cp[m * n];
  static float af[m * k], bf[k * n], cf[m * n];
  uint64_t seed = 3;
  int i, j, l;
  mixprec_array aa, ab, ac, acp, aaf, abf, acf;
  mixprec_packed_matrix packed = NULL;
  mixprec_gemm_options o;
  for (i = 0; i < m * k; ++i) a[i] = (uint8_t)(128 + 127 * uniform(&seed)), af[i] = (float)uniform(&seed);
  for (i = 0; i < k * n; ++i) b[i] = (int8_t)(127 * uniform(&seed)), bf[i] = (float)uniform(&seed);
  aa = wrap2(a, MIXPREC_U8, m, k);
  ab = wrap2(b, MIXPREC_I8, k, n);
  ac = wrap2(c, MIXPREC_I32, m, n);
  acp = wrap2(cp, MIXPREC_I32, m, n);
  mixprec_gemm_options_init(&o);
  o.a_zero_point = 128;
  CHECK(mixprec_gemm(MIXPREC_NO_TRANS, MIXPREC_NO_TRANS, 1.0, aa, ab, 0.0, ac, &o));
  CHECK(mixprec_packed_matrix_create(ab, MIXPREC_NO_TRANS, &packed));
  CHECK(mixprec_gemm_packed(MIXPREC_NO_TRANS, 1.0, aa, packed, 0.0, acp, &o));
  for (i = 0; i < m; ++i)
    for (j = 0; j < n; ++j) {
      int64_t s = 0;
      for (l = 0; l < k; ++l) s += (int64_t)(a[i * k + l] - 128) * b[l * n + j];
      EXPECT(c[i * n + j] == s); /* integer GEMM is exact */
      EXPECT(cp[i * n + j] == s);
    }
  /* f32 with a bias and ReLU: within k u |A||B| of the f64 result. */
  aaf = wrap2(af, MIXPREC_F32, m, k);
  abf = wrap2(bf, MIXPREC_F32, k, n);
  acf = wrap2(cf, MIXPREC_F32, m, n);
  CHECK(mixprec_gemm(MIXPREC_NO_TRANS, MIXPREC_NO_TRANS, 1.0, aaf, abf, 0.0, acf, NULL));
  for (i = 0; i < m; ++i)
    for (j = 0; j < n; ++j) {
      double s = 0, sa = 0;
      for (l = 0; l < k; ++l)
        s += (double)af[i * k + l] * bf[l * n + j], sa += fabs((double)af[i * k + l] * bf[l * n + j]);
      EXPECT(fabs(cf[i * n + j] - s) <= (k + 1) * u32 * sa);
    }
  /* A k that does not match: refused, C untouched. */
  {
    mixprec_array short_b = wrap2(b, MIXPREC_I8, k - 1, n);
    int32_t keep = cp[0];
    EXPECT_FAIL(mixprec_gemm(MIXPREC_NO_TRANS, MIXPREC_NO_TRANS, 1.0, aa, short_b, 0.0, acp, &o),
                MIXPREC_SHAPE_MISMATCH, "gemm");
    EXPECT(cp[0] == keep);
    mixprec_array_destroy(short_b);
  }
  mixprec_packed_matrix_destroy(packed);
  mixprec_array_destroy(aa);
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ac);
  mixprec_array_destroy(acp);
  mixprec_array_destroy(aaf);
  mixprec_array_destroy(abf);
  mixprec_array_destroy(acf);
}

static void test_quantization(void) {
  enum { rows = 64, cols = 16 };
  static float w[rows * cols], back[rows * cols];
  static int8_t q[rows * cols];
  static float wk[8 * 64], wk_back[8 * 64], xk[2 * 64], yk[2 * 8];
  uint64_t seed = 5;
  int i, j;
  int64_t count;
  mixprec_quant_scheme s;
  mixprec_quant_params p = NULL;
  mixprec_block_matrix bm = NULL;
  mixprec_array aw, aq, aback, awk, awkb, axk, ayk;
  for (i = 0; i < rows * cols; ++i) w[i] = (float)(uniform(&seed) * (1 + i % cols));
  aw = wrap2(w, MIXPREC_F32, rows, cols);
  aq = wrap2(q, MIXPREC_I8, rows, cols);
  aback = wrap2(back, MIXPREC_F32, rows, cols);
  mixprec_quant_scheme_init(&s);
  s.granularity = MIXPREC_PER_CHANNEL;
  s.axis = 1;
  CHECK(mixprec_quant_params_choose(aw, &s, &p));
  CHECK(mixprec_quant_params_count(p, &count));
  EXPECT(count == cols);
  CHECK(mixprec_quantize(aw, p, aq));
  CHECK(mixprec_dequantize(aq, p, aback));
  for (j = 0; j < cols; ++j) {
    float scale;
    int32_t zp;
    CHECK(mixprec_quant_params_get(p, j, &scale, &zp));
    EXPECT(zp == 0);
    for (i = 0; i < rows; ++i) EXPECT(fabs(back[i * cols + j] - w[i * cols + j]) <= scale / 2 * (1 + 4 * u32));
  }
  EXPECT_FAIL(mixprec_quant_params_get(p, cols, NULL, NULL), MIXPREC_INVALID_ARGUMENT, "index 16");
  /* Q8_0 blocks: each value within half its block's scale; the matmul within its bound of
     the dequantized product. */
  for (i = 0; i < 8 * 64; ++i) wk[i] = (float)uniform(&seed);
  for (i = 0; i < 2 * 64; ++i) xk[i] = (float)uniform(&seed);
  awk = wrap2(wk, MIXPREC_F32, 8, 64);
  awkb = wrap2(wk_back, MIXPREC_F32, 8, 64);
  axk = wrap2(xk, MIXPREC_F32, 2, 64);
  ayk = wrap2(yk, MIXPREC_F32, 2, 8);
  CHECK(mixprec_block_matrix_quantize(awk, MIXPREC_Q8_0, &bm));
  CHECK(mixprec_block_matrix_dequantize(bm, awkb));
  /* Per block of 32: d = max|w| / 127 rounded to f16 (relative 2^-11), q = round(w / d):
     |q d16 - w| <= d / 2 + 127 d 2^-11. */
  for (i = 0; i < 8 * 64; i += 32) {
    double mx = 0, d;
    int l;
    for (l = 0; l < 32; ++l) mx = fmax(mx, fabs(wk[i + l]));
    d = mx / 127;
    for (l = 0; l < 32; ++l) EXPECT(fabs(wk_back[i + l] - wk[i + l]) <= d * (0.5 + 127.0 / 2048) * (1 + 4 * u32));
  }
  CHECK(mixprec_block_matmul(axk, bm, ayk));
  for (i = 0; i < 2; ++i)
    for (j = 0; j < 8; ++j) {
      double s = 0, sa = 0;
      int l;
      for (l = 0; l < 64; ++l) s += (double)xk[i * 64 + l] * wk_back[j * 64 + l], sa += fabs(xk[i * 64 + l]);
      /* x is quantized to Q8_0 too: half its block scale (max|x| / 254) per value. */
      EXPECT(fabs(yk[i * 8 + j] - s) <= sa * 1.0 / 254 + 1e-5);
    }
  {
    const void* bytes;
    size_t nbytes;
    CHECK(mixprec_block_matrix_bytes(bm, &bytes, &nbytes));
    EXPECT(nbytes == 8 * 2 * 34);
  }
  mixprec_block_matrix_destroy(bm);
  mixprec_quant_params_destroy(p);
  mixprec_array_destroy(aw);
  mixprec_array_destroy(aq);
  mixprec_array_destroy(aback);
  mixprec_array_destroy(awk);
  mixprec_array_destroy(awkb);
  mixprec_array_destroy(axk);
  mixprec_array_destroy(ayk);
}

/* ---- transformer layers and training ----------------------------------------------------- */

static void test_layers(void) {
  enum { rows = 4, cols = 48, heads = 2, head_dim = 24 };
  static float x[rows * cols], y[rows * cols], gamma[cols];
  static int32_t pos[rows];
  uint64_t seed = 9;
  int i, j;
  mixprec_array ax, ay, ag, apos;
  mixprec_softmax_options so;
  for (i = 0; i < rows * cols; ++i) x[i] = (float)(4 * uniform(&seed));
  for (j = 0; j < cols; ++j) gamma[j] = (float)(1 + uniform(&seed) / 2);
  ax = wrap2(x, MIXPREC_F32, rows, cols);
  ay = wrap2(y, MIXPREC_F32, rows, cols);
  ag = wrap1(gamma, MIXPREC_F32, cols);
  /* softmax: each entry within its documented bound of the f64 softmax. */
  mixprec_softmax_options_init(&so);
  CHECK(mixprec_softmax(ax, ay, &so));
  for (i = 0; i < rows; ++i) {
    double mx = -INFINITY, sum = 0, zmax = 0;
    for (j = 0; j < cols; ++j) mx = fmax(mx, x[i * cols + j]), zmax = fmax(zmax, fabs(x[i * cols + j]));
    for (j = 0; j < cols; ++j) sum += exp(x[i * cols + j] - mx);
    for (j = 0; j < cols; ++j) {
      const double ref = exp(x[i * cols + j] - mx) / sum;
      EXPECT(fabs(y[i * cols + j] - ref) <= (u32 + (cols + 8 + 2 * fabs(x[i * cols + j]) + 6 * zmax) * u32) * ref);
    }
  }
  /* rms_norm with gamma. */
  CHECK(mixprec_rms_norm(ax, ag, ay, 1e-6, MIXPREC_ACC_STANDARD));
  for (i = 0; i < rows; ++i) {
    double ms = 0;
    for (j = 0; j < cols; ++j) ms += (double)x[i * cols + j] * x[i * cols + j];
    ms = 1 / sqrt(ms / cols + 1e-6);
    for (j = 0; j < cols; ++j) {
      const double ref = x[i * cols + j] * ms * gamma[j];
      EXPECT(fabs(y[i * cols + j] - ref) <= (u32 + (cols / 2.0 + 8) * u32) * fabs(ref));
    }
  }
  /* RoPE keeps each pair's length (a rotation), within its bound. */
  for (i = 0; i < rows; ++i) pos[i] = 5 + i;
  apos = wrap1(pos, MIXPREC_I32, rows);
  memcpy(y, x, sizeof x);
  CHECK(mixprec_rope(ay, head_dim, apos, 10000.0, MIXPREC_ROPE_HALF_SPLIT, 0));
  for (i = 0; i < rows; ++i)
    for (j = 0; j < heads * head_dim; ++j) {
      const int h = j / head_dim, d = j % head_dim, half = head_dim / 2;
      if (d < half) {
        const int p0 = i * cols + h * head_dim + d, p1 = p0 + half;
        const double before = hypot(x[p0], x[p1]), after = hypot(y[p0], y[p1]);
        EXPECT(fabs(after - before) <= 10 * u32 * (fabs(x[p0]) + fabs(x[p1])));
      }
    }
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ay);
  mixprec_array_destroy(ag);
  mixprec_array_destroy(apos);
}

static void test_attention(void) {
  enum { L = 9, kv_heads = 1, heads = 2, d = 16 };
  static float k[L * kv_heads * d], v[L * kv_heads * d], q[heads * d], out[heads * d];
  uint64_t seed = 13;
  int i, h, t;
  int64_t size;
  mixprec_kv_cache cache = NULL;
  mixprec_array ak, av, aq, aout;
  for (i = 0; i < L * d; ++i) k[i] = (float)uniform(&seed), v[i] = (float)uniform(&seed);
  for (i = 0; i < heads * d; ++i) q[i] = (float)uniform(&seed);
  CHECK(mixprec_kv_cache_create(cpu, 64, kv_heads, d, MIXPREC_F32, &cache));
  ak = wrap2(k, MIXPREC_F32, L, kv_heads * d);
  av = wrap2(v, MIXPREC_F32, L, kv_heads * d);
  aq = wrap2(q, MIXPREC_F32, 1, heads * d);
  aout = wrap2(out, MIXPREC_F32, 1, heads * d);
  CHECK(mixprec_kv_cache_append(cache, ak, av));
  CHECK(mixprec_kv_cache_size(cache, &size));
  EXPECT(size == L);
  CHECK(mixprec_attention(aq, cache, aout, 0, 1)); /* decode: the one query sees every key */
  for (h = 0; h < heads; ++h) {
    double s[L], mx = -INFINITY, sum = 0;
    for (t = 0; t < L; ++t) {
      s[t] = 0;
      for (i = 0; i < d; ++i) s[t] += (double)q[h * d + i] * k[t * d + i];
      s[t] /= sqrt((double)d);
      mx = fmax(mx, s[t]);
    }
    for (t = 0; t < L; ++t) sum += s[t] = exp(s[t] - mx);
    for (i = 0; i < d; ++i) {
      double ref = 0;
      for (t = 0; t < L; ++t) ref += s[t] / sum * v[t * d + i];
      EXPECT(fabs(out[h * d + i] - ref) <= 1e-5);
    }
  }
  mixprec_kv_cache_destroy(cache);
  mixprec_array_destroy(ak);
  mixprec_array_destroy(av);
  mixprec_array_destroy(aq);
  mixprec_array_destroy(aout);
}

static void test_training(void) {
  enum { rows = 3, classes = 10, n = 64 };
  static float logits[rows * classes], dlogits[rows * classes];
  static int32_t labels[rows] = {2, -100, 7};
  static float master[n], grad[n], ref[n];
  static uint16_t model[n];
  uint64_t seed = 17;
  double loss, ref_loss = 0;
  int i, j, used = 0;
  mixprec_array al, ad, alab, am, amodel, agrad;
  mixprec_cross_entropy_options co;
  mixprec_adamw_options ao;
  mixprec_optimizer opt = NULL;
  mixprec_parameter param;
  for (i = 0; i < rows * classes; ++i) logits[i] = (float)(3 * uniform(&seed));
  al = wrap2(logits, MIXPREC_F32, rows, classes);
  ad = wrap2(dlogits, MIXPREC_F32, rows, classes);
  alab = wrap1(labels, MIXPREC_I32, rows);
  mixprec_cross_entropy_options_init(&co);
  CHECK(mixprec_cross_entropy(al, alab, ad, &co, &loss));
  for (i = 0; i < rows; ++i) {
    double mx = -INFINITY, sum = 0;
    if (labels[i] == -100) continue;
    ++used;
    for (j = 0; j < classes; ++j) mx = fmax(mx, logits[i * classes + j]);
    for (j = 0; j < classes; ++j) sum += exp(logits[i * classes + j] - mx);
    ref_loss += log(sum) + mx - logits[i * classes + labels[i]];
  }
  ref_loss /= used;
  EXPECT(fabs(loss - ref_loss) <= 1e-5 * fabs(ref_loss));
  for (j = 0; j < classes; ++j) EXPECT(dlogits[1 * classes + j] == 0); /* the ignored row */
  /* One AdamW step (PyTorch's defaults) on f32 master weights with a bf16 model copy. */
  for (i = 0; i < n; ++i) master[i] = (float)uniform(&seed), grad[i] = (float)uniform(&seed);
  for (i = 0; i < n; ++i) {
    const double g = grad[i], m = 0.1 * g, v = 0.001 * g * g, mhat = m / 0.1, vhat = v / 0.001;
    ref[i] = (float)(master[i] * (1 - 1e-3 * 0.01) - 1e-3 * mhat / (sqrt(vhat) + 1e-8));
  }
  am = wrap1(master, MIXPREC_F32, n);
  amodel = wrap1(model, MIXPREC_BF16, n);
  agrad = wrap1(grad, MIXPREC_F32, n);
  mixprec_adamw_options_init(&ao);
  EXPECT(ao.lr == 1e-3 && ao.beta2 == 0.999 && ao.weight_decay == 0.01);
  CHECK(mixprec_optimizer_create_adamw(&ao, &opt));
  param.master = am;
  param.model = amodel;
  param.grad = agrad;
  CHECK(mixprec_optimizer_step(opt, &param, 1, 1.0, 0));
  /* f32 arithmetic: about ten roundings on the step (of size lr) and two on the weight. */
  for (i = 0; i < n; ++i) EXPECT(fabs(master[i] - ref[i]) <= u32 * (2 * fabs(ref[i]) + 10 * 1e-3));
  mixprec_optimizer_destroy(opt);
  mixprec_array_destroy(al);
  mixprec_array_destroy(ad);
  mixprec_array_destroy(alab);
  mixprec_array_destroy(am);
  mixprec_array_destroy(amodel);
  mixprec_array_destroy(agrad);
}

/* Dynamic loss scaling: the scale doubles after growth_interval finite steps and halves (the
   step counted as skipped) after one with an infinite gradient, which unscale reports. */
static void test_loss_scaler(void) {
  enum { n = 8 };
  static float grad[n];
  int i, finite = -1;
  double scale = 0;
  int64_t skipped = -1;
  mixprec_loss_scaler_options so;
  mixprec_loss_scaler ls = NULL, refused = NULL;
  mixprec_array ag;
  mixprec_loss_scaler_options_init(&so);
  EXPECT(so.initial_scale == 65536.0 && so.growth_factor == 2.0 && so.backoff_factor == 0.5 &&
         so.growth_interval == 2000);
  so.growth_interval = 2;
  CHECK(mixprec_loss_scaler_create(&so, &ls));
  ag = wrap1(grad, MIXPREC_F32, n);
  for (i = 0; i < n; ++i) grad[i] = (float)(65536.0 * (i + 1));
  CHECK(mixprec_loss_scaler_unscale(ls, &ag, 1, &finite));
  EXPECT(finite == 1);
  for (i = 0; i < n; ++i) EXPECT(grad[i] == (float)(i + 1)); /* divided by 2^16, exactly */
  CHECK(mixprec_loss_scaler_update(ls));
  CHECK(mixprec_loss_scaler_unscale(ls, &ag, 1, &finite));
  CHECK(mixprec_loss_scaler_update(ls));
  CHECK(mixprec_loss_scaler_scale(ls, &scale));
  EXPECT(scale == 131072.0); /* two clean steps: doubled */
  grad[3] = INFINITY;
  CHECK(mixprec_loss_scaler_unscale(ls, &ag, 1, &finite));
  EXPECT(finite == 0);
  CHECK(mixprec_loss_scaler_update(ls));
  CHECK(mixprec_loss_scaler_scale(ls, &scale));
  CHECK(mixprec_loss_scaler_skipped_steps(ls, &skipped));
  EXPECT(scale == 65536.0 && skipped == 1);
  /* update() without an unscale() since the last one is refused, by name. */
  EXPECT(mixprec_loss_scaler_update(ls) == MIXPREC_INVALID_ARGUMENT);
  EXPECT(strstr(mixprec_last_error(), "no unscale()") != NULL);
  so.backoff_factor = 1.5;
  EXPECT(mixprec_loss_scaler_create(&so, &refused) == MIXPREC_INVALID_ARGUMENT);
  EXPECT(refused == NULL && strstr(mixprec_last_error(), "backoff_factor") != NULL);
  mixprec_loss_scaler_destroy(ls);
  mixprec_array_destroy(ag);
}

/* ---- structured grids ------------------------------------------------------------------- */

static void test_grid(void) {
  enum { nx = 12, ny = 10 };
  static double u0[ny * nx], ref[ny * nx], next[ny * nx], got[ny * nx];
  uint64_t seed = 21;
  mixprec_grid u = NULL, scratch = NULL;
  mixprec_array au0, agot;
  int i, j, s, in_scratch;
  const double r = 0.2;
  for (i = 0; i < nx * ny; ++i) ref[i] = u0[i] = uniform(&seed);
  CHECK(mixprec_grid_create(cpu, MIXPREC_F64, 2, nx, ny, 1, 1, &u));
  CHECK(mixprec_grid_create(cpu, MIXPREC_F64, 2, nx, ny, 1, 1, &scratch));
  au0 = wrap2(u0, MIXPREC_F64, ny, nx);
  agot = wrap2(got, MIXPREC_F64, ny, nx);
  CHECK(mixprec_grid_write(u, au0));
  CHECK(mixprec_heat_steps(u, scratch, r, MIXPREC_DIRICHLET, 0.0, 3, &in_scratch));
  CHECK(mixprec_grid_read(in_scratch ? scratch : u, agot));
  for (s = 0; s < 3; ++s) {
    for (j = 0; j < ny; ++j)
      for (i = 0; i < nx; ++i) {
        const double c = ref[j * nx + i], w = i > 0 ? ref[j * nx + i - 1] : 0, e = i + 1 < nx ? ref[j * nx + i + 1] : 0,
                     so = j > 0 ? ref[(j - 1) * nx + i] : 0, no = j + 1 < ny ? ref[(j + 1) * nx + i] : 0;
        next[j * nx + i] = c + r * (w + e + so + no - 4 * c);
      }
    memcpy(ref, next, sizeof ref);
  }
  for (i = 0; i < nx * ny; ++i) EXPECT(fabs(got[i] - ref[i]) <= 1e-14);
  EXPECT_FAIL(mixprec_heat_steps(u, scratch, 0.3, MIXPREC_DIRICHLET, 0.0, 1, &in_scratch), MIXPREC_INVALID_ARGUMENT,
              "stable range");
  mixprec_array_destroy(au0);
  mixprec_array_destroy(agot);
  mixprec_grid_destroy(u);
  mixprec_grid_destroy(scratch);
}

int main(int argc, char** argv) {
  if (argc > 1) data_dir = argv[1];
  if (mixprec_context_create_cpu(0, &cpu) != MIXPREC_SUCCESS) {
    fprintf(stderr, "no CPU context: %s\n", mixprec_last_error());
    return 1;
  }
  test_names_and_errors();
  test_blas1();
  test_sparse();
  test_callback_operator();
  test_callback_preconditioner();
  test_dense();
  test_gemm();
  test_quantization();
  test_layers();
  test_attention();
  test_training();
  test_loss_scaler();
  test_grid();
  mixprec_context_destroy(cpu);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("C API: all checks passed\n");
  return failures ? 1 : 0;
}
