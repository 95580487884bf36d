// Geometric multigrid kernels on structured grids (see the mg_* args in registry.hpp):
// multicolor Gauss-Seidel, residual restriction (injection or full weighting) and
// prolongation (injection or trilinear), for f64 and f32 storage computed in the storage
// precision. Rows (j, k) are split over the threads; the smoother works on whole rows with
// contiguous (vectorised) loops, the residual restriction has the 7- and 27-point counts
// known at compile time.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/loop_hints.hpp"
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

/// sum_p c[p] * u[at + off[p]] with NP points (0: npoints at run time).
template <int NP, class C, class T>
inline C stencil_sum(const T* u, std::int64_t at, const std::int64_t* off, const C* c, int npoints) {
  C s = 0;
  const int n = NP ? NP : npoints;
  for (int p = 0; p < n; ++p) s += c[p] * C(u[at + off[p]]);
  return s;
}

/// Element offsets and coefficients of a stencil in a grid with strides sy, sz.
template <class C>
struct stencil_table {
  std::int64_t off[27];
  C c[27];
  stencil_table(int npoints, const detail::stencil_offset* o, const double* coeffs, std::int64_t sy, std::int64_t sz) {
    for (int p = 0; p < npoints; ++p) {
      off[p] = o[p].dx + o[p].dy * sy + o[p].dz * sz;
      c[p] = C(coeffs[p]);
    }
  }
};

/// Fine index of coarse index I along an axis that is coarsened (or not: 2D z).
inline std::int64_t fine_of(std::int64_t I, bool coarsened) { return coarsened ? 2 * I + 1 : I; }

template <class T>
struct multigrid_kernels {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;

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
    const T* u = static_cast<const T*>(a.u);
    const T* f = static_cast<const T*>(a.f);
    T* out = static_cast<T*>(a.out);
    const bool cz = a.nz > 1;
    for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
      const std::int64_t j = 2 * J + 1, k = fine_of(K, cz);
      const T* ur = u + j * a.usy + k * a.usz;
      const T* fr = f + j * a.fsy + k * a.fsz;
      T* o = out + J * a.osy + K * a.osz;
      for (std::int64_t I = 0; I < a.cx; ++I) {
        const std::int64_t i = 2 * I + 1;
        o[I] = T(C(fr[i]) - stencil_sum<NP>(ur, i, st.off, st.c, a.npoints));
      }
    });
  }

  static void full_weighting(const detail::exec_args& ex, const detail::mg_restrict_args& a) {
    const T* r = static_cast<const T*>(a.f);
    T* out = static_cast<T*>(a.out);
    const bool cz = a.nz > 1;
    const C w1[3] = {C(0.25), C(0.5), C(0.25)};
    for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
      const std::int64_t j = 2 * J + 1, k = fine_of(K, cz);
      T* o = out + J * a.osy + K * a.osz;
      for (std::int64_t I = 0; I < a.cx; ++I) {
        const std::int64_t i = 2 * I + 1;
        C s = 0;
        for (int dz = cz ? -1 : 0; dz <= (cz ? 1 : 0); ++dz)
          for (int dy = -1; dy <= 1; ++dy) {
            const T* rr = r + (j + dy) * a.fsy + (k + dz) * a.fsz + i;
            const C wyz = w1[dy + 1] * (cz ? w1[dz + 1] : C(1));
            s += wyz * (C(0.25) * C(rr[-1]) + C(0.5) * C(rr[0]) + C(0.25) * C(rr[1]));
          }
        o[I] = T(s);
      }
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
    const T* uc = static_cast<const T*>(a.uc);
    T* u = static_cast<T*>(a.u);
    const bool cz = a.nz > 1;
    if (a.kind == detail::mg_transfer::injection) {
      for_rows(ex, a.cy, a.cz, [&](std::int64_t J, std::int64_t K) {
        T* ur = u + (2 * J + 1) * a.usy + fine_of(K, cz) * a.usz;
        const T* cr = uc + J * a.csy + K * a.csz;
        for (std::int64_t I = 0; I < a.cx; ++I) ur[2 * I + 1] = T(C(ur[2 * I + 1]) + C(cr[I]));
      });
      return;
    }
    // Trilinear: along a coarsened axis fine i takes coarse (i-1)/2 with weight 1 when odd,
    // coarse i/2 - 1 and i/2 with 1/2 each when even (index -1 or cx is the zero halo).
    for_rows(ex, a.ny, a.nz, [&](std::int64_t j, std::int64_t k) {
      std::int64_t jc[2], kc[2];
      C wj[2], wk[2];
      int nj, nk;
      auto axis = [](std::int64_t i, std::int64_t* c, C* w) {
        if (i & 1) {
          c[0] = (i - 1) / 2;
          w[0] = 1;
          return 1;
        }
        c[0] = i / 2 - 1;
        c[1] = i / 2;
        w[0] = w[1] = C(0.5);
        return 2;
      };
      nj = axis(j, jc, wj);
      if (cz) {
        nk = axis(k, kc, wk);
      } else {
        nk = 1;
        kc[0] = k;
        wk[0] = 1;
      }
      T* ur = u + j * a.usy + k * a.usz;
      for (std::int64_t i = 0; i < a.nx; ++i) {
        C s = 0;
        for (int q = 0; q < nk; ++q)
          for (int p = 0; p < nj; ++p) {
            const T* cr = uc + jc[p] * a.csy + kc[q] * a.csz;
            const C w = wj[p] * wk[q];
            s += (i & 1) ? w * C(cr[(i - 1) / 2]) : w * C(0.5) * (C(cr[i / 2 - 1]) + C(cr[i / 2]));
          }
        ur[i] = T(C(ur[i]) + s);
      }
    });
  }
};

/// This folder's multigrid kernels for f64 and f32 storage, as constant pointers that a
/// registration file built with other flags can register.
constexpr detail::multigrid_kernel_table multigrid_table_of() {
  return {{&multigrid_kernels<double>::smooth, &multigrid_kernels<float>::smooth},
          {&multigrid_kernels<double>::restrict_residual, &multigrid_kernels<float>::restrict_residual},
          {&multigrid_kernels<double>::prolong, &multigrid_kernels<float>::prolong}};
}

/// Registers mg_smooth, mg_restrict and mg_prolong for f64 and f32 storage.
inline void add_multigrid_table(const detail::kernel_sink& sink, const variant_desc& v,
                                const detail::multigrid_kernel_table& t) {
  using detail::op_id;
  const dtype types[] = {dtype::f64, dtype::f32};
  for (int i = 0; i < 2; ++i) {
    add_kernel<detail::op_id::mg_smooth>(sink, v, types[i], types[i], t.smooth[i]);
    add_kernel<detail::op_id::mg_restrict>(sink, v, types[i], types[i], t.restrict_residual[i]);
    add_kernel<detail::op_id::mg_prolong>(sink, v, types[i], types[i], t.prolong[i]);
  }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
