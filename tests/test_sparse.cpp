// Sparse matrices: generators, COO -> CSR, validation, SELL, Matrix Market, and SpMV on
// every runnable kernel variant against long-double references with the derived bound of
// support/spmv_check.hpp.
#include <fstream>
#include <map>
#include <sstream>

#include "internal/context_state.hpp"
#include "mixprec/sparse.hpp"
#include "support/harness.hpp"
#include "support/spmv_check.hpp"

namespace mixprec::test {
namespace {

// ---- generators and construction ----------------------------------------------------------

TEST(sparse_generators, shapes_and_row_sums) {
  const std::int64_t n = 6;
  struct want {
    csr_matrix a;
    std::int64_t rows, nnz;
    double interior_row_sum;
  };
  const want cases[] = {{poisson_2d(n), n * n, 5 * n * n - 4 * n, 0.0},
                        {poisson_3d(n), n * n * n, 7 * n * n * n - 6 * n * n, 0.0},
                        {hpcg_27pt(n), n * n * n, (3 * n - 2) * (3 * n - 2) * (3 * n - 2), 0.0},
                        {anisotropic_2d(n, 0.01), n * n, 5 * n * n - 4 * n, 0.0}};
  for (const auto& c : cases) {
    EXPECT_EQ(c.a.rows(), c.rows);
    EXPECT_EQ(c.a.nnz(), c.nnz);
    EXPECT_TRUE(c.a.validate().ok) << c.a.validate().problem;
    const coo_matrix coo = c.a.to_coo();
    std::vector<double> row_sum(static_cast<std::size_t>(c.rows), 0.0);
    for (std::int64_t k = 0; k < coo.nnz(); ++k) row_sum[coo.row[k]] += coo.value[k];
    const std::int64_t h = n / 2, interior = c.rows == n * n ? h * n + h : h * (n * n + n + 1);
    EXPECT_NEAR(row_sum[static_cast<std::size_t>(interior)], c.interior_row_sum, 1e-12);
    // Symmetric: every (i, j, v) has (j, i, v).
    std::map<std::pair<std::int64_t, std::int64_t>, double> m;
    for (std::int64_t k = 0; k < coo.nnz(); ++k) m[{coo.row[k], coo.col[k]}] = coo.value[k];
    for (const auto& [ij, v] : m) EXPECT_EQ(m.at({ij.second, ij.first}), v);
  }
  const coo_matrix cd = convection_diffusion_3d(4, 10.0).to_coo();
  std::map<std::pair<std::int64_t, std::int64_t>, double> m;
  for (std::int64_t k = 0; k < cd.nnz(); ++k) m[{cd.row[k], cd.col[k]}] = cd.value[k];
  EXPECT_NE(m.at({5, 4}), m.at({4, 5}));  // convection makes it nonsymmetric
}

TEST(sparse_construction, coo_duplicates_are_summed_and_sorted) {
  coo_matrix c(3, 4);
  c.add(2, 3, 1.0);
  c.add(0, 1, 2.0);
  c.add(2, 0, 3.0);
  c.add(0, 1, 0.5);
  const csr_matrix a = csr_matrix::from_coo(c, dtype::f32);
  EXPECT_EQ(a.nnz(), 3);
  EXPECT_TRUE(a.validate().ok);
  const coo_matrix back = a.to_coo();
  EXPECT_EQ(back.row, (std::vector<std::int64_t>{0, 2, 2}));
  EXPECT_EQ(back.col, (std::vector<std::int64_t>{1, 0, 3}));
  EXPECT_EQ(back.value, (std::vector<double>{2.5, 3.0, 1.0}));
  c.add(3, 0, 1.0);
  try {
    (void)csr_matrix::from_coo(c);
    ADD_FAILURE() << "out-of-range entry accepted";
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("entry 4 at (3, 0) is outside the 3 x 4 matrix"), std::string::npos)
        << e.what();
  }
}

TEST(sparse_construction, index_and_value_conversions_round_trip) {
  const csr_matrix a = poisson_3d(4);
  const csr_matrix b = a.with_indices(index_type::i64).with_values(dtype::bf16);
  EXPECT_EQ(b.index_kind(), index_type::i64);
  EXPECT_EQ(b.value_type(), dtype::bf16);
  EXPECT_TRUE(b.validate().ok);
  EXPECT_EQ(b.with_indices(index_type::i32).to_coo().value, a.to_coo().value);  // 6 and -1 are exact in bf16
}

// ---- validation ---------------------------------------------------------------------------

TEST(sparse_validate, names_each_defect_and_where) {
  struct bad {
    std::vector<std::int32_t> row_ptr, col;
    std::string expect;
  };
  const bad cases[] = {
      {{1, 2, 3}, {0, 1, 0}, "row_ptr[0] is 1"},
      {{0, 2, 1}, {0, 1}, "row_ptr[1] = 2 exceeds nnz = 1"},
      {{0, 2, 1, 3}, {0, 1, 2}, "row_ptr decreases at row 1"},
      {{0, 1, 2}, {0, 5}, "row 1, entry 1: column 5 is outside [0, 3)"},
      {{0, 2, 3}, {2, 1, 0}, "row 0, entry 1: columns unsorted (2 before 1)"},
      {{0, 2, 3}, {1, 1, 0}, "row 0, entry 1: column 1 appears twice"},
      {{0, 1, 2}, {0, -1}, "column -1 is outside"},
  };
  for (const auto& c : cases) {
    const std::vector<double> v(c.col.size(), 1.0);
    const std::int64_t rows = std::int64_t(c.row_ptr.size()) - 1;
    const csr_ref r = csr_ref::wrap_unchecked<double, std::int32_t>(rows, 3, c.row_ptr.data(), c.col.data(), v.data());
    const csr_check chk = r.validate();
    EXPECT_FALSE(chk.ok) << c.expect;
    EXPECT_NE(chk.problem.find(c.expect), std::string::npos) << chk.problem;
    // wrap() runs the same check and refuses the arrays, naming the same defect, before
    // any SpMV could index x or y by them.
    try {
      (void)csr_ref::wrap<double, std::int32_t>(rows, 3, c.row_ptr.data(), c.col.data(), v.data());
      ADD_FAILURE() << "wrap accepted: " << c.expect;
    } catch (const error& e) {
      EXPECT_EQ(e.code(), status::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    }
  }
  const std::vector<std::int32_t> rp{0, 1, 2}, ci{0, 2};
  const std::vector<double> v{1, 2};
  EXPECT_TRUE((csr_ref::wrap<double, std::int32_t>(2, 3, rp.data(), ci.data(), v.data()).validate().ok));
}

TEST(sparse_wrap, wrapped_arrays_multiply_and_i64_defects_are_refused) {
  // A valid wrapped matrix multiplies like the owned one; i64 indices are checked alike.
  const csr_matrix a = poisson_2d(7).with_indices(index_type::i64);
  const auto* rp = static_cast<const std::int64_t*>(a.row_ptr_data());
  const auto* ci = static_cast<const std::int64_t*>(a.col_idx_data());
  const auto* v = static_cast<const double*>(a.values().data());
  const csr_ref w = csr_ref::wrap(a.rows(), a.cols(), rp, ci, v);
  array<double> x(a.cols()), y1(a.rows()), y2(a.rows());
  fill(x.as_view(), 1.5);
  spmv(1.0, a, x.as_view(), 0.0, y1.as_view());
  spmv(1.0, w, x.as_view(), 0.0, y2.as_view());
  EXPECT_EQ(y1.to_vector(), y2.to_vector());
  std::vector<std::int64_t> bad_col(ci, ci + a.nnz()), bad_ptr(rp, rp + a.rows() + 1);
  bad_col[10] = std::int64_t(1) << 40;  // far past x: SpMV would read out of bounds
  bad_ptr[5] = bad_ptr[6] + 1;          // a row that ends before it starts
  const auto before = bad_col;
  EXPECT_THROW((void)csr_ref::wrap(a.rows(), a.cols(), rp, bad_col.data(), v), error);
  EXPECT_EQ(bad_col, before);  // the caller's arrays are read, never changed
  EXPECT_THROW((void)csr_ref::wrap(a.rows(), a.cols(), bad_ptr.data(), ci, v), error);
  // The opt-out takes the arrays as they are (the caller vouches for them).
  EXPECT_NO_THROW((void)csr_ref::wrap_unchecked(a.rows(), a.cols(), rp, bad_col.data(), v));
}

TEST(sparse_wrap, copy_of_a_wrapped_matrix_owns_its_arrays) {
  std::vector<std::int32_t> rp = {0, 2, 3, 3}, ci = {0, 2, 1};
  std::vector<float> v = {1.5f, -2.0f, 0.25f};
  const csr_ref w = csr_ref::wrap(3, 3, rp.data(), ci.data(), v.data());
  const csr_matrix c = csr_matrix::copy_of(w);
  EXPECT_EQ(c.value_type(), dtype::f32);
  EXPECT_EQ(c.index_kind(), index_type::i32);
  v[0] = 100.0f;  // the caller's arrays change; the copy does not
  ci[1] = 1;
  const coo_matrix m = c.to_coo();
  ASSERT_EQ(m.value.size(), 3u);
  EXPECT_EQ(m.value[0], 1.5);
  EXPECT_EQ(m.col[1], 2);
  EXPECT_TRUE(c.validate().ok);
  // An empty matrix (null col_idx and values) copies too.
  const std::vector<std::int32_t> zeros = {0, 0};
  const csr_matrix e = csr_matrix::copy_of(csr_ref::wrap(1, 4, zeros.data(), static_cast<const std::int32_t*>(nullptr),
                                                         static_cast<const double*>(nullptr)));
  EXPECT_EQ(e.nnz(), 0);
  EXPECT_EQ(e.cols(), 4);
}

// ---- Matrix Market ---------------------------------------------------------------------

/// Reading `in` must fail with status::io and a message containing `expect`.
void expect_rejected(std::istream& in, const std::string& expect, const std::string& what) {
  try {
    (void)read_matrix_market(in);
    ADD_FAILURE() << "accepted: " << what;
  } catch (const error& e) {
    EXPECT_EQ(e.code(), status::io) << what;
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << what << ": " << e.what();
  }
}

TEST(matrix_market, round_trip_is_exact) {
  coo_matrix a = poisson_2d(5).to_coo();
  a.value[3] = 0.1;  // not a short decimal: needs 17 digits
  a.value[7] = -1.5e-300;
  std::stringstream s;
  write_matrix_market(s, a);
  const coo_matrix b = read_matrix_market(s);
  EXPECT_EQ(b.rows, a.rows);
  EXPECT_EQ(b.row, a.row);
  EXPECT_EQ(b.col, a.col);
  EXPECT_EQ(b.value, a.value);
}

TEST(matrix_market, symmetric_skew_array_pattern_integer) {
  std::stringstream sym("%%MatrixMarket matrix coordinate real symmetric\n% c\n3 3 2\n1 1 4\n3 1 -2.5\n");
  coo_matrix a = read_matrix_market(sym);
  EXPECT_EQ(a.nnz(), 3);
  const coo_matrix as = csr_matrix::from_coo(a).to_coo();
  EXPECT_EQ(as.value, (std::vector<double>{4, -2.5, -2.5}));
  std::stringstream skew("%%MatrixMarket matrix coordinate integer skew-symmetric\n2 2 1\n2 1 3\n");
  const coo_matrix k = csr_matrix::from_coo(read_matrix_market(skew)).to_coo();
  EXPECT_EQ(k.value, (std::vector<double>{-3, 3}));
  std::stringstream arr("%%MatrixMarket matrix array real general\n2 2\n1\n0\n2\n3\n");
  const coo_matrix d = csr_matrix::from_coo(read_matrix_market(arr)).to_coo();
  EXPECT_EQ(d.row, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(d.col, (std::vector<std::int64_t>{0, 1, 1}));
  EXPECT_EQ(d.value, (std::vector<double>{1, 2, 3}));
  std::stringstream pat("%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 2\n");
  EXPECT_EQ(read_matrix_market(pat).value, (std::vector<double>{1, 1}));
}

TEST(matrix_market, malformed_files_name_the_line) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "line 1: the file is empty"},
      {"%%MatrixMarket matrix coordinate real\n", "line 1: the header must read"},
      {"%%MatrixMarket vector coordinate real general\n", "object 'vector'"},
      {"%%MatrixMarket matrix coordinate complex general\n1 1 1\n", "complex matrices are not supported"},
      {"%%MatrixMarket matrix coordinate real hermitian\n", "hermitian"},
      {"%%MatrixMarket matrix array pattern general\n", "array file cannot have the pattern field"},
      {"%%MatrixMarket matrix coordinate real general\n", "the size line is missing"},
      {"%%MatrixMarket matrix coordinate real general\n2 2\n",
       "line 2: the size line must hold rows, columns and entries"},
      {"%%MatrixMarket matrix coordinate real general\n2 x 1\n", "line 2: column count 'x' is not an integer"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n", "line 3: the file ends after 1 of 2 entries"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n", "line 3: row index 3 is outside [1, 2]"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 abc\n", "line 3: value 'abc' is not a number"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1\n", "line 3: expected 3 fields, found 2"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 2\n",
       "line 4: unexpected data after the last entry"},
      {"%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n",
       "line 3: entry (1, 2) lies above the diagonal"},
      {"%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 1\n",
       "skew-symmetric file stores no diagonal"},
      {"%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n", "must be square"},
      {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", "declares 2 x 2 values but only 6 bytes follow"},
      {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n\n\n% padding, no data\n",
       "the file ends before entry (1, 2)"},
  };
  for (const auto& [text, expect] : cases) {
    std::stringstream s(text);
    expect_rejected(s, expect, text);
  }
  EXPECT_THROW((void)read_matrix_market(std::string("/nonexistent/x.mtx")), error);
}

TEST(matrix_market, tokens_are_read_whole_and_indices_checked_before_arithmetic) {
  const std::pair<const char*, const char*> cases[] = {
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1.5e\n", "value '1.5e' is not a number"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 2.5abc\n", "value '2.5abc' is not a number"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1x 1 1\n", "row index '1x' is not an integer"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1\n", "row index 0 is outside [1, 2]"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 9223372036854775807 1\n",
       "column index 9223372036854775807 is outside [1, 2]"},
      {"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 99999999999999999999 1\n", "is not an integer"},
  };
  for (const auto& [text, expect] : cases) {
    std::stringstream s(text);
    expect_rejected(s, expect, text);
  }
}

