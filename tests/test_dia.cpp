// DIA storage: conversion from CSR (pattern, values, refusal of matrices that do not suit
// it), SpMV on every runnable kernel against long-double references with the bound of
// support/spmv_check.hpp (k the row's nonzeros: stored zeros add exactly 0), and the
// operator under the solvers; csr_operator applying a banded CSR matrix as DIA.
#include <algorithm>
#include <random>

#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"
#include "support/spmv_check.hpp"

namespace mixprec::test {
namespace {

/// A banded matrix with the given offsets, each diagonal with random gaps (absent entries
/// the DIA form must store as zeros) and random values.
coo_matrix banded_matrix(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& offsets,
                         std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> val(-1, 1);
  coo_matrix c(rows, cols);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t off : offsets) {
      const std::int64_t j = i + off;
      if (j >= 0 && j < cols && gen() % 5 != 0) c.add(i, j, val(gen));
    }
  return c;
}

std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> sorted_entries(const coo_matrix& c) {
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> e;
  for (std::int64_t k = 0; k < c.nnz(); ++k) e.emplace_back(c.row[k], c.col[k], std::int64_t(c.value[k] * 1e15));
  std::sort(e.begin(), e.end());
  return e;
}

TEST(dia_matrix, stores_a_stencil_matrix_as_its_diagonals) {
  const csr_matrix a = poisson_3d(5);
  const dia_matrix d(a);
  EXPECT_EQ(d.offsets(), (std::vector<std::int64_t>{-25, -5, -1, 0, 1, 5, 25}));
  EXPECT_EQ(d.rows(), 125);
  EXPECT_EQ(d.nnz(), a.nnz());
  EXPECT_EQ(d.stored(), 7 * 125);
  EXPECT_DOUBLE_EQ(dia_matrix::fill_of(a), 7.0 * 125 / double(a.nnz()));
  EXPECT_EQ(d.diagonal(), a.diagonal());
  EXPECT_EQ(sorted_entries(d.to_coo()), sorted_entries(a.to_coo()));
  const dia_matrix d32 = d.with_values(dtype::f32);
  EXPECT_EQ(d32.value_type(), dtype::f32);
  EXPECT_EQ(sorted_entries(d32.to_coo()), sorted_entries(a.to_coo()));  // small integers: exact in f32
}

TEST(dia_matrix, rectangular_and_gapped_patterns_round_trip) {
  for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{7, 3}, {3, 7}, {40, 40}, {1, 1}}) {
    const coo_matrix c = banded_matrix(rows, cols, {-6, -2, 0, 3, 5}, std::uint32_t(rows * 31 + cols));
    const csr_matrix a = csr_matrix::from_coo(c);
    const dia_matrix d(a, 100.0);
    EXPECT_EQ(sorted_entries(d.to_coo()), sorted_entries(a.to_coo())) << rows << "x" << cols;
    EXPECT_EQ(d.diagonal(), a.diagonal()) << rows << "x" << cols;
  }
}

TEST(dia_matrix, unsorted_rows_and_repeated_columns_are_summed) {
  // Row 0: columns 1, 0, 1 (unsorted, column 1 twice); row 1: column 1; row 2: 2, 1.
  csr_matrix a(3, 3, 6, dtype::f64, index_type::i32);
  const std::int32_t rp[] = {0, 3, 4, 6}, ci[] = {1, 0, 1, 1, 2, 1};
  const double v[] = {0.5, 2.0, 0.25, 3.0, 4.0, -1.0};
  std::copy(rp, rp + 4, static_cast<std::int32_t*>(a.row_ptr_data()));
  std::copy(ci, ci + 6, static_cast<std::int32_t*>(a.col_idx_data()));
  std::copy(v, v + 6, static_cast<double*>(a.values().data()));
  const dia_matrix d(a);
  EXPECT_EQ(d.offsets(), (std::vector<std::int64_t>{-1, 0, 1}));
  coo_matrix expect(3, 3);
  expect.add(0, 0, 2.0);
  expect.add(0, 1, 0.75);
  expect.add(1, 1, 3.0);
  expect.add(2, 1, -1.0);
  expect.add(2, 2, 4.0);
  EXPECT_EQ(sorted_entries(d.to_coo()), sorted_entries(expect));
}

