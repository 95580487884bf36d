// Bad input: every case gets a mixprec::error with the right code, a message naming what is
// wrong, and leaves the caller's outputs untouched.
#include <cstdlib>

#include "internal/context_state.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

TEST(errors, shape_mismatch_names_both_sizes_and_leaves_y) {
  std::vector<float> x(10, 1.0f), y(12, 5.0f);
  const auto before = y;
  expect_error([&] { axpy(2.0, make_view(x.data(), 10), make_view(y.data(), 12)); }, status::shape_mismatch,
               "x has 10 elements, y has 12");
  expect_error([&] { convert(make_view(x.data(), 10), make_view(y.data(), 12)); }, status::shape_mismatch, "x has 10");
  expect_error([&] { (void)dot(make_view(x.data(), 10), make_view(y.data(), 12)); }, status::shape_mismatch,
               "y has 12");
  EXPECT_EQ(y, before);
}

TEST(errors, dtype_mismatch_names_both_dtypes) {
  std::vector<float> x(4, 1.0f);
  std::vector<half> y(4, half(2.0f));
  expect_error([&] { axpy(1.0, make_view(x.data(), 4), make_view(y.data(), 4)); }, status::invalid_argument,
               "x is f32 but y is f16");
  EXPECT_EQ(y[0].bits(), half(2.0f).bits());
}

TEST(errors, context_mismatch_names_both_memory_spaces) {
  // A context that claims CUDA memory: validation must reject the pair before any kernel
  // (or the missing plugin) is touched.
  auto state = std::make_shared<detail::context_state>();
  state->kind = backend::cuda;
  const context fake_gpu = detail::context_access::make(state);
  std::vector<double> x(8, 1.0), y(8, 3.0);
  expect_error([&] { axpy(1.0, make_view(x.data(), 8, 1, fake_gpu), make_view(y.data(), 8)); },
               status::invalid_argument, "x lives in cuda:0 memory but y in cpu:0");
  EXPECT_EQ(y, std::vector<double>(8, 3.0));
}

TEST(errors, null_data_and_negative_sizes) {
  expect_error([] { (void)make_view(static_cast<float*>(nullptr), 5); }, status::invalid_argument, "data is null");
  std::vector<float> x(4);
  expect_error([&] { (void)make_view(x.data(), -3); }, status::invalid_argument, "is -3, a negative size");
  expect_error([] { buffer b(dtype::f32, -1); }, status::invalid_argument, "size -1 is negative");
  expect_error([] { (void)context::cpu(-2); }, status::invalid_argument, "threads = -2");
  EXPECT_NO_THROW((void)make_view(static_cast<float*>(nullptr), 0));  // empty views may be null
}

TEST(errors, output_with_stride_zero) {
  std::vector<float> x(4, 1.0f), y(4, 9.0f);
  expect_error([&] { axpy(1.0, make_view(x.data(), 4), make_view(y.data(), 4, 0)); }, status::invalid_argument,
               "stride 0");
  expect_error([&] { fill(make_view(y.data(), 4, 0), 1.0); }, status::invalid_argument, "stride 0");
  EXPECT_EQ(y, std::vector<float>(4, 9.0f));
  // Stride 0 is fine for an input: a broadcast scalar.
  EXPECT_EQ(dot(make_view(x.data(), 4, 0), make_view(x.data(), 4)), 4.0);
}

TEST(errors, default_constructed_and_gapped_views) {
  std::vector<float> y(4);
  expect_error([&] { (void)asum(const_view{}); }, status::invalid_argument, "default-constructed");
  std::vector<float> m(12, 1.0f);
  const view gapped = make_view(m.data(), {3, 2}, {4, 1});  // 3x2 block of a 3x4 matrix
  expect_error([&] { fill(gapped, 0.0); }, status::unsupported, "rank-2");
  EXPECT_EQ(m, std::vector<float>(12, 1.0f));
  const view dense = make_view(m.data(), {3, 4});
  EXPECT_EQ(asum(dense), 12.0);  // a dense tensor counts as its flattened elements
}

