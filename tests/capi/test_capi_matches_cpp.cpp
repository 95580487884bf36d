// The C API gives the C++ API's results bit for bit: the same problems through both (a
// SciPy-made system solved by CG and by refinement, integer and packed GEMMs, layers,
// block-quantized matmul, a dense mixed-precision solve, a seeded optimizer step, the
// training backward ops and the loss scaler), compared element by element. Links the shared
// library, as a C program does.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mixprec/mixprec.h"
#include "mixprec/mixprec.hpp"

namespace {

using namespace mixprec;

const std::string data_dir = MIXPREC_TEST_DATA_DIR "/scipy";

// Owns a C handle for the test's scope.
template <class H, void (*Destroy)(H)>
struct owned {
  H h = nullptr;
  ~owned() { Destroy(h); }
  H* out() { return &h; }
  operator H() const { return h; }  // NOLINT(google-explicit-constructor)
};
using c_context = owned<mixprec_context, mixprec_context_destroy>;
using c_array = owned<mixprec_array, mixprec_array_destroy>;
using c_csr = owned<mixprec_csr, mixprec_csr_destroy>;
using c_operator = owned<mixprec_operator, mixprec_operator_destroy>;
using c_preconditioner = owned<mixprec_preconditioner, mixprec_preconditioner_destroy>;
using c_report = owned<mixprec_report, mixprec_report_destroy>;

#define C_OK(call) ASSERT_EQ((call), MIXPREC_SUCCESS) << mixprec_last_error()

class CApiMatchesCpp : public ::testing::Test {
 protected:
  void SetUp() override { C_OK(mixprec_context_create_cpu(0, ctx.out())); }

  template <class T>
  void wrap(c_array& a, std::vector<T>& v, std::initializer_list<std::int64_t> shape) {
    const std::vector<std::int64_t> s(shape);
    C_OK(mixprec_array_wrap(ctx, v.data(), static_cast<mixprec_dtype>(dtype_of<T>), int(s.size()), s.data(), nullptr,
                            a.out()));
  }

  /// mixprec_solve with preconditioner pc (or none), which must take the C++ run's iterations.
  void solve_like(mixprec_method method, mixprec_operator op, mixprec_array b, mixprec_array x,
                  mixprec_preconditioner pc, const solve_report& cpp, c_report& report) {
    mixprec_solve_options co;
    mixprec_solve_options_init(&co);
    co.preconditioner = pc;
    C_OK(mixprec_solve(method, op, b, x, &co, report.out()));
    int iterations = 0;
    C_OK(mixprec_report_iterations(report, &iterations, nullptr));
    EXPECT_EQ(iterations, cpp.iterations);
  }

  c_context ctx;
};

template <class T>
void expect_bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(T)), 0);
}

template <class T>
std::vector<T> random_values(std::size_t n, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 g{seed};
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = T(float(d(g)));
  return v;
}

TEST_F(CApiMatchesCpp, CgWithJacobiOnTheScipySystem) {
  const std::string path = data_dir + "/anisotropic_2d_scipy.mtx";
  // C++
  const csr_matrix a = csr_matrix::from_coo(read_matrix_market(path));
  const std::int64_t n = a.rows();
  std::vector<double> ones(n, 1.0), b(n), x_cpp(n, 0.0), x_c(n, 0.0);
  spmv(1.0, a, make_view(ones.data(), n), 0.0, make_view(b.data(), n), accumulation::f64);
  const csr_operator op(a);
  const jacobi_preconditioner jac(op);
  solve_options so;
  so.preconditioner = &jac;
  const solve_report rep = cg(op, make_view(b.data(), n), make_view(x_cpp.data(), n), so);
  ASSERT_TRUE(rep.converged()) << rep.summary();
  // C
  c_csr ca;
  c_operator cop;
  c_preconditioner cjac;
  c_report crep;
  c_array cb, cx;
  C_OK(mixprec_csr_read_matrix_market(ctx, path.c_str(), MIXPREC_F64, ca.out()));
  C_OK(mixprec_operator_from_csr(ca, MIXPREC_ACC_STANDARD, cop.out()));
  C_OK(mixprec_preconditioner_create(cop, MIXPREC_PRECOND_JACOBI, MIXPREC_F64, cjac.out()));
  wrap(cb, b, {n});
  wrap(cx, x_c, {n});
  solve_like(MIXPREC_CG, cop, cb, cx, cjac, rep, crep);
  expect_bitwise_equal(x_c, x_cpp);
  size_t count = 0;
  C_OK(mixprec_report_history(crep, nullptr, 0, &count));
  EXPECT_EQ(count, rep.history.size());
}

