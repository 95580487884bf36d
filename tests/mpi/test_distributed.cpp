// The distributed layer against single-process results, run under mpirun with 1, 2 and 4
// processes (tests/mpi/CMakeLists.txt). Every process builds the same global problem, keeps
// its rows, and compares its part of the distributed result with the matching rows of the
// single-process one: SpMV bit for bit (each row is summed in the same order), solvers to
// within one iteration and the same residual bound.
#include <gtest/gtest.h>

#include "mixprec/distributed.hpp"  // first: it includes mpi.h without the C++ bindings

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/distributed.hpp"
#include "mixprec/error.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"

namespace {

using namespace mixprec;

std::unique_ptr<communicator> world_communicator;  // made after MPI_Init, dropped before MPI_Finalize

communicator& world() {
  if (!world_communicator) world_communicator = std::make_unique<communicator>(MPI_COMM_WORLD);
  return *world_communicator;
}

/// A nonsymmetric matrix whose rows reach across the whole column range: most rows need
/// halo values from several processes (the pattern of an unstructured mesh badly ordered).
csr_matrix scattered(std::int64_t n) {
  coo_matrix c(n, n);
  std::uint64_t s = 12345;
  auto next = [&] {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  };
  for (std::int64_t i = 0; i < n; ++i) {
    c.add(i, i, 6.0);
    for (int k = 0; k < 4; ++k) c.add(i, std::int64_t(next() % std::uint64_t(n)), double(next() % 1000) / 1000 - 0.5);
  }
  return csr_matrix::from_coo(c);
}

std::vector<double> pattern(std::int64_t n, double phase) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[std::size_t(i)] = std::sin(0.37 * double(i) + phase) + 0.1;
  return v;
}

/// An uneven partition with process 0 left empty where there is more than one process.
row_partition uneven(std::int64_t n, int processes) {
  row_partition p;
  p.offsets.assign(std::size_t(processes) + 1, 0);
  if (processes == 1) {
    p.offsets[1] = n;
    return p;
  }
  for (int k = 1; k <= processes; ++k) p.offsets[std::size_t(k)] = n * (k * k - 1) / (processes * processes - 1);
  return p;
}

/// y = alpha A x + beta y on one process and distributed: the rows must agree bit for bit.
void expect_same_spmv(const csr_matrix& a, const row_partition& part, const distributed_options& o, dtype vectors) {
  const std::int64_t n = a.rows();
  const auto xg = pattern(n, 0.0), yg = pattern(n, 1.0);
  const double alpha = 1.5, beta = -0.5;
  array<double> x64(xg), y64(yg);
  buffer x(vectors, n), y(vectors, n);
  convert(x64, x.as_view());
  convert(y64, y.as_view());
  spmv(alpha, a, x.as_view(), beta, y.as_view());

  const distributed_csr_operator d = distributed_csr_operator::from_global(world(), a, part, o);
  const std::int64_t first = d.first_row(), m = d.rows();
  ASSERT_EQ(m, part.rows_of(world().rank()));
  buffer xl(vectors, m), yl(vectors, m);
  const std::size_t es = size_of(vectors);
  // This process's rows of a global vector (an empty block's buffers may be null).
  auto rows_of = [&](const buffer& global, buffer& local) {
    if (m > 0)
      std::memcpy(local.data(), static_cast<const char*>(global.data()) + first * std::int64_t(es),
                  std::size_t(m) * es);
  };
  rows_of(x, xl);
  buffer y0(vectors, n), expect(vectors, m);
  convert(y64, y0.as_view());
  rows_of(y0, yl);
  rows_of(y, expect);
  d.apply(alpha, xl.as_view(), beta, yl.as_view());
  EXPECT_TRUE(m == 0 || std::memcmp(yl.data(), expect.data(), std::size_t(m) * es) == 0)
      << "process " << world().rank() << ": " << d.describe();
}

TEST(DistributedSpmv, EqualsSingleProcessBitForBit) {
  const int p = world().size();
  std::vector<csr_matrix> matrices;
  matrices.push_back(poisson_3d(12));
  matrices.push_back(convection_diffusion_3d(10, 50.0));
  matrices.push_back(scattered(3000));
  for (const csr_matrix& a : matrices)
    for (const row_partition& part : {row_partition::even(a.rows(), p), uneven(a.rows(), p)})
      for (bool overlap : {true, false})
        for (dtype vectors : {dtype::f64, dtype::f32}) {
          distributed_options o;
          o.overlap = overlap;
          expect_same_spmv(a, part, o, vectors);
        }
}

