// Scalar loop bodies of the BLAS-1 ops over an index range [b, e). The reference kernels
// run them over the whole vector on one thread; the portable kernels run them per chunk in
// parallel; SIMD kernels use them for tails and for strided or rare paths.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cmath>
#include <cstdint>

#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

using idx = std::int64_t;

template <class Src, class Dst>
inline void convert_range(idx b, idx e, const Src* x, idx incx, Dst* y, idx incy) {
  for (idx i = b; i < e; ++i) y[i * incy] = convert_value<Dst>(x[i * incx]);
}

template <class T>
inline void fill_range(idx b, idx e, T value, T* x, idx incx) {
  for (idx i = b; i < e; ++i) x[i * incx] = value;
}

template <class T>
inline void axpy_range(idx b, idx e, compute_t<T> alpha, const T* x, idx incx, T* y, idx incy) {
  for (idx i = b; i < e; ++i) y[i * incy] = narrow<T>(alpha * widen(x[i * incx]) + widen(y[i * incy]));
}

template <class T>
inline void axpby_range(idx b, idx e, compute_t<T> alpha, const T* x, idx incx, compute_t<T> beta, T* y, idx incy) {
  if (beta == compute_t<T>(0)) {
    for (idx i = b; i < e; ++i) y[i * incy] = narrow<T>(alpha * widen(x[i * incx]));
    return;
  }
  for (idx i = b; i < e; ++i) y[i * incy] = narrow<T>(alpha * widen(x[i * incx]) + beta * widen(y[i * incy]));
}

/// Element i of CG's update: x += alpha*p, r -= alpha*q; r'r of the new r into acc[0] and,
/// when d is given, r'Dr into acc[1]. One body for every backend: the CPU loops below and
/// the CUDA kernels call it, so the CPU tests cover what the GPU runs.
template <class T, class Acc, class A>
MIXPREC_KI void cg_update_element(idx i, compute_t<T> alpha, const T* p, const T* q, const T* d, T* x, T* r, Acc* acc) {
  x[i] = narrow<T>(alpha * widen(p[i]) + widen(x[i]));
  const T ri = narrow<T>(-alpha * widen(q[i]) + widen(r[i]));
  r[i] = ri;
  acc[0].add_product(A(widen(ri)), A(widen(ri)));
  if (d) acc[1].add_product(A(widen(ri)) * A(widen(d[i])), A(widen(ri)));
}

/// x += alpha*p, r -= alpha*q over [b, e) (CG's update, and PCG's with a diagonal
/// preconditioner); see cg_update_element.
template <class T, class Acc, class A>
inline void cg_update_range(idx b, idx e, compute_t<T> alpha, const T* p, const T* q, const T* d, T* x, T* r, Acc* acc,
                            A) {
  for (idx i = b; i < e; ++i) cg_update_element<T, Acc, A>(i, alpha, p, q, d, x, r, acc);
}

/// Element i of z = alpha*(d .* r) + beta*z, rounded as SpMV rounds a one-entry row (z not
/// read when beta == 0), so that Jacobi gives the same z as its diagonal applied as a matrix.
template <class T>
MIXPREC_KI void diag_scale_element(idx i, compute_t<T> alpha, const T* d, const T* r, compute_t<T> beta, T* z) {
  z[i] = beta == compute_t<T>(0) ? narrow<T>(alpha * (widen(d[i]) * widen(r[i])))
                                 : narrow<T>(alpha * (widen(d[i]) * widen(r[i])) + beta * widen(z[i]));
}

template <class T>
inline void diag_scale_range(idx b, idx e, compute_t<T> alpha, const T* d, const T* r, compute_t<T> beta, T* z) {
  for (idx i = b; i < e; ++i) diag_scale_element(i, alpha, d, r, beta, z);
}

/// Element i of the k dot products v_j' w: acc[j] += v_j[i] w[i], for the k vectors v_j
/// at v + j*ldv.
template <class T, class Acc, class A>
MIXPREC_KI void mdot_element(idx i, int k, const T* v, idx ldv, const T* w, Acc* acc) {
  const A wi = A(widen(w[i]));
  for (int j = 0; j < k; ++j) acc[j].add_product(A(widen(v[j * ldv + i])), wi);
}

template <class T, class Acc, class A>
inline void mdot_range(idx b, idx e, int k, const T* v, idx ldv, const T* w, Acc* acc, A) {
  for (idx i = b; i < e; ++i) mdot_element<T, Acc, A>(i, k, v, ldv, w, acc);
}

/// Element i of w += sum_j a[j] v_j, j in order, each step rounded to T as axpy rounds it.
template <class T>
MIXPREC_KI void maxpy_element(idx i, int k, const compute_t<T>* a, const T* v, idx ldv, T* w) {
  T s = w[i];
  for (int j = 0; j < k; ++j) s = narrow<T>(a[j] * widen(v[j * ldv + i]) + widen(s));
  w[i] = s;
}

