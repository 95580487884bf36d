// What the mixed-precision drivers share: policy checks, the inner operator in the policy's
// storage, and the next policy up when a precision fails.
#pragma once

#include <memory>
#include <string>

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
  // A distributed operator is asked even for its own dtype: its inner copy may exchange
  // halos in a lower precision (distributed_options::inner_halo, precision_policy::halo).
  inner_operator(const linear_operator& a, const precision_policy& policy)
      : owned_(policy.matrix == a.storage_type() && !a.reductions() ? nullptr
                                                                    : a.inner_copy(policy.matrix, policy.halo)),
        op_(owned_ ? owned_.get() : &a) {}
  const linear_operator& get() const { return *op_; }

 private:
  std::unique_ptr<linear_operator> owned_;
  const linear_operator* op_;
};

/// The precisions an attempt runs in, into the report: the inner operator's storage, the
/// policy's Krylov dtype, and the preconditioner's (the matrix's when there is none).
void note_precisions(solve_report& rep, const linear_operator& inner, const precision_policy& policy,
                     const linear_operator* preconditioner);

/// Fallback is on and the policy can still be raised.
inline bool can_fall_back(const refinement_options& o, const precision_policy& p) {
  return o.fallback && !(p.matrix == dtype::f64 && p.krylov == dtype::f64 && p.halo == dtype::f64);
}

/// Appends "from -> to because why" to the report's fallback log; returns the raised policy.
precision_policy fall_back(solve_report& rep, const precision_policy& from, const std::string& why);

/// CG with reliable updates (see inner_solver::cg_reliable); arguments checked by refine().
solve_report reliable_cg(const linear_operator& a, const_view b, view x, const refinement_options& o);

}  // namespace mixprec::detail