TEST(DistributedSpmv, LowPrecisionValuesToo) {
  const csr_matrix a = poisson_3d(10).with_values(dtype::f32);
  expect_same_spmv(a, row_partition::even(a.rows(), world().size()), {}, dtype::f64);
  const csr_matrix h = convection_diffusion_3d(8, 10.0).with_values(dtype::bf16);
  expect_same_spmv(h, uneven(h.rows(), world().size()), {}, dtype::f32);
}

TEST(DistributedSpmv, OverlapsOnlyWhereRowsNeedNoHalo) {
  const csr_matrix a = poisson_3d(16);
  const distributed_csr_operator d =
      distributed_csr_operator::from_global(world(), a, row_partition::even(a.rows(), world().size()));
  const auto h = d.halo();
  EXPECT_EQ(h.interior_rows + h.boundary_rows, d.rows());
  if (world().size() == 1) {
    EXPECT_EQ(h.receive_values, 0);
    EXPECT_EQ(h.boundary_rows, 0);
  } else {
    // A slab of 16^3 / p rows: the planes next to a neighbour are boundary rows.
    const bool inner_slab = world().rank() > 0 && world().rank() < world().size() - 1;
    EXPECT_EQ(h.neighbours, inner_slab ? 2 : 1);
    EXPECT_GT(h.interior_rows, 0);
    EXPECT_LE(h.boundary_rows, 2 * 16 * 16 + 2 * 16);
  }
}

TEST(DistributedSpmv, LowPrecisionHalosSaveTheirShareOfBytes) {
  const csr_matrix a = poisson_3d(12);
  const std::int64_t n = a.rows();
  const auto xg = pattern(n, 0.3);
  array<double> x(xg), y(n);
  spmv(1.0, a, x, 0.0, y);
  std::int64_t bytes[3] = {};
  const dtype wires[3] = {dtype::f64, dtype::f32, dtype::bf16};
  for (int w = 0; w < 3; ++w) {
    distributed_options o;
    o.halo = wires[w];
    const distributed_csr_operator d =
        distributed_csr_operator::from_global(world(), a, row_partition::even(n, world().size()), o);
    array<double> xl(d.rows()), yl(d.rows());
    for (std::int64_t i = 0; i < d.rows(); ++i) xl[i] = xg[std::size_t(d.first_row() + i)];
    world().reset_counters();
    d.apply(xl, yl);
    bytes[w] = world().counters().halo_bytes;
    // Each halo value is rounded once to the wire's precision u; a row has at most 6
    // neighbours with coefficient -1, so |error| <= 6 u max|x|, max|x| <= 1.1.
    const double u = wires[w] == dtype::f64 ? 0 : wires[w] == dtype::f32 ? 0x1p-24 : 0x1p-8;
    for (std::int64_t i = 0; i < d.rows(); ++i)
      EXPECT_LE(std::abs(yl[i] - y[std::size_t(d.first_row() + i)]), 6 * u * 1.1 + 0.0) << i;
  }
  EXPECT_EQ(bytes[1] * 2, bytes[0]);
  EXPECT_EQ(bytes[2] * 4, bytes[0]);
  if (world().size() > 1 && world().rank() < world().size() - 1) EXPECT_GT(bytes[0], 0);
}

TEST(DistributedVectors, DotAndNorm) {
  const std::int64_t n = 1001;
  const auto g = pattern(n, 0.0);
  const row_partition part = uneven(n, world().size());
  const std::int64_t first = part.offsets[std::size_t(world().rank())], m = part.rows_of(world().rank());
  std::vector<double> mine(g.begin() + first, g.begin() + first + m);
  double ref = 0;
  for (double v : g) ref += v * v;
  array<double> x(mine);
  // Partial sums in another order: within n u of the sum (all terms positive).
  EXPECT_NEAR(dot(world(), x, x), ref, ref * double(n) * 0x1p-53);
  EXPECT_NEAR(nrm2(world(), x), std::sqrt(ref), std::sqrt(ref) * double(n) * 0x1p-53);
  // Far from 1 the norm is combined from scaled parts: no underflow, no overflow.
  for (double scale : {0x1p-1000, 0x1p+1000}) {
    array<double> s(mine);
    for (std::int64_t i = 0; i < m; ++i) s[i] *= scale;
    EXPECT_NEAR(nrm2(world(), s) / scale, std::sqrt(ref), std::sqrt(ref) * double(n) * 0x1p-52);
  }
}