TEST(dia_matrix, refuses_a_matrix_whose_band_would_blow_up) {
  coo_matrix c(1000, 1000);
  std::mt19937 gen(3);
  for (int k = 0; k < 3000; ++k) c.add(gen() % 1000, gen() % 1000, 1.0);
  const csr_matrix a = csr_matrix::from_coo(c);
  EXPECT_GT(dia_matrix::fill_of(a), 3.0);
  expect_refusal([&] { dia_matrix d(a); }, status::invalid_argument, "above max_fill = 3");
  expect_refusal([&] { dia_matrix d(poisson_2d(4), 0.5); }, status::invalid_argument, "max_fill = 0.5");
  const dia_matrix empty(csr_matrix::from_coo(coo_matrix(4, 4)));
  EXPECT_EQ(empty.diagonals(), 0);
  array<double> x(std::vector<double>(4, 1.0)), y(std::vector<double>(4, 5.0));
  spmv(1.0, empty, x, 0.5, y);  // no diagonals: y = beta * y
  EXPECT_EQ(y.to_vector(), std::vector<double>(4, 2.5));
}

// ---- SpMV on every kernel ------------------------------------------------------------------

class spmv_dia_kernel : public ::testing::TestWithParam<kernel_info> {};

template <class X>
void check_dia_spmv(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  struct shape {
    std::int64_t rows, cols;
    std::vector<std::int64_t> offsets;
  };
  // Offsets that leave no full-band rows, a few, or most; diagonals that miss the matrix.
  const shape shapes[] = {{5, 4, {}},  // no diagonals at all: y = beta y
                          {1, 1, {0}},
                          {7, 3, {-5, -1, 0, 2}},
                          {3, 70, {0, 1, 40, 69}},
                          {50, 120, {-3, 0, 1, 9, 100}},
                          {1000, 1000, {-100, -10, -1, 0, 1, 10, 100}},
                          {4099, 4099, {-300, -17, -1, 0, 1, 17, 300}},
                          // 13 diagonals: kernels that take many diagonals a group at a time
                          {6000, 6000, {-1000, -300, -40, -17, -2, -1, 0, 1, 2, 17, 40, 300, 1000}},
                          {20000, 900, {-19990, -400, -1, 0, 5}}};
  for (const shape& s : shapes)
    for (accumulation acc : {accumulation::standard, accumulation::f64})
      for (double beta : {0.5, 0.0}) {
        const coo_matrix c = banded_matrix(s.rows, s.cols, s.offsets, std::uint32_t(s.rows + s.cols));
        const dia_matrix a(csr_matrix::from_coo(c, k.in, index_type::i32, ctx), 1e9);
        const auto xs = random_values<X>(s.cols, 5), ys = random_values<X>(s.rows, 6);
        array<X> x(xs, ctx), y(ys, ctx);
        const double alpha = -1.25;
        spmv(alpha, a, x, beta, y, acc);
        const bool f64_acc = std::is_same_v<X, double> || k.in == dtype::f64 || acc == accumulation::f64;
        ASSERT_TRUE(spmv_within_bound(a.to_coo(), xs, ys, alpha, beta, y.to_vector(), f64_acc))
            << k.name << " " << s.rows << "x" << s.cols << " acc=" << name_of(acc) << " beta=" << beta;
      }
}

TEST_P(spmv_dia_kernel, matches_exact_within_derived_bound) {
  with_type(GetParam().out, [&](auto x) {
    using X = decltype(x);
    if constexpr (std::is_floating_point_v<X>) check_dia_spmv<X>(GetParam());
  });
}

