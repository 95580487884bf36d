// Krylov solvers on SPD, nonsymmetric and indefinite problems, against a direct FP64 solve.
// For every case: the residual ||b - A x|| / ||b|| recomputed here in long double must meet
// the tolerance; the report's true residual must agree with it to within the rounding of
// evaluating b - A x in the vectors' precision; and x must be within
//   ||x - x_direct|| <= ||b - A x|| / sigma_min(A) + kappa(A) n u ||x_direct||
// of Eigen's sparse LU answer. With f32 matrix values the system solved is the rounded one,
// so the reference is built from the rounded values too.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"
#if defined(MIXPREC_TEST_EIGEN)
#include "support/direct_solve.hpp"
#endif

namespace mixprec::test {
namespace {

/// The 7-point Laplacian plus a diagonal varying from 0 to 10: SPD with a non-constant
/// diagonal, so Jacobi does something.
coo_matrix spd_varying(std::int64_t n) {
  coo_matrix a = poisson_3d(n).to_coo();
  for (std::int64_t i = 0; i < a.rows; ++i) a.add(i, i, 10.0 * double(i % 7) / 6.0);
  return a;
}

/// The 7-point Laplacian minus 1.5 I on a 6^3 grid: symmetric with 4 negative eigenvalues,
/// the nearest eigenvalue 0.2 away from zero.
coo_matrix indefinite() {
  coo_matrix a = poisson_3d(6).to_coo();
  for (std::int64_t i = 0; i < a.rows; ++i) a.add(i, i, -1.5);
  return a;
}

coo_matrix problem(const std::string& name) {
  if (name == "poisson") return poisson_3d(8).to_coo();
  if (name == "spd_varying") return spd_varying(8);
  if (name == "convdiff") return convection_diffusion_3d(8, 20.0).to_coo();
  if (name == "indefinite") return indefinite();
  ADD_FAILURE() << "no problem " << name;
  return {};
}

std::vector<double> zeros(std::size_t n) { return std::vector<double>(n, 0.0); }
std::vector<double> zeros(std::int64_t n) { return zeros(std::size_t(n)); }

struct solve_case {
  std::string method, problem;
  dtype matrix, vectors;
};

std::string case_name(const ::testing::TestParamInfo<solve_case>& info) {
  const auto& c = info.param;
  return c.method + "_" + c.problem + "_" + name_of(c.matrix) + "_" + name_of(c.vectors);
}

/// Runs one method with the options a user would pick for it; the preconditioner is built
/// here when the method's name asks for one.
solve_report run_method(const std::string& method, const linear_operator& a, const_view b, view x, solve_options o,
                        const coo_matrix& coo) {
  if (method == "cg") return cg(a, b, x, o);
  if (method == "pcg_jacobi") {
    jacobi_preconditioner m(a);
    o.preconditioner = &m;
    return cg(a, b, x, o);
  }
  if (method == "cg_pipelined") return cg_pipelined(a, b, x, o);
  if (method == "pcg_pipelined_jacobi") {
    jacobi_preconditioner m(a);
    o.preconditioner = &m;
    return cg_pipelined(a, b, x, o);
  }
  if (method == "bicgstab") return bicgstab(a, b, x, o);
  if (method == "gmres_mgs" || method == "gmres_cgs2" || method == "gmres_dcgs2") {
    o.ortho = method == "gmres_mgs"    ? orthogonalization::mgs
              : method == "gmres_cgs2" ? orthogonalization::cgs2
                                       : orthogonalization::dcgs2;
    o.restart = 40;
    return gmres(a, b, x, o);
  }
  if (method == "fgmres_jacobi") {
    jacobi_preconditioner m(a, dtype::f32);
    o.preconditioner = &m;
    o.restart = 20;
    return fgmres(a, b, x, o);
  }
  if (method == "chebyshev") {
    // Bounds from the spectrum, widened by 1%: Chebyshev needs an enclosing interval.
#if defined(MIXPREC_TEST_EIGEN)
    const direct_solution d = solve_directly(coo, std::vector<double>(std::size_t(coo.rows), 1.0));
    return chebyshev(a, b, x, 0.99 * d.sigma_min, 1.01 * d.sigma_max, o);
#else
    (void)coo;
    // poisson_3d(8)'s spectrum is [0.362, 11.638]; spd_varying adds a diagonal in [0, 10],
    // which moves each eigenvalue by at most that much and only upwards (Weyl's inequality).
    return chebyshev(a, b, x, 0.99 * 0.36, 1.01 * 21.7, o);
#endif
  }
  ADD_FAILURE() << "no method " << method;
  return {};
}

class krylov : public ::testing::TestWithParam<solve_case> {};

TEST_P(krylov, reaches_the_tolerance_and_the_direct_answer) {
  const solve_case& c = GetParam();
  const csr_matrix stored = csr_matrix::from_coo(problem(c.problem), c.matrix);
  const coo_matrix a = stored.to_coo();  // the values the solver sees
  const csr_operator op(stored);
  const std::int64_t n = a.rows;
  const std::vector<double> b = random_vector(n, 7);
  const double tol = c.vectors == dtype::f64 ? 1e-10 : 1e-5;
  const double u = c.vectors == dtype::f64 ? 0x1p-53 : 0x1p-24;

  std::vector<double> x(static_cast<std::size_t>(n), 0.0);
  solve_report rep;
  solve_options o;
  o.rel_tol = tol;
  o.max_iterations = 2000;
  with_type(c.vectors, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
      std::vector<T> bt(b.begin(), b.end()), xt(std::size_t(n), T(0));
      array<T> bd(bt), xd(xt);
      rep = run_method(c.method, op, bd.as_view(), xd.as_view(), o, a);
      const std::vector<T> back = xd.to_vector();
      x.assign(back.begin(), back.end());
    }
  });
  ASSERT_TRUE(rep.converged()) << rep.summary();
  EXPECT_EQ(rep.matrix_type, c.matrix);
  EXPECT_EQ(rep.working_type, c.vectors);
  EXPECT_GT(rep.iterations, 0);
  ASSERT_EQ(rep.history.size(), std::size_t(rep.iterations + 1));
  EXPECT_DOUBLE_EQ(rep.history.front(), rep.initial_residual);

