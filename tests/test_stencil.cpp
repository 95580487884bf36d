// Grids and stencils: halo fill against an independent per-point oracle; every stencil
// kernel variant against long-double references with derived bounds; the blocked
// multi-sweep against plain sweeps, bit for bit; the matrix-free operator against the
// assembled matrices; heat steps; and every bad argument named with the output untouched.
//
// Bound per point for out = sum_p c_p u_p (+ gamma f), computed in C and stored in S:
//   |out - exact| <= gamma_{P+3}(u_C) * (sum_p |c_p u_p| + |gamma f|) + u_S |exact|
// P-1 additions and P products of the sum, the f term's product and addition, and the
// coefficient's rounding to C after folding (alpha*c_p computed in f64) -- P+3 roundings of
// at most u_C each on any term -- then one rounding to the storage dtype.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include <sys/mman.h>
#include <unistd.h>

#include "internal/context_state.hpp"
#include "internal/dispatch.hpp"
#include "internal/kernel_tuning.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/stencil.hpp"
#include "support/harness.hpp"

namespace mixprec::test {
namespace {

template <class T>
double to_double(T v) {
  return double(float(v));
}
template <>
double to_double(double v) {
  return v;
}

template <class T>
ld get(const grid& g, std::int64_t i, std::int64_t j, std::int64_t k) {
  return ld(to_double(g.at<T>(i, j, k)));
}

// Rows of 33, 40 and 70 points: vector loops that run their first, middle (70 for f32's 16
// lanes) and last vectors and a scalar tail.
std::vector<grid_extent> extents() {
  return {grid_extent(1, 1, 1), grid_extent(7, 5, 3),  grid_extent(33, 17, 9), grid_extent(1, 1),
          grid_extent(13, 6),   grid_extent(40, 3, 2), grid_extent(70, 4, 3)};
}

std::vector<boundary_conditions> conditions() {
  std::vector<boundary_conditions> out{boundary_conditions::all(boundary::dirichlet, 0.75),
                                       boundary_conditions::all(boundary::neumann),
                                       boundary_conditions::all(boundary::periodic)};
  boundary_conditions mixed = boundary_conditions::all(boundary::neumann);
  mixed.lo[0] = mixed.hi[0] = {boundary::periodic, 0.0};
  mixed.lo[1] = {boundary::dirichlet, -2.0};
  mixed.hi[2] = {boundary::dirichlet, 3.0};
  out.push_back(mixed);
  return out;
}

// ---- halo fill ---------------------------------------------------------------------------

/// The value fill_halo must leave at (i,j,k): resolve z, then y, then x (the last axis
/// filled decides), each ghost coordinate either a dirichlet value or mapped inside.
template <class T>
ld expected_halo(const grid& before, const boundary_conditions& bc, std::int64_t i, std::int64_t j, std::int64_t k) {
  std::int64_t c[3] = {i, j, k};
  const std::int64_t n[3] = {before.nx(), before.ny(), before.nz()};
  for (int a = before.dims() - 1; a >= 0; --a) {
    const bool low = c[a] < 0, high = c[a] >= n[a];
    if (!low && !high) continue;
    const face_condition f = low ? bc.lo[a] : bc.hi[a];
    if (f.kind == boundary::dirichlet) return ld(to_double(T(f.value)));
    if (f.kind == boundary::periodic)
      c[a] = low ? c[a] + n[a] : c[a] - n[a];
    else
      c[a] = low ? -1 - c[a] : 2 * n[a] - 1 - c[a];
  }
  return get<T>(before, c[0], c[1], c[2]);
}

class halo_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(halo_kernel, every_condition_every_face_matches_oracle) {
  const kernel_info& kinfo = GetParam();
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      force_kernel pin(kinfo.name);
      for (int halo : {1, 2})
        for (const auto& e : extents()) {
          if (std::min({e.nx, e.ny}) < halo) continue;
          for (const auto& bc0 : conditions()) {
            boundary_conditions bc = bc0;
            if (e.dims == 3 && e.nz < halo)  // mirrored axes need halo points inside
              bc.lo[2] = bc.hi[2] = {boundary::dirichlet, 1.5};
            grid g(kinfo.in, e, halo);
            randomize<T>(g, 7);
            const grid before = g.clone();
            fill_halo(g, bc);
            const std::int64_t h = halo, zh = e.dims == 3 ? h : 0;
            for (std::int64_t k = -zh; k < e.nz + zh; ++k)
              for (std::int64_t j = -h; j < e.ny + h; ++j)
                for (std::int64_t i = -h; i < e.nx + h; ++i) {
                  const bool inside = i >= 0 && i < e.nx && j >= 0 && j < e.ny && k >= 0 && k < e.nz;
                  const ld want = inside ? get<T>(before, i, j, k) : expected_halo<T>(before, bc, i, j, k);
                  ASSERT_EQ(get<T>(g, i, j, k), want) << "point (" << i << "," << j << "," << k << ") of " << e.nx
                                                      << "x" << e.ny << "x" << e.nz << " halo " << halo;
                }
          }
        }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(every_kernel, halo_kernel, ::testing::ValuesIn(cpu_kernels("halo_fill")), kernel_param_name);

// ---- one stencil sweep ---------------------------------------------------------------------

std::vector<stencil> test_stencils(int dims) {
  if (dims == 2)
    return {stencil::laplace_2d5(), stencil::star(2, {1.5, -0.25, 0.125}),
            stencil::box(2, 1, {0.1, -0.2, 0.3, -0.4, 2.5, 0.6, -0.7, 0.8, -0.9})};
  std::vector<double> box3(27);
  for (int i = 0; i < 27; ++i) box3[std::size_t(i)] = 0.05 * (i - 13) + (i == 13 ? 3.0 : 0.0);
  return {stencil::laplace_3d7(), stencil::hpcg_27(), stencil::star(3, {2.0, -0.5, 0.25}), stencil::box(3, 1, box3),
          stencil(3, {{1, 0, 0, 1.0}, {0, -1, 1, -2.0}, {-1, 1, 0, 0.5}})};  // no center point
}

/// exact(x) and the bound's scale sum |terms| for out = alpha*S(u) + beta*u + gamma*f.
template <class T>
void exact_point(const stencil& s, double alpha, const grid& u, double beta, const grid* f, double gamma,
                 std::int64_t i, std::int64_t j, std::int64_t k, ld* exact, ld* scale) {
  ld sum = 0, mag = 0;
  for (const auto& p : s.points()) {
    const ld t = ld(alpha) * ld(p.coeff) * get<T>(u, i + p.dx, j + p.dy, k + p.dz);
    sum += t;
    mag += std::fabs(t);
  }
  const ld bu = ld(beta) * get<T>(u, i, j, k);
  const ld gf = f ? ld(gamma) * get<T>(*f, i, j, k) : 0;
  *exact = sum + bu + gf;
  *scale = mag + std::fabs(bu) + std::fabs(gf);
}

template <class T>
ld unit_of() {
  if constexpr (std::is_same_v<T, double>)
    return unit_roundoff<double>();
  else if constexpr (std::is_same_v<T, float>)
    return unit_roundoff<float>();
  else if constexpr (std::is_same_v<T, half>)
    return std::ldexp(ld(1), -11);
  else
    return std::ldexp(ld(1), -8);
}

template <class T>
ld compute_unit() {
  return std::is_same_v<T, double> ? unit_roundoff<double>() : unit_roundoff<float>();
}

class stencil_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(stencil_kernel, apply_and_jacobi_within_derived_bound) {
  const kernel_info& kinfo = GetParam();
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      const ld uc = compute_unit<T>(), us = std::is_same_v<T, double> ? 0 : unit_of<T>();
      for (const auto& e : extents())
        for (const stencil& s : test_stencils(e.dims)) {
          grid u(kinfo.in, e, s.radius()), f = u.like(), out = u.like();
          randomize<T>(u, 11);
          randomize<T>(f, 12);
          struct call {
            double alpha, beta, gamma;
            bool jacobi, with_f;
          };
          const double c0 = s.center();
          std::vector<call> calls{
              {1.0, 0.0, 0.0, false, false}, {-0.5, 2.0, 0.0, false, false}, {0.75, 0.0, -1.5, false, true}};
          if (c0 != 0.0) {
            calls.push_back({-0.8 / c0, 1.0, 0.8 / c0, true, true});  // jacobi_sweep, omega 0.8
            calls.push_back({-1.0 / c0, 1.0, 0.0, true, false});      // f = 0
          }
          for (const call& c : calls) {
            {
              force_kernel pin(kinfo.name);
              if (c.jacobi)
                jacobi_sweep(s, u, c.with_f ? &f : nullptr, out, -c.alpha * c0);
              else
                stencil_apply(s, c.alpha, u, c.beta, out, c.with_f ? &f : nullptr, c.gamma);
            }
            const ld g = gamma(ld(s.points().size() + 3), uc);
            for (std::int64_t k = 0; k < e.nz; ++k)
              for (std::int64_t j = 0; j < e.ny; ++j)
                for (std::int64_t i = 0; i < e.nx; ++i) {
                  ld exact, scale;
                  exact_point<T>(s, c.alpha, u, c.beta, c.with_f ? &f : nullptr, c.gamma, i, j, k, &exact, &scale);
                  const ld err = std::fabs(get<T>(out, i, j, k) - exact);
                  ASSERT_LE(err, g * scale + us * std::fabs(exact) + 1e-300L)
                      << "point (" << i << "," << j << "," << k << ") of " << e.nx << "x" << e.ny << "x" << e.nz << ", "
                      << s.points().size() << "-point stencil, alpha " << c.alpha << " beta " << c.beta
                      << (c.jacobi ? " (jacobi)" : "");
                }
          }
        }
    }
  });
}

