// Symmetric Gauss-Seidel, ILU(0) and IC(0): the row-solve kernel (every variant) against
// the backward-error bound of substitution; the factorizations exact where no fill-in is
// dropped (tridiagonal); SGS against a long-double reference sweep in the same row order;
// and each as a preconditioner.
#include <cmath>
#include <random>

#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "solver/row_schedule.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

class rows_solve_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(rows_solve_kernels, lower_solve_by_levels_has_the_backward_error_of_substitution) {
  // A random sparse lower-triangular matrix (diagonal dominant), solved level by level:
  // each computed x_i satisfies |b_i - sum_j l_ij x_j| <= (k_i + 2) u (sum_j |l_ij x_j| + |b_i|).
  const kernel_info& k = GetParam();
  const force_kernel pin(k.name);
  const context ctx = context_for(k);  // the matrix, schedule and vectors in the kernel's memory
  const std::int64_t n = 300;
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> d(-1, 1);
  coo_matrix l(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    l.add(i, i, 4.0 + d(gen));
    for (std::int64_t j : {i - 7, i - 50, i - 51})  // rows i..i+6 never couple: levels of 7 rows or more
      if (j >= 0) l.add(i, j, d(gen));
  }
  const csr_matrix m = csr_matrix::from_coo(l, k.in, index_type::i32, ctx);
  const coo_matrix stored = m.to_coo();
  std::vector<double> inv(static_cast<std::size_t>(n));
  for (std::int64_t q = 0; q < stored.nnz(); ++q)
    if (stored.row[std::size_t(q)] == stored.col[std::size_t(q)])
      inv[std::size_t(stored.row[std::size_t(q)])] = 1.0 / stored.value[std::size_t(q)];
  const detail::row_schedule levels = detail::row_schedule::triangular_levels(stored, true).placed_in(ctx);
  EXPECT_LT(levels.groups(), n);  // some rows share a level
  const buffer inv_placed = detail::f64_buffer_in(ctx, inv);
  const std::vector<double> b = random_vector(n, 6);
  with_type(k.out, [&](auto t) {
    using X = decltype(t);
    if constexpr (std::is_same_v<X, double> || std::is_same_v<X, float>) {
      const double u = std::is_same_v<X, double> && k.in == dtype::f64 ? 0x1p-53 : 0x1p-24;
      std::vector<X> bx(b.begin(), b.end());
      array<X> bd(bx, ctx), xd(std::vector<X>(std::size_t(n), X(0)), ctx);
      detail::sweep(m, levels, inv_placed, bd, xd);
      const std::vector<X> x = xd.to_vector();
      std::vector<long double> res(bx.begin(), bx.end()), mag(static_cast<std::size_t>(n), 0.0L);
      std::vector<int> count(std::size_t(n), 0);
      for (std::int64_t q = 0; q < stored.nnz(); ++q) {
        const std::size_t i = std::size_t(stored.row[std::size_t(q)]), j = std::size_t(stored.col[std::size_t(q)]);
        res[i] -= (long double)stored.value[std::size_t(q)] * x[j];
        mag[i] += std::abs((long double)stored.value[std::size_t(q)] * x[j]);
        ++count[i];
      }
      for (std::int64_t i = 0; i < n; ++i) {
        // The inverse diagonal is rounded from 1/l_ii: one more u relative to the diagonal term.
        const double bound =
            double(count[std::size_t(i)] + 3) * u * double(mag[std::size_t(i)] + std::abs(bx[std::size_t(i)]));
        ASSERT_LE(std::abs(double(res[std::size_t(i)])), bound) << k.name << " row " << i;
      }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(kernels, rows_solve_kernels, ::testing::ValuesIn(runnable_kernels("csr_rows_solve")),
                         kernel_param_name);

/// Tridiagonal SPD matrix: ILU(0) = LU and IC(0) = Cholesky exactly (no fill-in to drop).
csr_matrix tridiagonal(std::int64_t n) {
  coo_matrix a(n, n);
  for (std::int64_t i = 0; i < n; ++i) {
    a.add(i, i, 2.5 + 0.01 * double(i % 3));
    if (i > 0) a.add(i, i - 1, -1.0);
    if (i + 1 < n) a.add(i, i + 1, -1.0);
  }
  return csr_matrix::from_coo(a);
}

TEST(incomplete_factorization, is_exact_without_dropped_fill_in) {
  const std::int64_t n = 200;
  const csr_operator a(tridiagonal(n));
  const std::vector<double> x = random_vector(n, 1);
  array<double> xd(x), ax(n), back(n);
  a.apply(xd, ax);
  for (auto kind : {incomplete_factorization::kind::ilu0, incomplete_factorization::kind::ic0}) {
    const incomplete_factorization m(a, kind);
    m.apply(ax, back);  // M^-1 A x = x
    for (std::int64_t i = 0; i < n; ++i) ASSERT_NEAR(back[i], x[std::size_t(i)], 1e-13) << m.describe() << " row " << i;
    EXPECT_EQ(m.lower_levels(), n);  // a tridiagonal solve is sequential
  }
}

TEST(sgs, matches_a_long_double_sweep_in_the_same_order) {
  // 3D Laplacian (7-point): the greedy coloring in natural order is red-black, (i+j+k) % 2.
  const std::int64_t g = 6, n = g * g * g;
  const csr_matrix m = poisson_3d(g);
  const coo_matrix c = m.to_coo();
  const csr_operator a(m);
  const std::vector<double> r = random_vector(n, 3);
  for (bool multicolor : {false, true}) {
    std::vector<std::int64_t> order;
    if (multicolor) {
      for (int color = 0; color < 2; ++color)
        for (std::int64_t i = 0; i < n; ++i)
          if ((i % g + (i / g) % g + i / (g * g)) % 2 == color) order.push_back(i);
    } else {
      for (std::int64_t i = 0; i < n; ++i) order.push_back(i);
    }
    std::vector<long double> x(static_cast<std::size_t>(n), 0.0L);
    auto update = [&](std::int64_t i) {
      long double s = r[std::size_t(i)], diag = 0;
      for (std::int64_t q = 0; q < c.nnz(); ++q) {
        if (c.row[std::size_t(q)] != i) continue;
        if (c.col[std::size_t(q)] == i)
          diag = c.value[std::size_t(q)];
        else
          s -= c.value[std::size_t(q)] * x[std::size_t(c.col[std::size_t(q)])];
      }
      x[std::size_t(i)] = s / diag;
    };
    for (std::int64_t i : order) update(i);
    for (auto it = order.rbegin(); it != order.rend(); ++it) update(*it);
    const sgs_preconditioner m_sgs(a, multicolor);
    EXPECT_EQ(m_sgs.groups(), multicolor ? 2 : 3 * (g - 1) + 1) << m_sgs.describe();
    array<double> rd(r), z(n);
    m_sgs.apply(rd, z);
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(z[i], double(x[std::size_t(i)]), 1e-14 * (1 + std::abs(double(x[std::size_t(i)]))))
          << m_sgs.describe() << " row " << i;
  }
}

TEST(triangular_preconditioners, precondition_krylov_solves) {
  coo_matrix spd = poisson_3d(12).to_coo();
  for (std::int64_t i = 0; i < spd.rows; ++i) spd.add(i, i, double(i % 4));
  const csr_operator a(csr_matrix::from_coo(spd));
  const std::vector<double> bv = random_vector(a.rows(), 8);
  array<double> b(bv), x(std::vector<double>(bv.size(), 0.0));
  solve_options o;
  o.rel_tol = 1e-10;
  const solve_report plain = cg(a, b, x, o);
  ASSERT_TRUE(plain.converged());
  const sgs_preconditioner sgs_mc(a), sgs_nat(a, false), sgs32(a, true, dtype::f32);
  const incomplete_factorization ic = ic0_preconditioner(a), ic32 = ic0_preconditioner(a, dtype::f32);
  for (const linear_operator* m :
       std::initializer_list<const linear_operator*>{&sgs_mc, &sgs_nat, &sgs32, &ic, &ic32}) {
    o.preconditioner = m;
    fill(x, 0.0);
    const solve_report rep = cg(a, b, x, o);
    EXPECT_TRUE(rep.converged()) << m->describe() << ": " << rep.summary();
    EXPECT_LT(rep.iterations, plain.iterations * 3 / 4) << m->describe() << ": " << rep.summary();
  }
  // Nonsymmetric: GMRES with ILU(0).
  const csr_operator cd(convection_diffusion_3d(10, 20.0));
  const incomplete_factorization ilu = ilu0_preconditioner(cd);
  array<double> b2(random_vector(cd.rows(), 9)), x2(std::vector<double>(std::size_t(cd.rows()), 0.0));
  solve_options g;
  g.rel_tol = 1e-10;
  const solve_report unpre = gmres(cd, b2, x2, g);
  g.preconditioner = &ilu;
  fill(x2, 0.0);
  const solve_report pre = gmres(cd, b2, x2, g);
  ASSERT_TRUE(unpre.converged() && pre.converged()) << pre.summary();
  EXPECT_LT(pre.iterations, unpre.iterations / 2) << ilu.describe();
}

TEST(triangular_preconditioners, breakdowns_and_bad_input_are_named) {
  coo_matrix zero_diag(3, 3);
  zero_diag.add(0, 0, 1);
  zero_diag.add(1, 2, 1);
  zero_diag.add(2, 1, 1);
  zero_diag.add(2, 2, 1);
  zero_diag.add(1, 1, 0);
  const csr_operator z(csr_matrix::from_coo(zero_diag));
  expect_refusal([&] { sgs_preconditioner m(z); }, status::numerical_breakdown, "row 1 is 0");
  expect_refusal([&] { incomplete_factorization m = ilu0_preconditioner(z); }, status::numerical_breakdown,
                 "pivot of row 1 is 0");
  coo_matrix indefinite(2, 2);
  indefinite.add(0, 0, 1);
  indefinite.add(0, 1, 2);
  indefinite.add(1, 0, 2);
  indefinite.add(1, 1, 1);
  const csr_operator ind(csr_matrix::from_coo(indefinite));
  expect_refusal([&] { incomplete_factorization m = ic0_preconditioner(ind); }, status::numerical_breakdown,
                 "not positive definite");
  const stencil_operator st(stencil::laplace_3d7(), grid_extent(3, 3, 3));
  expect_refusal([&] { sgs_preconditioner m(st); }, status::unsupported, "needs an assembled matrix");
  expect_refusal([&] { incomplete_factorization m = ilu0_preconditioner(csr_operator(poisson_3d(3)), dtype::f16); },
                 status::unsupported, "storage f16");
}

TEST(triangular_preconditioners, pivots_that_are_rounding_noise_are_named) {
  // The leading 2 x 2 block [0.1 0.3; 0.3 0.9] is singular, but in f64 its elimination
  // leaves 0.9 - (0.3/0.1)*0.3 = 1.1e-16, not 0. Taken as a pivot, it made ILU(0)'s factor
  // noise times 1e16 and the preconditioned solves ran to their iteration limits.
  coo_matrix a(4, 4);
  const double block[2][2] = {{0.1, 0.3}, {0.3, 0.9}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) a.add(i, j, block[i][j]);
  a.add(2, 2, 2);
  a.add(3, 3, 2);
  a.add(1, 2, -0.5);
  a.add(2, 1, -0.5);
  const double pivot = block[1][1] - (block[1][0] / block[0][0]) * block[0][1];
  ASSERT_NE(pivot, 0.0);  // the case is the nonzero noise, not an exact 0
  const csr_operator op(csr_matrix::from_coo(a));
  expect_refusal([&] { incomplete_factorization m = ilu0_preconditioner(op); }, status::numerical_breakdown,
                 "pivot of row 1 is");
  expect_refusal([&] { incomplete_factorization m = ic0_preconditioner(op); }, status::numerical_breakdown,
                 "pivot of row 1 is");
  block_jacobi_options bo;
  bo.block_size = 2;
  expect_refusal([&] { block_jacobi_preconditioner m(op, bo); }, status::numerical_breakdown,
                 "rows 0 to 1 is singular");
  // Gauss-Seidel divides by the diagonal itself: one below u times its row's largest entry.
  coo_matrix g = poisson_2d(4).to_coo();
  for (std::size_t k = 0; k < g.value.size(); ++k)
    if (g.row[k] == 5 && g.col[k] == 5) g.value[k] = 1e-17;
  expect_refusal([&] { sgs_preconditioner m(csr_operator(csr_matrix::from_coo(g))); }, status::numerical_breakdown,
                 "diagonal entry of row 5 is 1e-17");
  // A small pivot that is not noise is kept: the same block scaled so its determinant is
  // 2^-40 of its entries' products factors, and the solve converges.
  coo_matrix fine = a;
  fine.value[3] = 0.9 + 0x1p-40;
  const csr_operator fine_op(csr_matrix::from_coo(fine));
  EXPECT_NO_THROW({ incomplete_factorization m = ilu0_preconditioner(fine_op); });
}

}  // namespace
}  // namespace mixprec::test