TEST_P(spmv_dia_kernel, beta_zero_does_not_read_y_and_edges_never_read_past_x) {
  const kernel_info& k = GetParam();
  with_type(k.out, [&](auto xt) {
    using X = decltype(xt);
    if constexpr (std::is_floating_point_v<X>) {
      const context ctx = context_for(k);
      force_kernel pin(k.name);
      const std::int64_t n = 33 * 33;
      const dia_matrix a(poisson_2d(33).with_values(k.in).to(ctx));
      // x sits inside a larger array whose neighbours are NaN: a read off the matrix's ends
      // (a diagonal not clipped at an edge row) would show up as NaN.
      std::vector<X> padded(static_cast<std::size_t>(n + 128), std::numeric_limits<X>::quiet_NaN());
      std::fill(padded.begin() + 64, padded.begin() + 64 + n, X(1));
      array<X> xs(padded, ctx),
          y(std::vector<X>(static_cast<std::size_t>(n), std::numeric_limits<X>::quiet_NaN()), ctx);
      spmv(1.0, a, make_view(xs.data() + 64, n, 1, ctx), 0.0, y);
      const auto got = y.to_vector();
      for (std::int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(got[std::size_t(i)])) << k.name << " row " << i;
      EXPECT_EQ(got[std::size_t(16 * 33 + 16)], X(0));  // interior row of the Laplacian times ones
      EXPECT_EQ(got[0], X(2));                          // corner: 4 - 1 - 1
      EXPECT_EQ(got[std::size_t(n - 1)], X(2));
    }
  });
}

INSTANTIATE_TEST_SUITE_P(every_kernel, spmv_dia_kernel, ::testing::ValuesIn(runnable_kernels("spmv_dia")),
                         kernel_param_name);

TEST(spmv_dia_errors, bad_operands_are_named_and_y_untouched) {
  const dia_matrix a(poisson_2d(4));
  std::vector<double> short_x(15, 1.0), y(16, 7.0);
  expect_refusal([&] { spmv(1, a, make_view(short_x.data(), 15), 0, make_view(y.data(), 16)); }, status::shape_mismatch,
                 "A is 16 x 16 but x has 15 elements");
  expect_refusal([&] { spmv(1, dia_matrix(), make_view(y.data(), 16), 0, make_view(y.data(), 16)); },
                 status::invalid_argument, "DIA matrix is empty");
  EXPECT_EQ(y, std::vector<double>(16, 7.0));
}

// ---- under the solvers ---------------------------------------------------------------------

TEST(dia_operator, cg_on_dia_matches_cg_on_csr) {
  const csr_matrix a = poisson_3d(12);
  const csr_operator csr(a);
  const dia_operator dia(dia_matrix{a});
  EXPECT_EQ(dia.describe(), "dia f64/7diag 1728x1728 nnz " + std::to_string(a.nnz()));
  const std::vector<double> b = random_vector(a.rows(), 4);
  array<double> bd(b), x1(std::vector<double>(b.size(), 0.0)), x2(x1.to_vector());
  solve_options o;
  o.rel_tol = 1e-10;
  const solve_report r1 = cg(csr, bd.as_view(), x1.as_view(), o);
  const solve_report r2 = cg(dia, bd.as_view(), x2.as_view(), o);
  ASSERT_TRUE(r2.converged()) << r2.summary();
  EXPECT_EQ(r1.iterations, r2.iterations);
  EXPECT_LE(relative_residual(a.to_coo(), b, x2.to_vector()), 1e-10);
}

// ---- csr_operator's automatic layout -------------------------------------------------------

TEST(csr_operator_layout, a_banded_matrix_is_applied_as_dia_within_the_spmv_bound) {
  coo_matrix c(3000, 3000);  // five full diagonals with random values
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> val(-1, 1);
  for (std::int64_t i = 0; i < 3000; ++i)
    for (std::int64_t off : {-55, -1, 0, 1, 55})
      if (i + off >= 0 && i + off < 3000) c.add(i, i + off, val(gen));
  const csr_matrix a = csr_matrix::from_coo(c);
  ASSERT_LE(dia_matrix::fill_of(a), csr_operator::banded_fill);
  const csr_operator op(a, accumulation::standard, csr_operator::layout::automatic);
  ASSERT_NE(op.banded(), nullptr);
  EXPECT_EQ(op.banded()->offsets(), (std::vector<std::int64_t>{-55, -1, 0, 1, 55}));
  EXPECT_NE(op.describe().find(", applied as dia/5diag"), std::string::npos) << op.describe();
  const std::vector<double> xs = random_vector(a.cols(), 2), ys = random_vector(a.rows(), 3);
  array<double> x(xs), y(ys);
  op.apply(-0.75, x, 0.5, y);
  EXPECT_TRUE(spmv_within_bound(a.to_coo(), xs, ys, -0.75, 0.5, y.to_vector(), true));
  // Mixed precision keeps the layout: the f32 copy is banded too.
  const std::unique_ptr<linear_operator> op32 = op.stored_as(dtype::f32);
  ASSERT_NE(dynamic_cast<const csr_operator&>(*op32).banded(), nullptr);
  EXPECT_EQ(op32->storage_type(), dtype::f32);
}