TEST_P(stencil_kernel, variable_coefficients_within_derived_bound) {
  const kernel_info& kinfo = GetParam();
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      const ld uc = compute_unit<T>(), us = std::is_same_v<T, double> ? 0 : unit_of<T>();
      for (const auto& e : extents()) {
        grid kappa(kinfo.in, e, 1);
        randomize<T>(kappa, 3);
        for (std::int64_t k = -1; k <= e.nz; ++k)
          for (std::int64_t j = -1; j <= e.ny; ++j)
            for (std::int64_t i = -1; i <= e.nx; ++i) {
              if (e.dims == 2 && k != 0) continue;
              kappa.at<T>(i, j, k) = T(1.0 + 0.5 * to_double(kappa.at<T>(i, j, k)));  // in [0.5, 1.5]
            }
        const variable_stencil vs = variable_stencil::diffusion(kappa);
        grid u(kinfo.in, e, 1), f = u.like(), out = u.like();
        randomize<T>(u, 21);
        randomize<T>(f, 22);
        for (bool jacobi : {false, true}) {
          {
            force_kernel pin(kinfo.name);
            if (jacobi)
              jacobi_sweep(vs, u, &f, out, 0.9);
            else
              stencil_apply(vs, -1.25, u, 0.5, out);
          }
          const ld g = gamma(ld(vs.shape.points().size() + 4), uc);
          for (std::int64_t k = 0; k < e.nz; ++k)
            for (std::int64_t j = 0; j < e.ny; ++j)
              for (std::int64_t i = 0; i < e.nx; ++i) {
                ld sum = 0, mag = 0;
                for (std::size_t p = 0; p < vs.coeffs.size(); ++p) {
                  const stencil_point& o = vs.shape.points()[p];
                  const ld t = get<T>(vs.coeffs[p], i, j, k) * get<T>(u, i + o.dx, j + o.dy, k + o.dz);
                  sum += t;
                  mag += std::fabs(t);
                }
                const ld uu = get<T>(u, i, j, k), ff = get<T>(f, i, j, k), d = get<T>(vs.coeffs[0], i, j, k);
                ld exact, bound;
                if (jacobi) {
                  // u + w (f - s)/d: the division and the two additions add three roundings.
                  exact = uu + ld(0.9) * (ff - sum) / d;
                  bound = std::fabs(uu) * uc +
                          ld(0.9) * (std::fabs(ff) + mag) / std::fabs(d) * gamma(ld(vs.coeffs.size() + 6), uc);
                } else {
                  exact = ld(-1.25) * sum + ld(0.5) * uu;
                  bound = g * (ld(1.25) * mag + ld(0.5) * std::fabs(uu));
                }
                ASSERT_LE(std::fabs(get<T>(out, i, j, k) - exact), bound + us * std::fabs(exact) + 1e-300L)
                    << "point (" << i << "," << j << "," << k << ")" << (jacobi ? " jacobi" : " apply");
              }
        }
      }
    }
  });
}

