// mixprec/eigen.hpp — zero-copy bridges to Eigen (include only where Eigen is available).
//
//   Eigen::VectorXd v = Eigen::VectorXd::Random(n);
//   mixprec::view x = mixprec::view_of(v);               // no copy: x aliases v's storage
//   Eigen::Map<Eigen::VectorXf, 0, Eigen::InnerStride<>> m(p, n, Eigen::InnerStride<>(3));
//   mixprec::view y = mixprec::view_of(m);               // stride 3
//   Eigen::half e = mixprec::to_eigen(mixprec::half(1.5f));   // same bits
//
// mixprec::half / bfloat16 and Eigen::half / bfloat16 have the same 16-bit layout, so arrays
// of one can be reinterpreted as the other; `view_of` on an Eigen vector of Eigen::half gives
// a view of dtype f16.
#pragma once

#include <Eigen/Core>
#include <type_traits>

#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

inline Eigen::half to_eigen(half h) { return Eigen::numext::bit_cast<Eigen::half>(h.bits()); }
inline Eigen::bfloat16 to_eigen(bfloat16 b) { return Eigen::numext::bit_cast<Eigen::bfloat16>(b.bits()); }
inline half from_eigen(Eigen::half h) { return half::from_bits(Eigen::numext::bit_cast<std::uint16_t>(h)); }
inline bfloat16 from_eigen(Eigen::bfloat16 b) { return bfloat16::from_bits(Eigen::numext::bit_cast<std::uint16_t>(b)); }

namespace detail {
template <class S>
struct eigen_scalar {
  using type = S;
};
template <>
struct eigen_scalar<Eigen::half> {
  using type = half;
};
template <>
struct eigen_scalar<Eigen::bfloat16> {
  using type = bfloat16;
};
}  // namespace detail

/// A rank-1 view of an Eigen vector expression with direct access (Matrix, Map, Block).
template <class Derived>
auto view_of(Eigen::DenseBase<Derived>& v, context ctx = context::cpu()) {
  static_assert(Derived::IsVectorAtCompileTime, "view_of takes a vector; use make_view for matrices");
  using S = typename detail::eigen_scalar<typename Derived::Scalar>::type;
  auto* p = reinterpret_cast<S*>(v.derived().data());
  return make_view(p, std::int64_t(v.size()), std::int64_t(v.derived().innerStride()), std::move(ctx));
}
template <class Derived>
auto view_of(const Eigen::DenseBase<Derived>& v, context ctx = context::cpu()) {
  static_assert(Derived::IsVectorAtCompileTime, "view_of takes a vector; use make_view for matrices");
  using S = typename detail::eigen_scalar<typename Derived::Scalar>::type;
  const auto* p = reinterpret_cast<const S*>(v.derived().data());
  return make_view(p, std::int64_t(v.size()), std::int64_t(v.derived().innerStride()), std::move(ctx));
}

}  // namespace mixprec

MIXPREC_PUBLIC_END