struct poisson_case {
  csr_matrix a = poisson_3d(16);
  std::vector<double> b_global;
  poisson_case() {
    array<double> ones(std::vector<double>(std::size_t(a.rows()), 1.0)), b(a.rows());
    spmv(1.0, a, ones, 0.0, b);
    b_global.assign(b.data(), b.data() + a.rows());
  }
  array<double> local_b(const distributed_csr_operator& d) const {
    return array<double>(
        std::vector<double>(b_global.begin() + d.first_row(), b_global.begin() + d.first_row() + d.rows()));
  }
};

using solver_fn = solve_report (*)(const linear_operator&, const_view, view, const solve_options&);

TEST(DistributedSolvers, SameIterationsAsOneProcess) {
  const poisson_case pc;
  const csr_operator global(pc.a);
  const distributed_csr_operator d =
      distributed_csr_operator::from_global(world(), pc.a, row_partition::even(pc.a.rows(), world().size()));
  struct named {
    const char* name;
    solver_fn f;
  };
  for (const named& s : {named{"cg", &cg}, named{"cg_pipelined", &cg_pipelined}, named{"bicgstab", &bicgstab},
                         named{"gmres", &gmres}, named{"fgmres", &fgmres}})
    for (bool precondition : {false, true}) {
      const jacobi_preconditioner mg(global), md(d);
      solve_options o;
      o.rel_tol = 1e-10;
      o.max_iterations = 2000;
      o.restart = 20;
      array<double> bg(pc.b_global), xg(pc.a.rows());
      fill(xg, 0.0);
      o.preconditioner = precondition ? &mg : nullptr;
      const solve_report one = s.f(global, bg, xg, o);
      array<double> b = pc.local_b(d), x(d.rows());
      fill(x, 0.0);
      o.preconditioner = precondition ? &md : nullptr;
      const solve_report many = s.f(d, b, x, o);
      ASSERT_TRUE(one.converged()) << one.summary();
      ASSERT_TRUE(many.converged()) << s.name << " on process " << world().rank() << ": " << many.summary();
      EXPECT_LE(std::abs(many.iterations - one.iterations), 1) << s.name << (precondition ? " + jacobi" : "");
      EXPECT_LE(many.true_residual, 1e-10) << many.summary();
      for (std::int64_t i = 0; i < d.rows(); ++i) EXPECT_NEAR(x[i], 1.0, 1e-7);
    }
}

TEST(DistributedSolvers, RankLocalPreconditioners) {
  const poisson_case pc;
  const distributed_csr_operator d =
      distributed_csr_operator::from_global(world(), pc.a, row_partition::even(pc.a.rows(), world().size()));
  const csr_operator block(d.local_block());
  const sgs_preconditioner sgs(block);
  const block_jacobi_preconditioner bj(block);
  for (const linear_operator* m :
       {static_cast<const linear_operator*>(&sgs), static_cast<const linear_operator*>(&bj)}) {
    solve_options o;
    o.rel_tol = 1e-10;
    o.preconditioner = m;
    array<double> b = pc.local_b(d), x(d.rows());
    fill(x, 0.0);
    const solve_report r = cg(d, b, x, o);
    EXPECT_TRUE(r.converged()) << r.summary();
    EXPECT_LE(r.true_residual, 1e-10);
  }
}