/// Jacobi sweep of the 7-point Laplacian on `u` into `out`: every point of every
/// `plane_step`-th plane and of the last within the bound (each plane has every row kind:
/// block starts and ends, prefetch run switches, line tails).
template <class T>
void expect_jacobi7_within_bound(const grid& u, const grid& out, const std::string& what, std::int64_t plane_step) {
  const stencil s = stencil::laplace_3d7();
  const ld uc = compute_unit<T>(), us = std::is_same_v<T, double> ? 0 : unit_of<T>();
  const ld g = gamma(ld(s.points().size() + 3), uc);
  std::vector<std::int64_t> planes;
  for (std::int64_t k = 0; k < u.nz(); k += plane_step) planes.push_back(k);
  if (planes.back() != u.nz() - 1) planes.push_back(u.nz() - 1);
  for (std::int64_t k : planes)
    for (std::int64_t j = 0; j < u.ny(); ++j)
      for (std::int64_t i = 0; i < u.nx(); ++i) {
        ld exact, scale;
        exact_point<T>(s, -1.0 / 6.0, u, 1.0, nullptr, 0.0, i, j, k, &exact, &scale);
        ASSERT_LE(std::fabs(get<T>(out, i, j, k) - exact), g * scale + us * std::fabs(exact) + 1e-300L)
            << "point (" << i << "," << j << "," << k << ") of " << what;
      }
}

/// The kernel settings in force with one of them changed, for a scope.
template <class Change>
detail::kernel_tuning tuned(Change&& change) {
  detail::kernel_tuning t = detail::tuning();
  change(t);
  return t;
}