/// A stream that cannot seek, as a pipe: the reader cannot know how many bytes follow.
class unseekable_buf : public std::stringbuf {
 public:
  using std::stringbuf::stringbuf;

 protected:
  pos_type seekoff(off_type, std::ios_base::seekdir, std::ios_base::openmode) override {
    return pos_type(off_type(-1));
  }
  pos_type seekpos(pos_type, std::ios_base::openmode) override { return pos_type(off_type(-1)); }
};

TEST(matrix_market, declared_sizes_must_be_backed_by_the_data) {
  // Each header promises far more than the file holds; the reader must stop at once (from
  // the stream's length) or at the data's end (a pipe), never loop over the declared shape.
  const std::pair<const char*, const char*> cases[] = {
      {"%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 1000000000\n1 1 1\n",
       "declares 1000000000 entries but only 6 bytes follow"},
      {"%%MatrixMarket matrix array real general\n1000000000000000000 1000000000000000000\n1\n",
       "more than 2^63 values"},
      {"%%MatrixMarket matrix array real general\n3037000499 3037000499\n1\n", "but only 2 bytes follow"},
      {"%%MatrixMarket matrix coordinate pattern general\n5 5 3\n1 1\n2 2\n", "declares 3 entries but only 8 bytes"},
  };
  for (bool seekable : {true, false})
    for (const auto& [text, expect] : cases) {
      unseekable_buf pipe{std::string(text)};
      std::stringstream file(text);
      std::istream pipe_stream(&pipe);
      std::istream& in = seekable ? static_cast<std::istream&>(file) : pipe_stream;
      try {
        (void)read_matrix_market(in);
        ADD_FAILURE() << "accepted: " << text;
      } catch (const error& e) {
        EXPECT_EQ(e.code(), status::io);
        // Through a pipe the reader learns of the shortfall at the end of the data instead.
        const std::string what = e.what();
        if (seekable)
          EXPECT_NE(what.find(expect), std::string::npos) << "got: " << what;
        else
          EXPECT_TRUE(what.find("ends") != std::string::npos || what.find("2^63") != std::string::npos) << what;
      }
    }
  // Exactly enough bytes, the last line without its newline, is a valid file.
  std::stringstream tight("%%MatrixMarket matrix coordinate pattern general\n5 5 3\n1 1\n2 2\n3 3");
  EXPECT_EQ(read_matrix_market(tight).nnz(), 3);
  // A dense file with no rows has no values: read at once, whatever its column count.
  std::stringstream empty("%%MatrixMarket matrix array real general\n0 9223372036854775807\n");
  const coo_matrix e = read_matrix_market(empty);
  EXPECT_EQ(e.nnz(), 0);
  EXPECT_EQ(e.cols, 9223372036854775807);
}

