// Contexts, owning arrays, views of user memory and explicit copies, on every backend
// this machine has.
#include <numeric>
#include <set>

#include "support/harness.hpp"
#if defined(MIXPREC_TEST_EIGEN)
#include "mixprec/eigen.hpp"
#endif

namespace mixprec::test {
namespace {

std::vector<context> contexts() {
  std::vector<context> v{context::cpu(), context::cpu(1)};
  if (cuda_available()) v.push_back(context::cuda(0));
  return v;
}

TEST(memory, arrays_round_trip_through_every_context) {
  std::vector<float> host(1000);
  std::iota(host.begin(), host.end(), 0.0f);
  for (const auto& ctx : contexts()) {
    array<float> a(host, ctx);
    EXPECT_EQ(a.size(), 1000);
    EXPECT_EQ(a.to_vector(), host) << ctx.describe();
    array<float> b = a.clone();
    EXPECT_NE(b.data(), a.data());
    EXPECT_EQ(b.to(context::cpu()).to_vector(), host);
  }
}

TEST(memory, large_arrays_are_aligned) {
  array<double> a(1 << 20);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  array<double> empty(0);
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(asum(empty), 0.0);
}

TEST(memory, copy_checks_and_copies_strided) {
  std::vector<double> src{1, 2, 3, 4, 5, 6}, dst(3, 0.0);
  copy(make_view(src.data(), 3, 2), make_view(dst.data(), 3));
  EXPECT_EQ(dst, (std::vector<double>{1, 3, 5}));
  std::vector<float> f(3);
  EXPECT_THROW(copy(make_view(src.data(), 3), make_view(f.data(), 3)), error);
}

TEST(memory, buffer_is_dtype_erased) {
  buffer b(dtype::bf16, 64);
  EXPECT_EQ(b.bytes(), 128u);
  fill(b.as_view(), 0.5);
  EXPECT_EQ(asum(b.as_view()), 32.0);
  EXPECT_THROW((void)b.as_view().typed<half>(), error);
}

TEST(memory, views_wrap_user_memory_without_copy) {
  std::vector<double> user(10, 1.0);
  const view v = make_view(user.data(), 10);
  scal(3.0, v);
  EXPECT_EQ(user[9], 3.0);  // written in place
}

#if defined(MIXPREC_TEST_EIGEN)
TEST(memory, eigen_vectors_and_maps_are_views) {
  Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(10, 1, 10);
  mixprec::view x = view_of(v);
  scal(2.0, x);
  EXPECT_EQ(v[9], 20.0);
  double raw[9] = {1, 0, 0, 2, 0, 0, 3, 0, 0};
  Eigen::Map<Eigen::VectorXd, 0, Eigen::InnerStride<>> m(raw, 3, Eigen::InnerStride<>(3));
  EXPECT_EQ(asum(view_of(m)), 6.0);
  Eigen::Matrix<Eigen::half, Eigen::Dynamic, 1> h(4);
  h.setConstant(Eigen::half(1.5f));
  const const_view hv = view_of(std::as_const(h));
  EXPECT_EQ(hv.type(), dtype::f16);
  EXPECT_EQ(asum(hv), 6.0);
}

TEST(memory, float16_types_match_eigen_bit_for_bit) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const half h = half::from_bits(std::uint16_t(b));
    const float f = float(h);
    if (f != f) continue;
    ASSERT_EQ(f, float(to_eigen(h))) << b;
    ASSERT_EQ(from_eigen(Eigen::half(f)).bits(), half(f).bits()) << b;
    const bfloat16 g = bfloat16::from_bits(std::uint16_t(b));
    if (float(g) != float(g)) continue;
    ASSERT_EQ(float(g), float(to_eigen(g))) << b;
    // Between patterns: Eigen and mixprec must round alike.
    const float mid = float(g) * (1.0f + 1.0f / 256.0f);
    ASSERT_EQ(from_eigen(Eigen::bfloat16(mid)).bits(), bfloat16(mid).bits()) << mid;
  }
}
#endif