// Outputs of 32 MiB and more are written with non-temporal stores (on CPUs where they pay;
// forced here), a line at a time while computing where rows start on cache lines, row by
// row where they do not (a wrapped grid with an odd row stride): both paths against the
// bound, at a size that takes them.
TEST_P(stencil_kernel, outputs_past_the_streaming_size_within_derived_bound) {
  const kernel_info& kinfo = GetParam();
  if (kinfo.variant == "ref") GTEST_SKIP() << "the reference kernel stores no differently past the streaming size";
  const detail::scoped_kernel_tuning streaming(tuned([](detail::kernel_tuning& t) { t.streaming_stores = 1; }));
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      const std::int64_t n = 200, nz = (std::int64_t(32) << 20) / (n * n * std::int64_t(sizeof(T))) + 1;
      const stencil lap = stencil::laplace_3d7();
      grid u(kinfo.in, grid_extent(n, n, nz), 1), out = u.like();
      // Random values cycled with a prime period: randomizing all 17M points costs seconds.
      const auto v = random_values<T>(4099, 21);
      for (std::int64_t k = -1; k <= nz; ++k)
        for (std::int64_t j = -1; j <= n; ++j)
          for (std::int64_t i = -1; i <= n; ++i)
            u.at<T>(i, j, k) = v[std::size_t((i + 1 + 211 * (j + 1) + 4001 * (k + 1)) % 4099)];
      {
        force_kernel pin(kinfo.name);
        jacobi_sweep(lap, u, nullptr, out);
      }
      expect_jacobi7_within_bound<T>(u, out, "an owned grid", 9);
      if (HasFatalFailure()) return;
      // The same input and an output in caller memory whose rows start off cache lines.
      const std::int64_t sy = n + 3, sz = sy * (n + 2);
      std::vector<T> mine(std::size_t(sz * (nz + 2))), theirs(mine.size());
      grid wu = grid::wrap(mine.data() + 1 + sy + sz, grid_extent(n, n, nz), 1, sy, sz);
      grid wout = grid::wrap(theirs.data() + 1 + sy + sz, grid_extent(n, n, nz), 1, sy, sz);
      copy_interior(u, wu);
      fill_halo(wu, boundary_conditions::all(boundary::dirichlet, 0.5));
      {
        force_kernel pin(kinfo.name);
        jacobi_sweep(lap, wu, nullptr, wout);
      }
      expect_jacobi7_within_bound<T>(wu, wout, "a wrapped grid with odd row stride", 9);
    }
  });
}

template <class T>
void expect_same_interior(const grid& a, const grid& b, const std::string& what);

// A 2D grid has one plane and no z halo: a kernel must read nothing of the planes before or
// after it. The wrapped grid fills exactly one page between two inaccessible ones, so a read
// of either neighbouring "plane" faults.
TEST_P(stencil_kernel, two_d_grids_read_only_their_own_plane) {
  const kernel_info& kinfo = GetParam();
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      const std::int64_t page = sysconf(_SC_PAGESIZE), sy = 64, rows = page / std::int64_t(sizeof(T)) / sy;
      const grid_extent e(sy - 2, rows - 2);
      char* map = static_cast<char*>(
          mmap(nullptr, std::size_t(3 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      ASSERT_NE(map, MAP_FAILED);
      ASSERT_EQ(0, mprotect(map, std::size_t(page), PROT_NONE));
      ASSERT_EQ(0, mprotect(map + 2 * page, std::size_t(page), PROT_NONE));
      T* first = reinterpret_cast<T*>(map + page);
      grid wu = grid::wrap(first + 1 + sy, e, 1, sy, sy * rows);
      grid owned(kinfo.in, e, 1), out = owned.like(), expected = owned.like();
      randomize<T>(owned, 31);
      copy_interior(owned, wu);
      const auto bc = boundary_conditions::all(boundary::dirichlet, 0.25);
      fill_halo(wu, bc);
      fill_halo(owned, bc);
      // The 9-point box too: its rows shift x-1 and x+1 in from neighbouring vectors, which
      // must not reach past the halo of the page's last row.
      for (const stencil& s : {stencil::laplace_2d5(), test_stencils(2).back()}) {
        {
          force_kernel pin(kinfo.name);
          jacobi_sweep(s, wu, nullptr, out);
          jacobi_sweep(s, owned, nullptr, expected);
        }
        expect_same_interior<T>(out, expected, "a 2D grid filling one page");
      }
      munmap(map, std::size_t(3 * page));
    }
  });
}

INSTANTIATE_TEST_SUITE_P(every_kernel, stencil_kernel, ::testing::ValuesIn(cpu_kernels("stencil")), kernel_param_name);

// ---- multi-sweep: blocked equals plain, bit for bit ---------------------------------------