TEST(matrix_market, hostile_files_from_outside_checks) {
  // Inputs that once hung the reader, overflowed an index or were accepted with garbage.
  const std::string dir = MIXPREC_TEST_DATA_DIR "/matrix_market/";
  const std::pair<const char*, const char*> rejected[] = {
      {"array_1e18_squared_values.mtx", "more than 2^63 values"},
      {"array_symmetric_triangle_overflows.mtx", "more than 2^63 values"},
      {"coordinate_1e9_entries_declared.mtx", "declares 1000000000 entries"},
      {"coordinate_row_index_int64_min.mtx", "row index -9223372036854775808 is outside [1, 2]"},
      {"coordinate_column_index_int64_min.mtx", "column index -9223372036854775808 is outside [1, 2]"},
      {"coordinate_value_with_nul_byte.mtx", "value '1\\x005' is not a number"},
      {"coordinate_integer_with_suffix.mtx", "value '7x' is not an integer"},
  };
  for (const auto& [file, expect] : rejected) {
    std::ifstream in(dir + file, std::ios::binary);
    ASSERT_TRUE(in) << file;
    expect_rejected(in, expect, file);
  }
  EXPECT_EQ(read_matrix_market(dir + "array_0_rows_2e63_columns.mtx").nnz(), 0);
  // A hypersparse matrix is valid: its triplets cost what the file holds, not 10^9 rows.
  const coo_matrix h = read_matrix_market(dir + "coordinate_1e9_rows_two_entries.mtx");
  EXPECT_EQ(h.rows, 1000000000);
  EXPECT_EQ(h.value, (std::vector<double>{1, 2}));
}