  const double rel = relative_residual(a, b, x);
  EXPECT_LE(rel, tol) << rep.summary();
  // The report evaluated b - A x in the vectors' precision: rounding of at most (row nnz + 2) u
  // times |A||x| + |b| per row.
  const double rounding = (27 + 2) * u * residual_rounding_scale(a, b, x);
  EXPECT_NEAR(rep.true_residual, rel, rounding) << rep.summary();

#if defined(MIXPREC_TEST_EIGEN)
  const direct_solution d = solve_directly(a, b);
  ASSERT_EQ(d.x.size(), b.size());
  double bn = 0;
  for (double v : b) bn += v * v;
  // f32 vectors: x itself is rounded to f32, which adds up to u ||x|| more.
  const double bound = error_bound(d, rel * std::sqrt(bn), n) +
                       (c.vectors == dtype::f32 ? u * distance(d.x, std::vector<double>(b.size(), 0.0)) : 0.0);
  EXPECT_LE(distance(x, d.x), bound) << rep.summary();
#endif
}

std::vector<solve_case> krylov_cases() {
  std::vector<solve_case> v;
  for (dtype vec : {dtype::f64, dtype::f32}) {
    for (const char* m : {"cg", "pcg_jacobi", "cg_pipelined", "pcg_pipelined_jacobi", "chebyshev"})
      v.push_back({m, "spd_varying", dtype::f64, vec});
    for (const char* m : {"bicgstab", "gmres_mgs", "gmres_cgs2", "gmres_dcgs2", "fgmres_jacobi"})
      v.push_back({m, "convdiff", dtype::f64, vec});
  }
  v.push_back({"cg", "poisson", dtype::f32, dtype::f64});
  v.push_back({"cg", "poisson", dtype::bf16, dtype::f64});
  v.push_back({"gmres_cgs2", "convdiff", dtype::f16, dtype::f64});
  v.push_back({"gmres_dcgs2", "convdiff", dtype::f16, dtype::f64});
  v.push_back({"bicgstab", "convdiff", dtype::f32, dtype::f64});
  for (const char* m : {"gmres_mgs", "gmres_cgs2", "gmres_dcgs2", "bicgstab", "fgmres_jacobi"})
    v.push_back({m, "indefinite", dtype::f64, dtype::f64});
  return v;
}

INSTANTIATE_TEST_SUITE_P(solvers, krylov, ::testing::ValuesIn(krylov_cases()), case_name);