TEST(errors, typed_access_checks_dtype) {
  std::vector<float> x(4);
  const view v = make_view(x.data(), 4);
  EXPECT_EQ(v.typed<float>(), x.data());
  expect_error([&] { (void)v.typed<double>(); }, status::invalid_argument, "holds f32 but was read as f64");
}

TEST(errors, forcing_unknown_or_unfit_kernels) {
  expect_error([] { force_kernel k("dot_f32_nonexistent"); }, status::invalid_argument, "no kernel is named");
  // A unit-stride kernel refuses a strided call instead of silently running another.
  for (const auto& k : list_kernels("axpy")) {
    if (!k.runnable || !k.unit_stride_only || k.in != dtype::f32) continue;
    force_kernel pin(k.name);
    std::vector<float> x(9, 1.0f), y(9, 2.0f);
    expect_error([&] { axpy(1.0, make_view(x.data(), 3, 3), make_view(y.data(), 3, 3)); }, status::unsupported,
                 "needs unit strides");
    EXPECT_EQ(y, std::vector<float>(9, 2.0f));
  }
  // A forced kernel for another op does not affect this one.
  force_kernel pin("dot_f64_ref");
  std::vector<float> x(3, 1.0f);
  EXPECT_EQ(asum(make_view(x.data(), 3)), 3.0);
}

TEST(errors, unknown_names) {
  expect_error([] { (void)parse_dtype("f8"); }, status::invalid_argument, "'f8' is not a dtype");
  expect_error([] { (void)parse_cpu_isa("avx9"); }, status::invalid_argument, "'avx9' is not an ISA level");
}

TEST(errors, cuda_without_a_gpu_is_backend_unavailable) {
  if (cuda_available()) GTEST_SKIP() << "this machine has a CUDA device";
  expect_error([] { (void)context::cuda(0); }, status::backend_unavailable, "");
  // MIXPREC_BACKEND=cuda must fail the same way, not crash; =cpu must give the CPU.
  setenv("MIXPREC_BACKEND", "cuda", 1);
  expect_error([] { (void)context::best(); }, status::backend_unavailable, "");
  setenv("MIXPREC_BACKEND", "bogus", 1);
  expect_error([] { (void)context::best(); }, status::invalid_argument, "MIXPREC_BACKEND='bogus'");
  setenv("MIXPREC_BACKEND", "cpu", 1);
  EXPECT_EQ(context::best().kind(), backend::cpu);
  EXPECT_NE(context::best().describe().find("MIXPREC_BACKEND=cpu"), std::string::npos);
  unsetenv("MIXPREC_BACKEND");
  EXPECT_EQ(context::best().kind(), backend::cpu);
  EXPECT_NE(context::best().describe().find("no CUDA"), std::string::npos);
}

TEST(errors, a_context_says_which_ops_it_serves) {
  const context cpu = context::cpu();
  EXPECT_TRUE(cpu.supports("dot", dtype::f64, dtype::f64));
  EXPECT_TRUE(cpu.supports("spmv_csr", dtype::bf16, dtype::f32));
  EXPECT_TRUE(cpu.supports("gemm", dtype::u8, dtype::i32));
  EXPECT_FALSE(cpu.supports("gemm", dtype::f64, dtype::i8));  // no such pairing
  EXPECT_FALSE(cpu.supports("no_such_op", dtype::f64, dtype::f64));
  if (!cuda_available()) return;
  // The GPU context answers for the plugin: what it serves, and that best() agrees.
  const context gpu = context::cuda(0);
  EXPECT_TRUE(gpu.supports("dot", dtype::f64, dtype::f64));
  const bool full = gpu.supports("spmv_csr", dtype::f64, dtype::f64) && gpu.supports("gemm", dtype::f64, dtype::f64) &&
                    gpu.supports("stencil", dtype::f64, dtype::f64);
  unsetenv("MIXPREC_BACKEND");
  EXPECT_EQ(context::best().kind(), full ? backend::cuda : backend::cpu);
}

}  // namespace
}  // namespace mixprec::test
