// Geometric multigrid's point bodies (the mg_* args in registry.hpp) as host and device
// code: a smoother point, a restricted point (injected residual or full weighting) and a
// prolonged point (injection or trilinear). The reference kernels run them point by point,
// the portable and ISA kernels' transfers row by row on the context's threads, and the CUDA
// kernels a thread per point. Each point's sum runs in stencil point order, so the
// reference and CUDA kernels (built without FMA contraction) agree bit for bit. Every
// variant registers its three ops through add_multigrid_table below.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>
#include <type_traits>

#include "internal/registry.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Element offsets and coefficients of a stencil (radius 1: at most 27 points) in a grid
/// with strides sy, sz. Built on the host from the args' host arrays; device kernels take
/// it by value.
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

/// sum_p c[p] * u[at + off[p]] with NP points (0: npoints at run time), in point order.
template <int NP, class C, class T>
MIXPREC_KI C stencil_sum(const T* u, std::int64_t at, const std::int64_t* off, const C* c, int npoints) {
  C s = 0;
  const int n = NP ? NP : npoints;
  for (int p = 0; p < n; ++p) s += c[p] * C(u[at + off[p]]);
  return s;
}

/// Fine index of coarse index I along an axis that is coarsened (or not: 2D z).
MIXPREC_KI std::int64_t fine_of(std::int64_t I, bool coarsened) { return coarsened ? 2 * I + 1 : I; }

template <class T>
struct multigrid_points {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  using idx = std::int64_t;

  /// The color of (i, j, k): 2 colors by the parity of i + j + k (star stencils), 4 or 8 by
  /// the parity of each axis (box stencils).
  MIXPREC_KI static int color_of(int colors, idx i, idx j, idx k) {
    return colors == 2 ? int((i + j + k) & 1) : int((i & 1) | (j & 1) << 1 | (k & 1) << 2);
  }

  /// One Gauss-Seidel point of the pass's color: u += (f - S(u)) * inv_center.
  template <int NP>
  MIXPREC_KI static void smooth_point(const detail::mg_smooth_args& a, const stencil_table<C>& st, idx i, idx j,
                                      idx k) {
    T* u = static_cast<T*>(a.u) + j * a.usy + k * a.usz;
    const C f = C(static_cast<const T*>(a.f)[i + j * a.fsy + k * a.fsz]);
    const C s = stencil_sum<NP>(u, i, st.off, st.c, a.npoints);
    u[i] = T(C(u[i]) + (f - s) * C(a.inv_center));
  }

  /// Injection: coarse (I, J, K) gets the residual f - S(u) at fine (2I+1, 2J+1, 2K+1).
  template <int NP>
  MIXPREC_KI static void inject_point(const detail::mg_restrict_args& a, const stencil_table<C>& st, idx I, idx J,
                                      idx K) {
    const idx i = 2 * I + 1, j = 2 * J + 1, k = fine_of(K, a.nz > 1);
    const T* u = static_cast<const T*>(a.u) + j * a.usy + k * a.usz;
    const C f = C(static_cast<const T*>(a.f)[i + j * a.fsy + k * a.fsz]);
    static_cast<T*>(a.out)[I + J * a.osy + K * a.osz] = T(f - stencil_sum<NP>(u, i, st.off, st.c, a.npoints));
  }

  /// Full weighting: coarse (I, J, K) gets the 3^d fine neighbours of its fine point, each
  /// weighted by prod over the axes of (offset 0 ? 1/2 : 1/4) (f holds the fine residual).
  MIXPREC_KI static void full_weighting_point(const detail::mg_restrict_args& a, idx I, idx J, idx K) {
    const bool cz = a.nz > 1;
    const idx i = 2 * I + 1, j = 2 * J + 1, k = fine_of(K, cz);
    const T* r = static_cast<const T*>(a.f);
    const C w1[3] = {C(0.25), C(0.5), C(0.25)};
    C s = 0;
    for (int dz = cz ? -1 : 0; dz <= (cz ? 1 : 0); ++dz)
      for (int dy = -1; dy <= 1; ++dy) {
        const T* rr = r + (j + dy) * a.fsy + (k + dz) * a.fsz + i;
        const C wyz = w1[dy + 1] * (cz ? w1[dz + 1] : C(1));
        s += wyz * (C(0.25) * C(rr[-1]) + C(0.5) * C(rr[0]) + C(0.25) * C(rr[1]));
      }
    static_cast<T*>(a.out)[I + J * a.osy + K * a.osz] = T(s);
  }

  /// Injection's prolongation: fine (2I+1, 2J+1, 2K+1) += uc(I, J, K).
  MIXPREC_KI static void prolong_injection_point(const detail::mg_prolong_args& a, idx I, idx J, idx K) {
    T* u = static_cast<T*>(a.u) + (2 * J + 1) * a.usy + fine_of(K, a.nz > 1) * a.usz + 2 * I + 1;
    *u = T(C(*u) + C(static_cast<const T*>(a.uc)[I + J * a.csy + K * a.csz]));
  }

  /// The coarse points that fine index i interpolates along a coarsened axis: (i-1)/2 with
  /// weight 1 when i is odd, i/2 - 1 and i/2 with 1/2 each when even (index -1 or the
  /// coarse extent is the zero halo). Returns their count.
  MIXPREC_KI static int coarse_neighbours(idx i, idx* c, C* w) {
    if (i & 1) {
      c[0] = (i - 1) / 2;
      w[0] = 1;
      return 1;
    }
    c[0] = i / 2 - 1;
    c[1] = i / 2;
    w[0] = w[1] = C(0.5);
    return 2;
  }

  /// Trilinear prolongation: fine (i, j, k) += the interpolated coarse correction.
  MIXPREC_KI static void prolong_trilinear_point(const detail::mg_prolong_args& a, idx i, idx j, idx k) {
    const T* uc = static_cast<const T*>(a.uc);
    idx jc[2], kc[2];
    C wj[2], wk[2];
    const int nj = coarse_neighbours(j, jc, wj);
    int nk = 1;
    if (a.nz > 1) {
      nk = coarse_neighbours(k, kc, wk);
    } else {
      kc[0] = k;
      wk[0] = 1;
    }
    C s = 0;
    for (int q = 0; q < nk; ++q)
      for (int p = 0; p < nj; ++p) {
        const T* cr = uc + jc[p] * a.csy + kc[q] * a.csz;
        const C w = wj[p] * wk[q];
        s += (i & 1) ? w * C(cr[(i - 1) / 2]) : w * C(0.5) * (C(cr[i / 2 - 1]) + C(cr[i / 2]));
      }
    T* u = static_cast<T*>(a.u) + j * a.usy + k * a.usz + i;
    *u = T(C(*u) + s);
  }
};

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
