// The CUDA backend end to end, against the CPU: stencils and halo fills bit for bit (the
// same bodies, built without FMA contraction), GEMM through cuBLAS within the bound of its
// precision, solvers with matrix and vectors on the device that move no vector across the
// bus (multigrid's V-cycle among the preconditioners), a layer's forward row ops and linear backward that stay on the
// device, the device cache, staged copies, and errors naming what the backend lacks. Skipped, with the reason, where no
// CUDA device is usable.
#include <cstring>
#include <tuple>

#include "mixprec/attention.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/preconditioner.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

class cuda_backend : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!cuda_available(&why)) GTEST_SKIP() << "no usable CUDA device: " << why;
    gpu = context::cuda(0);
  }
  context gpu;
};

/// The registered kernel of `op` for dtype t with the variant `variant`.
std::string kernel_named(const std::string& op, dtype t, const std::string& variant) {
  for (const kernel_info& k : list_kernels(op))
    if (k.in == t && k.variant == variant) return k.name;
  ADD_FAILURE() << "no " << op << " kernel " << variant << " for " << name_of(t);
  return {};
}

/// Every point, halo included, equal bit for bit.
template <class T>
void expect_same_grid(const grid& want, const grid& got_anywhere, const std::string& what) {
  const grid got = got_anywhere.to(context::cpu());
  const std::int64_t h = want.halo(), zh = want.dims() == 3 ? h : 0;
  for (std::int64_t k = -zh; k < want.nz() + zh; ++k)
    for (std::int64_t j = -h; j < want.ny() + h; ++j)
      for (std::int64_t i = -h; i < want.nx() + h; ++i)
        ASSERT_EQ(0, std::memcmp(&want.at<T>(i, j, k), &got.at<T>(i, j, k), sizeof(T)))
            << what << " at (" << i << "," << j << "," << k << ")";
}

TEST_F(cuda_backend, stencils_and_halo_fills_equal_the_cpu_reference_bit_for_bit) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
    with_type(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
        const auto bc = boundary_conditions::all(boundary::neumann);
        auto mixed = boundary_conditions::all(boundary::periodic);
        mixed.lo[1] = {boundary::dirichlet, 0.5};
        for (const grid_extent& e : {grid_extent(33, 17, 9), grid_extent(40, 13)}) {
          grid u(t, e, 2), out(t, e, 2), f(t, e, 2);
          randomize<T>(u, 3);
          randomize<T>(out, 4);
          randomize<T>(f, 5);
          grid du = u.to(gpu), dout = out.to(gpu), df = f.to(gpu);
          for (const auto& conditions : {bc, mixed}) {
            {
              force_kernel pin(kernel_named("halo_fill", t, "ref"));
              fill_halo(u, conditions);
            }
            {
              force_kernel pin(kernel_named("halo_fill", t, "cuda"));
              fill_halo(du, conditions);
            }
            expect_same_grid<T>(u, du, "halo");
          }
          const stencil shapes[] = {
              e.dims == 3 ? stencil::laplace_3d7() : stencil::laplace_2d5(),
              e.dims == 3 ? stencil::hpcg_27() : stencil::box(2, 2, std::vector<double>(25, 0.04))};
          for (const stencil& s : shapes) {
            {
              force_kernel pin(kernel_named("stencil", t, "ref"));
              stencil_apply(s, -0.75, u, 0.5, out, &f, 2.0);
            }
            {
              force_kernel pin(kernel_named("stencil", t, "cuda"));
              stencil_apply(s, -0.75, du, 0.5, dout, &df, 2.0);
            }
            expect_same_grid<T>(out, dout, "stencil_apply");
            {
              force_kernel pin(kernel_named("stencil", t, "ref"));
              jacobi_sweep(s, u, &f, out, 0.8);
            }
            {
              force_kernel pin(kernel_named("stencil", t, "cuda"));
              jacobi_sweep(s, du, &df, dout, 0.8);
            }
            expect_same_grid<T>(out, dout, "jacobi_sweep");
          }
        }
      }
    });
}

