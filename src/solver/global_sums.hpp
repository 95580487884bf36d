// The inner products of a solve, summed over the processes of a distributed operator
// (linear_operator::reductions()) or local where it has none. Every solver takes its dot
// products and norms from here, so the same code runs on one process and on many.
#pragma once

#include "mixprec/blas1.hpp"
#include "mixprec/linear_operator.hpp"

namespace mixprec::detail {

class global_sums {
 public:
  explicit global_sums(const linear_operator& a) : domain_(a.reductions()) {}

  /// x'y accumulated in f64 (as the solvers' local dot products are).
  double dot(const_view x, const_view y) const {
    double v = mixprec::dot(x, y, accumulation::f64);
    sum(&v, 1);
    return v;
  }
  /// ||x||_2 without over- or underflow.
  double nrm2(const_view x) const {
    const double local = mixprec::nrm2(x, accumulation::f64);
    return domain_ ? domain_->norm(local) : local;
  }
  /// Local partial sums (of a fused update) summed over the processes, in place.
  void sum(double* values, int count) const {
    if (domain_) domain_->sum(values, count);
  }
  double sum(double value) const {
    sum(&value, 1);
    return value;
  }
  const reduction_domain* domain() const { return domain_; }

 private:
  const reduction_domain* domain_;
};

}  // namespace mixprec::detail