TEST(DistributedSolvers, RefinementWithLowPrecisionHalosKeepsTheFp64Answer) {
  const poisson_case pc;
  const dtype halos[3] = {dtype::f64, dtype::f32, dtype::bf16};
  for (const precision_policy& policy : {precision_policy::f64(), precision_policy::f32()}) {
    int iterations[3] = {};
    std::int64_t bytes[3] = {};
    for (int h = 0; h < 3; ++h) {
      distributed_options dop;
      dop.inner_halo = halos[h];
      const distributed_csr_operator d =
          distributed_csr_operator::from_global(world(), pc.a, row_partition::even(pc.a.rows(), world().size()), dop);
      // What refinement reads to stop its inner solves: nothing is rounded on one process.
      EXPECT_EQ(d.halo_type(), dtype::f64);
      EXPECT_EQ(d.inner_copy(policy.matrix, policy.halo)->halo_type(), world().size() > 1 ? halos[h] : dtype::f64);
      refinement_options o;
      o.policy = policy;
      o.inner_method = inner_solver::cg;
      o.outer.rel_tol = 1e-12;
      array<double> b = pc.local_b(d), x(d.rows());
      fill(x, 0.0);
      world().reset_counters();
      const solve_report r = refine(d, b, x, o);
      bytes[h] = world().counters().halo_bytes;
      iterations[h] = r.inner_iterations;
      EXPECT_TRUE(r.converged()) << name_of(halos[h]) << " halos: " << r.summary();
      EXPECT_LE(r.true_residual, 1e-12);
      if (world().rank() == 0)
        std::printf("policy %s, inner halos %s: %d inner iterations, %lld halo bytes on process 0\n",
                    policy.name().c_str(), name_of(halos[h]), r.inner_iterations, (long long)bytes[h]);
    }
    // f32 halos: the f64 answer within 10 % more iterations; with f64 Krylov vectors the
    // inner solves' halos take half the bytes (the outer residuals' stay f64). bf16 halos
    // put noise of 2^-9 into every inner product, so the inner solves stop at a quarter of
    // bf16's unit roundoff and refinement takes an outer step more: 1.25-1.4x the
    // iterations on these problems (measured, not derived: this guards against solves that
    // chase the noise again, 2.2-2.7x), and with f64 Krylov vectors under half the bytes.
    EXPECT_LE(iterations[1], iterations[0] * 1.1 + 1) << policy.name();
    EXPECT_LE(iterations[2], iterations[0] * 1.5 + 1) << policy.name();
    if (world().size() > 1 && policy.krylov == dtype::f64 && world().rank() < world().size() - 1) {
      EXPECT_LT(double(bytes[1]), 0.6 * double(bytes[0]));
      EXPECT_LT(double(bytes[2]), 0.5 * double(bytes[0]));
    }
  }
}

TEST(DistributedInput, MatrixMarketReadByProcessZero) {
  const csr_matrix a = convection_diffusion_3d(8, 20.0);
  const std::string path = "distributed_test_matrix.mtx";
  if (world().rank() == 0) write_matrix_market(path, a.to_coo());
  MPI_Barrier(MPI_COMM_WORLD);
  const distributed_csr_operator d = distributed_csr_operator::read_matrix_market(world(), path);
  EXPECT_EQ(d.global_rows(), a.rows());
  const auto xg = pattern(a.rows(), 0.0);
  array<double> x(xg), y(a.rows());
  spmv(1.0, a, x, 0.0, y);
  array<double> xl(std::vector<double>(xg.begin() + d.first_row(), xg.begin() + d.first_row() + d.rows())),
      yl(d.rows());
  d.apply(xl, yl);
  for (std::int64_t i = 0; i < d.rows(); ++i) EXPECT_DOUBLE_EQ(yl[i], y[std::size_t(d.first_row() + i)]);
  MPI_Barrier(MPI_COMM_WORLD);
  if (world().rank() == 0) std::remove(path.c_str());
  // A file that is not there: every process throws, none waits.
  try {
    (void)distributed_csr_operator::read_matrix_market(world(), "no/such/file.mtx");
    ADD_FAILURE() << "no error";
  } catch (const mixprec::error& e) {
    EXPECT_EQ(e.code(), mixprec::status::io) << e.what();
    EXPECT_NE(std::string(e.what()).find("no/such/file.mtx"), std::string::npos) << e.what();
  }
}

// ---- decomposed grids -----------------------------------------------------------------

/// The global vector's entries of this process's block, x fastest.
std::vector<double> block_of(const std::vector<double>& global, const cartesian_grid& g) {
  const grid_extent ge = g.global_extent(), e = g.local_extent();
  const auto f = g.first();
  std::vector<double> out;
  for (std::int64_t k = 0; k < e.nz; ++k)
    for (std::int64_t j = 0; j < e.ny; ++j)
      for (std::int64_t i = 0; i < e.nx; ++i)
        out.push_back(global[std::size_t((f[2] + k) * ge.nx * ge.ny + (f[1] + j) * ge.nx + f[0] + i)]);
  return out;
}

boundary_conditions mixed_conditions() {
  boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  bc.lo[0] = bc.hi[0] = {boundary::neumann, 0.0};
  bc.lo[2] = bc.hi[2] = {boundary::periodic, 0.0};
  bc.lo[1] = {boundary::dirichlet, 0.5};  // affine: fine for apply, not for solvers
  return bc;
}