// ---- SpMV on every kernel ------------------------------------------------------------------

/// A matrix with empty rows, short and long rows (up to 40 entries) and random values.
coo_matrix irregular_matrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> val(-1, 1);
  coo_matrix c(rows, cols);
  for (std::int64_t i = 0; i < rows; ++i) {
    const int len = i % 7 == 3 ? 0 : i % 11 == 5 ? 40 : int(gen() % 9);
    for (int k = 0; k < len; ++k) c.add(i, std::int64_t(gen() % std::uint32_t(cols)), val(gen));
  }
  return c;
}

/// Rows in runs of 1-20 with one length each (0, 1, 2, 7, 27, 32, 33 or 40 entries), as
/// stencil and FEM matrices have: kernels may sum a run's rows with a body for its length.
coo_matrix matrix_of_runs(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> val(-1, 1);
  const int lengths[] = {0, 1, 2, 7, 27, 32, 33, 40};
  coo_matrix c(rows, cols);
  for (std::int64_t i = 0; i < rows;) {
    const int len = int(std::min<std::int64_t>(lengths[gen() % 8], cols));
    for (std::int64_t end = std::min<std::int64_t>(rows, i + 1 + gen() % 20); i < end; ++i) {
      const std::int64_t first = std::int64_t(gen() % std::uint32_t(cols - len + 1));
      for (int k = 0; k < len; ++k) c.add(i, first + k, val(gen));  // distinct columns
    }
  }
  return c;
}

