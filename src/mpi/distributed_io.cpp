// Making distributed matrices from a whole one: every process cutting its rows out of a
// copy it holds, or process 0 reading a Matrix Market file and sending the rows out.
#include <cstring>

#include "mpi/mpi_support.hpp"

namespace mixprec {
namespace {

/// Rows [first, first + count) of `a` as a matrix of their own, columns kept global.
template <class I>
csr_matrix rows_of_typed(const csr_matrix& a, std::int64_t first, std::int64_t count) {
  const I* rp = static_cast<const I*>(a.row_ptr_data());
  const I* ci = static_cast<const I*>(a.col_idx_data());
  const std::int64_t base = rp[first], nnz = std::int64_t(rp[first + count]) - base;
  csr_matrix out(count, a.cols(), nnz, a.value_type(), a.index_kind(), a.ctx());
  I* orp = static_cast<I*>(out.row_ptr_data());
  for (std::int64_t i = 0; i <= count; ++i) orp[i] = I(rp[first + i] - base);
  if (nnz == 0) return out;  // an empty block: its arrays may be null
  std::memcpy(out.col_idx_data(), ci + base, std::size_t(nnz) * sizeof(I));
  const std::size_t es = size_of(a.value_type());
  std::memcpy(out.values().data(), static_cast<const char*>(a.values().data()) + std::size_t(base) * es,
              std::size_t(nnz) * es);
  return out;
}

csr_matrix rows_of(const csr_matrix& a, std::int64_t first, std::int64_t count) {
  return a.index_kind() == index_type::i32 ? rows_of_typed<std::int32_t>(a, first, count)
                                           : rows_of_typed<std::int64_t>(a, first, count);
}

void check_partition(const char* op, const row_partition& p, int processes, std::int64_t rows) {
  if (p.processes() != processes)
    MIXPREC_MPI_THROW(shape_mismatch, op, "the partition has ", p.processes(), " blocks for ", processes, " processes");
  if (p.offsets.front() != 0 || p.offsets.back() != rows)
    MIXPREC_MPI_THROW(shape_mismatch, op, "the partition covers rows ", p.offsets.front(), "..", p.offsets.back(),
                      " of a matrix of ", rows);
  for (int k = 0; k < processes; ++k)
    if (p.rows_of(k) < 0)
      MIXPREC_MPI_THROW(invalid_argument, op, "the partition gives process ", k, " ", p.rows_of(k), " rows");
}

}  // namespace

distributed_csr_operator distributed_csr_operator::from_global(const communicator& comm, const csr_matrix& global,
                                                               const row_partition& partition,
                                                               const distributed_options& options) {
  csr_matrix mine;
  detail::agreed(comm.reductions(), [&] {
    constexpr const char* op = "distributed_csr_operator::from_global";
    if (global.rows() != global.cols())
      MIXPREC_MPI_THROW(shape_mismatch, op, "the matrix is ", global.rows(), " x ", global.cols(), ", not square");
    check_partition(op, partition, comm.size(), global.rows());
    mine = rows_of(global, partition.offsets[std::size_t(comm.rank())], partition.rows_of(comm.rank()));
  });
  return distributed_csr_operator(comm, mine, options);
}

distributed_csr_operator distributed_csr_operator::read_matrix_market(const communicator& comm, const std::string& path,
                                                                      const distributed_options& options,
                                                                      const row_partition* partition) {
  constexpr const char* op = "distributed_csr_operator::read_matrix_market";
  const MPI_Comm c = comm.get();
  csr_matrix global;
  std::int64_t n = 0;
  detail::agreed(comm.reductions(), [&] {
    if (comm.rank() != 0) return;
    const coo_matrix coo = mixprec::read_matrix_market(path);
    if (coo.rows != coo.cols)
      MIXPREC_MPI_THROW(shape_mismatch, op, path, " holds a ", coo.rows, " x ", coo.cols, " matrix, not a square one");
    global = csr_matrix::from_coo(coo, dtype::f64, index_type::i64);
    n = global.rows();
  });
  MPI_Bcast(&n, 1, MPI_INT64_T, 0, c);
  const row_partition p = partition ? *partition : row_partition::even(n, comm.size());
  detail::agreed(comm.reductions(), [&] { check_partition(op, p, comm.size(), n); });

  csr_matrix mine;
  if (comm.rank() == 0) {
    for (int k = 1; k < comm.size(); ++k) {
      const csr_matrix part = rows_of(global, p.offsets[std::size_t(k)], p.rows_of(k));
      std::int64_t header[2] = {part.rows(), part.nnz()};
      MPI_Send(header, 2, MPI_INT64_T, k, 1, c);
      MPI_Send(part.row_ptr_data(), int(part.rows() + 1), MPI_INT64_T, k, 2, c);
      MPI_Send(part.col_idx_data(), int(part.nnz()), MPI_INT64_T, k, 3, c);
      MPI_Send(part.values().data(), int(part.nnz()), MPI_DOUBLE, k, 4, c);
    }
    mine = rows_of(global, 0, p.rows_of(0));
  } else {
    std::int64_t header[2];
    MPI_Recv(header, 2, MPI_INT64_T, 0, 1, c, MPI_STATUS_IGNORE);
    mine = csr_matrix(header[0], n, header[1], dtype::f64, index_type::i64);
    MPI_Recv(mine.row_ptr_data(), int(header[0] + 1), MPI_INT64_T, 0, 2, c, MPI_STATUS_IGNORE);
    MPI_Recv(mine.col_idx_data(), int(header[1]), MPI_INT64_T, 0, 3, c, MPI_STATUS_IGNORE);
    MPI_Recv(mine.values().data(), int(header[1]), MPI_DOUBLE, 0, 4, c, MPI_STATUS_IGNORE);
  }
  return distributed_csr_operator(comm, mine, options);
}

}  // namespace mixprec
