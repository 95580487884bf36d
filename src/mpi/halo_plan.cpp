// Finding the halo of a row-distributed CSR matrix, once: which columns this process needs
// from which others (and they from it), its rows renumbered into [own rows | ghosts], and
// the rows cut into runs that can be multiplied before the halo arrives and runs that must
// wait for it.
#include <algorithm>
#include <climits>
#include <numeric>

#include "mixprec/blas1.hpp"
#include "mpi/mpi_support.hpp"

namespace mixprec::detail {
namespace {

constexpr const char* op = "distributed_csr_operator";

/// Beyond this many runs of rows, cutting the SpMV at each costs more than overlapping
/// saves: the rows are then multiplied in one piece after the halo has arrived.
constexpr std::size_t max_runs = 64;

/// The processes' row counts in rank order, gathered.
row_partition gather_partition(const communicator_state& comm, std::int64_t mine) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(comm.processes()));
  MPI_Allgather(&mine, 1, MPI_INT64_T, counts.data(), 1, MPI_INT64_T, comm.comm());
  row_partition p;
  p.offsets.assign(counts.size() + 1, 0);
  std::partial_sum(counts.begin(), counts.end(), p.offsets.begin() + 1);
  return p;
}

/// What a process's rows must satisfy before anything is exchanged.
void check_local_rows(const csr_matrix& in, std::int64_t global) {
  if (in.ctx().kind() != backend::cpu)
    MIXPREC_MPI_THROW(unsupported, op, "the rows are in ", in.ctx().describe(),
                      "; distributed matrices are host (CPU) ones");
  if (in.cols() != global)
    MIXPREC_MPI_THROW(shape_mismatch, op, "this process's rows have ", in.cols(),
                      " columns but the processes' rows add up to ", global,
                      ": the matrix must be square, its columns numbered globally");
  if (in.rows() + 1 > INT32_MAX || in.nnz() > INT32_MAX)
    MIXPREC_MPI_THROW(unsupported, op, "one process holds ", in.rows(), " rows and ", in.nnz(),
                      " nonzeros; more than 2^31 - 1 per process is not supported");
  const csr_check c = in.validate();
  if (!c.ok) MIXPREC_MPI_THROW(invalid_argument, op, "this process's rows: ", c.problem);
}

template <class I>
std::vector<std::int64_t> column_list(const csr_matrix& in) {
  const I* ci = static_cast<const I*>(in.col_idx_data());
  std::vector<std::int64_t> cols(ci, ci + in.nnz());
  return cols;
}

template <class I>
std::vector<std::int64_t> row_starts(const csr_matrix& in) {
  const I* rp = static_cast<const I*>(in.row_ptr_data());
  return std::vector<std::int64_t>(rp, rp + in.rows() + 1);
}

int owner_of(const row_partition& p, std::int64_t column) {
  return int(std::upper_bound(p.offsets.begin(), p.offsets.end(), column) - p.offsets.begin()) - 1;
}

/// Exchanges the ghost lists: each process learns which of its rows each other one reads.
void find_neighbours(const communicator_state& comm, halo_plan& plan) {
  const int size = comm.processes();
  const std::size_t processes = static_cast<std::size_t>(size);
  std::vector<std::int64_t> need(processes, 0), asked(processes, 0);
  for (std::int64_t g : plan.ghost_columns) ++need[std::size_t(owner_of(plan.partition, g))];
  MPI_Alltoall(need.data(), 1, MPI_INT64_T, asked.data(), 1, MPI_INT64_T, comm.comm());

  std::vector<int> need_n(processes), need_at(processes), asked_n(processes), asked_at(processes);

  std::int64_t need_total = 0, asked_total = 0;
  for (std::size_t p = 0; p < processes; ++p) {
    need_n[p] = int(need[p]), asked_n[p] = int(asked[p]);
    need_at[p] = int(need_total), asked_at[p] = int(asked_total);
    need_total += need[p], asked_total += asked[p];
  }
  std::vector<std::int64_t> requested(static_cast<std::size_t>(asked_total));
  MPI_Alltoallv(plan.ghost_columns.data(), need_n.data(), need_at.data(), MPI_INT64_T, requested.data(), asked_n.data(),
                asked_at.data(), MPI_INT64_T, comm.comm());

  plan.receive_offsets = {0};
  plan.send_offsets = {0};
  for (int p = 0; p < size; ++p) {
    if (need[std::size_t(p)] == 0 && asked[std::size_t(p)] == 0) continue;
    plan.neighbours.push_back(p);
    plan.receive_offsets.push_back(plan.receive_offsets.back() + need[std::size_t(p)]);
    plan.send_offsets.push_back(plan.send_offsets.back() + asked[std::size_t(p)]);
    for (std::int64_t k = 0; k < asked[std::size_t(p)]; ++k)
      plan.send_rows.push_back(std::int32_t(requested[std::size_t(asked_at[std::size_t(p)] + k)] - plan.first_row));
  }
}