/// The single-sweep kernel that computes points the way `sweeps_kernel` does.
std::string matching_stencil_kernel(std::string name) {
  name.replace(0, std::string("stencil_sweeps_").size(), "stencil_");
  const auto w = name.find("wavefront_");
  if (w != std::string::npos) name.erase(w, std::string("wavefront_").size());
  return name;
}

template <class T>
void expect_same_interior(const grid& a, const grid& b, const std::string& what) {
  for (std::int64_t k = 0; k < a.nz(); ++k)
    for (std::int64_t j = 0; j < a.ny(); ++j)
      for (std::int64_t i = 0; i < a.nx(); ++i) {
        const T x = a.at<T>(i, j, k), y = b.at<T>(i, j, k);
        ASSERT_EQ(0, std::memcmp(&x, &y, sizeof(T)))
            << what << ": point (" << i << "," << j << "," << k << ") " << to_double(x) << " vs " << to_double(y);
      }
}

/// k blocked sweeps by `kinfo` against k single sweeps with halo fills, for every size,
/// stencil, blockable boundary condition and count given.
void expect_blocked_equal_plain(const kernel_info& kinfo, const std::vector<grid_extent>& sizes,
                                const std::vector<stencil>& stencils, const std::vector<int>& counts) {
  with_type(kinfo.in, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
      const std::string single = matching_stencil_kernel(kinfo.name);
      std::vector<boundary_conditions> bcs = conditions();
      bcs.erase(bcs.begin() + 2);  // all-periodic is not blockable in y, z
      boundary_conditions px = boundary_conditions::all(boundary::dirichlet, -0.5);
      px.lo[0] = px.hi[0] = {boundary::periodic, 0.0};
      bcs.push_back(px);
      for (const auto& e : sizes)
        for (const stencil& s : stencils) {
          if (std::min({e.nx, e.ny, e.nz}) < s.radius()) continue;
          for (const auto& bc : bcs)
            for (int k : counts) {
              // Odd counts run without f: constant stencils without f take the kernels'
              // many-rows-per-call path, with f the row-by-row one.
              grid u(kinfo.in, e, s.radius()), f_grid = u.like(), scratch = u.like();
              const grid* f = k % 2 == 1 ? nullptr : &f_grid;
              randomize<T>(u, 5);
              randomize<T>(f_grid, 6);
              grid plain = u.clone(), plain_out = u.like();
              const grid* result = nullptr;
              {
                force_kernel pin(kinfo.name);
                result = &jacobi_sweeps(s, u, f, scratch, bc, k, 0.9);
              }
              {
                force_kernel pin(single);
                grid* a = &plain;
                grid* b = &plain_out;
                for (int i = 0; i < k; ++i) {
                  fill_halo(*a, bc);
                  jacobi_sweep(s, *a, f, *b, 0.9);
                  std::swap(a, b);
                }
                expect_same_interior<T>(*result, *a,
                                        ::testing::PrintToString(k) + " sweeps of " + std::to_string(e.nx) + "x" +
                                            std::to_string(e.ny) + "x" + std::to_string(e.nz));
              }
            }
        }
    }
  });
}

class sweeps_kernel : public ::testing::TestWithParam<kernel_info> {};

TEST_P(sweeps_kernel, equal_plain_sweeps_with_halo_fills_bit_for_bit) {
  const std::vector<stencil> stencils{stencil::laplace_3d7(), stencil::hpcg_27(), stencil::star(3, {3.0, -0.5, -0.25})};
  expect_blocked_equal_plain(
      GetParam(), {grid_extent(9, 7, 5), grid_extent(30, 41, 12), grid_extent(3, 2, 2), grid_extent(300, 20, 6)},
      stencils, {2, 3, 8});
  // More sweeps than one pass takes (max_wavefront_levels), on grids small enough that the
  // ring's budget does not cut the pass first.
  expect_blocked_equal_plain(GetParam(), {grid_extent(9, 7, 5), grid_extent(3, 2, 2)}, stencils, {35});
  // The wide grid and the radius-3 stencil: 35 levels' ring would pass the budget at every
  // precision, so the kernel itself shortens its passes (wavefront_tiling::levels). The
  // other stencils add nothing there but time (35 sweeps of this grid were 70 % of the test).
  expect_blocked_equal_plain(GetParam(), {grid_extent(300, 20, 6)}, {stencils.back()}, {35});
}