/// DCGS2 spans the Krylov space CGS2 spans, with a residual that lags the final one by the
/// second pass's correction: the same iterations but for rounding, with restarts, without a
/// preconditioner, with a fixed one (the update goes through the coordinates of the vectors
/// the operator took) and a flexible one (through the z_j kept).
TEST(solver_gmres, dcgs2_takes_the_iterations_of_cgs2) {
  for (const char* name : {"convdiff", "indefinite"}) {
    const csr_operator a(csr_matrix::from_coo(problem(name)));
    const std::vector<double> b = random_vector(a.rows(), 13);
    const jacobi_preconditioner jacobi(a);
    for (int restart : {2, 7, 40})
      for (int preconditioned : {0, 1, 2}) {  // none, fixed, flexible
        solve_options o;
        o.rel_tol = 1e-10;
        o.restart = restart;
        o.max_iterations = 3000;
        o.preconditioner = preconditioned ? &jacobi : nullptr;
        const auto run = [&](orthogonalization how) {
          o.ortho = how;
          array<double> bd(b), x(zeros(a.rows()));
          return preconditioned == 2 ? fgmres(a, bd, x, o) : gmres(a, bd, x, o);
        };
        const solve_report cgs2 = run(orthogonalization::cgs2), dcgs2 = run(orthogonalization::dcgs2);
        const std::string where = std::string(name) + " restart " + std::to_string(restart) + " preconditioner " +
                                  std::to_string(preconditioned);
        EXPECT_EQ(dcgs2.reason, cgs2.reason) << where << ": " << dcgs2.summary() << " / " << cgs2.summary();
        EXPECT_LE(std::abs(dcgs2.iterations - cgs2.iterations), 1) << where << ": " << dcgs2.summary();
        if (cgs2.converged()) EXPECT_LE(dcgs2.true_residual, o.rel_tol) << where << ": " << dcgs2.summary();
        EXPECT_NE(dcgs2.method.find("/dcgs2"), std::string::npos) << dcgs2.method;
      }
  }
}

/// Counts the sums a solve asks of its operator's reduction domain; one process, so each sum
/// is the local value.
class counting_domain : public reduction_domain {
 public:
  mutable int sums = 0;
  void sum(double*, int) const override { ++sums; }
  std::unique_ptr<pending> start_sum(double*, int) const override {
    ++sums;
    return std::make_unique<done>();
  }
  double norm(double local_norm) const override {
    ++sums;
    return local_norm;
  }
  void agree(const std::exception_ptr& e) const override {
    if (e) std::rethrow_exception(e);
  }
  int processes() const override { return 1; }

 private:
  struct done : pending {
    void wait() override {}
  };
};

/// An operator whose solves sum through a counting_domain.
class counted_operator : public linear_operator {
 public:
  counted_operator(const linear_operator& a, const counting_domain& d)
      : linear_operator(a.rows(), a.cols(), a.ctx()), a_(a), d_(d) {}
  void apply(double alpha, const_view x, double beta, view y) const override { a_.apply(alpha, x, beta, y); }
  std::string describe() const override { return a_.describe(); }
  void diagonal(double* d) const override { a_.diagonal(d); }
  const reduction_domain* reductions() const override { return &d_; }

 private:
  const linear_operator& a_;
  const counting_domain& d_;
};

/// What DCGS2 is for on many processes: one sum per step (the 2(j+2) products together),
/// besides each cycle's residual norm and last column, where CGS2 sums three times a step.
TEST(solver_gmres, dcgs2_sums_once_a_step) {
  const csr_operator a(csr_matrix::from_coo(problem("convdiff")));
  const std::vector<double> b = random_vector(a.rows(), 19);
  solve_options o;
  o.rel_tol = 1e-10;
  o.restart = 10;
  for (orthogonalization how : {orthogonalization::cgs2, orthogonalization::dcgs2}) {
    const counting_domain d;
    const counted_operator op(a, d);
    o.ortho = how;
    array<double> bd(b), x(zeros(a.rows()));
    const solve_report r = gmres(op, bd, x, o);
    ASSERT_TRUE(r.converged()) << r.summary();
    ASSERT_GT(r.restarts, 2) << r.summary();
    const int cycles = r.restarts + 1, setup = 6;  // ||b||, the start and the end's true residuals
    if (how == orthogonalization::dcgs2)
      EXPECT_LE(d.sums, r.iterations + 2 * cycles + setup) << r.summary();
    else
      EXPECT_GE(d.sums, 3 * r.iterations) << r.summary();
  }
}

