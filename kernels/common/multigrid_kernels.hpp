// Geometric multigrid kernels on structured grids (see the mg_* args in registry.hpp):
// multicolor Gauss-Seidel, residual restriction (injection or full weighting) and
// prolongation (injection or trilinear), for f64 and f32 storage computed in the storage
// precision. Rows (j, k) are split over the threads; the smoother works on whole rows with
// contiguous (vectorised) loops, the transfers run multigrid_points.hpp's point bodies (the
// CUDA kernels' too), the injected residual with the 7- and 27-point counts known at compile
// time. The reference smoother runs the point body, point by point.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/loop_hints.hpp"
#include "kernels/common/multigrid_points.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Runs body(j, k) for every row of an ny x nz grid, rows split over the threads.
template <class Body>
inline void for_rows(const detail::exec_args& ex, std::int64_t ny, std::int64_t nz, Body&& body) {
  const std::int64_t rows = ny * nz;
  const int chunks = detail::chunk_count(rows, ex.threads, 8);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t b, e;
    detail::chunk_range(rows, chunks, c, 1, &b, &e);
    for (std::int64_t r = b; r < e; ++r) body(r % ny, r / ny);
  });
}

template <class T>
struct multigrid_kernels {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  using points = multigrid_points<T>;

  /// The row's residual f - S(u) at every point into acc, point by point of the stencil:
  /// contiguous loops the compiler vectorises, where a loop over the color's points alone
  /// would be strided (and twice the arithmetic is cheaper than scalar code).
  static void row_residual(const T* ur, const T* fr, const stencil_table<C>& st, int npoints, std::int64_t nx, C* acc) {
    for (std::int64_t i = 0; i < nx; ++i) acc[i] = C(fr[i]);
    for (int p = 0; p < npoints; ++p) {
      const T* up = ur + st.off[p];
      const C c = st.c[p];
      MIXPREC_IVDEP
      for (std::int64_t i = 0; i < nx; ++i) acc[i] -= c * C(up[i]);
    }
  }

  /// One row of a color with the point count known at compile time: every point computed
  /// (contiguous loads, offsets and coefficients in registers), the color's points stored
  /// (a masked store once vectorised). Iterations read only the other color's points and
  /// their own, which no other iteration writes, so vector lanes (ivdep) compute the same
  /// values as the scalar loop.
  template <std::size_t... P>
  static void row_update(T* __restrict ur, const T* __restrict fr, std::int64_t nx, std::int64_t i0,
                         const stencil_table<C>& st, C inv, std::index_sequence<P...>) {
    constexpr std::size_t np = sizeof...(P);
    std::array<std::int64_t, np> o;
    std::array<C, np> c;
    for (std::size_t p = 0; p < np; ++p) {
      o[p] = st.off[p];
      c[p] = st.c[p];
    }
    MIXPREC_IVDEP
    for (std::int64_t i = 0; i < nx; ++i) {
      const C t = C(ur[i]) + (C(fr[i]) - ((c[P] * C(ur[i + o[P]])) + ...)) * inv;
      if (((i ^ i0) & 1) == 0) ur[i] = T(t);
    }
  }