TEST_F(cuda_backend, gemm_through_cublas_is_within_the_bound_of_its_precision) {
  const std::int64_t m = 37, n = 29, k = 300;
  auto check = [&](auto a_tag, auto c_tag, ld u_acc, ld u_out) {
    using TA = decltype(a_tag);
    using TC = decltype(c_tag);
    const auto av = random_values<TA>(m * k, 1), bv = random_values<TA>(k * n, 2);
    array<TA> a(av, gpu), b(bv, gpu);
    array<TC> c(m * n, gpu);
    for (trans tb : {trans::no, trans::yes}) {
      const const_view bview =
          tb == trans::no ? make_view(b.data(), {k, n}, {n, 1}, gpu) : make_view(b.data(), {n, k}, {k, 1}, gpu);
      gemm(trans::no, tb, 1.0, make_view(a.data(), {m, k}, {k, 1}, gpu), bview, 0.0,
           make_view(c.data(), {m, n}, {n, 1}, gpu));
      const auto cv = c.to_vector();
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          ld s = 0, sabs = 0;
          for (std::int64_t p = 0; p < k; ++p) {
            const ld bij = exact(bv[std::size_t(tb == trans::no ? p * n + j : j * k + p)]);
            s += exact(av[std::size_t(i * k + p)]) * bij;
            sabs += std::fabs(exact(av[std::size_t(i * k + p)]) * bij);
          }
          const ld got = exact(cv[std::size_t(i * n + j)]);
          ASSERT_LE(std::fabs(got - s), gamma(ld(k), u_acc) * sabs + u_out * std::fabs(s))
              << name_of(dtype_of<TA>) << " C(" << i << "," << j << ")";
        }
    }
  };
  check(double{}, double{}, unit_roundoff<double>(), 0);
  check(float{}, float{}, unit_roundoff<float>(), 0);
  check(half{}, float{}, unit_roundoff<float>(), 0);
  check(bfloat16{}, float{}, unit_roundoff<float>(), 0);
  check(half{}, half{}, unit_roundoff<float>(), std::ldexp(ld(1), -11));
  check(std::int8_t{}, std::int32_t{}, 0, 0);  // exact
}

struct device_problem {
  coo_matrix coo;
  csr_matrix host;
};

TEST_F(cuda_backend, solvers_run_on_the_device_and_move_no_vector_across_the_bus) {
  const device_problem spd{poisson_3d(16).to_coo(), poisson_3d(16)};
  const device_problem nonsym{convection_diffusion_3d(16, 5.0).to_coo(), convection_diffusion_3d(16, 5.0)};
  struct method {
    const char* name;
    const device_problem* p;
    bool jacobi;
    solve_report (*run)(const linear_operator&, const_view, view, const solve_options&);
  };
  const method methods[] = {
      {"cg", &spd, false, [](auto& a, auto b, auto x, auto& o) { return cg(a, b, x, o); }},
      {"pcg_jacobi", &spd, true, [](auto& a, auto b, auto x, auto& o) { return cg(a, b, x, o); }},
      {"cg_pipelined", &spd, false, [](auto& a, auto b, auto x, auto& o) { return cg_pipelined(a, b, x, o); }},
      {"bicgstab", &nonsym, true, [](auto& a, auto b, auto x, auto& o) { return bicgstab(a, b, x, o); }},
      {"gmres", &nonsym, true, [](auto& a, auto b, auto x, auto& o) { return gmres(a, b, x, o); }},
      {"fgmres", &nonsym, true, [](auto& a, auto b, auto x, auto& o) { return fgmres(a, b, x, o); }},
  };
  for (const method& m : methods) {
    const std::int64_t n = m.p->host.rows();
    const std::vector<double> bv = random_vector(n, 7);
    const csr_matrix a = m.p->host.to(gpu);
    const csr_operator op(a);
    const jacobi_preconditioner jacobi(op);
    array<double> b(bv, gpu), x(std::vector<double>(std::size_t(n), 0.0), gpu);
    solve_options o;
    o.rel_tol = 1e-10;
    o.max_iterations = 2000;
    if (m.jacobi) o.preconditioner = &jacobi;
    const transfer_counts before = gpu.transfers();
    const solve_report rep = m.run(op, b, x, o);
    const transfer_counts after = gpu.transfers();
    EXPECT_TRUE(rep.converged()) << m.name << ": " << rep.summary();
    EXPECT_EQ(after.bytes - before.bytes, 0)
        << m.name << " copied " << after.host_to_device - before.host_to_device << " arrays to and "
        << after.device_to_host - before.device_to_host << " from the device during the solve";
    EXPECT_LE(relative_residual(m.p->coo, bv, x.to_vector()), 1e-10 * (1 + 1e-3)) << m.name;
  }
  // Refinement: the f32 inner solves on the device too.
  const std::int64_t n = spd.host.rows();
  const std::vector<double> bv = random_vector(n, 9);
  const csr_operator op(spd.host.to(gpu));
  array<double> b(bv, gpu), x(std::vector<double>(std::size_t(n), 0.0), gpu);
  refinement_options ro;
  ro.outer.rel_tol = 1e-10;
  const solve_report rep = refine(op, b, x, ro);
  EXPECT_TRUE(rep.converged()) << rep.summary();
  EXPECT_LE(relative_residual(spd.coo, bv, x.to_vector()), 1e-10 * (1 + 1e-3));
}