/// A with three distinct eigenvalues: every Krylov space stops growing at dimension 3, so
/// GMRES has the exact solution after 3 steps, whatever the orthogonalization. Asked for
/// more than rounding allows, the cycles go on through remainders that are rounding alone
/// (DCGS2 then orthogonalizes vectors that lie mostly in the basis): the answer must stay
/// the exact one and finite, ending on the iteration limit or stagnation, not on Inf/NaN.
TEST(solver_gmres, an_invariant_krylov_space_gives_the_exact_solution) {
  const std::int64_t n = 300;
  coo_matrix coo(n, n);
  for (std::int64_t i = 0; i < n; ++i) coo.add(i, i, double(1 + i % 3));
  const csr_operator a(csr_matrix::from_coo(coo));
  const std::vector<double> b = random_vector(n, 17);
  for (orthogonalization how : {orthogonalization::mgs, orthogonalization::cgs2, orthogonalization::dcgs2}) {
    solve_options o;
    o.ortho = how;
    o.rel_tol = 1e-12;
    array<double> bd(b), x(zeros(n));
    const solve_report r = gmres(a, bd, x, o);
    ASSERT_TRUE(r.converged()) << r.summary();
    EXPECT_LE(r.iterations, 3) << r.summary();
    o.rel_tol = 1e-30;
    o.max_iterations = 200;
    array<double> x2(zeros(n));
    const solve_report hard = gmres(a, bd, x2, o);
    EXPECT_NE(hard.reason, stop_reason::non_finite) << hard.summary();
    EXPECT_NE(hard.reason, stop_reason::converged) << hard.summary();
    const auto got = x2.to_vector();
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(got[std::size_t(i)], b[std::size_t(i)] / double(1 + i % 3), 1e-13) << hard.summary() << " i=" << i;
  }
}

TEST(solver_pipelined_cg, takes_the_iterations_of_cg_and_reports_breakdown) {
  const csr_operator a(csr_matrix::from_coo(spd_varying(10)));
  const std::vector<double> b = random_vector(a.rows(), 3);
  solve_options o;
  o.rel_tol = 1e-10;
  for (bool jacobi : {false, true}) {
    const jacobi_preconditioner m(a);
    o.preconditioner = jacobi ? &m : nullptr;
    array<double> bd(b), x1(zeros(a.rows())), x2(zeros(a.rows()));
    const solve_report plain = cg(a, bd, x1, o), pipelined = cg_pipelined(a, bd, x2, o);
    ASSERT_TRUE(pipelined.converged()) << pipelined.summary();
    // The same Krylov space: the same iterations but for rounding (and a restart where the
    // recurrence drifted from the true residual).
    EXPECT_LE(std::abs(pipelined.iterations - plain.iterations), 3) << pipelined.summary();
    EXPECT_EQ(pipelined.method, jacobi ? "pcg-pipelined" : "cg-pipelined");
  }
  // Indefinite A: breakdown named, not an answer.
  const csr_operator bad(csr_matrix::from_coo(indefinite()));
  array<double> bd(random_vector(bad.rows(), 5)), x(zeros(bad.rows()));
  o.preconditioner = nullptr;
  const solve_report r = cg_pipelined(bad, bd, x, o);
  EXPECT_EQ(r.reason, stop_reason::breakdown) << r.summary();
  EXPECT_NE(r.message.find("p'Ap"), std::string::npos) << r.message;
}

// ---- every kind of operator -----------------------------------------------------------------

/// Solves with CG on `op`, which must be poisson_3d(n) in some form, and checks the answer
/// against the assembled matrix.
void expect_poisson_solved(const linear_operator& op, std::int64_t n) {
  const coo_matrix a = poisson_3d(n).to_coo();
  const std::vector<double> b = random_vector(a.rows, 11);
  array<double> bd(b), xd(zeros(a.rows));
  solve_options o;
  o.rel_tol = 1e-10;
  const solve_report rep = cg(op, bd.as_view(), xd.as_view(), o);
  ASSERT_TRUE(rep.converged()) << rep.summary();
  EXPECT_LE(relative_residual(a, b, xd.to_vector()), 1e-10) << op.describe();
}