TEST_P(sweeps_kernel, tiles_of_every_shape_equal_plain_sweeps) {
  // Tiles of 1 and 2 rows hand on carries narrower than a radius-3 stencil's 6 rows (which
  // then span several tiles); x tiles of 4 and 7 columns grow their rims past the grid's x
  // faces, so a level's rows start and end elsewhere than the single sweep's (a point in a
  // vector there may be in a scalar tail here); "300,5" spans the rows and runs several
  // tiles per strip.
  for (const auto& tile_shape : {std::pair<int, int>{4, 1}, {7, 2}, {300, 5}}) {
    const int bx = tile_shape.first, by = tile_shape.second;  // (lambdas cannot capture bindings in C++17)
    SCOPED_TRACE("tile " + std::to_string(bx) + "," + std::to_string(by));
    const detail::scoped_kernel_tuning tile(tuned([&](detail::kernel_tuning& t) {
      t.wavefront_tile_x = bx;
      t.wavefront_tile_y = by;
    }));
    expect_blocked_equal_plain(GetParam(), {grid_extent(9, 7, 5), grid_extent(30, 41, 12)},
                               {stencil::laplace_3d7(), stencil::hpcg_27(), stencil::star(3, {3.0, -0.5, -0.25})},
                               {3, 8});
  }
}

TEST_P(sweeps_kernel, passes_shorter_than_the_count_equal_plain_sweeps) {
  // Kernels that block in time may run fewer sweeps per call than asked (passes of 3 here:
  // 8 = 3 + 3 + 2, 7 = 3 + 2 + 2); the front end fills the halo and calls again for the rest.
  const detail::scoped_kernel_tuning levels(tuned([](detail::kernel_tuning& t) { t.wavefront_levels = 3; }));
  expect_blocked_equal_plain(GetParam(), {grid_extent(30, 41, 12)},
                             {stencil::laplace_3d7(), stencil::star(3, {3.0, -0.5, -0.25})}, {7, 8});
}

INSTANTIATE_TEST_SUITE_P(every_kernel, sweeps_kernel, ::testing::ValuesIn(cpu_kernels("stencil_sweeps")),
                         kernel_param_name);

TEST(stencil_sweeps, unblockable_cases_loop_single_sweeps) {
  // 2D, and periodic y/z: the front end runs single sweeps with halo fills.
  for (const grid_extent& e : {grid_extent(17, 9), grid_extent(8, 6, 5)}) {
    const stencil s = e.dims == 2 ? stencil::laplace_2d5() : stencil::laplace_3d7();
    const auto bc = boundary_conditions::all(boundary::periodic);
    grid u(dtype::f64, e, 1), scratch = u.like();
    randomize<double>(u, 9);
    grid plain = u.clone(), other = u.like();
    const grid& r = jacobi_sweeps(s, u, nullptr, scratch, bc, 5, 1.0);
    grid* a = &plain;
    grid* b = &other;
    for (int i = 0; i < 5; ++i) {
      fill_halo(*a, bc);
      jacobi_sweep(s, *a, nullptr, *b, 1.0);
      std::swap(a, b);
    }
    expect_same_interior<double>(r, *a, "periodic");
    // The result's halo is filled for the next caller.
    EXPECT_EQ(r.at<double>(-1, 0, 0), r.at<double>(e.nx - 1, 0, 0));
  }
}

// ---- heat equation -------------------------------------------------------------------------

TEST(heat_steps, neumann_conserves_heat_and_matches_the_stencil) {
  grid u(dtype::f64, grid_extent(12, 10, 8), 1), scratch = u.like();
  randomize<double>(u, 4);
  ld before = 0;
  for (std::int64_t k = 0; k < 8; ++k)
    for (std::int64_t j = 0; j < 10; ++j)
      for (std::int64_t i = 0; i < 12; ++i) before += u.at<double>(i, j, k);
  const auto bc = boundary_conditions::all(boundary::neumann);
  const grid& r = heat_steps(u, scratch, 0.1, bc, 20);
  ld after = 0, n = 12 * 10 * 8;
  for (std::int64_t k = 0; k < 8; ++k)
    for (std::int64_t j = 0; j < 10; ++j)
      for (std::int64_t i = 0; i < 12; ++i) after += r.at<double>(i, j, k);
  // Zero flux: the total is conserved up to the rounding of 20 steps of 7-term sums.
  EXPECT_LE(std::fabs(after - before), 20 * n * gamma(9, unit_roundoff<double>()) * 2);
  EXPECT_THROW(heat_steps(u, scratch, 0.2, bc, 1), error);  // above 1/6: unstable
}

// ---- the stencil as an operator ---------------------------------------------------------------