TEST_F(cuda_backend, triangular_preconditioners_apply_on_the_device_without_copies) {
  // SGS (levels and colors), IC(0) and ILU(0): set up on the host, their factors, inverse
  // diagonals and row groups placed on the device, applied there by the csr_rows_solve kernel.
  const device_problem spd{poisson_3d(12).to_coo(), poisson_3d(12)};
  const device_problem nonsym{convection_diffusion_3d(12, 5.0).to_coo(), convection_diffusion_3d(12, 5.0)};
  const csr_operator spd_op(spd.host.to(gpu)), nonsym_op(nonsym.host.to(gpu));
  const sgs_preconditioner sgs_levels(spd_op, false), sgs_colors(spd_op, true);
  const incomplete_factorization ic = ic0_preconditioner(spd_op), ilu = ilu0_preconditioner(nonsym_op);
  struct method {
    const char* name;
    const device_problem* p;
    const csr_operator* op;
    const linear_operator* m;
  };
  const method methods[] = {{"pcg sgs levels", &spd, &spd_op, &sgs_levels},
                            {"pcg sgs colors", &spd, &spd_op, &sgs_colors},
                            {"pcg ic0", &spd, &spd_op, &ic},
                            {"gmres ilu0", &nonsym, &nonsym_op, &ilu}};
  for (const method& m : methods) {
    const std::int64_t n = m.p->host.rows();
    const std::vector<double> bv = random_vector(n, 11);
    array<double> b(bv, gpu), x(std::vector<double>(std::size_t(n), 0.0), gpu);
    solve_options o;
    o.rel_tol = 1e-10;
    o.max_iterations = 500;
    o.preconditioner = m.m;
    const transfer_counts before = gpu.transfers();
    const solve_report rep = m.p == &spd ? cg(*m.op, b, x, o) : gmres(*m.op, b, x, o);
    EXPECT_EQ(gpu.transfers().bytes - before.bytes, 0) << m.name << " copied across the bus during the solve";
    EXPECT_TRUE(rep.converged()) << m.name << ": " << rep.summary();
    EXPECT_LE(relative_residual(m.p->coo, bv, x.to_vector()), 1e-10 * (1 + 1e-3)) << m.name;
  }
}