class spmv_kernel : public ::testing::TestWithParam<kernel_info> {};

template <class X>
void check_spmv(const kernel_info& k) {
  const context ctx = context_for(k);
  force_kernel pin(k.name);
  const bool sell = k.op == "spmv_sell";
  const index_type it = k.name.find("_i64_") != std::string::npos ? index_type::i64 : index_type::i32;
  const std::vector<int> chunks =
      sell ? (k.name.find("_sell8_") != std::string::npos ? std::vector<int>{8} : std::vector<int>{8, 16})
           : std::vector<int>{0};
  const std::pair<std::int64_t, std::int64_t> shapes[] = {{1, 1}, {7, 3}, {50, 120}, {1000, 1000}, {20000, 900}};
  for (auto [rows, cols] : shapes)
    for (bool runs : {false, true})
      for (int chunk : chunks)
        for (int sigma : {1, 32})
          for (accumulation acc : {accumulation::standard, accumulation::f64}) {
            if (!sell && sigma > 1) continue;
            if (sell && sigma % chunk != 0 && sigma != 1) continue;
            if (runs && rows > 1000) continue;  // runs of 1-20 rows: 1000 rows hold many
            const std::uint32_t seed = std::uint32_t(rows + cols);
            const coo_matrix c = runs ? matrix_of_runs(rows, cols, seed) : irregular_matrix(rows, cols, seed);
            const csr_matrix a = csr_matrix::from_coo(c, k.in, it, ctx);
            const auto xs = random_values<X>(cols, 5), ys = random_values<X>(rows, 6);
            array<X> x(xs, ctx), y(ys, ctx);
            const double alpha = -1.25, beta = 0.5;
            try {
              if (sell)
                spmv(alpha, sell_matrix(a, chunk, sigma), x, beta, y, acc);
              else
                spmv(alpha, a, x, beta, y, acc);
            } catch (const error& e) {
              // The only refusal allowed: an f32-accumulating kernel asked for f64.
              ASSERT_TRUE(acc == accumulation::f64 && e.code() == status::unsupported) << e.what();
              continue;
            }
            const bool f64_acc = std::is_same_v<X, double> || k.in == dtype::f64 || acc == accumulation::f64;
            ASSERT_TRUE(spmv_within_bound(a.to_coo(), xs, ys, alpha, beta, y.to_vector(), f64_acc))
                << k.name << " " << rows << "x" << cols << (runs ? " runs" : " irregular") << " C=" << chunk
                << " sigma=" << sigma << " acc=" << name_of(acc);
          }
}