TEST(solver_operators, csr_sell_stencil_and_callback_solve_the_same_system) {
  const std::int64_t n = 7;
  const csr_matrix a = poisson_3d(n);
  expect_poisson_solved(csr_operator(a), n);
  expect_poisson_solved(csr_operator(a.with_indices(index_type::i64)), n);
  expect_poisson_solved(sell_operator(sell_matrix(a, 8, 32)), n);
  expect_poisson_solved(stencil_operator(stencil::laplace_3d7(), grid_extent(n, n, n)), n);
  int calls = 0;
  const callback_operator user(
      a.rows(), a.cols(),
      [&](const_view x, view y) {
        ++calls;
        spmv(1.0, a, x, 0.0, y);
      },
      "user poisson");
  expect_poisson_solved(user, n);
  EXPECT_GT(calls, 1);
  EXPECT_EQ(user.describe(), "user poisson");
}

TEST(solver_operators, callback_alpha_beta_are_applied_around_the_function) {
  const callback_operator twice(3, 3, [](const_view x, view y) {
    convert(x, y);
    scal(2.0, y);
  });
  array<double> x(std::vector<double>{1, 2, 3}), y(std::vector<double>{10, 20, 30});
  twice.apply(0.5, x.as_view(), -1.0, y.as_view());  // y = 0.5 * 2x - y
  EXPECT_EQ(y.to_vector(), (std::vector<double>{-9, -18, -27}));
  twice.apply(x.as_view(), y.as_view());
  EXPECT_EQ(y.to_vector(), (std::vector<double>{2, 4, 6}));
}

TEST(solver_operators, stencil_diagonal_is_the_assembled_diagonal) {
  // a_ii = (A e_i)_i, for every point, every boundary kind.
  const grid_extent e(4, 3, 5);
  for (boundary kind : {boundary::dirichlet, boundary::neumann, boundary::periodic}) {
    for (const stencil& s : {stencil::laplace_3d7(), stencil::hpcg_27()}) {
      const stencil_operator op(s, e, boundary_conditions::all(kind, 0.0));
      std::vector<double> d(std::size_t(e.points()));
      op.diagonal(d.data());
      array<double> unit(zeros(e.points())), col(zeros(e.points()));
      for (std::int64_t i = 0; i < e.points(); ++i) {
        unit.data()[i] = 1.0;
        op.apply(unit.as_view(), col.as_view());
        unit.data()[i] = 0.0;
        ASSERT_EQ(d[std::size_t(i)], col.data()[i]) << op.describe() << " point " << i;
      }
    }
  }
}

TEST(solver_operators, matrix_market_files_written_here_solve) {
  // A nonsymmetric and a symmetric problem through a file, each solved to 1e-10.
  // One file per process: ctest runs the suite at several ISA levels at once.
  const std::string path = ::testing::TempDir() + "mixprec_solver_problem_" + std::to_string(::getpid()) + ".mtx";
  for (const coo_matrix& original : {convection_diffusion_3d(6, 5.0).to_coo(), spd_varying(6)}) {
    write_matrix_market(path, original);
    const csr_matrix a = csr_matrix::from_coo(read_matrix_market(path));
    std::remove(path.c_str());
    const std::vector<double> b = random_vector(a.rows(), 3);
    array<double> bd(b), xd(zeros(a.rows()));
    solve_options o;
    o.rel_tol = 1e-10;
    const solve_report rep = gmres(csr_operator(a), bd.as_view(), xd.as_view(), o);
    ASSERT_TRUE(rep.converged()) << rep.summary();
    EXPECT_LE(relative_residual(original, b, xd.to_vector()), 1e-10);
  }
}

TEST(solver_preconditioners, jacobi_in_every_storage_precision) {
  // M^-1 r = r / a_ii, with 1/a_ii rounded once to the storage.
  const coo_matrix coo = spd_varying(4);
  const csr_operator a(csr_matrix::from_coo(coo));
  std::vector<double> diag(std::size_t(a.rows()));
  a.diagonal(diag.data());
  const std::vector<double> r = random_vector(a.rows(), 5);
  for (dtype s : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    const jacobi_preconditioner m(a, s);
    EXPECT_EQ(m.storage_type(), s);
    array<double> rd(r), z(zeros(r.size()));
    m.apply(rd.as_view(), z.as_view());
    for (std::size_t i = 0; i < r.size(); ++i) {
      double inv = 1.0 / diag[i];
      with_type(s, [&](auto t) { inv = double(expected_conversion<decltype(t)>(ld(inv))); });
      EXPECT_NEAR(z.data()[i], inv * r[i], 0x1p-52 * std::abs(inv * r[i])) << name_of(s) << " row " << i;
    }
  }
}