template <class T>
inline void maxpy_range(idx b, idx e, int k, const compute_t<T>* a, const T* v, idx ldv, T* w) {
  for (idx i = b; i < e; ++i) maxpy_element(i, k, a, v, ldv, w);
}

/// Element i of the 2k dot products v_j' x and v_j' y: ax[j] += v_j[i] x[i] and
/// ay[j] += v_j[i] y[i], each v_j[i] read once for both.
template <class T, class Acc, class A>
MIXPREC_KI void mdot2_element(idx i, int k, const T* v, idx ldv, const T* x, const T* y, Acc* ax, Acc* ay) {
  const A xi = A(widen(x[i])), yi = A(widen(y[i]));
  for (int j = 0; j < k; ++j) {
    const A vj = A(widen(v[j * ldv + i]));
    ax[j].add_product(vj, xi);
    ay[j].add_product(vj, yi);
  }
}

template <class T, class Acc, class A>
inline void mdot2_range(idx b, idx e, int k, const T* v, idx ldv, const T* x, const T* y, Acc* ax, Acc* ay, A) {
  for (idx i = b; i < e; ++i) mdot2_element<T, Acc, A>(i, k, v, ldv, x, y, ax, ay);
}

/// Element i of DCGS2's update: x = inv_rho*(x - sum_j s[j] v_j), then
/// y = scale*(y - sum_j t[j] v_j - gamma*x) with the new x, in T's compute precision; y'y of
/// the new y into acc[0].
template <class T, class Acc, class A>
MIXPREC_KI void dcgs2_update_element(idx i, int k, const compute_t<T>* s, const compute_t<T>* t, const T* v, idx ldv,
                                     compute_t<T> inv_rho, compute_t<T> gamma, compute_t<T> scale, T* x, T* y,
                                     Acc* acc) {
  using C = compute_t<T>;
  C sv = 0, tv = 0;
  for (int j = 0; j < k; ++j) {
    const C vj = widen(v[j * ldv + i]);
    sv += s[j] * vj;
    tv += t[j] * vj;
  }
  const T xi = narrow<T>(inv_rho * (widen(x[i]) - sv));
  const T yi = narrow<T>(scale * (widen(y[i]) - tv - gamma * widen(xi)));
  x[i] = xi;
  y[i] = yi;
  acc[0].add_product(A(widen(yi)), A(widen(yi)));
}

template <class T, class Acc, class A>
inline void dcgs2_update_range(idx b, idx e, int k, const compute_t<T>* s, const compute_t<T>* t, const T* v, idx ldv,
                               compute_t<T> inv_rho, compute_t<T> gamma, compute_t<T> scale, T* x, T* y, Acc* acc, A) {
  for (idx i = b; i < e; ++i) dcgs2_update_element<T, Acc, A>(i, k, s, t, v, ldv, inv_rho, gamma, scale, x, y, acc);
}

template <class T>
inline void scal_range(idx b, idx e, compute_t<T> alpha, T* x, idx incx) {
  for (idx i = b; i < e; ++i) x[i * incx] = narrow<T>(alpha * widen(x[i * incx]));
}

template <class T, class Acc, class A>
inline void dot_range(idx b, idx e, const T* x, idx incx, const T* y, idx incy, Acc& acc, A) {
  for (idx i = b; i < e; ++i) acc.add_product(A(widen(x[i * incx])), A(widen(y[i * incy])));
}

/// Sum of (scale * x)^2. scale is a power of two chosen by nrm2: the product is formed in
/// f64 (exact) so that scales outside the accumulator's range (2^133 for tiny bf16) work.
template <class T, class Acc, class A>
inline void sumsq_range(idx b, idx e, const T* x, idx incx, double scale, Acc& acc, A) {
  if (scale == 1.0) {
    for (idx i = b; i < e; ++i) {
      const A v = A(widen(x[i * incx]));
      acc.add_product(v, v);
    }
  } else {
    for (idx i = b; i < e; ++i) {
      const A v = A(to_f64(x[i * incx]) * scale);
      acc.add_product(v, v);
    }
  }
}

template <class T, class Acc, class A>
inline void asum_range(idx b, idx e, const T* x, idx incx, Acc& acc, A) {
  for (idx i = b; i < e; ++i) {
    const A v = A(widen(x[i * incx]));
    acc.add(v < 0 ? -v : v);
  }
}

/// First index of the largest |x| in [b, e) (first NaN wins); `best` gets its magnitude.
template <class T>
inline idx amax_range(idx b, idx e, const T* x, idx incx, double* best) {
  idx at = b;
  double m = -1.0;
  for (idx i = b; i < e; ++i) {
    const double v = std::fabs(to_f64(x[i * incx]));
    if (magnitude_greater(v, m)) {
      at = i;
      m = v;
      if (v != v) break;  // a NaN cannot be beaten
    }
  }
  *best = m;
  return at;
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
