// mixprec/preconditioner.hpp — preconditioners: operators that apply M^-1 ~ A^-1.
//
//   mixprec::csr_operator A(mixprec::poisson_3d(64));
//   mixprec::jacobi_preconditioner M(A);                        // 1/a_ii in f64
//   mixprec::jacobi_preconditioner M32(A, mixprec::dtype::f32);  // stored in f32
//   mixprec::solve_options o;
//   o.preconditioner = &M;
//
// A preconditioner is a linear_operator (apply(alpha, r, beta, z): z = alpha*M^-1*r +
// beta*z), so anything with that shape serves, including another solver wrapped in a
// callback_operator (as FGMRES's variable preconditioner).
#pragma once

#include "mixprec/linear_operator.hpp"

namespace mixprec {

/// Point Jacobi: M^-1 = diag(A)^-1, stored as a diagonal CSR matrix in `storage` (f64, f32,
/// f16 or bf16; 1/a_ii rounded once to it), applied by the SpMV kernels of A's backend.
/// Throws numerical_breakdown naming the row where a_ii is zero or not finite, and
/// numerical_breakdown where 1/a_ii overflows `storage`.
class jacobi_preconditioner : public linear_operator {
 public:
  explicit jacobi_preconditioner(const linear_operator& a, dtype storage = dtype::f64);

  void apply(double alpha, const_view r, double beta, view z) const override;
  using linear_operator::apply;
  dtype storage_type() const override { return inverse_.value_type(); }
  std::string describe() const override;

 private:
  csr_matrix inverse_;
};

}  // namespace mixprec