TEST(DistributedGrid, StencilEqualsSingleProcessBitForBit) {
  const grid_extent ge(13, 10, 9);
  for (const boundary_conditions& bc : {boundary_conditions::all(boundary::dirichlet, 0.0), mixed_conditions()})
    for (const stencil& s : {stencil::laplace_3d7(), stencil::hpcg_27(), stencil::star(3, {6.0, -1.0, 0.25})}) {
      const stencil_operator one(s, ge, bc);
      const auto xg = pattern(ge.points(), 0.2), yg = pattern(ge.points(), 0.9);
      array<double> x(xg), y(yg);
      one.apply(1.5, x, -0.5, y);
      const cartesian_grid g(world(), ge, bc);
      const distributed_stencil_operator many(g, s);
      array<double> xl(block_of(xg, g)), yl(block_of(yg, g));
      many.apply(1.5, xl, -0.5, yl);
      const std::vector<double> expect = block_of(std::vector<double>(y.data(), y.data() + ge.points()), g);
      EXPECT_EQ(std::memcmp(yl.data(), expect.data(), expect.size() * sizeof(double)), 0) << many.describe();
      // The diagonal too (Neumann folds, periodic wrap on one process along z).
      std::vector<double> d1(std::size_t(ge.points())), dl(std::size_t(many.rows()));
      one.diagonal(d1.data());
      many.diagonal(dl.data());
      EXPECT_EQ(dl, block_of(d1, g));
    }
}

TEST(DistributedGrid, TwoDimensionalStencilsEqualSingleProcess) {
  const grid_extent ge(13, 11);
  boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.25);
  bc.lo[0] = bc.hi[0] = {boundary::periodic, 0.0};
  for (const stencil& s : {stencil::laplace_2d5(), stencil::star(2, {4.0, -1.0, 0.5}),
                           stencil::box(2, 1, {0.1, 0.2, 0.3, 0.4, 1.0, 0.6, 0.7, 0.8, 0.9})}) {
    const stencil_operator one(s, ge, bc);
    const auto xg = pattern(ge.points(), 0.5), yg = pattern(ge.points(), 1.5);
    array<double> x(xg), y(yg);
    one.apply(0.75, x, 2.0, y);
    const cartesian_grid g(world(), ge, bc);
    const distributed_stencil_operator many(g, s);
    array<double> xl(block_of(xg, g)), yl(block_of(yg, g));
    many.apply(0.75, xl, 2.0, yl);
    const std::vector<double> expect = block_of(std::vector<double>(y.data(), y.data() + ge.points()), g);
    EXPECT_EQ(std::memcmp(yl.data(), expect.data(), expect.size() * sizeof(double)), 0) << many.describe();
  }
}

TEST(DistributedGrid, HaloEqualsFillHaloOnOneProcessAndTravelsInLowPrecision) {
  const grid_extent ge(8, 7, 6);
  const boundary_conditions bc = mixed_conditions();
  const cartesian_grid g(world(), ge, bc);
  grid u(dtype::f64, g.local_extent(), 2);
  const auto f = g.first();
  auto value = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return 1.0 + 1e-3 * double(i + 10 * j + 100 * k) + 1e-9;
  };
  for (std::int64_t k = 0; k < u.nz(); ++k)
    for (std::int64_t j = 0; j < u.ny(); ++j)
      for (std::int64_t i = 0; i < u.nx(); ++i) u.at<double>(i, j, k) = value(f[0] + i, f[1] + j, f[2] + k);
  grid exact = u.clone(), rounded = u.clone();
  g.exchange_halo(exact);
  g.exchange_halo(rounded, dtype::bf16);
  // The whole grid on one process with fill_halo: every halo point of the block must match.
  grid whole(dtype::f64, ge, 2);
  for (std::int64_t k = 0; k < ge.nz; ++k)
    for (std::int64_t j = 0; j < ge.ny; ++j)
      for (std::int64_t i = 0; i < ge.nx; ++i) whole.at<double>(i, j, k) = value(i, j, k);
  fill_halo(whole, bc);
  const std::int64_t h = 2;
  for (std::int64_t k = -h; k < u.nz() + h; ++k)
    for (std::int64_t j = -h; j < u.ny() + h; ++j)
      for (std::int64_t i = -h; i < u.nx() + h; ++i) {
        const std::int64_t gi = f[0] + i, gj = f[1] + j, gk = f[2] + k;
        // Points beyond the global grid in two axes at once exist in both; inside the whole
        // grid's halo every point does.
        if (gi < -h || gi >= ge.nx + h || gj < -h || gj >= ge.ny + h || gk < -h || gk >= ge.nz + h) continue;
        const double want = whole.at<double>(gi, gj, gk);
        ASSERT_EQ(exact.at<double>(i, j, k), want) << i << "," << j << "," << k << " on process " << world().rank();
        const bool from_neighbour = (i < 0 || i >= u.nx() || j < 0 || j >= u.ny() || k < 0 || k >= u.nz());
        if (!from_neighbour) EXPECT_EQ(rounded.at<double>(i, j, k), want);
        EXPECT_LE(std::abs(rounded.at<double>(i, j, k) - want), std::abs(want) * 0x1p-8);
      }
}

