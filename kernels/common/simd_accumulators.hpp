// Vector accumulators with the contract of the scalar ones (kernels/common/scalar.hpp), for
// any folder's vector type V (zero, +, -, *, fma, fms, lanes, width, scalar): plain sums
// with fused multiply-add, and compensated sums (TwoSum / TwoProduct per lane). A folder's
// vectors are drained lane by lane into a scalar accumulator, in lane order.
#pragma once

#include "kernels/common/isa_namespace.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Plain summation with fused multiply-add (one rounding per term instead of two).
template <class V>
struct vplain {
  V s = V::zero();
  void add(V a) { s = s + a; }
  void add_product(V a, V b) { s = V::fma(a, b, s); }
  void merge(const vplain& o) { s = s + o.s; }
  template <class ScalarAcc>
  void drain(ScalarAcc& out) const {
    typename V::scalar l[V::width];
    s.lanes(l);
    for (int i = 0; i < V::width; ++i) out.add(l[i]);
  }
};

/// Compensated (TwoSum / TwoProduct per lane), as kern::compensated_sum.
template <class V>
struct vcompensated {
  V s = V::zero(), c = V::zero();
  void add_exact_terms(V p, V pe) {
    const V t = s + p;
    const V bb = t - s;
    const V e = (s - (t - bb)) + (p - bb);
    s = t;
    c = c + (e + pe);
  }
  void add(V a) { add_exact_terms(a, V::zero()); }
  void add_product(V a, V b) {
    const V p = a * b;
    add_exact_terms(p, V::fms(a, b, p));  // fms(a, b, p) = a*b - p exactly
  }
  void merge(const vcompensated& o) { add_exact_terms(o.s, o.c); }
  template <class ScalarAcc>
  void drain(ScalarAcc& out) const {
    typename V::scalar ls[V::width], lc[V::width];
    s.lanes(ls);
    c.lanes(lc);
    for (int i = 0; i < V::width; ++i) out.add(ls[i]);
    for (int i = 0; i < V::width; ++i) out.c += lc[i];
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