TEST_F(CApiMatchesCpp, MultigridCgAndPipelinedCgOnTheLaplaceOperator) {
  const std::int64_t nx = 24, n = nx * nx * nx;
  std::vector<double> b(n), x_cpp(n, 0.0), x_c(n, 0.0), xp_cpp(n, 0.0), xp_c(n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) b[i] = 1.0 + double(i % 5) / 5;
  const stencil_operator op(stencil::laplace_3d7(), grid_extent(nx, nx, nx), boundary_conditions{}, context::cpu());
  multigrid_options mo;
  mo.storage = dtype::f32;
  const multigrid_preconditioner mg(op, mo);
  solve_options so;
  so.preconditioner = &mg;
  const solve_report rep = cg(op, make_view(b.data(), n), make_view(x_cpp.data(), n), so);
  ASSERT_TRUE(rep.converged()) << rep.summary();
  const solve_report pipelined = cg_pipelined(op, make_view(b.data(), n), make_view(xp_cpp.data(), n));
  ASSERT_TRUE(pipelined.converged()) << pipelined.summary();

  c_operator cop;
  c_preconditioner cmg, refused;
  c_report crep, cpipe;
  c_array cb, cx, cxp;
  C_OK(mixprec_operator_laplace(ctx, 3, nx, nx, nx, cop.out()));
  C_OK(mixprec_preconditioner_create(cop, MIXPREC_PRECOND_MULTIGRID, MIXPREC_F32, cmg.out()));
  wrap(cb, b, {n});
  wrap(cx, x_c, {n});
  wrap(cxp, xp_c, {n});
  solve_like(MIXPREC_CG, cop, cb, cx, cmg, rep, crep);
  expect_bitwise_equal(x_c, x_cpp);
  solve_like(MIXPREC_CG_PIPELINED, cop, cb, cxp, nullptr, pipelined, cpipe);
  expect_bitwise_equal(xp_c, xp_cpp);

  // Multigrid needs the grid a stencil operator carries: on a CSR operator it is refused.
  c_csr ca;
  c_operator csr_op;
  C_OK(mixprec_csr_poisson_3d(nx, ca.out()));
  C_OK(mixprec_operator_from_csr(ca, MIXPREC_ACC_STANDARD, csr_op.out()));
  EXPECT_EQ(mixprec_preconditioner_create(csr_op, MIXPREC_PRECOND_MULTIGRID, MIXPREC_F32, refused.out()),
            MIXPREC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mixprec_last_error()).find("mixprec_operator_laplace"), std::string::npos);
  EXPECT_EQ(refused.h, nullptr);
}