TEST(DistributedGrid, CgOnTheDecomposedStencilTakesTheIterationsOfOneProcess) {
  const grid_extent ge(16, 12, 10);
  const boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  const stencil_operator one(stencil::laplace_3d7(), ge, bc);
  const cartesian_grid g(world(), ge, bc);
  const distributed_stencil_operator many(g, stencil::laplace_3d7());
  const auto bg = pattern(ge.points(), 0.4);
  solve_options o;
  o.rel_tol = 1e-10;
  array<double> b1(bg), x1(ge.points());
  fill(x1, 0.0);
  const solve_report r1 = cg(one, b1, x1, o);
  array<double> b(block_of(bg, g)), x(many.rows());
  fill(x, 0.0);
  const solve_report r = cg(many, b, x, o);
  ASSERT_TRUE(r.converged()) << r.summary();
  EXPECT_LE(std::abs(r.iterations - r1.iterations), 1);
  const auto xe = block_of(std::vector<double>(x1.data(), x1.data() + ge.points()), g);
  for (std::int64_t i = 0; i < many.rows(); ++i) EXPECT_NEAR(x[i], xe[std::size_t(i)], 1e-8);
}

/// The block of a whole grid's interior, as a grid of its own (halo 1).
grid block_grid(const grid& whole, const cartesian_grid& g, int halo) {
  grid b(whole.type(), g.local_extent(), halo);
  const auto f = g.first();
  for (std::int64_t k = 0; k < b.nz(); ++k)
    for (std::int64_t j = 0; j < b.ny(); ++j)
      for (std::int64_t i = 0; i < b.nx(); ++i) b.at<double>(i, j, k) = whole.at<double>(f[0] + i, f[1] + j, f[2] + k);
  return b;
}

/// Every point of the block, halo included, equals the whole grid's point there.
void expect_block_equals(const grid& b, const grid& whole, const cartesian_grid& g) {
  const auto f = g.first();
  const std::int64_t h = b.halo();
  for (std::int64_t k = -h; k < b.nz() + h; ++k)
    for (std::int64_t j = -h; j < b.ny() + h; ++j)
      for (std::int64_t i = -h; i < b.nx() + h; ++i)
        ASSERT_EQ(b.at<double>(i, j, k), whole.at<double>(f[0] + i, f[1] + j, f[2] + k))
            << i << "," << j << "," << k << " on process " << world().rank();
}

TEST(DistributedGrid, JacobiSweepsAndHeatStepsEqualOneProcess) {
  const grid_extent ge(14, 12, 10);
  const boundary_conditions bc = mixed_conditions();
  const cartesian_grid g(world(), ge, bc);
  grid whole(dtype::f64, ge, 1), rhs(dtype::f64, ge, 1);
  for (std::int64_t k = 0; k < ge.nz; ++k)
    for (std::int64_t j = 0; j < ge.ny; ++j)
      for (std::int64_t i = 0; i < ge.nx; ++i) {
        whole.at<double>(i, j, k) = std::sin(0.3 * double(i + 2 * j + 3 * k));
        rhs.at<double>(i, j, k) = 0.01 * double(i - j + k);
      }
  for (int steps : {1, 5}) {
    grid u1 = whole.clone(), s1 = whole.like(), u = block_grid(whole, g, 1), s = u.like(), f = block_grid(rhs, g, 1);
    const grid& one = jacobi_sweeps(stencil::laplace_3d7(), u1, &rhs, s1, bc, steps, 0.8);
    const grid& many = jacobi_sweeps(g, stencil::laplace_3d7(), u, &f, s, steps, 0.8);
    expect_block_equals(many, one, g);
    grid h1 = whole.clone(), hs1 = whole.like(), h = block_grid(whole, g, 1), hs = h.like();
    const grid& hone = heat_steps(h1, hs1, 0.15, bc, steps);
    const grid& hmany = heat_steps(g, h, hs, 0.15, steps);
    expect_block_equals(hmany, hone, g);
  }
}