TEST_P(spmv_kernel, matches_exact_within_derived_bound) {
  with_type(GetParam().out, [&](auto x) {
    using X = decltype(x);
    if constexpr (std::is_floating_point_v<X>) check_spmv<X>(GetParam());
  });
}

TEST_P(spmv_kernel, beta_zero_does_not_read_y) {
  const kernel_info& k = GetParam();
  with_type(k.out, [&](auto xt) {
    using X = decltype(xt);
    if constexpr (std::is_floating_point_v<X>) {
      const context ctx = context_for(k);
      force_kernel pin(k.name);
      const index_type it = k.name.find("_i64_") != std::string::npos ? index_type::i64 : index_type::i32;
      const csr_matrix a = poisson_2d(9).with_values(k.in).with_indices(it).to(ctx);
      array<X> x(std::vector<X>(81, X(1)), ctx), y(std::vector<X>(81, std::numeric_limits<X>::quiet_NaN()), ctx);
      if (k.op == "spmv_sell")
        spmv(1.0, sell_matrix(a, 8, 1), x, 0.0, y);
      else
        spmv(1.0, a, x, 0.0, y);
      const auto got = y.to_vector();
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(std::isfinite(got[i])) << k.name << " row " << i;
      EXPECT_EQ(got[40], X(0));  // interior row of the Laplacian times ones
      EXPECT_EQ(got[0], X(2));   // corner: 4 - 1 - 1
    }
  });
}

// SELL pads short rows with column 0 and value 0. A kernel may load x[0] for a padding slot,
// but it must not add 0 * x[0]: with x[0] = Inf that is NaN in a row that never reads x[0].
class sell_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(sell_kernel, padding_never_adds_x0) {
  const kernel_info& k = GetParam();
  with_type(k.out, [&](auto xt) {
    using X = decltype(xt);
    if constexpr (std::is_floating_point_v<X>) {
      const context ctx = context_for(k);
      force_kernel pin(k.name);
      coo_matrix c(19, 19);  // row 0 reads columns 0..18, the others only their diagonal
      for (std::int64_t j = 0; j < 19; ++j) c.add(0, j, 1.0);
      for (std::int64_t i = 1; i < 19; ++i) c.add(i, i, 2.0);
      const csr_matrix a = csr_matrix::from_coo(c, k.in, index_type::i32, ctx);
      std::vector<X> xs(19, X(1));
      xs[0] = std::numeric_limits<X>::infinity();
      for (int sigma : {1, 8}) {
        array<X> x(xs, ctx), y(std::vector<X>(19, X(3)), ctx);
        spmv(1.0, sell_matrix(a, 8, sigma), x, 0.5, y);
        const auto got = y.to_vector();
        EXPECT_EQ(got[0], std::numeric_limits<X>::infinity()) << k.name;
        for (std::size_t i = 1; i < got.size(); ++i) ASSERT_EQ(got[i], X(3.5)) << k.name << " row " << i;
      }
    }
  });
}
INSTANTIATE_TEST_SUITE_P(every_kernel, sell_kernel, ::testing::ValuesIn(runnable_kernels("spmv_sell")),
                         kernel_param_name);