TEST(stencil_operator, equals_the_assembled_matrices) {
  struct pair {
    stencil s;
    grid_extent e;
    csr_matrix a;
  };
  const pair cases[] = {{stencil::laplace_2d5(), grid_extent(9, 9), poisson_2d(9)},
                        {stencil::laplace_3d7(), grid_extent(7, 7, 7), poisson_3d(7)},
                        {stencil::hpcg_27(), grid_extent(6, 6, 6), hpcg_27pt(6)}};
  for (const auto& c : cases) {
    const stencil_operator op(c.s, c.e);
    const auto xs = random_values<double>(c.a.cols(), 1), ys = random_values<double>(c.a.rows(), 2);
    array<double> x(xs), y1(ys), y2(ys);
    spmv(0.5, op, x, -2.0, y1);
    spmv(0.5, c.a, x, -2.0, y2);
    const auto v1 = y1.to_vector(), v2 = y2.to_vector();
    for (std::size_t i = 0; i < v1.size(); ++i)
      ASSERT_NEAR(v1[i], v2[i], 64 * unit_roundoff<double>() * (std::fabs(v2[i]) + 20)) << "row " << i;
    // f32 vectors through the same operator.
    array<float> xf(c.a.cols()), yf(c.a.rows());
    convert(x, xf);
    op.apply(1.0, xf, 0.0, yf);
    spmv(1.0, c.a, x, 0.0, y2);
    const auto vf = yf.to_vector();
    const auto vd = y2.to_vector();
    for (std::size_t i = 0; i < vf.size(); ++i)
      ASSERT_NEAR(vf[i], vd[i], 64 * unit_roundoff<float>() * 30) << "row " << i;
  }
}

// ---- bad arguments -----------------------------------------------------------------------------

