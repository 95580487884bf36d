// mixprec/reduction.hpp — where a solver's inner products are summed.
//
// An operator on one process returns no reduction_domain (linear_operator::reductions() is
// null) and its solvers sum locally. A distributed operator (mixprec/distributed.hpp)
// returns its communicator's: every dot product and norm of a solve is then the local one
// summed over the processes, and every branch a solver takes depends only on such sums, so
// all processes take the same branches. The interface names no MPI type: the core library
// builds without MPI and a solver does not know whether it runs on one process or many.
#pragma once

#include <exception>
#include <memory>

#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

class reduction_domain {
 public:
  virtual ~reduction_domain() = default;

  /// values[0, count) summed over every process, in place. Collective: every process calls
  /// it, in the same order, with the same count; every process gets the same sums.
  virtual void sum(double* values, int count) const = 0;

  /// A sum begun by start_sum; wait() completes it. The values must not be touched before.
  class pending {
   public:
    virtual ~pending() = default;
    virtual void wait() = 0;
  };
  /// Begins sum(values, count) and returns at once, so that work can hide its latency.
  virtual std::unique_ptr<pending> start_sum(double* values, int count) const = 0;

  /// The 2-norm of a vector whose part on this process has 2-norm `local_norm`: combined
  /// from scaled partial sums of squares, so it neither overflows nor underflows where the
  /// norm itself is representable.
  virtual double norm(double local_norm) const = 0;

  /// Collective agreement on an error before communication that would otherwise hang: each
  /// process passes the exception it caught (null if none). Returns where no process failed;
  /// else every process throws — a failed process its own error, the others a mixprec::error
  /// with the same status naming the first failed process and its message.
  virtual void agree(const std::exception_ptr& local_error) const = 0;

  /// The number of processes the sums run over.
  virtual int processes() const = 0;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