TEST_F(CApiMatchesCpp, RefinementWithF32InnerGmres) {
  const std::string path = data_dir + "/convection_diffusion_2d_scipy.mtx";
  const csr_matrix a = csr_matrix::from_coo(read_matrix_market(path));
  const std::int64_t n = a.rows();
  std::vector<double> b(n), x_cpp(n, 0.0), x_c(n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) b[i] = 1.0 + double(i % 7) / 7;
  const csr_operator op(a);
  refinement_options ro;
  ro.policy = precision_policy::parse("f32-ir");
  ro.inner_method = inner_solver::gmres;
  const solve_report rep = refine(op, make_view(b.data(), n), make_view(x_cpp.data(), n), ro);
  ASSERT_TRUE(rep.converged()) << rep.summary();

  c_csr ca;
  c_operator cop;
  c_report crep;
  c_array cb, cx;
  C_OK(mixprec_csr_read_matrix_market(ctx, path.c_str(), MIXPREC_F64, ca.out()));
  C_OK(mixprec_operator_from_csr(ca, MIXPREC_ACC_STANDARD, cop.out()));
  wrap(cb, b, {n});
  wrap(cx, x_c, {n});
  mixprec_refine_options co;
  mixprec_refine_options_init(&co);
  C_OK(mixprec_policy_parse("f32-ir", &co.policy_matrix, &co.policy_krylov));
  co.inner_method = MIXPREC_INNER_GMRES;
  C_OK(mixprec_refine(cop, cb, cx, &co, crep.out()));
  expect_bitwise_equal(x_c, x_cpp);
  std::vector<char> message(mixprec_report_message(crep, nullptr, 0));
  mixprec_report_message(crep, message.data(), message.size());
  EXPECT_EQ(std::string(message.data()), rep.message);
}

TEST_F(CApiMatchesCpp, Int8GemmWithEpilogueAndPackedWeights) {
  const std::int64_t m = 13, k = 200, n = 70;
  std::mt19937_64 g{5};
  std::vector<std::uint8_t> a(m * k);
  std::vector<std::int8_t> b(k * n);
  for (auto& v : a) v = std::uint8_t(g() % 256);
  for (auto& v : b) v = std::int8_t(int(g() % 255) - 127);
  std::vector<float> scale = random_values<float>(n, 0.001, 0.01, 1), bias = random_values<float>(n, -1, 1, 2);
  std::vector<float> c_cpp(m * n), c_c(m * n), cp_cpp(m * n), cp_c(m * n);

  gemm_options o;
  o.a_zero_point = 128;
  o.epilogue.scale = make_view(scale.data(), n);
  o.epilogue.bias = make_view(bias.data(), n);
  o.epilogue.act = activation::gelu_erf;
  gemm(trans::no, trans::no, 0.5, make_view(a.data(), {m, k}), make_view(b.data(), {k, n}), 0.0,
       make_view(c_cpp.data(), {m, n}), o);
  const packed_matrix pb = packed_matrix::pack(make_view(b.data(), {k, n}));
  gemm(trans::no, 0.5, make_view(a.data(), {m, k}), pb, 0.0, make_view(cp_cpp.data(), {m, n}), o);

  c_array ca, cb, cc, ccp, cs, cbias;
  wrap(ca, a, {m, k});
  wrap(cb, b, {k, n});
  wrap(cc, c_c, {m, n});
  wrap(ccp, cp_c, {m, n});
  wrap(cs, scale, {n});
  wrap(cbias, bias, {n});
  mixprec_gemm_options co;
  mixprec_gemm_options_init(&co);
  co.a_zero_point = 128;
  co.scale = cs;
  co.bias = cbias;
  co.act = MIXPREC_ACT_GELU_ERF;
  C_OK(mixprec_gemm(MIXPREC_NO_TRANS, MIXPREC_NO_TRANS, 0.5, ca, cb, 0.0, cc, &co));
  owned<mixprec_packed_matrix, mixprec_packed_matrix_destroy> cpb;
  C_OK(mixprec_packed_matrix_create(cb, MIXPREC_NO_TRANS, cpb.out()));
  C_OK(mixprec_gemm_packed(MIXPREC_NO_TRANS, 0.5, ca, cpb, 0.0, ccp, &co));
  expect_bitwise_equal(c_c, c_cpp);
  expect_bitwise_equal(cp_c, cp_cpp);
  std::vector<char> layout(mixprec_packed_matrix_layout(cpb, nullptr, 0));
  mixprec_packed_matrix_layout(cpb, layout.data(), layout.size());
  EXPECT_EQ(std::string(layout.data()), pb.layout_name());
}