TEST(solver_preconditioners, pcg_needs_fewer_iterations_than_cg_on_a_varying_diagonal) {
  const csr_matrix a = csr_matrix::from_coo(spd_varying(10));
  const csr_operator op(a);
  const jacobi_preconditioner m(op);
  const std::vector<double> b = random_vector(a.rows(), 1);
  array<double> bd(b), x1(zeros(b.size())), x2(zeros(b.size()));
  solve_options o;
  o.rel_tol = 1e-10;
  const solve_report plain = cg(op, bd.as_view(), x1.as_view(), o);
  o.preconditioner = &m;
  const solve_report pre = cg(op, bd.as_view(), x2.as_view(), o);
  ASSERT_TRUE(plain.converged() && pre.converged()) << plain.summary() << "\n" << pre.summary();
  EXPECT_EQ(pre.method, "pcg");
  EXPECT_LT(pre.iterations, plain.iterations);
}

/// Hides what it forwards to, so that a solver cannot recognise point Jacobi.
class opaque_operator : public linear_operator {
 public:
  explicit opaque_operator(const linear_operator& inner)
      : linear_operator(inner.rows(), inner.cols(), inner.ctx()), inner_(inner) {}
  void apply(double alpha, const_view x, double beta, view y) const override { inner_.apply(alpha, x, beta, y); }
  using linear_operator::apply;
  std::string describe() const override { return "opaque " + inner_.describe(); }

 private:
  const linear_operator& inner_;
};

TEST(solver_preconditioners, pcg_with_point_jacobi_fused_takes_the_steps_of_pcg_with_any_operator) {
  // Fused, z = D r is never formed and r'z comes from the update pass; the iterates are the
  // same up to the order of roundings, so the iteration counts agree within one and both
  // meet the tolerance on b - A x.
  const auto check = [](auto type_tag) {
    using T = decltype(type_tag);
    const dtype t = dtype_of<T>;
    const coo_matrix coo = spd_varying(12);
    const csr_matrix a = csr_matrix::from_coo(coo).with_values(t);
    const csr_operator op(a);
    const jacobi_preconditioner m(op, t);
    const opaque_operator hidden(m);
    const std::vector<double> b = random_vector(a.rows(), 6);
    const auto run = [&](const linear_operator& pre, std::vector<double>* x_out) {
      solve_options o;
      o.rel_tol = t == dtype::f64 ? 1e-10 : 1e-4;
      o.preconditioner = &pre;
      array<T> bd(std::vector<T>(b.begin(), b.end())), x(std::vector<T>(b.size(), T(0)));
      const solve_report rep = cg(op, bd.as_view(), x.as_view(), o);
      EXPECT_TRUE(rep.converged()) << name_of(t) << " " << rep.summary();
      const auto xs = x.to_vector();
      x_out->assign(xs.begin(), xs.end());
      return rep.iterations;
    };
    std::vector<double> fused, plain;
    const auto fused_steps = run(m, &fused), plain_steps = run(hidden, &plain);
    EXPECT_LE(std::abs(fused_steps - plain_steps), 1) << name_of(t);
    // (converged() is the solver's word on its own b - A x; f64 is checked here as well.)
    if (t == dtype::f64) EXPECT_LE(relative_residual(coo, b, fused), 1e-10);
  };
  check(double{});
  check(float{});
}