/// Cuts the rows into interior and boundary runs (see halo_plan).
void cut_runs(halo_plan& plan, const std::vector<std::int64_t>& starts, const std::int32_t* columns, bool overlap) {
  const std::int64_t n = plan.local_rows;
  std::vector<char> boundary_row(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = starts[std::size_t(i)]; k < starts[std::size_t(i) + 1]; ++k)
      if (columns[k] >= n) boundary_row[std::size_t(i)] = 1;

  std::vector<std::pair<std::int64_t, std::int64_t>> runs;  // [first, end)
  for (std::int64_t i = 0; i < n;) {
    std::int64_t e = i + 1;
    while (e < n && boundary_row[std::size_t(e)] == boundary_row[std::size_t(i)]) ++e;
    runs.emplace_back(i, e);
    i = e;
  }
  const bool any_boundary = std::find(boundary_row.begin(), boundary_row.end(), 1) != boundary_row.end();
  if (any_boundary && (!overlap || runs.size() > max_runs)) {
    runs = {{0, n}};  // one boundary run: exchange first, then multiply every row
    std::fill(boundary_row.begin(), boundary_row.end(), 1);
  }

  // The compact vector of the boundary rows: the local entries they read, then the ghosts.
  std::vector<std::int32_t> position(static_cast<std::size_t>(n), -1);
  for (const auto& [first, end] : runs) {
    if (!boundary_row[std::size_t(first)]) continue;
    for (std::int64_t k = starts[std::size_t(first)]; k < starts[std::size_t(end)]; ++k)
      if (columns[k] < n && position[std::size_t(columns[k])] < 0) position[std::size_t(columns[k])] = 0;
  }
  for (std::int64_t c = 0; c < n; ++c)
    if (position[std::size_t(c)] == 0) {
      position[std::size_t(c)] = std::int32_t(plan.boundary_locals.size());
      plan.boundary_locals.push_back(std::int32_t(c));
    }
  const std::int64_t locals = std::int64_t(plan.boundary_locals.size());

  for (const auto& [first, end] : runs) {
    halo_plan::row_run run;
    run.first = first;
    run.count = end - first;
    const std::int64_t base = starts[std::size_t(first)];
    for (std::int64_t i = first; i <= end; ++i) run.row_ptr.push_back(std::int32_t(starts[std::size_t(i)] - base));
    if (boundary_row[std::size_t(first)]) {
      for (std::int64_t k = base; k < starts[std::size_t(end)]; ++k)
        run.columns.push_back(columns[k] < n ? position[std::size_t(columns[k])]
                                             : std::int32_t(locals + columns[k] - n));
      plan.boundary.push_back(std::move(run));
    } else {
      plan.interior.push_back(std::move(run));
    }
  }
}