TEST_P(spmv_kernel, a_matrix_without_entries_scales_y) {
  // Found by the fuzzer (UBSan): with no entries the values pointer is null, and the CSR
  // kernels' prefetch offset it; y must come out as beta * y, nothing read from A.
  const kernel_info& k = GetParam();
  force_kernel pin(k.name);
  const coo_matrix c =
      read_matrix_market(std::string(MIXPREC_TEST_DATA_DIR) + "/matrix_market/coordinate_1001x1_no_entries_fuzz.mtx");
  ASSERT_EQ(c.nnz(), 0);
  const index_type it = k.name.find("_i64_") != std::string::npos ? index_type::i64 : index_type::i32;
  const csr_matrix a = csr_matrix::from_coo(c, k.in, it, context_for(k));
  with_type(k.out, [&](auto t) {
    using X = decltype(t);
    if constexpr (std::is_same_v<X, double> || std::is_same_v<X, float>) {
      array<X> x(std::vector<X>(1, X(3)), context_for(k)), y(std::vector<X>(std::size_t(c.rows), X(2)), context_for(k));
      if (k.op == "spmv_sell")
        spmv(1.0, sell_matrix(a, k.name.find("_c16") != std::string::npos ? 16 : 8), x, 0.5, y);
      else
        spmv(1.0, a, x, 0.5, y);
      EXPECT_EQ(y.to_vector(), std::vector<X>(std::size_t(c.rows), X(1))) << k.name;
    }
  });
}

std::vector<kernel_info> spmv_kernels() {
  auto v = runnable_kernels("spmv_csr");
  for (auto& k : runnable_kernels("spmv_sell")) v.push_back(k);
  return v;
}
INSTANTIATE_TEST_SUITE_P(every_kernel, spmv_kernel, ::testing::ValuesIn(spmv_kernels()), kernel_param_name);

TEST(spmv_errors, bad_operands_are_named_and_y_untouched) {
  const csr_matrix a = poisson_2d(4);  // 16 x 16
  std::vector<double> x(16, 1.0), y(16, 7.0), short_x(15, 1.0);
  auto expect = [&](auto&& f, status code, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error: " << needle;
    } catch (const error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(y, std::vector<double>(16, 7.0));
  };
  expect([&] { spmv(1, a, make_view(short_x.data(), 15), 0, make_view(y.data(), 16)); }, status::shape_mismatch,
         "A is 16 x 16 but x has 15 elements");
  expect([&] { spmv(1, a, make_view(y.data(), 16), 0, make_view(y.data(), 16)); }, status::invalid_argument,
         "x and y overlap");
  expect([&] { spmv(1, a, make_view(x.data(), 16), 0, make_view(y.data(), 16), accumulation::compensated); },
         status::unsupported, "compensated");
  std::vector<half> hx(16), hy(16);
  expect([&] { spmv(1, a, make_view(hx.data(), 16), 0, make_view(hy.data(), 16)); }, status::unsupported,
         "f64 or f32 vectors");
  std::vector<double> wide(32, 1.0);
  expect([&] { spmv(1, a, make_view(wide.data(), 16, 2), 0, make_view(y.data(), 16)); }, status::unsupported, "dense");
  auto state = std::make_shared<detail::context_state>();
  state->kind = backend::cuda;
  expect(
      [&] { spmv(1, a, make_view(x.data(), 16, 1, detail::context_access::make(state)), 0, make_view(y.data(), 16)); },
      status::invalid_argument, "one memory space");
  expect([] { (void)sell_matrix(poisson_2d(3), 12); }, status::invalid_argument, "chunk C = 12 must be 8 or 16");
}

}  // namespace
}  // namespace mixprec::test