TEST_F(CApiMatchesCpp, LayersAndBlockQuantizedMatmul) {
  const std::int64_t rows = 6, cols = 96;
  std::vector<bfloat16> x = random_values<bfloat16>(rows * cols, -6, 6, 3), y_cpp(rows * cols), y_c(rows * cols);
  std::vector<half> h = random_values<half>(rows * cols, -3, 3, 4), hn_cpp(rows * cols), hn_c(rows * cols);
  std::vector<float> gamma = random_values<float>(cols, 0.5, 1.5, 5);
  softmax_options so;
  so.causal = true;
  so.causal_offset = 40;
  so.scale = 0.125;
  softmax(make_view(x.data(), {rows, cols}), make_view(y_cpp.data(), {rows, cols}), so);
  rms_norm(make_view(h.data(), {rows, cols}), make_view(gamma.data(), cols), make_view(hn_cpp.data(), {rows, cols}));

  c_array cx, cy, ch, chn, cg;
  wrap(cx, x, {rows, cols});
  wrap(cy, y_c, {rows, cols});
  wrap(ch, h, {rows, cols});
  wrap(chn, hn_c, {rows, cols});
  wrap(cg, gamma, {cols});
  mixprec_softmax_options co;
  mixprec_softmax_options_init(&co);
  co.causal = 1;
  co.causal_offset = 40;
  co.scale = 0.125;
  C_OK(mixprec_softmax(cx, cy, &co));
  C_OK(mixprec_rms_norm(ch, cg, chn, 1e-6, MIXPREC_ACC_STANDARD));
  expect_bitwise_equal(y_c, y_cpp);
  expect_bitwise_equal(hn_c, hn_cpp);

  // Q4_0 weights, y = x W^T.
  const std::int64_t n = 24, k = 128, m = 5;
  std::vector<float> w = random_values<float>(n * k, -1, 1, 6), xs = random_values<float>(m * k, -1, 1, 7);
  std::vector<float> yq_cpp(m * n), yq_c(m * n);
  const block_matrix bw = block_matrix::quantize(make_view(w.data(), {n, k}), block_format::q4_0);
  matmul(make_view(xs.data(), {m, k}), bw, make_view(yq_cpp.data(), {m, n}));
  c_array cw, cxs, cyq;
  wrap(cw, w, {n, k});
  wrap(cxs, xs, {m, k});
  wrap(cyq, yq_c, {m, n});
  owned<mixprec_block_matrix, mixprec_block_matrix_destroy> cbw;
  C_OK(mixprec_block_matrix_quantize(cw, MIXPREC_Q4_0, cbw.out()));
  C_OK(mixprec_block_matmul(cxs, cbw, cyq));
  expect_bitwise_equal(yq_c, yq_cpp);
}

TEST_F(CApiMatchesCpp, DenseMixedPrecisionSolve) {
  const std::int64_t n = 150;
  std::vector<double> a = random_values<double>(n * n, -0.5, 0.5, 8), b = random_values<double>(n, -1, 1, 9);
  for (std::int64_t i = 0; i < n; ++i) a[i * n + i] += 20;
  std::vector<double> x_cpp(n), x_c(n);
  dense_refinement_options o;
  o.policy = precision_policy::f32();
  const dense_solve_report rep =
      gesv_ir(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x_cpp.data(), n), o);
  ASSERT_TRUE(rep.converged());
  c_array ca, cb, cx;
  wrap(ca, a, {n, n});
  wrap(cb, b, {n});
  wrap(cx, x_c, {n});
  mixprec_dense_options co;
  mixprec_dense_options_init(&co);
  EXPECT_EQ(co.gmres_restart, o.gmres_restart);
  EXPECT_EQ(co.gmres_halving_window, o.gmres_halving_window);
  co.factorization = MIXPREC_F32;
  c_report crep;
  C_OK(mixprec_gesv_ir(ca, cb, cx, &co, crep.out()));
  expect_bitwise_equal(x_c, x_cpp);
  double be = 0;
  C_OK(mixprec_report_backward_error(crep, &be));
  EXPECT_EQ(be, rep.backward_error);

  // The same with a Cholesky factorization of the symmetric part, in f16.
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < i; ++j) a[i * n + j] = a[j * n + i];
  o.policy = precision_policy::half_matrix(dtype::f16);
  const dense_solve_report spd =
      posv_ir(make_view(a.data(), {n, n}), make_view(b.data(), n), make_view(x_cpp.data(), n), o);
  ASSERT_TRUE(spd.converged()) << spd.message;
  co.factorization = MIXPREC_F16;
  c_report cspd;
  C_OK(mixprec_posv_ir(ca, cb, cx, &co, cspd.out()));
  expect_bitwise_equal(x_c, x_cpp);
}

