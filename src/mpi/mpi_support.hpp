// What the distributed layer's sources share: the communicator's state (mixprec's
// reduction_domain over MPI), the halo plan of a row-distributed matrix, and errors thrown
// as mixprec::error. This library links the core through its public API only.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "mixprec/distributed.hpp"
#include "mixprec/error.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec::detail {

template <class... A>
std::string text(const A&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// The narrower of two halo precisions (f64, f32, bf16): what a refinement's inner copy
/// exchanges when both the operator and the policy name one.
inline dtype narrower_halo(dtype a, dtype b) {
  auto rank = [](dtype t) { return t == dtype::bf16 ? 0 : t == dtype::f32 ? 1 : 2; };
  return rank(a) <= rank(b) ? a : b;
}

}  // namespace mixprec::detail

/// MIXPREC_MPI_THROW(shape_mismatch, "op", "x has ", n, " elements")
#define MIXPREC_MPI_THROW(code, op, ...) \
  throw ::mixprec::error(::mixprec::status::code, op, ::mixprec::detail::text(__VA_ARGS__), __FILE__, __LINE__)

namespace mixprec::detail {

/// The duplicated communicator and what it has sent.
class communicator_state final : public reduction_domain {
 public:
  explicit communicator_state(MPI_Comm user);
  ~communicator_state() override;
  communicator_state(const communicator_state&) = delete;
  communicator_state& operator=(const communicator_state&) = delete;

  void sum(double* values, int count) const override;
  std::unique_ptr<pending> start_sum(double* values, int count) const override;
  double norm(double local_norm) const override;
  void agree(const std::exception_ptr& local_error) const override;
  int processes() const override { return size_; }

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  void count_reduction() const { ++reductions_; }
  void count_halo(std::int64_t messages, std::int64_t bytes) const {
    halo_messages_ += messages;
    halo_bytes_ += bytes;
  }
  communication_counters counters() const { return {reductions_.load(), halo_messages_.load(), halo_bytes_.load()}; }
  void reset_counters() const { reductions_ = halo_messages_ = halo_bytes_ = 0; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Op scaled_ssq_ = MPI_OP_NULL;
  MPI_Datatype scaled_ssq_pair_ = MPI_DATATYPE_NULL;
  int rank_ = 0, size_ = 1;
  mutable std::atomic<std::int64_t> reductions_{0}, halo_messages_{0}, halo_bytes_{0};
};

/// The exception f throws on this process, or null.
template <class F>
std::exception_ptr caught(F&& f) {
  try {
    f();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

/// Runs f on this process and agrees on its outcome with the others: where f threw on any
/// process, every process throws (reduction_domain::agree).
template <class F>
void agreed(const reduction_domain& comm, F&& f) {
  comm.agree(caught(f));
}

/// The agreement of every process on an apply()'s arguments, begun before the halo is
/// posted so that its latency overlaps the messages': a process whose arguments are bad
/// still exchanges (whatever its buffers hold), and after the exchange every process throws
/// (raise). On one process a bad argument throws at once.
class argument_agreement {
 public:
  argument_agreement(const communicator_state& comm, std::exception_ptr local)
      : comm_(comm), local_(std::move(local)), any_bad_(local_ ? 1 : 0) {
    if (comm.processes() == 1) {
      if (local_) std::rethrow_exception(local_);
      return;
    }
    comm.count_reduction();
    MPI_Iallreduce(MPI_IN_PLACE, &any_bad_, 1, MPI_INT, MPI_MAX, comm.comm(), &request_);
  }
  ~argument_agreement() {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  argument_agreement(const argument_agreement&) = delete;
  argument_agreement& operator=(const argument_agreement&) = delete;

  bool locally_bad() const { return bool(local_); }
  /// Waits for the agreement: true when some process's arguments were bad.
  bool failed() {
    MPI_Wait(&request_, MPI_STATUS_IGNORE);
    return any_bad_ != 0;
  }
  /// After failed(): throws on every process.
  void raise() const { comm_.agree(local_); }

 private:
  const communicator_state& comm_;
  std::exception_ptr local_;
  int any_bad_;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

/// The precision halo values travel in for vectors of `vectors`: never wider than they are.
inline dtype wire_for(dtype requested, dtype vectors) {
  return vectors == dtype::f32 && requested == dtype::f64 ? dtype::f32 : requested;
}

/// A halo value widened back to the vectors' type (bf16 through f32, exactly).
template <class To, class From>
To from_wire(From v) {
  if constexpr (std::is_same_v<From, bfloat16> || std::is_same_v<From, half>)
    return To(float(v));
  else
    return To(v);
}

/// Which values go where in one apply: found once from the columns of this process's rows.
/// Halo values are ordered by global column, hence grouped by the process that owns them.
struct halo_plan {
  row_partition partition;
  std::int64_t local_rows = 0, first_row = 0, ghosts = 0;
  std::vector<int> neighbours;                // processes exchanged with (both ways), ascending
  std::vector<std::int64_t> receive_offsets;  // per neighbour, into the ghosts; size + 1
  std::vector<std::int64_t> send_offsets;     // per neighbour, into send_rows; size + 1
  std::vector<std::int32_t> send_rows;        // local rows whose x entries are sent
  std::vector<std::int64_t> ghost_columns;    // global column of each ghost

  /// Runs of consecutive rows: interior ones read only local x entries and are multiplied
  /// while the halo travels; boundary ones read a compact vector [the local entries they
  /// use | the ghosts], with their own column indices into it.
  struct row_run {
    std::int64_t first = 0, count = 0;
    std::vector<std::int32_t> row_ptr;  // rebased to 0
    std::vector<std::int32_t> columns;  // boundary runs: into the compact vector; interior: empty
  };
  std::vector<row_run> interior, boundary;
  std::vector<std::int32_t> boundary_locals;  // local x entries the boundary rows read
};

/// This process's rows with columns renumbered [own rows | ghosts] (i32) and the plan.
struct distributed_rows {
  std::shared_ptr<const halo_plan> plan;
  csr_matrix local;                                   // local_rows x (local_rows + ghosts)
  std::vector<csr_ref> interior_runs, boundary_runs;  // over `local`'s values

  distributed_rows(std::shared_ptr<const halo_plan> p, csr_matrix values_and_pattern);
};

struct cartesian_state;
/// A grid's halo exchange on arguments every process has checked (cartesian_grid).
void exchange(const cartesian_state& s, grid& u, dtype wire);

/// Builds the plan and the renumbered rows from this process's rows with global columns.
/// Collective; an input that does not fit the other processes' throws on every process.
std::shared_ptr<const distributed_rows> distribute_rows(const communicator_state& comm, const csr_matrix& local_rows,
                                                        bool overlap);

}  // namespace mixprec::detail