TEST(stencil_errors, bad_arguments_are_named_and_outputs_untouched) {
  auto expect_error = [](status code, const std::string& fragment, const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one mentioning '" << fragment << "'";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  grid u(dtype::f64, grid_extent(8, 8, 8), 1), out = u.like();
  randomize<double>(u, 1);
  randomize<double>(out, 2);
  const grid saved = out.clone();
  const stencil star2 = stencil::star(3, {1.0, 0.5, 0.25});
  grid other(dtype::f64, grid_extent(8, 8, 7), 1), f32(dtype::f32, grid_extent(8, 8, 8), 1);
  expect_error(status::invalid_argument, "halo of 1", [&] { stencil_apply(star2, 1.0, u, 0.0, out); });
  expect_error(status::shape_mismatch, "8x8x7", [&] { stencil_apply(stencil::laplace_3d7(), 1.0, u, 0.0, other); });
  expect_error(status::invalid_argument, "f32", [&] { stencil_apply(stencil::laplace_3d7(), 1.0, u, 0.0, f32); });
  expect_error(status::invalid_argument, "same grid", [&] { stencil_apply(stencil::laplace_3d7(), 1.0, u, 0.0, u); });
  expect_error(status::shape_mismatch, "2D stencil", [&] { stencil_apply(stencil::laplace_2d5(), 1.0, u, 0.0, out); });
  const stencil no_center(3, {{1, 0, 0, 1.0}});
  expect_error(status::numerical_breakdown, "center", [&] { jacobi_sweep(no_center, u, nullptr, out); });
  expect_same_interior<double>(out, saved, "output after errors");

  boundary_conditions one_sided = boundary_conditions::all(boundary::dirichlet);
  one_sided.lo[1].kind = boundary::periodic;
  expect_error(status::invalid_argument, "periodic on one face", [&] { fill_halo(u, one_sided); });
  grid thin(dtype::f32, grid_extent(8, 1, 8), 2);
  expect_error(status::invalid_argument, "fewer than the halo",
               [&] { fill_halo(thin, boundary_conditions::all(boundary::neumann)); });
  expect_error(status::invalid_argument, "dims", [&] { stencil(4, {{0, 0, 0, 1.0}}); });
  expect_error(status::invalid_argument, "both (0,0,0)", [&] { stencil(3, {{0, 0, 0, 1.0}, {0, 0, 0, 2.0}}); });
  expect_error(status::invalid_argument, "27 points", [&] { stencil::box(3, 1, std::vector<double>(9, 1.0)); });
  expect_error(status::unsupported, "i8", [&] { grid(dtype::i8, grid_extent(4, 4)); });
  double storage[4 * 4];
  expect_error(status::invalid_argument, "stride_y", [&] { grid::wrap(storage + 5, grid_extent(4, 2), 1, 4, 0); });
  expect_error(status::invalid_argument, "stable range",
               [&] { heat_steps(u, out, -0.1, boundary_conditions::all(boundary::dirichlet), 1); });
  const stencil_operator op(stencil::laplace_3d7(), grid_extent(4, 4, 4));
  array<double> x(63), y(64);
  expect_error(status::shape_mismatch, "63", [&] { op.apply(1.0, x, 0.0, y); });
}

TEST(grids, element_access_checks_type_and_range) {
  grid g3(dtype::f32, grid_extent(4, 3, 2), 1);
  g3.at<float>(-1, -1, -1) = 1.0f;  // the halo's corner
  g3.at<float>(4, 3, 2) = 2.0f;     // the opposite one
  EXPECT_EQ(g3.at<float>(-1, -1, -1), 1.0f);
  expect_refusal([&] { (void)g3.at<double>(0, 0, 0); }, status::invalid_argument, "holds f32, not f64");
  expect_refusal([&] { (void)g3.at<float>(5, 0, 0); }, status::invalid_argument, "(5, 0, 0) is outside");
  expect_refusal([&] { (void)g3.at<float>(0, -2, 0); }, status::invalid_argument, "outside");
  expect_refusal([&] { (void)g3.at<float>(0, 0, 3); }, status::invalid_argument, "outside");
  grid g2(dtype::f64, grid_extent(5, 5), 2);
  g2.at<double>(-2, 6) = 3.0;
  expect_refusal([&] { (void)g2.at<double>(0, 0, 1); }, status::invalid_argument, "2D: k must be 0");
  const grid empty;
  expect_refusal([&] { (void)empty.at<double>(0, 0); }, status::invalid_argument, "empty");
}

TEST(grids, wrap_user_memory_and_copy_between_dtypes) {
  // A simulation code's array, x fastest, halo 1, rows of 10, planes of 10*6.
  std::vector<double> mine(10 * 6 * 5, 0.0);
  grid g = grid::wrap(mine.data() + 1 + 10 + 60, grid_extent(8, 4, 3), 1, 10, 60);
  g.at<double>(7, 3, 2) = 4.25;
  EXPECT_EQ(mine[std::size_t(1 + 7 + 10 * (1 + 3) + 60 * (1 + 2))], 4.25);
  EXPECT_FALSE(g.owns_memory());
  grid h(dtype::bf16, g.extent(), 2);
  copy_interior(g, h);
  EXPECT_EQ(float(h.at<bfloat16>(7, 3, 2)), 4.25f);
  const grid back = h.clone();
  EXPECT_EQ(float(back.at<bfloat16>(7, 3, 2)), 4.25f);
  EXPECT_EQ(h.interior().extent(0), 3);
  EXPECT_EQ(h.interior().stride(1), h.stride_y());
}

class convert_grid_kernel : public ::testing::TestWithParam<kernel_info> {};

/// grid_args of a grid, as copy_interior passes them.
detail::grid_args args_of(const grid& g) {
  return {const_cast<void*>(g.origin()), g.nx(), g.ny(), g.nz(), g.stride_y(), g.stride_z(), g.halo(), g.dims()};
}

// copy_interior's kernel on a device (op convert_grid) and its CPU oracle, called directly
// on grids in the kernel's memory: dst's whole storage equal byte for byte to what the CPU's
// row-by-row copy_interior leaves, so the interior is the same conversion and the halo (a
// byte pattern) is untouched.
TEST_P(convert_grid_kernel, equals_the_row_by_row_copy_and_leaves_the_halo) {
  const kernel_info& k = GetParam();
  const context ctx = context_for(k);
  const auto& st = *detail::state_of(ctx);
  const detail::kernel_entry ke = detail::select_kernel(detail::op_id::convert_grid, st, k.in, k.out, nullptr);
  ASSERT_EQ(std::string(ke.name), k.name);
  const std::int64_t es = std::int64_t(size_of(k.out));
  for (const grid_extent& e : {grid_extent(9, 5, 4), grid_extent(7, 3), grid_extent(1, 1, 1)}) {
    const std::vector<double> values = random_values<double>(e.points(), 21);
    grid src(k.in, e, 2);
    copy_interior(grid::wrap(const_cast<double*>(values.data()), e, 0, e.nx, e.nx * e.ny), src);

    // dst: halo 1 in storage of our own, every byte a pattern first
    const std::int64_t sy = e.nx + 2, sz = sy * (e.ny + 2), total = sz * (e.dims == 3 ? e.nz + 2 : 1);
    const std::int64_t origin = 1 + sy + (e.dims == 3 ? sz : 0);
    buffer want(k.out, total);
    std::memset(want.data(), 0x5a, want.bytes());
    buffer got = want.to(ctx);
    grid want_grid = grid::wrap(static_cast<char*>(want.data()) + origin * es, k.out, e, 1, sy, sz);
    copy_interior(src, want_grid);
    const grid src_there = src.to(ctx);
    const grid dst_there = grid::wrap(static_cast<char*>(got.data()) + origin * es, k.out, e, 1, sy, sz, ctx);
    reinterpret_cast<detail::convert_grid_fn>(ke.fn)(st.exec(), args_of(src_there), args_of(dst_there));
    const buffer back = got.to(context::cpu());
    ASSERT_EQ(std::memcmp(back.data(), want.data(), want.bytes()), 0)
        << k.name << " on " << e.nx << "x" << e.ny << "x" << e.nz;
  }
}

INSTANTIATE_TEST_SUITE_P(every_kernel, convert_grid_kernel, ::testing::ValuesIn(runnable_kernels("convert_grid")),
                         kernel_param_name);

}  // namespace
}  // namespace mixprec::test
