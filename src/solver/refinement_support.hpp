// What the mixed-precision drivers share: policy checks, the inner operator in the policy's
// storage, and the next policy up when a precision fails.
#pragma once

#include <memory>

#include "mixprec/refinement.hpp"

namespace mixprec::detail {

/// Throws naming the policy field or option that is out of range.
void check_policy(const refinement_options& o);

/// One step up: a 16-bit matrix to f32; an f32 matrix or Krylov basis to f64.
precision_policy raised(precision_policy p);

/// The low-precision solves' operator: `a` stored in the policy's matrix precision, or `a`
/// itself where it has no values to round.
class inner_operator {
 public:
  inner_operator(const linear_operator& a, dtype values)
      : owned_(values == a.storage_type() ? nullptr : a.stored_as(values)), op_(owned_ ? owned_.get() : &a) {}
  const linear_operator& get() const { return *op_; }

 private:
  std::unique_ptr<linear_operator> owned_;
  const linear_operator* op_;
};

/// CG with reliable updates (see inner_solver::cg_reliable); arguments checked by refine().
solve_report reliable_cg(const linear_operator& a, const_view b, view x, const refinement_options& o);

}  // namespace mixprec::detail