TEST_F(cuda_backend, multigrid_preconditions_cg_on_the_device_without_copies) {
  // The V-cycle's levels, smoother and transfers in the operator's memory: MG-PCG on the
  // 3D Poisson problem test_multigrid solves on the host, f32 levels with full weighting and
  // f64 levels with injection, within the iterations it needs there.
  const grid_extent e(24, 24, 24);
  const coo_matrix assembled = poisson_3d(24).to_coo();
  const stencil_operator a(stencil::laplace_3d7(), e, boundary_conditions::all(boundary::dirichlet, 0.0), gpu);
  for (const auto& [storage, restriction, max_iterations] : {std::tuple{dtype::f32, mg_restriction::full_weighting, 20},
                                                             std::tuple{dtype::f64, mg_restriction::injection, 40}}) {
    multigrid_options mo;
    mo.storage = storage;
    mo.restriction = restriction;
    const multigrid_preconditioner m(a, mo);
    const std::vector<double> bv = random_vector(a.rows(), 12);
    array<double> b(bv, gpu), x(std::vector<double>(bv.size(), 0.0), gpu);
    solve_options o;
    o.rel_tol = 1e-10;
    o.preconditioner = &m;
    const transfer_counts before = gpu.transfers();
    const solve_report rep = cg(a, b, x, o);
    EXPECT_EQ(gpu.transfers().bytes - before.bytes, 0) << m.describe() << " copied across the bus during the solve";
    EXPECT_TRUE(rep.converged()) << m.describe() << ": " << rep.summary();
    EXPECT_LE(rep.iterations, max_iterations) << m.describe() << ": " << rep.summary();
    EXPECT_LE(relative_residual(assembled, bv, x.to_vector()), 1e-10 * (1 + 1e-3)) << m.describe();
  }
}