TEST_F(CApiMatchesCpp, SeededStochasticRoundingAdamWStep) {
  const std::int64_t n = 1000;
  std::vector<bfloat16> w_cpp = random_values<bfloat16>(n, -1, 1, 10), w_c = w_cpp;
  std::vector<float> grad = random_values<float>(n, -1e-3, 1e-3, 11);
  adamw_options o;
  o.stochastic_rounding = true;
  o.seed = 42;
  adamw opt(o);
  for (int step = 0; step < 3; ++step)
    opt.step({parameter{view{}, make_view(w_cpp.data(), n), make_view(grad.data(), n)}});

  c_array cw, cgrad;
  wrap(cw, w_c, {n});
  wrap(cgrad, grad, {n});
  mixprec_adamw_options co;
  mixprec_adamw_options_init(&co);
  co.stochastic_rounding = 1;
  co.seed = 42;
  owned<mixprec_optimizer, mixprec_optimizer_destroy> copt;
  C_OK(mixprec_optimizer_create_adamw(&co, copt.out()));
  const mixprec_parameter p{nullptr, cw, cgrad};
  for (int step = 0; step < 3; ++step) C_OK(mixprec_optimizer_step(copt, &p, 1, 1.0, 0));
  expect_bitwise_equal(w_c, w_cpp);
}