template <class I>
std::shared_ptr<const distributed_rows> distribute_typed(const communicator_state& comm, const csr_matrix& in,
                                                         row_partition partition, bool overlap) {
  auto plan = std::make_shared<halo_plan>();
  plan->partition = std::move(partition);
  plan->local_rows = in.rows();
  plan->first_row = plan->partition.offsets[std::size_t(comm.rank())];
  const std::int64_t n = in.rows(), first = plan->first_row;

  const std::vector<std::int64_t> global_cols = column_list<I>(in), starts = row_starts<I>(in);
  for (std::int64_t g : global_cols)
    if (g < first || g >= first + n) plan->ghost_columns.push_back(g);
  std::sort(plan->ghost_columns.begin(), plan->ghost_columns.end());
  plan->ghost_columns.erase(std::unique(plan->ghost_columns.begin(), plan->ghost_columns.end()),
                            plan->ghost_columns.end());
  plan->ghosts = std::int64_t(plan->ghost_columns.size());
  find_neighbours(comm, *plan);

  // Renumbered rows: the same entries in the same order (so each row sums as the global
  // matrix's does), own columns shifted to 0, ghosts after them.
  csr_matrix local(n, n + plan->ghosts, in.nnz(), in.value_type(), index_type::i32, in.ctx());
  auto* rp = static_cast<std::int32_t*>(local.row_ptr_data());
  auto* ci = static_cast<std::int32_t*>(local.col_idx_data());
  for (std::int64_t i = 0; i <= n; ++i) rp[i] = std::int32_t(starts[std::size_t(i)] - starts[0]);
  for (std::int64_t k = 0; k < in.nnz(); ++k) {
    const std::int64_t g = global_cols[std::size_t(starts[0] + k)];
    ci[k] = g >= first && g < first + n
                ? std::int32_t(g - first)
                : std::int32_t(n + (std::lower_bound(plan->ghost_columns.begin(), plan->ghost_columns.end(), g) -
                                    plan->ghost_columns.begin()));
  }
  if (in.nnz() > 0) copy(in.values(), local.values());
  std::vector<std::int64_t> local_starts(rp, rp + n + 1);
  cut_runs(*plan, local_starts, ci, overlap);
  return std::make_shared<distributed_rows>(std::move(plan), std::move(local));
}

/// A csr_ref over rows of `local` that start at entry `base`, with their own rebased
/// row_ptr and column indices.
csr_ref wrap_run(const csr_matrix& local, std::int64_t rows, std::int64_t cols, const std::int32_t* row_ptr,
                 const std::int32_t* columns, std::int64_t base) {
  const void* v = static_cast<const char*>(local.values().data()) + base * std::int64_t(size_of(local.value_type()));
  switch (local.value_type()) {
    case dtype::f64:
      return csr_ref::wrap_unchecked(rows, cols, row_ptr, columns, static_cast<const double*>(v), local.ctx());
    case dtype::f32:
      return csr_ref::wrap_unchecked(rows, cols, row_ptr, columns, static_cast<const float*>(v), local.ctx());
    case dtype::f16:
      return csr_ref::wrap_unchecked(rows, cols, row_ptr, columns, static_cast<const half*>(v), local.ctx());
    case dtype::bf16:
      return csr_ref::wrap_unchecked(rows, cols, row_ptr, columns, static_cast<const bfloat16*>(v), local.ctx());
    default:
      MIXPREC_MPI_THROW(unsupported, op, "values in ", name_of(local.value_type()));
  }
}

}  // namespace

distributed_rows::distributed_rows(std::shared_ptr<const halo_plan> p, csr_matrix values_and_pattern)
    : plan(std::move(p)), local(std::move(values_and_pattern)) {
  const auto* rp = static_cast<const std::int32_t*>(local.row_ptr_data());
  const auto* ci = static_cast<const std::int32_t*>(local.col_idx_data());
  const std::int64_t compact = std::int64_t(plan->boundary_locals.size()) + plan->ghosts;
  for (const auto& run : plan->interior)
    interior_runs.push_back(
        wrap_run(local, run.count, plan->local_rows, run.row_ptr.data(), ci + rp[run.first], rp[run.first]));
  for (const auto& run : plan->boundary)
    boundary_runs.push_back(wrap_run(local, run.count, compact, run.row_ptr.data(), run.columns.data(), rp[run.first]));
}

std::shared_ptr<const distributed_rows> distribute_rows(const communicator_state& comm, const csr_matrix& in,
                                                        bool overlap) {
  row_partition partition = gather_partition(comm, in.rows());
  detail::agreed(comm, [&] { check_local_rows(in, partition.offsets.back()); });
  return in.index_kind() == index_type::i32 ? distribute_typed<std::int32_t>(comm, in, std::move(partition), overlap)
                                            : distribute_typed<std::int64_t>(comm, in, std::move(partition), overlap);
}

}  // namespace mixprec::detail
