// The communicator: mixprec's reduction_domain over MPI (sums, non-blocking sums, norms,
// error agreement) and the counters benchmarks read.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "mixprec/blas1.hpp"
#include "mpi/mpi_support.hpp"

namespace mixprec {
namespace detail {
namespace {

/// Combines (scale, sum of squares) pairs, each standing for scale * sqrt(ssq), as LAPACK's
/// dlassq does: the larger scale is kept and the other sum rescaled to it, so no square of
/// a norm is ever formed. Choosing by scale makes the combination commutative bit for bit,
/// which MPI_Op_create's commute flag promises.
void combine_scaled_ssq(void* in, void* inout, int* len, MPI_Datatype*) {
  const double* a = static_cast<const double*>(in);
  double* b = static_cast<double*>(inout);
  for (int i = 0; i < *len; ++i, a += 2, b += 2) {
    const double sa = a[0], qa = a[1], sb = b[0], qb = b[1];
    if (!(std::isfinite(sa) && std::isfinite(sb))) {  // Inf or NaN: a norm that is not finite
      b[0] = std::isnan(sa) || std::isnan(sb) ? NAN : INFINITY;
      b[1] = 1;
    } else if (sa == 0) {
      continue;
    } else if (sb == 0) {
      b[0] = sa, b[1] = qa;
    } else if (sa > sb) {
      const double r = sb / sa;
      b[0] = sa, b[1] = qa + qb * r * r;
    } else {
      const double r = sa / sb;
      b[1] = qb + qa * r * r;
    }
  }
}

class mpi_pending final : public reduction_domain::pending {
 public:
  explicit mpi_pending(MPI_Request r) : request_(r) {}
  ~mpi_pending() override {
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  void wait() override { MPI_Wait(&request_, MPI_STATUS_IGNORE); }

 private:
  MPI_Request request_;
};

}  // namespace

communicator_state::communicator_state(MPI_Comm user) {
  constexpr const char* op = "communicator";
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    MIXPREC_MPI_THROW(invalid_argument, op, "MPI is ", finalized ? "finalized" : "not initialized",
                      ": call MPI_Init before making a communicator, MPI_Finalize after its last use");
  if (user == MPI_COMM_NULL) MIXPREC_MPI_THROW(invalid_argument, op, "the communicator is MPI_COMM_NULL");
  MPI_Comm_dup(user, &comm_);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Op_create(&combine_scaled_ssq, 1, &scaled_ssq_);
  MPI_Type_contiguous(2, MPI_DOUBLE, &scaled_ssq_pair_);
  MPI_Type_commit(&scaled_ssq_pair_);
}

communicator_state::~communicator_state() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;  // too late to free: MPI has released everything itself
  MPI_Type_free(&scaled_ssq_pair_);
  MPI_Op_free(&scaled_ssq_);
  MPI_Comm_free(&comm_);
}

void communicator_state::sum(double* values, int count) const {
  count_reduction();
  MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, comm_);
}

std::unique_ptr<reduction_domain::pending> communicator_state::start_sum(double* values, int count) const {
  count_reduction();
  MPI_Request r = MPI_REQUEST_NULL;
  MPI_Iallreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, comm_, &r);
  return std::make_unique<mpi_pending>(r);
}

double communicator_state::norm(double local_norm) const {
  count_reduction();
  double pair[2] = {local_norm, 1.0};
  MPI_Allreduce(MPI_IN_PLACE, pair, 1, scaled_ssq_pair_, scaled_ssq_, comm_);
  return pair[0] == 0 || !std::isfinite(pair[0]) ? pair[0] : pair[0] * std::sqrt(pair[1]);
}

void communicator_state::agree(const std::exception_ptr& local_error) const {
  count_reduction();
  int first_failed = local_error ? rank_ : size_;
  MPI_Allreduce(MPI_IN_PLACE, &first_failed, 1, MPI_INT, MPI_MIN, comm_);
  if (first_failed == size_) return;
  // The first failed process tells the others what went wrong.
  int code = int(status::internal);
  std::string op = "distributed", message;
  if (rank_ == first_failed) {
    try {
      std::rethrow_exception(local_error);
    } catch (const error& e) {
      code = int(e.code());
      op = e.op();
      message = e.message();
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "an exception that is not a std::exception";
    }
  }
  std::string packed = op + '\n' + message;
  int header[2] = {code, int(packed.size())};
  MPI_Bcast(header, 2, MPI_INT, first_failed, comm_);
  packed.resize(std::size_t(header[1]));
  MPI_Bcast(packed.data(), header[1], MPI_CHAR, first_failed, comm_);
  if (local_error) std::rethrow_exception(local_error);
  const std::size_t cut = packed.find('\n');
  throw error(status(header[0]), packed.substr(0, cut),
              text("process ", first_failed, " of ", size_, " failed: ", packed.substr(cut + 1)), __FILE__, __LINE__);
}

}  // namespace detail

communicator::communicator(MPI_Comm comm) : state_(std::make_shared<detail::communicator_state>(comm)) {}

int communicator::rank() const { return state_->rank(); }
int communicator::size() const { return state_->processes(); }
MPI_Comm communicator::get() const { return state_->comm(); }
const reduction_domain& communicator::reductions() const { return *state_; }
communication_counters communicator::counters() const { return state_->counters(); }
void communicator::reset_counters() const { state_->reset_counters(); }

double dot(const communicator& comm, const_view x, const_view y) {
  double v = dot(x, y, accumulation::f64);
  comm.reductions().sum(&v, 1);
  return v;
}

double nrm2(const communicator& comm, const_view x) { return comm.reductions().norm(nrm2(x, accumulation::f64)); }

row_partition row_partition::even(std::int64_t rows, int processes) {
  if (rows < 0 || processes < 1)
    MIXPREC_MPI_THROW(invalid_argument, "row_partition::even", rows, " rows over ", processes,
                      " processes (rows >= 0, processes >= 1)");
  row_partition p;
  p.offsets.resize(std::size_t(processes) + 1);
  const std::int64_t base = rows / processes, extra = rows % processes;
  for (int i = 0; i < processes; ++i) p.offsets[std::size_t(i) + 1] = p.offsets[std::size_t(i)] + base + (i < extra);
  return p;
}

}  // namespace mixprec