TEST_F(cuda_backend, a_layer_forward_and_backward_stay_on_the_device) {
  // Small integers: every product and sum below is exact in f32, on either backend.
  const std::int64_t m = 17, k = 13, n = 9;
  auto ints = [](std::int64_t count, int seed) {
    std::vector<float> v(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(int((i * 7 + std::size_t(seed)) % 7) - 3);
    return v;
  };
  const std::vector<float> xv = ints(m * k, 1), wv = ints(n * k, 2), dyv = ints(m * n, 3);
  struct layer {
    array<float> x, w, dy, dx, dw, db;
  };
  auto make = [&](const context& ctx) {
    return layer{array<float>(xv, ctx),
                 array<float>(wv, ctx),
                 array<float>(dyv, ctx),
                 array<float>(std::vector<float>(std::size_t(m * k), 0.0f), ctx),
                 array<float>(std::vector<float>(std::size_t(n * k), 1.0f), ctx),
                 array<float>(std::vector<float>(std::size_t(n), 2.0f), ctx)};
  };
  auto backward = [&](layer& l, const context& ctx) {
    linear_backward(make_view(l.x.data(), {m, k}, {}, ctx), make_view(l.w.data(), {n, k}, {}, ctx),
                    make_view(l.dy.data(), {m, n}, {}, ctx), make_view(l.dx.data(), {m, k}, {}, ctx),
                    make_view(l.dw.data(), {n, k}, {}, ctx), make_view(l.db.data(), n, 1, ctx));
  };
  layer host = make(context::cpu()), device = make(gpu);
  backward(host, context::cpu());
  const transfer_counts before = gpu.transfers();
  backward(device, gpu);
  const view xd = make_view(device.x.data(), {m, k}, {}, gpu);
  rms_norm(xd, const_view(), xd);
  softmax(xd, xd);
  activate(activation::silu, xd, xd);
  EXPECT_EQ(gpu.transfers().bytes - before.bytes, 0) << "a row op or the backward copied across the bus";
  EXPECT_EQ(device.dx.to_vector(), host.dx.to_vector());
  EXPECT_EQ(device.dw.to_vector(), host.dw.to_vector());
  EXPECT_EQ(device.db.to_vector(), host.db.to_vector()) << "the column sums of dy (the ones in device memory)";
}

TEST_F(cuda_backend, decode_steps_append_to_a_device_kv_cache_and_attend_without_copies) {
  // The values are the kernel suites' to check (test_attention.cpp runs every attention,
  // append and scan kernel, these included, against its references); this checks where the
  // data go. Only the finiteness checks' flags come back to the host.
  const std::int64_t heads = 8, kv_heads = 2, hd = 64, prompt = 20, steps = 3, kv_dim = kv_heads * hd;
  std::vector<float> kv(std::size_t((prompt + steps) * kv_dim)), q(std::size_t(heads * hd));
  for (std::size_t i = 0; i < kv.size(); ++i) kv[i] = float(int(i * 37 % 101) - 50) / 64;
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = float(int(i * 11 % 29) - 14) / 16;
  for (dtype storage : {dtype::bf16, dtype::i8}) {
    kv_cache cache(64, kv_heads, hd, storage, gpu);
    const array<float> keys(kv, gpu), values(kv, gpu), query(q, gpu);
    array<float> out(std::vector<float>(q.size(), 0.0f), gpu);
    auto rows = [&](const array<float>& a, std::int64_t first, std::int64_t count) {
      return make_view(a.data() + first * kv_dim, {count, kv_dim}, {kv_dim, 1}, gpu);
    };
    const transfer_counts before = gpu.transfers();
    cache.append(rows(keys, 0, prompt), rows(values, 0, prompt));
    for (std::int64_t t = 0; t < steps; ++t) {
      cache.append(rows(keys, prompt + t, 1), rows(values, prompt + t, 1));
      attention(make_view(query.data(), {1, heads * hd}, {heads * hd, 1}, gpu), cache,
                make_view(out.data(), {1, heads * hd}, {heads * hd, 1}, gpu));
    }
    EXPECT_EQ(gpu.transfers().bytes - before.bytes, 0) << "an append or attention copied across the bus";
    EXPECT_EQ(cache.size(), prompt + steps);
  }
}

TEST_F(cuda_backend, freed_device_blocks_are_reused_and_large_copies_are_staged) {
  const void* first = nullptr;
  {
    array<double> a(1 << 20, gpu);
    first = a.data();
  }
  array<double> again(1 << 20, gpu);
  EXPECT_EQ(again.data(), first) << "the block freed on this stream was not reused";

  std::vector<double> host(std::size_t(3) << 20);  // 24 MiB: six pinned chunks each way
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = double(i) * 0.5;
  const transfer_counts before = gpu.transfers();
  array<double> d(host, gpu);
  EXPECT_EQ(d.to_vector(), host);
  const transfer_counts after = gpu.transfers();
  EXPECT_EQ(after.host_to_device - before.host_to_device, 1);
  EXPECT_EQ(after.device_to_host - before.device_to_host, 1);
  EXPECT_EQ(after.bytes - before.bytes, 2 * std::int64_t(host.size() * sizeof(double)));
}

TEST_F(cuda_backend, errors_name_the_op_the_backend_lacks_and_the_memory_it_cannot_get) {
  // An A with no unit stride (every other column): cuBLAS cannot read it, and the error
  // names the kernel that declined and why.
  const array<float> a(std::vector<float>(128, 1.0f), gpu), b(std::vector<float>(64, 1.0f), gpu);
  array<float> c(64, gpu);
  expect_error(
      [&] {
        gemm(trans::no, trans::no, 1.0, make_view(a.data(), {8, 8}, {16, 2}, gpu),
             make_view(b.data(), {8, 8}, {8, 1}, gpu), 0.0, make_view(c.data(), {8, 8}, {8, 1}, gpu));
      },
      status::unsupported, "gemm_f32f32_cublas: cuBLAS needs A and B with a unit row or column stride");
  expect_error([&] { array<double> huge(std::int64_t(1) << 40, gpu); }, status::out_of_memory, "bytes");
}

}  // namespace
}  // namespace mixprec::test