TEST_F(CApiMatchesCpp, TrainingBackwardOpsAndLossScaler) {
  const std::int64_t rows = 6, cols = 40;
  const std::size_t n = std::size_t(rows * cols);
  const std::vector<bfloat16> x = random_values<bfloat16>(n, -2, 2, 20), r = random_values<bfloat16>(n, -1, 1, 21);
  const std::vector<bfloat16> dy = random_values<bfloat16>(n, -1, 1, 22);
  const std::vector<float> gamma = random_values<float>(std::size_t(cols), 0.5, 1.5, 23);
  const std::vector<float> beta = random_values<float>(std::size_t(cols), -0.5, 0.5, 24);
  auto rows_of = [&](auto& v) { return make_view(v.data(), {rows, cols}, {cols, 1}); };
  std::vector<bfloat16> xs = x, rs = r, dys = dy;
  std::vector<float> gs = gamma, bs = beta;
  c_array cx, cr, cdy, cg, cb;
  wrap(cx, xs, {rows, cols});
  wrap(cr, rs, {rows, cols});
  wrap(cdy, dys, {rows, cols});
  wrap(cg, gs, {cols});
  wrap(cb, bs, {cols});
  norm_options no;
  no.eps = 1e-5;

  // add_layer_norm
  std::vector<bfloat16> sum_cpp(n), y_cpp(n), sum_c(n), y_c(n);
  add_layer_norm(rows_of(x), rows_of(r), make_view(gamma.data(), cols), make_view(beta.data(), cols), rows_of(sum_cpp),
                 rows_of(y_cpp), no);
  c_array csum, cy;
  wrap(csum, sum_c, {rows, cols});
  wrap(cy, y_c, {rows, cols});
  C_OK(mixprec_add_layer_norm(cx, cr, cg, cb, csum, cy, 1e-5, MIXPREC_ACC_STANDARD));
  expect_bitwise_equal(sum_c, sum_cpp);
  expect_bitwise_equal(y_c, y_cpp);

  // layer_norm_backward, the weight gradients accumulated onto what they held
  std::vector<bfloat16> dx_cpp(n), dx_c(n);
  std::vector<float> dg_cpp(std::size_t(cols), 0.25f), db_cpp(std::size_t(cols), -0.5f), dg_c = dg_cpp, db_c = db_cpp;
  layer_norm_backward(rows_of(x), make_view(gamma.data(), cols), rows_of(dy), rows_of(dx_cpp),
                      make_view(dg_cpp.data(), cols), make_view(db_cpp.data(), cols), no);
  c_array cdx, cdg, cdb;
  wrap(cdx, dx_c, {rows, cols});
  wrap(cdg, dg_c, {cols});
  wrap(cdb, db_c, {cols});
  C_OK(mixprec_layer_norm_backward(cx, cg, cdy, cdx, cdg, cdb, 1e-5));
  expect_bitwise_equal(dx_c, dx_cpp);
  expect_bitwise_equal(dg_c, dg_cpp);
  expect_bitwise_equal(db_c, db_cpp);

  // swiglu_backward (gate x, up r)
  std::vector<bfloat16> dgate_cpp(n), dup_cpp(n), dgate_c(n), dup_c(n);
  swiglu_backward(rows_of(x), rows_of(r), rows_of(dy), rows_of(dgate_cpp), rows_of(dup_cpp));
  c_array cdgate, cdup;
  wrap(cdgate, dgate_c, {rows, cols});
  wrap(cdup, dup_c, {rows, cols});
  C_OK(mixprec_swiglu_backward(cx, cr, cdy, cdgate, cdup));
  expect_bitwise_equal(dgate_c, dgate_cpp);
  expect_bitwise_equal(dup_c, dup_cpp);

  // attention for training, forward with saved probabilities and backward: 4 query heads on
  // 2 KV heads, causal
  const std::int64_t m = 5, L = 7, H = 4, G = 2, hd = 8;
  std::vector<bfloat16> q = random_values<bfloat16>(std::size_t(m * H * hd), -1, 1, 25);
  std::vector<bfloat16> k = random_values<bfloat16>(std::size_t(L * G * hd), -1, 1, 26);
  std::vector<bfloat16> v = random_values<bfloat16>(std::size_t(L * G * hd), -1, 1, 27);
  std::vector<bfloat16> dout = random_values<bfloat16>(std::size_t(m * H * hd), -1, 1, 28);
  std::vector<bfloat16> out_cpp(q.size()), out_c(q.size());
  std::vector<float> p_cpp(std::size_t(H * m * L)), p_c(p_cpp.size());
  std::vector<float> dq_cpp(q.size()), dk_cpp(k.size()), dv_cpp(v.size()), dq_c(q.size()), dk_c(k.size()),
      dv_c(v.size());
  auto mat = [](auto& vec, std::int64_t r, std::int64_t c) { return make_view(vec.data(), {r, c}, {c, 1}); };
  attention_options ao;
  ao.causal = true;
  attention_forward_saved(mat(q, m, H * hd), mat(k, L, G * hd), mat(v, L, G * hd), mat(out_cpp, m, H * hd),
                          make_view(p_cpp.data(), H * m * L), hd, ao);
  attention_backward(mat(q, m, H * hd), mat(k, L, G * hd), mat(v, L, G * hd), make_view(p_cpp.data(), H * m * L),
                     mat(dout, m, H * hd), mat(dq_cpp, m, H * hd), mat(dk_cpp, L, G * hd), mat(dv_cpp, L, G * hd), hd,
                     ao);
  c_array cq, ck, cv, cdout, cout, cp, cdq, cdk, cdv;
  wrap(cq, q, {m, H * hd});
  wrap(ck, k, {L, G * hd});
  wrap(cv, v, {L, G * hd});
  wrap(cdout, dout, {m, H * hd});
  wrap(cout, out_c, {m, H * hd});
  wrap(cp, p_c, {H * m * L});
  wrap(cdq, dq_c, {m, H * hd});
  wrap(cdk, dk_c, {L, G * hd});
  wrap(cdv, dv_c, {L, G * hd});
  C_OK(mixprec_attention_forward_saved(cq, ck, cv, cout, cp, hd, 0.0, 1));
  C_OK(mixprec_attention_backward(cq, ck, cv, cp, cdout, cdq, cdk, cdv, hd, 0.0, 1));
  expect_bitwise_equal(out_c, out_cpp);
  expect_bitwise_equal(p_c, p_cpp);
  expect_bitwise_equal(dq_c, dq_cpp);
  expect_bitwise_equal(dk_c, dk_cpp);
  expect_bitwise_equal(dv_c, dv_cpp);

  // The loss scaler over two gradients, one of them with an infinity in the second step.
  loss_scaler_options so;
  so.growth_interval = 1;
  loss_scaler ls(so);
  mixprec_loss_scaler_options cso;
  mixprec_loss_scaler_options_init(&cso);
  cso.growth_interval = 1;
  owned<mixprec_loss_scaler, mixprec_loss_scaler_destroy> cls;
  C_OK(mixprec_loss_scaler_create(&cso, cls.out()));
  std::vector<float> g1_cpp = random_values<float>(50, -1e4, 1e4, 29), g1_c = g1_cpp;
  std::vector<bfloat16> g2_cpp = random_values<bfloat16>(30, -1e4, 1e4, 30), g2_c = g2_cpp;
  c_array cg1, cg2;
  wrap(cg1, g1_c, {50});
  wrap(cg2, g2_c, {30});
  const mixprec_array grads[2] = {cg1, cg2};
  for (int step = 0; step < 2; ++step) {
    if (step == 1) g2_cpp[7] = g2_c[7] = bfloat16(std::numeric_limits<float>::infinity());
    const bool finite = ls.unscale({make_view(g1_cpp.data(), 50), make_view(g2_cpp.data(), 30)});
    ls.update();
    int cfinite = -1;
    C_OK(mixprec_loss_scaler_unscale(cls, grads, 2, &cfinite));
    C_OK(mixprec_loss_scaler_update(cls));
    EXPECT_EQ(cfinite, finite ? 1 : 0);
    EXPECT_EQ(finite, step == 0);
    double cscale = 0;
    std::int64_t cskipped = -1;
    C_OK(mixprec_loss_scaler_scale(cls, &cscale));
    C_OK(mixprec_loss_scaler_skipped_steps(cls, &cskipped));
    EXPECT_EQ(cscale, ls.scale());
    EXPECT_EQ(cskipped, ls.skipped_steps());
    expect_bitwise_equal(g1_c, g1_cpp);
    expect_bitwise_equal(g2_c, g2_cpp);
  }
}

TEST_F(CApiMatchesCpp, ErrorsCarryTheCppMessage) {
  std::vector<float> x(4), y(5);
  c_array cx, cy;
  wrap(cx, x, {4});
  wrap(cy, y, {5});
  std::string cpp_message;
  try {
    axpy(1.0, make_view(x.data(), 4), make_view(y.data(), 5));
  } catch (const error& e) {
    cpp_message = e.what();
  }
  ASSERT_FALSE(cpp_message.empty());
  EXPECT_EQ(mixprec_axpy(1.0, cx, cy), MIXPREC_SHAPE_MISMATCH);
  // The same words; only the line in the message may differ (none here: one throw site).
  EXPECT_EQ(std::string(mixprec_last_error()), cpp_message);
}

}  // namespace
