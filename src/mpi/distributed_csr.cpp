// The row-distributed CSR operator: apply() exchanges the halo point to point while the
// interior rows are multiplied, then multiplies the boundary rows from [their local
// entries | the halo]. Each row is summed by the core's SpMV exactly as the global matrix's
// row would be, so the result equals a single-process SpMV bit for bit.
#include <algorithm>
#include <cstring>
#include <fstream>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mpi/mpi_support.hpp"

namespace mixprec {
namespace detail {

/// Message buffers of one operator's applies (reused; applies on one operator are not
/// concurrent, as MPI calls on one communicator are not).
struct halo_scratch {
  std::vector<unsigned char> send, receive;
  buffer compact;  // [boundary rows' local entries | ghosts], in the vectors' dtype
  std::vector<MPI_Request> receives, sends;
};

namespace {

constexpr const char* apply_op = "distributed_csr_operator::apply";

/// Calls f(T{}, W{}) with T the vectors' element type and W the halo's.
template <class F>
void with_types(dtype vectors, dtype wire, F&& f) {
  auto with_wire = [&](auto t) {
    switch (wire) {
      case dtype::f64:
        return f(t, double{});
      case dtype::f32:
        return f(t, float{});
      default:
        return f(t, bfloat16{});
    }
  };
  if (vectors == dtype::f64)
    with_wire(double{});
  else
    with_wire(float{});
}

view rows_of(view y, std::int64_t first, std::int64_t count) {
  return view(static_cast<char*>(y.data()) + first * std::int64_t(size_of(y.type())), y.type(), {count}, {1}, y.ctx());
}

}  // namespace
}  // namespace detail

distributed_csr_operator::distributed_csr_operator(const communicator& comm, const csr_matrix& local_rows,
                                                   const distributed_options& options)
    : distributed_csr_operator(comm, detail::distribute_rows(*comm.state_, local_rows, options.overlap), options) {}

distributed_csr_operator::distributed_csr_operator(const communicator& comm,
                                                   std::shared_ptr<const detail::distributed_rows> rows,
                                                   const distributed_options& options)
    : linear_operator(rows->plan->local_rows, rows->plan->local_rows, rows->local.ctx()),
      comm_(comm),
      rows_(std::move(rows)),
      scratch_(std::make_shared<detail::halo_scratch>()),
      options_(options) {
  for (dtype w : {options.halo, options.inner_halo})
    if (w != dtype::f64 && w != dtype::f32 && w != dtype::bf16)
      MIXPREC_MPI_THROW(invalid_argument, "distributed_csr_operator", "halo precision ", name_of(w),
                        ": f64, f32 or bf16");
}

void distributed_csr_operator::apply(double alpha, const_view x, double beta, view y) const {
  const detail::communicator_state& comm = *comm_.state_;
  const detail::halo_plan& plan = *rows_->plan;
  detail::halo_scratch& s = *scratch_;
  // A process that stopped at a bad argument would leave its neighbours waiting.
  detail::argument_agreement agreement(comm, detail::caught([&] { check_vectors(detail::apply_op, x, y); }));
  const bool bad = agreement.locally_bad();
  const dtype vt = bad ? dtype::f64 : x.type();
  const dtype wire = detail::wire_for(options_.halo, vt);
  const std::size_t ws = size_of(wire);

  // Post the receives, pack and send this process's entries.
  const std::size_t nb = plan.neighbours.size();
  s.receive.resize(std::size_t(plan.ghosts) * ws);
  s.send.resize(plan.send_rows.size() * ws);
  s.receives.assign(nb, MPI_REQUEST_NULL);
  s.sends.assign(nb, MPI_REQUEST_NULL);
  std::int64_t messages = 0, bytes = 0;
  for (std::size_t k = 0; k < nb; ++k) {
    const std::int64_t n = plan.receive_offsets[k + 1] - plan.receive_offsets[k];
    if (n > 0)
      MPI_Irecv(s.receive.data() + plan.receive_offsets[k] * ws, int(n * std::int64_t(ws)), MPI_BYTE,
                plan.neighbours[k], 0, comm.comm(), &s.receives[k]);
  }
  if (!bad)
    detail::with_types(vt, wire, [&](auto t, auto w) {
      using T = decltype(t);
      using W = decltype(w);
      const T* xs = static_cast<const T*>(x.data());
      W* out = reinterpret_cast<W*>(s.send.data());
      for (std::size_t i = 0; i < plan.send_rows.size(); ++i) out[i] = W(xs[plan.send_rows[i]]);
    });
  for (std::size_t k = 0; k < nb; ++k) {
    const std::int64_t n = plan.send_offsets[k + 1] - plan.send_offsets[k];
    if (n == 0) continue;
    MPI_Isend(s.send.data() + plan.send_offsets[k] * ws, int(n * std::int64_t(ws)), MPI_BYTE, plan.neighbours[k], 0,
              comm.comm(), &s.sends[k]);
    ++messages;
    bytes += n * std::int64_t(ws);
  }
  comm.count_halo(messages, bytes);

  if (agreement.failed()) {
    MPI_Waitall(int(nb), s.receives.data(), MPI_STATUSES_IGNORE);
    MPI_Waitall(int(nb), s.sends.data(), MPI_STATUSES_IGNORE);
    agreement.raise();
  }

  for (std::size_t r = 0; r < rows_->interior_runs.size(); ++r) {
    const auto& run = plan.interior[r];
    spmv(alpha, rows_->interior_runs[r], x, beta, detail::rows_of(y, run.first, run.count), options_.acc);
  }
  if (!rows_->boundary_runs.empty() || plan.ghosts > 0) {
    const std::int64_t locals = std::int64_t(plan.boundary_locals.size());
    if (s.compact.type() != vt || s.compact.size() != locals + plan.ghosts)
      s.compact = buffer(vt, locals + plan.ghosts, ctx());
    MPI_Waitall(int(nb), s.receives.data(), MPI_STATUSES_IGNORE);
    detail::with_types(vt, wire, [&](auto t, auto w) {
      using T = decltype(t);
      using W = decltype(w);
      const T* xs = static_cast<const T*>(x.data());
      T* c = static_cast<T*>(s.compact.data());
      for (std::int64_t i = 0; i < locals; ++i) c[i] = xs[plan.boundary_locals[std::size_t(i)]];
      const W* in = reinterpret_cast<const W*>(s.receive.data());
      for (std::int64_t i = 0; i < plan.ghosts; ++i) c[locals + i] = detail::from_wire<T>(in[i]);
    });
    for (std::size_t r = 0; r < rows_->boundary_runs.size(); ++r) {
      const auto& run = plan.boundary[r];
      spmv(alpha, rows_->boundary_runs[r], s.compact.as_view(), beta, detail::rows_of(y, run.first, run.count),
           options_.acc);
    }
  }
  MPI_Waitall(int(nb), s.sends.data(), MPI_STATUSES_IGNORE);
}

dtype distributed_csr_operator::storage_type() const { return rows_->local.value_type(); }

std::string distributed_csr_operator::describe() const {
  const detail::halo_plan& p = *rows_->plan;
  return detail::text("distributed csr ", name_of(storage_type()), " rows ", p.first_row, "..",
                      p.first_row + p.local_rows, " of ", p.partition.offsets.back(), " on ", comm_.size(),
                      " processes, halo ", p.ghosts, " values in ", name_of(options_.halo), " from ",
                      p.neighbours.size(), " neighbours");
}

void distributed_csr_operator::diagonal(double* d) const {
  // Own columns are numbered as the rows are, so the local matrix's diagonal is A's.
  const std::vector<double> diag = rows_->local.diagonal();
  std::copy(diag.begin(), diag.end(), d);
}

std::unique_ptr<linear_operator> distributed_csr_operator::stored_as(dtype values) const {
  return inner_copy(values, options_.inner_halo);
}

std::unique_ptr<linear_operator> distributed_csr_operator::inner_copy(dtype values, dtype halo) const {
  distributed_options inner = options_;
  inner.halo = detail::narrower_halo(options_.inner_halo, halo);
  auto rows = values == storage_type()
                  ? rows_
                  : std::make_shared<const detail::distributed_rows>(rows_->plan, rows_->local.with_values(values));
  return std::unique_ptr<linear_operator>(new distributed_csr_operator(comm_, std::move(rows), inner));
}

const reduction_domain* distributed_csr_operator::reductions() const { return &comm_.reductions(); }

const row_partition& distributed_csr_operator::partition() const { return rows_->plan->partition; }
std::int64_t distributed_csr_operator::global_rows() const { return rows_->plan->partition.offsets.back(); }
std::int64_t distributed_csr_operator::first_row() const { return rows_->plan->first_row; }

csr_matrix distributed_csr_operator::local_block() const {
  const csr_matrix& a = rows_->local;
  const std::int64_t n = rows();
  const coo_matrix all = a.to_coo();
  coo_matrix block(n, n);
  for (std::size_t k = 0; k < all.value.size(); ++k)
    if (all.col[k] < n) block.add(all.row[k], all.col[k], all.value[k]);
  return csr_matrix::from_coo(block, a.value_type());
}

distributed_csr_operator::halo_summary distributed_csr_operator::halo() const {
  const detail::halo_plan& p = *rows_->plan;
  halo_summary h;
  h.neighbours = int(p.neighbours.size());
  h.receive_values = p.ghosts;
  h.send_values = std::int64_t(p.send_rows.size());
  for (const auto& r : p.interior) h.interior_rows += r.count;
  for (const auto& r : p.boundary) h.boundary_rows += r.count;
  h.wire = options_.halo;
  return h;
}

}  // namespace mixprec
