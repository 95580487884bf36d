// Adaptive block-Jacobi: exact block inverses (with pivoting), the precision chosen per
// block from its conditioning, the bound that precision implies, and its use in Krylov
// solves.
#include <cmath>
#include <random>

#include "mixprec/preconditioner.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

/// Block-diagonal test matrix: blocks of 4 rows. Block 0 needs pivoting (zero diagonal),
/// block 1 is well conditioned, block 2 has condition number ~1e9 (f64 only, at
/// accuracy 0.1), block 3 (2 rows, the tail) ~1e6 (f32).
coo_matrix blocky() {
  coo_matrix a(14, 14);
  // Block 0: a permutation-like block, zero diagonal.
  const double b0[4][4] = {{0, 2, 0, 1}, {3, 0, 1, 0}, {0, 1, 0, 4}, {1, 0, 5, 0}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      if (b0[i][j] != 0) a.add(i, j, b0[i][j]);
  for (int i = 0; i < 4; ++i) {
    a.add(4 + i, 4 + i, 10.0);
    if (i < 3) a.add(4 + i, 5 + i, 1.0);
  }
  const double s[4] = {1, 1e-3, 1e-6, 1e-9};  // diagonal scaling: cond ~ 1e9
  for (int i = 0; i < 4; ++i) {
    a.add(8 + i, 8 + i, s[i]);
    if (i > 0) a.add(8 + i, 8 + i - 1, 0.5 * s[i]);
  }
  a.add(12, 12, 1.0);
  a.add(13, 13, 1e-6);
  a.add(12, 13, 1e-7);
  // Coupling outside the blocks (ignored by block-Jacobi).
  a.add(0, 13, 0.25);
  a.add(13, 0, 0.25);
  return a;
}

TEST(block_jacobi, blocks_are_inverted_and_stored_by_conditioning) {
  const coo_matrix coo = blocky();
  const csr_operator a(csr_matrix::from_coo(coo));
  block_jacobi_options o;
  o.block_size = 4;
  const block_jacobi_preconditioner m(a, o);
  EXPECT_EQ(m.blocks_in(dtype::f16), 2) << m.describe();  // blocks 0 and 1
  EXPECT_EQ(m.blocks_in(dtype::f64), 1) << m.describe();  // block 2
  EXPECT_EQ(m.blocks_in(dtype::f32), 1) << m.describe();  // the tail
  EXPECT_EQ(m.storage_type(), dtype::f64);

  // M^-1 (D x) = x block by block, to the precision each block is stored in: the stored
  // inverse differs from the exact one by u_block * |D^-1| elementwise, so the error is at
  // most u_block * cond(D) relative, which the rule keeps below accuracy.
  std::vector<double> x(14);
  for (int i = 0; i < 14; ++i) x[std::size_t(i)] = 1.0 + 0.1 * i;
  std::vector<double> dx(14, 0.0);
  for (std::int64_t k = 0; k < coo.nnz(); ++k)
    if (coo.row[std::size_t(k)] / 4 == coo.col[std::size_t(k)] / 4)
      dx[std::size_t(coo.row[std::size_t(k)])] += coo.value[std::size_t(k)] * x[std::size_t(coo.col[std::size_t(k)])];
  array<double> in(dx), out(std::vector<double>(14, 0.0));
  m.apply(in, out);
  const double tol[4] = {0x1p-11 * 40, 0x1p-11 * 40, 1e-12 * 1e9 * 4, 0x1p-24 * 1e6 * 4};
  for (int i = 0; i < 14; ++i) EXPECT_NEAR(out[i], x[std::size_t(i)], tol[i / 4] * x[std::size_t(i)]) << "row " << i;

  // Not adaptive, f64: exact to rounding everywhere (block 2's cond ~1e9 times u).
  o.adaptive = false;
  const block_jacobi_preconditioner exact(a, o);
  EXPECT_EQ(exact.blocks_in(dtype::f64), 4);
  exact.apply(in, out);
  for (int i = 0; i < 14; ++i) EXPECT_NEAR(out[i], x[std::size_t(i)], 1e9 * 1e-15 * 10) << "row " << i;
  EXPECT_GT(exact.value_bytes(), m.value_bytes());
}

TEST(block_jacobi, preconditions_cg_and_gmres) {
  // SPD: the 3D Laplacian with a varying diagonal; nonsymmetric: convection-diffusion.
  coo_matrix spd = poisson_3d(10).to_coo();
  for (std::int64_t i = 0; i < spd.rows; ++i) spd.add(i, i, double(i % 5));
  const csr_operator a(csr_matrix::from_coo(spd));
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> bv(std::size_t(a.rows()));
  for (auto& v : bv) v = d(gen);
  array<double> b(bv), x(std::vector<double>(bv.size(), 0.0));
  solve_options o;
  o.rel_tol = 1e-10;
  const solve_report plain = cg(a, b, x, o);
  const block_jacobi_preconditioner m(a);
  o.preconditioner = &m;
  fill(x, 0.0);
  const solve_report pre = cg(a, b, x, o);
  ASSERT_TRUE(plain.converged() && pre.converged()) << pre.summary();
  EXPECT_LT(pre.iterations, plain.iterations) << m.describe();
  EXPECT_TRUE(pre.preconditioned);

  const csr_operator cd(convection_diffusion_3d(8, 20.0));
  const block_jacobi_preconditioner mc(cd);
  solve_options g;
  g.rel_tol = 1e-10;
  g.preconditioner = &mc;
  array<double> b2(std::vector<double>(std::size_t(cd.rows()), 1.0)),
      x2(std::vector<double>(std::size_t(cd.rows()), 0.0));
  const solve_report rep = gmres(cd, b2, x2, g);
  EXPECT_TRUE(rep.converged()) << rep.summary();
}

TEST(block_jacobi, singular_blocks_and_bad_options_are_named) {
  coo_matrix s(6, 6);
  for (int i = 0; i < 6; ++i) s.add(i, i, i == 4 || i == 5 ? 0.0 : 1.0);
  s.add(4, 5, 1.0);
  s.add(5, 4, 1.0);
  s.add(4, 4, 1.0);
  s.add(5, 5, 1.0);  // rows 4, 5: [[1, 1], [1, 1]]
  const csr_operator a(csr_matrix::from_coo(s));
  block_jacobi_options o;
  o.block_size = 2;
  expect_refusal([&] { block_jacobi_preconditioner m(a, o); }, status::numerical_breakdown, "rows 4 to 5 is singular");
  o.block_size = 40;
  expect_refusal([&] { block_jacobi_preconditioner m(a, o); }, status::invalid_argument, "block_size = 40");
  o = {};
  o.precisions = {dtype::i8};
  expect_refusal([&] { block_jacobi_preconditioner m(a, o); }, status::unsupported, "precision i8");
  const stencil_operator st(stencil::laplace_3d7(), grid_extent(3, 3, 3));
  expect_refusal([&] { block_jacobi_preconditioner m(st); }, status::unsupported, "needs an assembled matrix");
}

}  // namespace
}  // namespace mixprec::test