namespace mixprec::test {
namespace {

// ---- SpMM: every column is SpMV's answer, bit for bit ------------------------------------

class spmm_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(spmm_kernel, each_column_equals_spmv_of_that_column) {
  const kernel_info& kinfo = GetParam();
  std::string spmv_name = kinfo.name;
  spmv_name.replace(0, 4, "spmv");  // spmm_csr_... -> spmv_csr_... of the same variant
  const index_type index = kinfo.name.find("_i64_") != std::string::npos ? index_type::i64 : index_type::i32;
  csr_matrix a64 = convection_diffusion_3d(5, 3.0);
  const csr_matrix a = a64.with_values(kinfo.in).with_indices(index);
  with_type(kinfo.out, [&](auto tag) {
    using X = decltype(tag);
    if constexpr (std::is_same_v<X, double> || std::is_same_v<X, float>) {
      for (std::int64_t k : {1, 3, 16, 21}) {
        const std::int64_t ld = k + 2;  // padded rows: the leading dimension is honoured
        const auto xs = random_values<X>(a.cols() * ld, 31), ys = random_values<X>(a.rows() * ld, 32);
        array<X> x(xs), y(ys);
        const view xv(x.data(), dtype_of<X>, {a.cols(), k}, {ld, 1}, context::cpu());
        const view yv(y.data(), dtype_of<X>, {a.rows(), k}, {ld, 1}, context::cpu());
        {
          force_kernel pin(kinfo.name);
          spmm(0.75, a, xv, -1.5, yv);
        }
        force_kernel pin(spmv_name);
        for (std::int64_t j = 0; j < k; ++j) {
          std::vector<X> xc(std::size_t(a.cols())), yc(std::size_t(a.rows()));
          for (std::int64_t i = 0; i < a.cols(); ++i) xc[std::size_t(i)] = xs[std::size_t(i * ld + j)];
          for (std::int64_t i = 0; i < a.rows(); ++i) yc[std::size_t(i)] = ys[std::size_t(i * ld + j)];
          array<X> xa(xc), ya(yc);
          spmv(0.75, a, xa, -1.5, ya);
          const auto want = ya.to_vector();
          for (std::int64_t i = 0; i < a.rows(); ++i)
            ASSERT_EQ(y[i * ld + j], want[std::size_t(i)]) << "row " << i << " column " << j << " of " << k;
        }
        // The padding between rows of Y is never written.
        for (std::int64_t i = 0; i < a.rows(); ++i) ASSERT_EQ(y[i * ld + k], ys[std::size_t(i * ld + k)]);
      }
    }
  });
}

std::vector<kernel_info> spmm_kernels() { return runnable_kernels("spmm_csr"); }
INSTANTIATE_TEST_SUITE_P(every_kernel, spmm_kernel, ::testing::ValuesIn(spmm_kernels()), kernel_param_name);

TEST(spmm_errors, bad_operands_are_named) {
  const csr_matrix a = poisson_2d(4);
  array<double> x(16 * 2), y(16 * 2);
  array<float> yf(16 * 2);
  const view xv(x.data(), dtype::f64, {16, 2}, {2, 1}, context::cpu());
  const view yv(y.data(), dtype::f64, {16, 2}, {2, 1}, context::cpu());
  EXPECT_THROW(spmm(1.0, a, x, 0.0, y), error);  // rank 1
  EXPECT_THROW(spmm(1.0, a, xv, 0.0, view(yf.data(), dtype::f32, {16, 2}, {2, 1}, context::cpu())), error);
  EXPECT_THROW(spmm(1.0, a, xv, 0.0, view(y.data(), dtype::f64, {15, 2}, {2, 1}, context::cpu())), error);
  EXPECT_THROW(spmm(1.0, a, xv, 0.0, view(y.data(), dtype::f64, {16, 2}, {1, 16}, context::cpu())), error);
  EXPECT_THROW(spmm(1.0, a, xv, 0.0, xv), error);  // overlap
  try {
    spmm(1.0, a, xv, 0.0, view(y.data(), dtype::f64, {15, 2}, {2, 1}, context::cpu()));
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find("15 x 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mixprec::test