TEST(DistributedGrid, RefinementOnTheStencilWithF32InnerHalos) {
  // f32 inner halos asked by the operator (inner_halo), then by the policy (halo): the same.
  const grid_extent ge(16, 16, 16);
  const boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  const cartesian_grid g(world(), ge, bc);
  const auto bg = pattern(ge.points(), 0.1);
  int iterations[3] = {};
  std::int64_t bytes[3] = {};
  const dtype operator_halos[3] = {dtype::f64, dtype::f32, dtype::f64};
  const dtype policy_halos[3] = {dtype::f64, dtype::f64, dtype::f32};
  for (int h = 0; h < 3; ++h) {
    const distributed_stencil_operator a(g, stencil::laplace_3d7(), dtype::f64, operator_halos[h]);
    EXPECT_EQ(a.inner_copy(dtype::f64, policy_halos[h])->halo_type(),
              h > 0 && world().size() > 1 ? dtype::f32 : dtype::f64);
    refinement_options o;
    o.policy = precision_policy::f64();
    o.policy.halo = policy_halos[h];
    o.outer.rel_tol = 1e-12;
    array<double> b(block_of(bg, g)), x(a.rows());
    fill(x, 0.0);
    world().reset_counters();
    const solve_report r = refine(a, b, x, o);
    ASSERT_TRUE(r.converged()) << r.summary();
    EXPECT_LE(r.true_residual, 1e-12);
    iterations[h] = r.inner_iterations;
    bytes[h] = world().counters().halo_bytes;
  }
  EXPECT_LE(iterations[1], iterations[0] * 1.1 + 1);
  if (world().size() > 1) EXPECT_LT(double(bytes[1]), 0.6 * double(bytes[0]));
  EXPECT_EQ(iterations[2], iterations[1]);
  EXPECT_EQ(bytes[2], bytes[1]);
}

struct mg_case {
  grid_extent extent;
  int levels;
  std::int64_t align;
  bool gathers;  // on more than one process: a coarse level is gathered onto process 0
};

TEST(DistributedGrid, MultigridCycleEqualsOneProcessAndPreconditionsCg) {
  // 32x32x16 over 2 or 4 processes: blocks halve three times, then the 4x4x2 level is
  // gathered for the fifth; 24^3: blocks of 12 start at 12, so level 1 (12^3) is gathered.
  // 29x29x13 split evenly would start a block at 15; aligned to 4, the blocks along a split
  // axis are 16 + 13 (the last one odd), then 8 + 6, 4 + 3 and 2 + 1: all four levels
  // across the processes.
  const boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  for (const mg_case& mc : {mg_case{grid_extent(32, 32, 16), 5, 1, true}, mg_case{grid_extent(24, 24, 24), 4, 1, true},
                            mg_case{grid_extent(29, 29, 13), 4, 4, false}})
    for (const stencil& s : {stencil::laplace_3d7(), stencil::hpcg_27()})
      for (mg_restriction restriction : {mg_restriction::full_weighting, mg_restriction::injection}) {
        const grid_extent ge = mc.extent;
        multigrid_options mo;
        mo.restriction = restriction;
        mo.levels = mc.levels;
        const stencil_operator one(s, ge, bc);
        const multigrid_preconditioner m1(one, mo);
        const cartesian_grid g(world(), ge, bc, {0, 0, 0}, mc.align);
        for (int a = 0; a < 3; ++a) ASSERT_EQ(g.first()[std::size_t(a)] % mc.align, 0);
        const distributed_stencil_operator many(g, s);
        const auto m = distributed_multigrid(many, mo);
        EXPECT_EQ(m->levels(), m1.levels()) << m->describe();
        if (world().size() > 1)
          EXPECT_EQ(m->describe().find("gathered") != std::string::npos, mc.gathers) << m->describe();
        // One V-cycle: the same numbers on every block.
        const auto rg = pattern(ge.points(), 0.7);
        array<double> r1(rg), z1(ge.points()), r(block_of(rg, g)), z(many.rows());
        m1.apply(r1, z1);
        m->apply(r, z);
        const auto expect = block_of(std::vector<double>(z1.data(), z1.data() + ge.points()), g);
        EXPECT_EQ(std::memcmp(z.data(), expect.data(), expect.size() * sizeof(double)), 0) << m->describe();
        // MG-PCG: the iterations of one process.
        solve_options o;
        o.rel_tol = 1e-10;
        o.preconditioner = &m1;
        array<double> x1(ge.points());
        fill(x1, 0.0);
        const solve_report one_report = cg(one, r1, x1, o);
        o.preconditioner = m.get();
        array<double> x(many.rows());
        fill(x, 0.0);
        const solve_report report = cg(many, r, x, o);
        ASSERT_TRUE(report.converged()) << report.summary();
        EXPECT_LE(std::abs(report.iterations - one_report.iterations), 1) << report.summary();
      }
}