  static void smooth(const detail::exec_args& ex, const detail::mg_smooth_args& a) {
    const stencil_table<C> st(a.npoints, a.offsets, a.coeffs, a.usy, a.usz);
    const C inv = C(a.inv_center);
    T* u = static_cast<T*>(a.u);
    const T* f = static_cast<const T*>(a.f);
    const std::int64_t rows = a.ny * a.nz;
    const int chunks = detail::chunk_count(rows, ex.threads, 8);
    detail::parallel_chunks(chunks, [&](int ch) {
      std::int64_t b, e;
      detail::chunk_range(rows, chunks, ch, 1, &b, &e);
      local_vector<C> acc;  // other point counts: the row residual
      if (a.npoints != 5 && a.npoints != 7 && a.npoints != 9 && a.npoints != 27) acc.resize(std::size_t(a.nx));
      for (std::int64_t r = b; r < e; ++r) {
        const std::int64_t j = r % a.ny, k = r / a.ny;
        std::int64_t i0;
        if (a.colors == 2) {
          i0 = (a.color + j + k) & 1;
        } else {
          if ((j & 1) != ((a.color >> 1) & 1) || (k & 1) != ((a.color >> 2) & 1)) continue;
          i0 = a.color & 1;
        }
        T* ur = u + j * a.usy + k * a.usz;
        const T* fr = f + j * a.fsy + k * a.fsz;
        switch (a.npoints) {
          case 5:
            row_update(ur, fr, a.nx, i0, st, inv, std::make_index_sequence<5>{});
            continue;
          case 7:
            row_update(ur, fr, a.nx, i0, st, inv, std::make_index_sequence<7>{});
            continue;
          case 9:
            row_update(ur, fr, a.nx, i0, st, inv, std::make_index_sequence<9>{});
            continue;
          case 27:
            row_update(ur, fr, a.nx, i0, st, inv, std::make_index_sequence<27>{});
            continue;
          default:
            break;
        }
        row_residual(ur, fr, st, a.npoints, a.nx, acc.data());
        // Only the color's points change; they read other colors' points (and their own
        // old value), which this pass does not write.
        for (std::int64_t i = i0; i < a.nx; i += 2) ur[i] = T(C(ur[i]) + acc[std::size_t(i)] * inv);
      }
    });
  }

  template <int NP>
  static void inject_residual(const detail::exec_args& ex, const detail::mg_restrict_args& a) {
    const stencil_table<C> st(a.npoints, a.offsets, a.coeffs, a.usy, a.usz);
    for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
      for (std::int64_t I = 0; I < a.cx; ++I) points::template inject_point<NP>(a, st, I, J, K);
    });
  }

  static void full_weighting(const detail::exec_args& ex, const detail::mg_restrict_args& a) {
    for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
      for (std::int64_t I = 0; I < a.cx; ++I) points::full_weighting_point(a, I, J, K);
    });
  }

  static void restrict_residual(const detail::exec_args& ex, const detail::mg_restrict_args& a) {
    if (a.kind == detail::mg_transfer::full_weighting)
      full_weighting(ex, a);
    else if (a.npoints == 7)
      inject_residual<7>(ex, a);
    else if (a.npoints == 27)
      inject_residual<27>(ex, a);
    else
      inject_residual<0>(ex, a);
  }

  static void prolong(const detail::exec_args& ex, const detail::mg_prolong_args& a) {
    if (a.kind == detail::mg_transfer::injection) {
      for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
        for (std::int64_t I = 0; I < a.cx; ++I) points::prolong_injection_point(a, I, J, K);
      });
      return;
    }
    for_rows(ex, a.ny, a.nz, [&](std::int64_t j, std::int64_t k) {
      for (std::int64_t i = 0; i < a.nx; ++i) points::prolong_trilinear_point(a, i, j, k);
    });
  }

  /// The reference smoother: the point body at every point of the color, on one thread.
  static void smooth_points(const detail::exec_args&, const detail::mg_smooth_args& a) {
    const stencil_table<C> st(a.npoints, a.offsets, a.coeffs, a.usy, a.usz);
    for (std::int64_t k = 0; k < a.nz; ++k)
      for (std::int64_t j = 0; j < a.ny; ++j)
        for (std::int64_t i = 0; i < a.nx; ++i)
          if (points::color_of(a.colors, i, j, k) == a.color) points::template smooth_point<0>(a, st, i, j, k);
  }
};

/// This folder's multigrid kernels for f64 and f32 storage, as constant pointers that a
/// registration file built with other flags can register.
constexpr detail::multigrid_kernel_table multigrid_table_of() {
  return {{&multigrid_kernels<double>::smooth, &multigrid_kernels<float>::smooth},
          {&multigrid_kernels<double>::restrict_residual, &multigrid_kernels<float>::restrict_residual},
          {&multigrid_kernels<double>::prolong, &multigrid_kernels<float>::prolong}};
}

/// The reference table: the point-by-point smoother, and the transfers (already point bodies).
constexpr detail::multigrid_kernel_table multigrid_reference_table() {
  return {{&multigrid_kernels<double>::smooth_points, &multigrid_kernels<float>::smooth_points},
          {&multigrid_kernels<double>::restrict_residual, &multigrid_kernels<float>::restrict_residual},
          {&multigrid_kernels<double>::prolong, &multigrid_kernels<float>::prolong}};
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