TEST(csr_operator_layout, scattered_matrices_and_the_csr_layout_run_the_csr_kernel) {
  coo_matrix c(2000, 2000);
  std::mt19937 gen(5);
  for (std::int64_t i = 0; i < 2000; ++i) {
    c.add(i, i, 4.0);
    for (int k = 0; k < 4; ++k) c.add(i, std::int64_t(gen() % 2000), -0.5);
  }
  EXPECT_EQ(csr_operator(csr_matrix::from_coo(c)).banded(), nullptr);
  // A band whose diagonals are mostly empty would store far more than its nonzeros.
  const csr_matrix sparse_band = csr_matrix::from_coo(banded_matrix(2000, 2000, {-900, -500, 0, 3, 700}, 6));
  coo_matrix thinned(2000, 2000);
  const coo_matrix band = sparse_band.to_coo();
  for (std::int64_t k = 0; k < band.nnz(); k += 3) thinned.add(band.row[k], band.col[k], band.value[k]);
  EXPECT_EQ(csr_operator(csr_matrix::from_coo(thinned)).banded(), nullptr);
  const csr_matrix lap = poisson_2d(30);
  EXPECT_NE(csr_operator(lap.with_indices(index_type::i64)).banded(), nullptr);  // owned: automatic
  const csr_operator plain(poisson_2d(30), accumulation::standard, csr_operator::layout::csr);
  EXPECT_EQ(plain.banded(), nullptr);
  EXPECT_EQ(plain.describe().find("dia"), std::string::npos);
  EXPECT_EQ(csr_operator(csr_matrix::from_coo(coo_matrix(5, 5))).banded(), nullptr);  // no nonzeros
}

TEST(csr_operator_layout, an_operator_referring_to_the_callers_matrix_sees_its_values_change) {
  csr_matrix a = poisson_2d(20);
  const csr_operator tracking(a);  // refers: the CSR kernel on a's current values
  EXPECT_EQ(tracking.banded(), nullptr);
  const csr_operator snapshot(a, accumulation::standard, csr_operator::layout::automatic);
  ASSERT_NE(snapshot.banded(), nullptr);
  convert(make_view(std::vector<double>(std::size_t(a.nnz()), 2.0).data(), a.nnz()), a.values());  // in place
  array<double> x(std::vector<double>(std::size_t(a.cols()), 1.0)), y(a.rows()), old(a.rows());
  tracking.apply(x, y);
  snapshot.apply(x, old);
  EXPECT_EQ(y.to_vector()[0], 6.0);    // corner row: three entries, now all 2
  EXPECT_EQ(old.to_vector()[0], 2.0);  // 4 - 1 - 1: the values the snapshot was built from
}

TEST(dia_operator, f32_storage_under_refinement_reaches_fp64_accuracy) {
  const csr_matrix a = convection_diffusion_3d(10, 5.0);
  const dia_operator op(dia_matrix{a});
  const std::vector<double> b = random_vector(a.rows(), 8);
  array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
  refinement_options o;
  o.policy.matrix = dtype::f32;
  o.policy.krylov = dtype::f32;
  o.inner_method = inner_solver::gmres;
  o.outer.rel_tol = 1e-12;
  const solve_report rep = refine(op, bd.as_view(), x.as_view(), o);
  ASSERT_TRUE(rep.converged()) << rep.summary();
  EXPECT_EQ(rep.matrix_type, dtype::f32);
  EXPECT_LE(relative_residual(a.to_coo(), b, x.to_vector()), 1e-12);
}

}  // namespace
}  // namespace mixprec::test