TEST(context, cpu_describes_isa_and_threads) {
  const context c = context::cpu(2);
  EXPECT_EQ(c.threads(), 2);
  EXPECT_EQ(c.kind(), backend::cpu);
  const std::string d = c.describe();
  EXPECT_NE(d.find(name_of(cpu_info().active)), std::string::npos) << d;
  EXPECT_TRUE(c == c);
  EXPECT_FALSE(c == context::cpu(2));  // distinct contexts, same memory space
  EXPECT_TRUE(c.same_memory(context::cpu(2)));
}

TEST(context, isa_cap_from_environment_is_honoured) {
  const cpu_features& f = cpu_info();
  EXPECT_LE(int(f.active), int(f.detected));
  if (const char* cap = std::getenv("MIXPREC_CPU_ISA")) EXPECT_LE(int(f.active), int(parse_cpu_isa(cap)));
  // Kernels above the active level are listed but not runnable.
  for (const auto& k : list_kernels())
    if (k.where == backend::cpu) EXPECT_EQ(k.runnable, int(k.min_isa) <= int(f.active)) << k.name;
}

TEST(context, every_op_and_dtype_has_a_reference_kernel) {
  const auto all = list_kernels();
  for (const char* op : {"fill", "axpy", "scal", "dot", "sumsq", "asum", "amax"})
    for (int t = 0; t < dtype_count; ++t) {
      const std::string want = std::string(op) + "_" + name_of(dtype(t)) + "_ref";
      EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const kernel_info& k) { return k.name == want; })) << want;
    }
  for (int s = 0; s < dtype_count; ++s)
    for (int d = 0; d < dtype_count; ++d) {
      const std::string want = std::string("convert_") + name_of(dtype(s)) + name_of(dtype(d)) + "_ref";
      EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const kernel_info& k) { return k.name == want; })) << want;
    }
}

TEST(context, every_kernel_is_in_its_implementation_list) {
  for (const kernel_info& k : list_kernels()) {
    EXPECT_GE(k.rank, 0) << k.name << ": variant '" << k.variant << "' is not in " << k.op
                         << "'s list (src/implementation_lists.cpp)";
    EXPECT_EQ(k.name.substr(k.name.size() - k.variant.size()), k.variant) << k.name;
  }
}

TEST(context, implementation_lists_end_with_the_reference_and_give_reasons) {
  const std::vector<kernel_info> all = list_kernels();
  for (const std::string& op : op_names()) {
    const std::vector<implementation_info> order = implementation_order(op);
    ASSERT_FALSE(order.empty()) << op;
    std::set<std::string> variants;
    for (const implementation_info& i : order) {
      EXPECT_TRUE(variants.insert(i.variant).second) << op << " lists " << i.variant << " twice";
      EXPECT_FALSE(i.why.empty()) << op << " " << i.variant;
    }
    // Every op whose kernels include a reference has it last (CSR: one per index type).
    const bool has_ref = std::any_of(all.begin(), all.end(), [&](const kernel_info& k) {
      return k.op == op && k.variant.size() >= 3 && k.variant.substr(k.variant.size() - 3) == "ref";
    });
    if (has_ref) {
      const std::string& last = order.back().variant;
      EXPECT_EQ(last.substr(last.size() - 3), "ref") << op;
    }
  }
  EXPECT_THROW(implementation_order("no_such_op"), error);
}

TEST(context, kernels_are_listed_in_dispatch_order) {
  // Within one (op, backend, dtypes) the ranks never decrease: the list's order is the
  // order dispatch walks.
  const std::vector<kernel_info> all = list_kernels();
  for (std::size_t i = 1; i < all.size(); ++i) {
    const kernel_info &a = all[i - 1], &b = all[i];
    if (a.op == b.op && a.where == b.where && a.in == b.in && a.out == b.out)
      EXPECT_LE(a.rank, b.rank) << a.name << " before " << b.name;
  }
}

}  // namespace
}  // namespace mixprec::test
