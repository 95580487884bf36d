// Geometric multigrid: the kernels (on every registered variant) against long-double
// references and the transfer identities R = P^T / 2^d; the V-cycle as a symmetric positive
// definite preconditioner; MG-PCG on 2D and 3D, star and box stencils, odd sizes, in f64 and
// f32 storage, to an FP64 residual of 1e-10 checked on the assembled matrix.
#include <random>

#include "internal/context_state.hpp"
#include "internal/dispatch.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/solver.hpp"
#include "support/harness.hpp"
#include "support/solve_check.hpp"

namespace mixprec::test {
namespace {

/// A grid with halo 1 (zero) in `t` holding `values` (x fastest) in its interior, in ctx.
grid grid_of(dtype t, const grid_extent& e, const std::vector<double>& values, const context& ctx = context::cpu()) {
  grid g(t, e, 1);
  const grid src = grid::wrap(const_cast<double*>(values.data()), e, 0, e.nx, e.nx * e.ny);
  copy_interior(src, g);
  return g.to(ctx);
}

std::vector<double> values_of(const grid& anywhere) {
  const grid g = anywhere.to(context::cpu());
  std::vector<double> v(static_cast<std::size_t>(g.points()));
  grid dst = grid::wrap(v.data(), g.extent(), 0, g.nx(), g.nx() * g.ny());
  copy_interior(g, dst);
  return v;
}

/// Value at (i, j, k) of an interior vector, 0 outside (the zero halo).
double at(const std::vector<double>& v, const grid_extent& e, std::int64_t i, std::int64_t j, std::int64_t k) {
  if (i < 0 || j < 0 || k < 0 || i >= e.nx || j >= e.ny || k >= e.nz) return 0.0;
  return v[std::size_t(i + e.nx * (j + e.ny * k))];
}

class mg_smooth_kernels : public ::testing::TestWithParam<kernel_info> {};
class mg_transfer_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(mg_smooth_kernels, one_color_matches_a_long_double_gauss_seidel_step) {
  const kernel_info& k = GetParam();
  const context ctx = context_for(k);  // the kernel is called directly, on grids in its memory
  const force_kernel pin(k.name);      // (other ops dispatch as usual)
  const double u_round = k.in == dtype::f64 ? 0x1p-53 : 0x1p-24;
  for (const grid_extent& e : {grid_extent(7, 6, 5), grid_extent(4, 3, 3), grid_extent(9, 5)}) {
    const bool three = e.dims == 3;
    // Star and box stencils with the point counts the kernels specialise (5, 7, 9, 27) and
    // one they do not (15: the 3D star plus the 8 corners; 2D: 3 points along x).
    std::vector<stencil_point> odd_points = {{0, 0, 0, 8.5}, {-1, 0, 0, -1}, {1, 0, 0, -1.5}};
    if (three) {
      odd_points = {{0, 0, 0, 16}, {-1, 0, 0, -1}, {1, 0, 0, -1}, {0, -1, 0, -1},
                    {0, 1, 0, -1}, {0, 0, -1, -1}, {0, 0, 1, -1}};
      for (int dz : {-1, 1})
        for (int dy : {-1, 1})
          for (int dx : {-1, 1}) odd_points.push_back({dx, dy, dz, -0.5});
    }
    for (const stencil& s : {three ? stencil::laplace_3d7() : stencil::laplace_2d5(),
                             three ? stencil::hpcg_27() : stencil::box(2, 1, {-1, -2, -1, -2, 13, -2, -1, -2, -1}),
                             stencil(e.dims, odd_points)}) {
      bool star = true;
      for (const stencil_point& p : s.points()) star = star && (p.dx != 0) + (p.dy != 0) + (p.dz != 0) <= 1;
      const int colors = star ? 2 : 8;
      for (int color = 0; color < colors; ++color) {
        const std::vector<double> u0 = random_vector(e.points(), 3 + color), f0 = random_vector(e.points(), 4);
        grid u = grid_of(k.in, e, u0, ctx), f = grid_of(k.in, e, f0, ctx);
        const std::vector<double> ur = values_of(u), fr = values_of(f);  // as stored
        std::vector<detail::stencil_offset> off;
        std::vector<double> c;
        for (const stencil_point& p : s.points()) {
          off.push_back({p.dx, p.dy, p.dz});
          c.push_back(p.coeff);
        }
        detail::mg_smooth_args a{
            e.nx,       e.ny,         e.nz,         int(c.size()), off.data(),   c.data(),     1.0 / s.center(),
            u.origin(), u.stride_y(), u.stride_z(), f.origin(),    f.stride_y(), f.stride_z(), colors,
            color};
        const auto& st = *detail::state_of(ctx);
        const detail::kernel_entry ke = detail::select_kernel(detail::op_id::mg_smooth, st, k.in, k.in, nullptr);
        ASSERT_EQ(std::string(ke.name), k.name);
        reinterpret_cast<detail::mg_smooth_fn>(ke.fn)(st.exec(), a);
        const std::vector<double> got = values_of(u);
        for (std::int64_t z = 0; z < e.nz; ++z)
          for (std::int64_t y = 0; y < e.ny; ++y)
            for (std::int64_t x = 0; x < e.nx; ++x) {
              const int my = colors == 2 ? int((x + y + z) & 1) : int((x & 1) | (y & 1) << 1 | (z & 1) << 2);
              const std::size_t at_i = std::size_t(x + e.nx * (y + e.ny * z));
              if (my != color) {
                ASSERT_EQ(got[at_i], ur[at_i]) << "a point of another color changed";
                continue;
              }
              long double sum = 0, mag = std::abs(fr[at_i]);
              for (const stencil_point& p : s.points()) {
                const double v = at(ur, e, x + p.dx, y + p.dy, z + p.dz);
                sum += (long double)p.coeff * v;
                mag += std::abs(p.coeff * v);
              }
              const long double want = ur[at_i] + (fr[at_i] - sum) / s.center();
              const double bound =
                  (double(s.points().size()) + 3) * u_round * (std::abs(ur[at_i]) + double(mag) / s.center());
              ASSERT_NEAR(got[at_i], double(want), bound)
                  << k.name << " color " << color << " at " << x << "," << y << "," << z;
            }
      }
    }
  }
}

TEST_P(mg_transfer_kernels, restriction_is_the_transpose_of_prolongation) {
  // <R r, v> * 2^d == <r, P v> for full weighting / trilinear; <R r, v> == <r, P v> for
  // injection; both to the rounding of the sums. Each restriction kernel is paired with the
  // prolongation kernel of its variant.
  const kernel_info& k = GetParam();
  const double u_round = k.in == dtype::f64 ? 0x1p-53 : 0x1p-24;
  const context ctx = context_for(k);  // the kernels are called directly, on grids in their memory
  const auto& st = *detail::state_of(ctx);
  const force_kernel pin(k.name);  // (other ops dispatch as usual)
  for (const grid_extent& e : {grid_extent(9, 8, 7), grid_extent(6, 5, 4), grid_extent(11, 4)}) {
    const grid_extent ce = e.dims == 3 ? grid_extent(e.nx / 2, e.ny / 2, e.nz / 2) : grid_extent(e.nx / 2, e.ny / 2);
    for (detail::mg_transfer kind : {detail::mg_transfer::injection, detail::mg_transfer::full_weighting}) {
      const std::vector<double> r0 = random_vector(e.points(), 5), v0 = random_vector(ce.points(), 6);
      grid r = grid_of(k.in, e, r0, ctx), u = grid_of(k.in, e, std::vector<double>(std::size_t(e.points()), 0.0), ctx);
      grid rc = grid_of(k.in, ce, std::vector<double>(std::size_t(ce.points()), 0.0), ctx),
           v = grid_of(k.in, ce, v0, ctx);
      // Injection restricts the residual f - S(u): with u = 0 that is f = r.
      const stencil s = e.dims == 3 ? stencil::laplace_3d7() : stencil::laplace_2d5();
      std::vector<detail::stencil_offset> off;
      std::vector<double> c;
      for (const stencil_point& p : s.points()) {
        off.push_back({p.dx, p.dy, p.dz});
        c.push_back(p.coeff);
      }
      detail::mg_restrict_args ra{kind,         e.nx,         e.ny,          e.nz,         ce.nx,
                                  ce.ny,        ce.nz,        int(c.size()), off.data(),   c.data(),
                                  u.origin(),   u.stride_y(), u.stride_z(),  r.origin(),   r.stride_y(),
                                  r.stride_z(), rc.origin(),  rc.stride_y(), rc.stride_z()};
      const detail::kernel_entry kr = detail::select_kernel(detail::op_id::mg_restrict, st, k.in, k.in, nullptr);
      reinterpret_cast<detail::mg_restrict_fn>(kr.fn)(st.exec(), ra);
      grid pv = grid_of(k.in, e, std::vector<double>(std::size_t(e.points()), 0.0), ctx);
      detail::mg_prolong_args pa{kind,        e.nx,          e.ny,         e.nz,         ce.nx,
                                 ce.ny,       ce.nz,         v.origin(),   v.stride_y(), v.stride_z(),
                                 pv.origin(), pv.stride_y(), pv.stride_z()};
      std::string prolong_name = k.name;
      prolong_name.replace(0, std::string("mg_restrict").size(), "mg_prolong");
      const force_kernel pin_prolong(prolong_name);
      const detail::kernel_entry kp = detail::select_kernel(detail::op_id::mg_prolong, st, k.in, k.in, nullptr);
      ASSERT_EQ(std::string(kp.name), prolong_name);
      reinterpret_cast<detail::mg_prolong_fn>(kp.fn)(st.exec(), pa);
      const std::vector<double> rcv = values_of(rc), pvv = values_of(pv), rv = values_of(r), vv = values_of(v);
      long double lhs = 0, rhs = 0, mag = 0;
      for (std::size_t i = 0; i < rcv.size(); ++i) {
        lhs += (long double)rcv[i] * vv[i];
        mag += std::abs(rcv[i] * vv[i]);
      }
      for (std::size_t i = 0; i < pvv.size(); ++i) {
        rhs += (long double)rv[i] * pvv[i];
        mag += std::abs(rv[i] * pvv[i]);
      }
      const double scale = kind == detail::mg_transfer::full_weighting ? (e.dims == 3 ? 8.0 : 4.0) : 1.0;
      EXPECT_NEAR(double(lhs) * scale, double(rhs), 32 * u_round * double(mag) * scale)
          << k.name << " " << int(kind) << " " << e.nx;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(kernels, mg_smooth_kernels, ::testing::ValuesIn(runnable_kernels("mg_smooth")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, mg_transfer_kernels, ::testing::ValuesIn(runnable_kernels("mg_restrict")),
                         kernel_param_name);

// ---- the V-cycle and MG-PCG -------------------------------------------------------------------

TEST(multigrid, the_v_cycle_is_symmetric_positive_definite) {
  for (mg_restriction restr : {mg_restriction::full_weighting, mg_restriction::injection}) {
    const stencil_operator a(stencil::laplace_3d7(), grid_extent(15, 12, 9));
    multigrid_options o;
    o.restriction = restr;
    const multigrid_preconditioner m(a, o);
    EXPECT_EQ(m.levels(), 4) << m.describe();  // 15x12x9 -> 7x6x4 -> 3x3x2 -> 1x1x1
    const std::int64_t n = a.rows();
    array<double> x(random_vector(n, 1)), y(random_vector(n, 2)), mx(n), my(n);
    m.apply(x, mx);
    m.apply(y, my);
    const double ymx = dot(y, mx, accumulation::f64), xmy = dot(x, my, accumulation::f64);
    const double size = std::sqrt(dot(mx, mx, accumulation::f64) * dot(y, y, accumulation::f64));
    EXPECT_NEAR(ymx, xmy, 1e-12 * size) << name_of(restr);
    EXPECT_GT(dot(x, mx, accumulation::f64), 0.0);
    // alpha and beta: z = 2 M x - z.
    array<double> z(random_vector(n, 9));
    const std::vector<double> z0 = z.to_vector(), mxv = mx.to_vector();
    m.apply(2.0, x, -1.0, z);
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(z[i], 2 * mxv[std::size_t(i)] - z0[std::size_t(i)], 1e-14 * (1 + std::abs(z0[std::size_t(i)])));
  }
}

TEST(multigrid, levels_stop_where_an_axis_runs_out) {
  const stencil_operator a(stencil::laplace_3d7(), grid_extent(64, 64, 5));
  multigrid_options o;
  o.levels = 6;
  const multigrid_preconditioner m(a, o);
  EXPECT_EQ(m.levels(), 3) << m.describe();  // z: 5 -> 2 -> 1 -> 0
  EXPECT_NE(m.describe().find("64x64x5/32x32x2/16x16x1"), std::string::npos) << m.describe();
}

struct mgpcg_case {
  const char* name;
  stencil shape;
  grid_extent extent;
  csr_matrix (*assembled)(const grid_extent&);
  multigrid_options options;
  int max_iterations;
};

csr_matrix assembled_poisson3(const grid_extent& e) { return poisson_3d(e.nx); }
csr_matrix assembled_hpcg(const grid_extent& e) { return hpcg_27pt(e.nx); }
csr_matrix assembled_poisson2(const grid_extent& e) { return poisson_2d(e.nx); }

multigrid_options with(dtype storage, mg_restriction r, int levels = 4) {
  multigrid_options o;
  o.storage = storage;
  o.restriction = r;
  o.levels = levels;
  return o;
}

TEST(multigrid, mgpcg_reaches_1e_minus_10_in_few_iterations) {
  const auto fw = mg_restriction::full_weighting, inj = mg_restriction::injection;
  // Iteration limits: what a working V-cycle needs here (measured 8-20), with room; plain CG
  // needs 60-90 on these grids.
  const mgpcg_case cases[] = {
      {"poisson3_f64", stencil::laplace_3d7(), grid_extent(24, 24, 24), assembled_poisson3, with(dtype::f64, fw), 20},
      {"poisson3_f32", stencil::laplace_3d7(), grid_extent(24, 24, 24), assembled_poisson3, with(dtype::f32, fw), 20},
      {"poisson3_odd", stencil::laplace_3d7(), grid_extent(25, 25, 25), assembled_poisson3, with(dtype::f64, fw), 20},
      {"hpcg_f64", stencil::hpcg_27(), grid_extent(24, 24, 24), assembled_hpcg, multigrid_options::hpcg(), 30},
      {"hpcg_fw_f32", stencil::hpcg_27(), grid_extent(24, 24, 24), assembled_hpcg, with(dtype::f32, fw), 20},
      {"poisson3_injection", stencil::laplace_3d7(), grid_extent(24, 24, 24), assembled_poisson3, with(dtype::f64, inj),
       40},
      {"poisson2_f64", stencil::laplace_2d5(), grid_extent(63, 63), assembled_poisson2, with(dtype::f64, fw, 5), 20},
  };
  for (const mgpcg_case& c : cases) {
    const stencil_operator a(c.shape, c.extent);
    const multigrid_preconditioner m(a, c.options);
    const coo_matrix coo = c.assembled(c.extent).to_coo();
    const std::vector<double> b = random_vector(a.rows(), 12);
    array<double> bd(b), x(std::vector<double>(b.size(), 0.0));
    solve_options o;
    o.rel_tol = 1e-10;
    o.preconditioner = &m;
    const solve_report rep = cg(a, bd, x, o);
    ASSERT_TRUE(rep.converged()) << c.name << ": " << rep.summary();
    EXPECT_LE(rep.iterations, c.max_iterations) << c.name << ": " << rep.summary() << "\n" << m.describe();
    EXPECT_EQ(rep.preconditioner_type, c.options.storage);
    EXPECT_LE(relative_residual(coo, b, x.to_vector()), 1e-10) << c.name;
  }
}

TEST(multigrid, what_it_cannot_take_is_named) {
  const grid_extent e(8, 8, 8);
  expect_refusal(
      [&] {
        multigrid_preconditioner m(stencil_operator(stencil::star(3, {6, -1, 0.1}), e));
      },
      status::unsupported, "radius 2");
  auto periodic = boundary_conditions::all(boundary::dirichlet);
  periodic.lo[1] = periodic.hi[1] = {boundary::periodic, 0.0};
  expect_refusal([&] { multigrid_preconditioner m(stencil_operator(stencil::laplace_3d7(), e, periodic)); },
                 status::unsupported, "axis y has a periodic face");
  multigrid_options o;
  o.storage = dtype::f16;
  expect_refusal([&] { multigrid_preconditioner m(stencil_operator(stencil::laplace_3d7(), e), o); },
                 status::unsupported, "storage f16");
  o = {};
  o.coarse_smooth = 0;
  expect_refusal([&] { multigrid_preconditioner m(stencil_operator(stencil::laplace_3d7(), e), o); },
                 status::invalid_argument, "coarse_smooth = 0");
}

}  // namespace
}  // namespace mixprec::test
