// The bad-input catalogue (docs/bad-input.md), one case per line: what a user can pass that
// is wrong, and the named error it gets. Every case must fail with its status and a message
// naming the problem, before anything is written (the caller's buffers are compared after)
// and before any allocation its sizes imply (the hostile sizes here would need exabytes).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "internal/context_state.hpp"
#include "mixprec/mixprec.h"
#include "mixprec/mixprec.hpp"
#include "support/harness.hpp"

namespace {

using namespace mixprec;
using test::expect_error;

struct bad_case {
  std::string name;
  std::function<void()> call;
  status code;
  std::string needle;
  std::function<bool()> untouched = [] { return true; };  // the caller's memory after the call
};

coo_matrix read_text(const std::string& text) {
  std::istringstream in(text);
  return read_matrix_market(in);
}

std::string file(const std::string& name) { return std::string(MIXPREC_TEST_DATA_DIR) + "/matrix_market/" + name; }

const std::string mm_head = "%%MatrixMarket matrix coordinate real general\n";

// Buffers the cases write into (or must not), kept for the untouched() checks.
std::vector<double> y8(8, 7.0), x9(9, 1.0);
std::vector<float> c_out(4 * 4, 5.0f);
std::vector<float> emb_out(2 * 32, 3.0f);

context fake_cuda() {
  auto state = std::make_shared<detail::context_state>();
  state->kind = backend::cuda;
  return detail::context_access::make(state);
}

bool all_equal(const std::vector<double>& v, double x) {
  for (double e : v)
    if (e != x) return false;
  return true;
}

std::vector<bad_case> catalogue() {
  const std::int32_t rp_ok[] = {0, 1, 2}, ci_out[] = {0, 9}, rp_down[] = {0, 2, 1, 2}, rp_start[] = {1, 1, 2},
                     ci_ok[] = {0, 1};
  static const double v2[] = {1.0, 2.0};
  static std::int32_t rp_ok_s[3], ci_out_s[2], rp_down_s[4], rp_start_s[3], ci_ok_s[2];
  std::copy(rp_ok, rp_ok + 3, rp_ok_s);
  std::copy(ci_out, ci_out + 2, ci_out_s);
  std::copy(rp_down, rp_down + 4, rp_down_s);
  std::copy(rp_start, rp_start + 3, rp_start_s);
  std::copy(ci_ok, ci_ok + 2, ci_ok_s);
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  return {
      // ---- Matrix Market files ----
      {"mm_empty_file", [] { read_text(""); }, status::io, "the file is empty"},
      {"mm_bad_banner", [] { read_text("%%MatrixMarket tensor\n1 1 1\n"); }, status::io, "the header must read"},
      {"mm_complex_field", [] { read_text("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n"); },
       status::io, "complex matrices are not supported"},
      {"mm_hermitian", [] { read_text("%%MatrixMarket matrix coordinate real hermitian\n1 1 1\n1 1 1\n"); }, status::io,
       "hermitian matrices are not supported"},
      {"mm_missing_size_line", [] { read_text(mm_head); }, status::io, "the size line is missing"},
      {"mm_negative_size", [] { read_text(mm_head + "-2 2 1\n1 1 1\n"); }, status::io, "the size is negative"},
      {"mm_sizes_overflow_64_bits", [] { read_matrix_market(file("array_1e18_squared_values.mtx")); }, status::io,
       "more than 2^63 values"},
      {"mm_entries_the_bytes_cannot_hold", [] { read_matrix_market(file("coordinate_1e9_entries_declared.mtx")); },
       status::io, "line"},
      {"mm_index_zero", [] { read_text(mm_head + "2 2 1\n0 1 1.0\n"); }, status::io, "row index 0 is outside [1, 2]"},
      {"mm_index_beyond_size", [] { read_text(mm_head + "2 2 1\n1 3 1.0\n"); }, status::io,
       "column index 3 is outside [1, 2]"},
      {"mm_index_int64_min", [] { read_matrix_market(file("coordinate_row_index_int64_min.mtx")); }, status::io,
       "-9223372036854775808"},
      {"mm_value_with_nul_byte", [] { read_matrix_market(file("coordinate_value_with_nul_byte.mtx")); }, status::io,
       "is not a number"},
      {"mm_truncated", [] { read_text(mm_head + "2 2 3\n1 1 1.0\n2 2 1.0\n"); }, status::io,
       "the file ends after 2 of 3 entries"},
      {"mm_data_after_last_entry", [] { read_text(mm_head + "2 2 1\n1 1 1.0\n2 2 1.0\n"); }, status::io,
       "unexpected data after the last entry"},
      {"mm_symmetric_entry_above_diagonal",
       [] { read_text("%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1.0\n"); }, status::io,
       "lies above the diagonal"},
      {"mm_symmetric_not_square", [] { read_text("%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n"); },
       status::io, "must be square"},
      {"mm_missing_file", [] { read_matrix_market(std::string("/nonexistent/A.mtx")); }, status::io, "cannot open"},

      // ---- views and arrays ----
      {"view_null_data", [] { (void)make_view(static_cast<double*>(nullptr), 4); }, status::invalid_argument,
       "data is null"},
      {"view_negative_extent", [] { (void)make_view(x9.data(), -1); }, status::invalid_argument, "a negative size"},
      {"view_extents_overflow_64_bits",
       [] {
         (void)make_view(x9.data(), {big / 2, 4});
       },
       status::invalid_argument, "passes 2^62"},
      {"view_stride_reach_overflows", [] { (void)make_view(x9.data(), 3, big / 2); }, status::invalid_argument,
       "reaches past 2^62"},
      {"view_read_as_other_dtype", [] { (void)make_view(x9.data(), 9).typed<float>(); }, status::invalid_argument,
       "holds f64 but was read as f32"},
      {"op_shapes_differ", [] { axpy(1.0, make_view(x9.data(), 9), make_view(y8.data(), 8)); }, status::shape_mismatch,
       "9", [] { return all_equal(y8, 7.0); }},
      {"op_dtypes_differ",
       [] {
         std::vector<float> xf(8, 1.0f);
         axpy(1.0, make_view(xf.data(), 8), make_view(y8.data(), 8));
       },
       status::invalid_argument, "x is f32 but y is f64", [] { return all_equal(y8, 7.0); }},
      {"op_output_stride_zero", [] { fill(make_view(y8.data(), 8, 0), 1.0); }, status::invalid_argument, "stride 0",
       [] { return all_equal(y8, 7.0); }},
      {"cuda_array_in_cpu_op", [] { axpy(1.0, make_view(x9.data(), 8, 1, fake_cuda()), make_view(y8.data(), 8)); },
       status::invalid_argument, "x lives in cuda:0 memory but y in cpu:0", [] { return all_equal(y8, 7.0); }},
      {"gemm_output_overlaps_input",
       [] {
         gemm(trans::no, trans::no, 1.0, make_view(c_out.data(), {4, 2}), make_view(c_out.data(), {2, 4}), 0.0,
              make_view(c_out.data(), {4, 4}));
       },
       status::invalid_argument, "overlap", [] { return c_out == std::vector<float>(16, 5.0f); }},
      {"gemm_inner_sizes_differ",
       [] {
         std::vector<float> a(12), b(12);
         gemm(trans::no, trans::no, 1.0, make_view(a.data(), {4, 3}), make_view(b.data(), {4, 3}), 0.0,
              make_view(c_out.data(), {4, 4}));
       },
       status::shape_mismatch, "gemm", [] { return c_out == std::vector<float>(16, 5.0f); }},
      {"layer_output_partly_overlaps_input",
       [] {
         std::vector<float> x(40, 1.0f);
         softmax(make_view(x.data(), {4, 8}), make_view(x.data() + 4, {4, 8}));
       },
       status::invalid_argument, "overlap"},

      // ---- caller-built sparse matrices ----
      {"csr_column_beyond_matrix", [] { (void)csr_ref::wrap(2, 2, rp_ok_s, ci_out_s, v2); }, status::invalid_argument,
       "column 9 is outside [0, 2)"},
      {"csr_row_pointers_decrease", [] { (void)csr_ref::wrap(3, 2, rp_down_s, ci_ok_s, v2); }, status::invalid_argument,
       "row_ptr decreases at row 1"},
      {"csr_row_pointers_start_past_zero", [] { (void)csr_ref::wrap(2, 2, rp_start_s, ci_ok_s, v2); },
       status::invalid_argument, "row_ptr[0] is 1, must be 0"},
      {"csr_negative_shape", [] { (void)csr_ref::wrap(-2, 2, rp_ok_s, ci_ok_s, v2); }, status::invalid_argument,
       "negative"},
      {"coo_entry_outside_matrix",
       [] {
         coo_matrix c(2, 2);
         c.add(0, 5, 1.0);
         (void)csr_matrix::from_coo(c);
       },
       status::invalid_argument, "entry 0 at (0, 5)"},
      {"csr_i32_indices_too_small", [] { csr_matrix m(std::int64_t(1) << 32, 1, 0, dtype::f64, index_type::i32); },
       status::invalid_argument, "does not fit i32 indices"},

      // ---- GGUF blocks and embeddings ----
      {"blocks_bytes_do_not_match_shape",
       [] {
         std::vector<std::uint8_t> raw(30);
         (void)block_matrix::from_bytes(raw.data(), raw.size(), 1, 32, block_format::q8_0);
       },
       status::shape_mismatch, "takes 34 bytes, not 30"},
      {"blocks_shape_overflows_memory",
       [] {
         std::vector<std::uint8_t> raw(34);
         (void)block_matrix::from_bytes(raw.data(), raw.size(), big / 2, 64, block_format::q8_0);
       },
       status::invalid_argument, "more bytes than memory holds"},
      {"blocks_row_not_whole_blocks",
       [] {
         std::vector<std::uint8_t> raw(34);
         (void)block_matrix::from_bytes(raw.data(), raw.size(), 1, 31, block_format::q8_0);
       },
       status::shape_mismatch, "not whole blocks of 32"},
      {"embedding_id_out_of_range",
       [] {
         std::vector<float> table(4 * 32, 1.0f);
         std::vector<std::int32_t> ids = {1, 4};
         embedding(make_view(table.data(), {4, 32}), make_view(ids.data(), 2), make_view(emb_out.data(), {2, 32}));
       },
       status::invalid_argument, "ids[1] = 4 is outside the vocabulary [0, 4)",
       [] { return emb_out == std::vector<float>(64, 3.0f); }},
      {"kv_cache_append_nan",
       [] {
         kv_cache c(8, 1, 4, dtype::f32);
         std::vector<float> k(4, 1.0f), v(4, std::nanf(""));
         c.append(make_view(k.data(), {1, 4}), make_view(v.data(), {1, 4}));
       },
       status::invalid_argument, "v holds nan at token 0"},

      // ---- solvers ----
      {"solver_vector_sizes_differ",
       [] {
         const csr_operator a(poisson_2d(3));
         (void)cg(a, make_view(x9.data(), 9), make_view(y8.data(), 8));
       },
       status::shape_mismatch, "", [] { return all_equal(y8, 7.0); }},
      {"solver_x_overlaps_b",
       [] {
         const csr_operator a(poisson_2d(3));
         (void)cg(a, make_view(x9.data(), 9), make_view(x9.data(), 9));
       },
       status::invalid_argument, "x overlaps b", [] { return x9 == std::vector<double>(9, 1.0); }},
      {"dense_x_overlaps_a",
       [] {
         std::vector<double> a = {4, 1, 1, 3}, b(2, 1.0);
         (void)gesv_ir(make_view(a.data(), {2, 2}), make_view(b.data(), 2), make_view(a.data() + 2, 2));
       },
       status::invalid_argument, "x overlaps a"},
      {"dense_singular_matrix",
       [] {
         std::vector<double> a(9, 1.0), b(3, 1.0), x(3, 0.0);
         (void)gesv_ir(make_view(a.data(), {3, 3}), make_view(b.data(), 3), make_view(x.data(), 3));
       },
       status::numerical_breakdown, "singular"},
      {"dense_norm_overflows",
       [] {
         std::vector<double> a = {1e308, 1e308, 0, 1}, b(2, 1.0), x(2, 0.0);
         (void)gesv_ir(make_view(a.data(), {2, 2}), make_view(b.data(), 2), make_view(x.data(), 2));
       },
       status::invalid_argument, "||a||inf overflows f64"},
      {"dense_refactor_other_size",
       [] {
         std::vector<double> a = {4, 1, 1, 3}, c(9, 1.0);
         dense_ir_solver s(make_view(a.data(), {2, 2}));
         s.refactor(make_view(c.data(), {3, 3}));
       },
       status::shape_mismatch, "a is 3 x 3; this solver factors 2 x 2 matrices"},
      {"dense_rhs_shapes_differ",
       [] {
         std::vector<double> a = {4, 1, 1, 3}, b(4, 1.0), x(6, 0.0);
         dense_ir_solver s(make_view(static_cast<const double*>(a.data()), {2, 2}));
         (void)s.solve(make_view(static_cast<const double*>(b.data()), {2, 2}), make_view(x.data(), {2, 3}));
       },
       status::shape_mismatch, "of one shape (b is 2 x 2, x 2 x 3)"},
      {"matrix_rows_overlap",
       [] {
         std::vector<double> a(16, 1.0);
         std::vector<std::int64_t> piv;
         getrf(make_view(a.data(), {4, 4}, {2, 1}), piv);
       },
       status::invalid_argument, "a has row stride 2 < its 4 columns: its rows overlap"},
      {"matrix_column_strided",
       [] {
         std::vector<float> x(16, 1.0f);
         softmax(make_view(static_cast<const float*>(x.data()), {2, 4}, {8, 2}), make_view(emb_out.data(), {2, 4}));
       },
       status::unsupported, "x has column stride 2; matrices are row-major views with unit column stride",
       [] { return emb_out == std::vector<float>(64, 3.0f); }},
      {"lu_without_pivoting_grows",
       [] {
         std::vector<double> a = {1e-20, 1, 1, 1};
         std::vector<std::int64_t> piv;
         lu_options o;
         o.pivoting = false;
         getrf(make_view(a.data(), {2, 2}), piv, o);
       },
       status::numerical_breakdown, "without pivoting the factors grew to"},
      {"ilu0_zero_pivot",
       [] {
         coo_matrix c(3, 3);
         for (int i = 0; i < 3; ++i)
           for (int j = std::max(0, i - 1); j <= std::min(2, i + 1); ++j) c.add(i, j, 1.0);
         const csr_operator a(csr_matrix::from_coo(c));
         (void)ilu0_preconditioner(a);
       },
       status::numerical_breakdown, "pivot"},
      {"int8_gemm_could_overflow_int32",
       [] {
         const std::int64_t k = 70000;
         std::vector<std::uint8_t> a(k);
         std::vector<std::int8_t> b(k);
         std::vector<std::int32_t> c(1);
         gemm(trans::no, trans::no, 1.0, make_view(a.data(), {1, k}), make_view(b.data(), {k, 1}), 0.0,
              make_view(c.data(), {1, 1}));
       },
       status::unsupported, "too large for exact s32 accumulation"},
  };
}

// Cases print as their names in failure messages.
void PrintTo(const bad_case& c, std::ostream* os) { *os << c.name; }

class bad_input : public ::testing::TestWithParam<bad_case> {};

TEST_P(bad_input, is_refused_by_name_before_anything_is_written) {
  const bad_case& c = GetParam();
  expect_error(c.call, c.code, c.needle);
  EXPECT_TRUE(c.untouched()) << c.name << " wrote into the caller's memory";
}

INSTANTIATE_TEST_SUITE_P(catalogue, bad_input, ::testing::ValuesIn(catalogue()),
                         [](const ::testing::TestParamInfo<bad_case>& i) { return i.param.name; });

// Inputs that are not errors: what they give is part of the catalogue too.
TEST(bad_input_accepted, duplicates_are_summed_and_order_does_not_matter) {
  const coo_matrix c = read_text(mm_head + "2 2 3\n2 2 1.5\n1 1 1.0\n2 2 0.25\n");
  const csr_matrix a = csr_matrix::from_coo(c);
  EXPECT_EQ(a.nnz(), 2);
  EXPECT_EQ(a.diagonal(), (std::vector<double>{1.0, 1.75}));
}

TEST(bad_input_accepted, nan_in_a_matrix_is_data_and_the_solve_says_non_finite) {
  coo_matrix c = read_text(mm_head + "2 2 2\n1 1 nan\n2 2 1.0\n");
  ASSERT_TRUE(std::isnan(c.value[0]));
  const csr_operator a(csr_matrix::from_coo(c));
  std::vector<double> b(2, 1.0), x(2, 0.0);
  const solve_report r = cg(a, make_view(b.data(), 2), make_view(x.data(), 2));
  EXPECT_FALSE(r.converged());
  EXPECT_EQ(r.reason, stop_reason::non_finite) << r.summary();
}

TEST(bad_input_accepted, a_file_of_zero_rows_and_2e63_columns_reads_at_once_as_an_empty_matrix) {
  // Its sizes are consistent (no values to store), so it is a valid matrix; the reader
  // must not loop over the columns.
  const coo_matrix c = read_matrix_market(file("array_0_rows_2e63_columns.mtx"));
  EXPECT_EQ(c.rows, 0);
  EXPECT_EQ(c.nnz(), 0);
}

TEST(bad_input_accepted, empty_vectors_are_no_ops) {
  std::vector<double> none;
  EXPECT_NO_THROW(axpy(1.0, make_view(none.data(), 0), make_view(none.data(), 0)));
  EXPECT_EQ(dot(make_view(none.data(), 0), make_view(none.data(), 0)), 0.0);
  EXPECT_EQ(amax(make_view(none.data(), 0)), -1);
}

TEST(bad_input_c_api, handles_and_options_are_checked) {
  mixprec_context ctx = nullptr;
  ASSERT_EQ(mixprec_context_create_cpu(1, &ctx), MIXPREC_SUCCESS);
  double data[4] = {1, 2, 3, 4};
  std::int64_t n = 4;
  mixprec_array ro = nullptr;
  ASSERT_EQ(mixprec_array_wrap_const(ctx, data, MIXPREC_F64, 1, &n, nullptr, &ro), MIXPREC_SUCCESS);
  EXPECT_EQ(mixprec_scal(2.0, ro), MIXPREC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mixprec_last_error()).find("read-only"), std::string::npos);
  EXPECT_EQ(data[0], 1.0);
  EXPECT_EQ(mixprec_scal(2.0, nullptr), MIXPREC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mixprec_last_error()).find("x is NULL"), std::string::npos);
  EXPECT_EQ(mixprec_scal(2.0, reinterpret_cast<mixprec_array>(ctx)), MIXPREC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mixprec_last_error()).find("not a live mixprec_array"), std::string::npos);
  double c[16] = {};
  std::int64_t shape[2] = {2, 2};
  mixprec_array a = nullptr, out = nullptr;
  ASSERT_EQ(mixprec_array_wrap(ctx, data, MIXPREC_F64, 2, shape, nullptr, &a), MIXPREC_SUCCESS);
  ASSERT_EQ(mixprec_array_wrap(ctx, c, MIXPREC_F64, 2, shape, nullptr, &out), MIXPREC_SUCCESS);
  mixprec_gemm_options o{};
  o.struct_size = 3;  // not set up by mixprec_gemm_options_init
  EXPECT_EQ(mixprec_gemm(MIXPREC_NO_TRANS, MIXPREC_NO_TRANS, 1.0, a, a, 0.0, out, &o), MIXPREC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(mixprec_last_error()).find("mixprec_gemm_options_init"), std::string::npos);
  EXPECT_EQ(c[0], 0.0);
  mixprec_array_destroy(a);
  mixprec_array_destroy(out);
  mixprec_array_destroy(ro);
  mixprec_context_destroy(ctx);
}

}  // namespace