TEST(solver_spectrum, lanczos_estimates_lie_inside_the_spectrum_and_drive_chebyshev) {
  // spd_varying(8): Ritz values from 30 CG steps are inside [sigma_min, sigma_max] (A SPD:
  // singular values are eigenvalues), lambda_max within 1 % after 30 steps on 512 unknowns.
  const coo_matrix coo = spd_varying(8);
  const csr_operator a(csr_matrix::from_coo(coo));
  const spectrum_estimate est = estimate_spectrum(a, 30);
  EXPECT_EQ(est.steps, 30);
#if defined(MIXPREC_TEST_EIGEN)
  const direct_solution d = solve_directly(coo, std::vector<double>(std::size_t(coo.rows), 1.0));
  EXPECT_GE(est.lambda_min, d.sigma_min * (1 - 1e-12));
  EXPECT_LE(est.lambda_max, d.sigma_max * (1 + 1e-12));
  EXPECT_GE(est.lambda_max, 0.99 * d.sigma_max);
  EXPECT_LE(est.lambda_min, 1.5 * d.sigma_min);
#endif
  // Widened as documented, the estimate makes Chebyshev converge.
  const std::vector<double> b = random_vector(a.rows(), 4);
  array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
  solve_options o;
  o.rel_tol = 1e-8;
  o.max_iterations = 2000;
  const solve_report rep = chebyshev(a, bd, x, est.lambda_min / 2, 1.1 * est.lambda_max, o);
  EXPECT_TRUE(rep.converged()) << rep.summary();
  // Preconditioned (M^-1 A with Jacobi) and a non-SPD operator.
  const jacobi_preconditioner m(a);
  const spectrum_estimate pe = estimate_spectrum(a, 30, &m);
  EXPECT_GT(pe.lambda_min, 0.0);
  EXPECT_LT(pe.lambda_max / pe.lambda_min, est.lambda_max / est.lambda_min);  // Jacobi helps here
  coo_matrix neg(2, 2);
  neg.add(0, 0, 1);
  neg.add(1, 1, -1);
  expect_refusal([&] { (void)estimate_spectrum(csr_operator(csr_matrix::from_coo(neg)), 5); },
                 status::numerical_breakdown, "not positive definite");
}

// ---- progress and reports ------------------------------------------------------------------

TEST(solver_progress, callback_sees_every_iteration_and_can_stop) {
  const csr_operator a(poisson_3d(8));
  const std::vector<double> b = random_vector(a.rows(), 2);
  array<double> bd(b), x(zeros(b.size()));
  std::vector<iteration_info> seen;
  solve_options o;
  o.rel_tol = 1e-12;
  o.progress = [&](const iteration_info& i) {
    seen.push_back(i);
    return i.iteration < 5;
  };
  const solve_report rep = cg(a, bd.as_view(), x.as_view(), o);
  EXPECT_EQ(rep.reason, stop_reason::stopped_by_callback) << rep.summary();
  EXPECT_EQ(rep.iterations, 5);
  ASSERT_EQ(seen.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(seen[std::size_t(i)].iteration, i + 1);
    EXPECT_DOUBLE_EQ(seen[std::size_t(i)].relative_residual, rep.history[std::size_t(i + 1)]);
    if (i) EXPECT_GE(seen[std::size_t(i)].seconds, seen[std::size_t(i - 1)].seconds);
  }
  // The answer so far is kept: better than the initial guess.
  EXPECT_LT(rep.true_residual, rep.initial_residual);
}

TEST(solver_progress, verbose_prints_the_convergence_and_a_summary) {
  const csr_operator a(poisson_3d(6));
  const std::vector<double> b = random_vector(a.rows(), 2);
  array<double> bd(b), x(zeros(b.size()));
  std::ostringstream log;
  solve_options o;
  o.verbose = true;
  o.verbose_every = 2;
  o.log = &log;
  const solve_report rep = cg(a, bd.as_view(), x.as_view(), o);
  ASSERT_TRUE(rep.converged());
  const std::string text = log.str();
  EXPECT_NE(text.find("cg iteration     2  relative residual"), std::string::npos) << text;
  EXPECT_EQ(text.find("cg iteration     1 "), std::string::npos) << text;
  EXPECT_NE(text.find(rep.summary()), std::string::npos) << text;
  EXPECT_NE(rep.summary().find("converged after"), std::string::npos);
}

TEST(solver_progress, a_converged_start_does_no_iterations) {
  const csr_operator a(poisson_3d(4));
  array<double> b(zeros(a.rows())), x(zeros(a.rows()));
  solve_options o;
  o.abs_tol = 1e-30;
  const solve_report rep = gmres(a, b.as_view(), x.as_view(), o);
  EXPECT_TRUE(rep.converged()) << rep.summary();
  EXPECT_EQ(rep.iterations, 0);
  EXPECT_EQ(rep.true_residual, 0.0);
}

}  // namespace
}  // namespace mixprec::test