TEST(DistributedGrid, MultigridRefusesBlocksThatStartAtOddIndices) {
  if (world().size() == 1) GTEST_SKIP() << "one process: one block, starting at 0";
  const boundary_conditions bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  const cartesian_grid g(world(), grid_extent(13, 10, 9), bc);  // x split 7 + 6: a block starts at 7
  const distributed_stencil_operator a(g, stencil::laplace_3d7());
  try {
    (void)distributed_multigrid(a);
    ADD_FAILURE() << "no error on process " << world().rank();
  } catch (const mixprec::error& e) {
    EXPECT_EQ(e.code(), mixprec::status::unsupported);
    EXPECT_NE(std::string(e.what()).find("even index"), std::string::npos) << e.what();
  }
}

/// Runs f, expecting it to throw `code` with `needle` in the message on this process.
template <class F>
void expect_error_everywhere(F&& f, mixprec::status code, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "process " << world().rank() << ": no error";
  } catch (const mixprec::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(DistributedErrors, AMismatchOnOneProcessIsAnErrorOnAll) {
  const int last = world().size() - 1;
  const csr_matrix a = poisson_3d(8);
  const row_partition part = row_partition::even(a.rows(), world().size());
  // The last process passes rows with a column count of its own.
  const csr_matrix other = poisson_2d(5);
  const csr_matrix& mine = world().rank() == last ? other : a;
  // The process at fault reports its own error; the others name it.
  const std::string named = world().rank() == last ? "partition" : "process " + std::to_string(last);
  expect_error_everywhere([&] { (void)distributed_csr_operator::from_global(world(), mine, part); },
                          mixprec::status::shape_mismatch, named);

  const distributed_csr_operator d = distributed_csr_operator::from_global(world(), a, part);
  // The last process's x is one element short: apply() and a solve fail everywhere.
  const std::int64_t short_by = world().rank() == last ? 1 : 0;
  array<double> x(d.rows() - short_by), y(d.rows());
  fill(x, 0.0);
  expect_error_everywhere([&] { d.apply(x, y); }, mixprec::status::shape_mismatch, "elements");
  array<double> b(d.rows());
  fill(b, 1.0);
  expect_error_everywhere([&] { (void)cg(d, b, x, {}); }, mixprec::status::shape_mismatch, "elements");
  // The same for the decomposed stencil, and for a process grid that does not fit.
  const cartesian_grid g(world(), grid_extent(8, 8, 8), boundary_conditions::all(boundary::dirichlet, 0.0));
  const distributed_stencil_operator s(g, stencil::laplace_3d7());
  array<double> sx(s.rows() - short_by), sy(s.rows());
  fill(sx, 1.0);
  expect_error_everywhere([&] { s.apply(sx, sy); }, mixprec::status::shape_mismatch, "elements");
  expect_error_everywhere(
      [&] {
        (void)cartesian_grid(world(), grid_extent(8, 8, 8), boundary_conditions::all(boundary::dirichlet, 0.0),
                             {world().size() + 1, 1, 1});
      },
      mixprec::status::shape_mismatch, "processes");
  // Block alignment: the last process asks for another one (named on all), then none.
  const std::int64_t align = world().rank() == last ? 4 : 2;
  const std::string align_named = world().size() > 1 ? "from 2 to 4" : "";
  expect_error_everywhere(
      [&] {
        (void)cartesian_grid(world(), grid_extent(8, 8, 8), boundary_conditions::all(boundary::dirichlet, 0.0),
                             {0, 0, 0}, world().size() > 1 ? align : 0);
      },
      mixprec::status::invalid_argument, world().size() > 1 ? align_named : "align 0");
  // And the operator still works afterwards: no message was left in flight.
  array<double> good(d.rows());
  fill(good, 1.0);
  d.apply(good, y);
  EXPECT_TRUE(std::isfinite(nrm2(world(), y)));
}

/// Prints a failed check of a process other than 0, naming the process.
class failure_printer : public ::testing::EmptyTestEventListener {
 public:
  explicit failure_printer(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed())
      std::fprintf(stderr, "process %d: %s:%d: %s\n", rank_, r.file_name() ? r.file_name() : "?", r.line_number(),
                   r.summary());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  // One report: process 0 prints the run; the others print only their failures.
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new failure_printer(rank));
  }
  int failed = RUN_ALL_TESTS();
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  world_communicator.reset();  // mixprec's MPI objects are freed while MPI still runs
  MPI_Finalize();
  return failed;
}
