// mixprec/distributed.hpp — sparse matrices and Krylov solvers across MPI processes.
//
//   MPI_Init(&argc, &argv);                          // the caller's: mixprec never calls it
//   {
//     mixprec::communicator comm(MPI_COMM_WORLD);     // duplicates the caller's communicator
//     // This process's rows of the global matrix, with global column indices:
//     mixprec::csr_matrix mine = ...;                 // local_rows x global_cols
//     mixprec::distributed_csr_operator A(comm, std::move(mine));
//     mixprec::array<double> b(A.rows()), x(A.rows());   // this process's parts of b and x
//     auto report = mixprec::cg(A, b, x, options);   // every solver: its sums run over comm
//   }                                                // mixprec objects go before MPI_Finalize
//   MPI_Finalize();
//
// Rows are partitioned in contiguous blocks in process order: process p owns global rows
// [first_row(p), first_row(p + 1)), and its parts of vectors are those rows. The columns a
// process needs from others (its halo) are found once, when the operator is built; each
// apply() sends and receives only those values, point to point, and multiplies the rows
// that need none of them while the messages travel. Every operation here is collective:
// all processes of the communicator call it, in the same order.
//
// Halo values can travel in f32 or bf16 (distributed_options::halo): half or a quarter of
// the bytes, at the price of rounding the neighbours' x entries. An FP64 answer then comes
// from refinement (mixprec/refinement.hpp) with an operator whose own halos are f64 and
// whose inner copies exchange in the lower precision: the refinement policy's halo
// (precision_policy::halo), or the operator's inner_halo (the narrower of the two).
//
// Requires the library built with MPI (MIXPREC_MPI) and linking mixprec::mpi.
#pragma once

// The C API of MPI only: its deprecated C++ bindings would need a library of their own.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixprec/grid.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/reduction.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/stencil.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

namespace detail {
class communicator_state;
struct distributed_rows;
struct halo_scratch;
struct cartesian_state;
}  // namespace detail

class distributed_stencil_operator;

/// What a communicator has sent, for benchmarks and for checking that low-precision halos
/// do save what they promise.
struct communication_counters {
  std::int64_t reductions = 0;     // sums (blocking and begun), norms and agreements
  std::int64_t halo_messages = 0;  // point-to-point messages sent
  std::int64_t halo_bytes = 0;     // their payload
};

/// A duplicate of the caller's communicator (so that mixprec's messages never meet the
/// caller's), shared by every object made from it and freed with the last of them. Copies
/// are cheap and refer to the same duplicate.
class communicator {
 public:
  explicit communicator(MPI_Comm comm);

  int rank() const;
  int size() const;
  MPI_Comm get() const;
  /// Where solvers sum: the reductions of distributed operators made from this communicator.
  const reduction_domain& reductions() const;
  communication_counters counters() const;
  void reset_counters() const;

 private:
  friend class distributed_csr_operator;
  std::shared_ptr<detail::communicator_state> state_;
};

/// x'y and ||x||_2 of vectors distributed as the operators' rows are (this process's parts
/// given), accumulated in f64 and summed over the processes.
double dot(const communicator& comm, const_view x, const_view y);
double nrm2(const communicator& comm, const_view x);

/// Contiguous blocks of rows, one per process in rank order.
struct row_partition {
  std::vector<std::int64_t> offsets;  // size() + 1 entries; process p owns [offsets[p], offsets[p+1])

  /// rows split as evenly as whole rows allow (the first rows % processes blocks one longer).
  static row_partition even(std::int64_t rows, int processes);
  int processes() const { return int(offsets.size()) - 1; }
  std::int64_t rows_of(int p) const { return offsets[std::size_t(p) + 1] - offsets[std::size_t(p)]; }
};

struct distributed_options {
  /// Accumulation of the local SpMV (as csr_operator's).
  accumulation acc = accumulation::standard;
  /// The precision halo values travel in: f64, f32 or bf16 (never wider than the vectors).
  dtype halo = dtype::f64;
  /// The halo precision of the copies stored_as() makes (what refinement's inner solves
  /// apply); f64 keeps them exact.
  dtype inner_halo = dtype::f64;
  /// Multiply the rows that need no halo values while the halo travels (off: exchange first,
  /// then one SpMV over all rows; the same results either way).
  bool overlap = true;
};

/// A row-distributed CSR matrix as a linear_operator on this process's parts of vectors:
/// rows() = cols() = this process's rows. Built collectively; a process whose input does not
/// fit the others' (a column count other than the global row count, an index out of range)
/// makes every process throw, naming it.
class distributed_csr_operator : public linear_operator {
 public:
  /// `local_rows`: this process's rows (any value dtype, i32 or i64 indices), with global
  /// column indices and cols() = the global size; the partition is the processes' row
  /// counts in rank order. Host (CPU) matrices only.
  distributed_csr_operator(const communicator& comm, const csr_matrix& local_rows,
                           const distributed_options& options = {});
  /// Every process holds the whole matrix (small problems, tests) and keeps its block of
  /// `partition` (even when empty).
  static distributed_csr_operator from_global(const communicator& comm, const csr_matrix& global,
                                              const row_partition& partition, const distributed_options& options = {});
  /// Process 0 reads a Matrix Market file and sends each process its rows of an even
  /// partition (or of `partition`); the others never open the file. Errors (a missing file,
  /// a malformed one) are thrown on every process.
  static distributed_csr_operator read_matrix_market(const communicator& comm, const std::string& path,
                                                     const distributed_options& options = {},
                                                     const row_partition* partition = nullptr);

  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  dtype storage_type() const override;
  std::string describe() const override;
  void diagonal(double* d) const override;
  /// The same distributed matrix with values in `values`, exchanging halos in inner_halo.
  std::unique_ptr<linear_operator> stored_as(dtype values) const override;
  /// stored_as, its halo the narrower of inner_halo and `halo`.
  std::unique_ptr<linear_operator> inner_copy(dtype values, dtype halo) const override;
  const reduction_domain* reductions() const override;
  /// options.halo; f64 on one process, where nothing travels.
  dtype halo_type() const override { return comm_.size() > 1 ? options_.halo : dtype::f64; }

  const communicator& comm() const { return comm_; }
  const row_partition& partition() const;
  std::int64_t global_rows() const;
  std::int64_t first_row() const;
  /// The square block of this process's rows and columns (columns owned elsewhere left
  /// out), local indices: what rank-local preconditioners (block Jacobi, ILU(0), SGS) take.
  csr_matrix local_block() const;
  /// Neighbours, halo size and the rows multiplied while the halo travels.
  struct halo_summary {
    int neighbours = 0;
    std::int64_t receive_values = 0, send_values = 0;
    std::int64_t interior_rows = 0, boundary_rows = 0;
    dtype wire = dtype::f64;
  };
  halo_summary halo() const;

 private:
  distributed_csr_operator(const communicator& comm, std::shared_ptr<const detail::distributed_rows> rows,
                           const distributed_options& options);
  communicator comm_;
  std::shared_ptr<const detail::distributed_rows> rows_;
  std::shared_ptr<detail::halo_scratch> scratch_;  // message buffers of this operator's applies
  distributed_options options_;
};

/// A structured grid decomposed over the processes in blocks (MPI_Dims_create and
/// MPI_Cart_create): each process owns a block of whole points, blocks along an axis
/// differing by at most one point, and keeps it in a local grid with a halo. Axes whose
/// boundary conditions are periodic wrap around the processes too.
///
///   mixprec::cartesian_grid g(comm, {512, 512, 512}, bc);     // 3D, split over all processes
///   mixprec::grid u(mixprec::dtype::f64, g.local_extent());   // this process's block
///   g.exchange_halo(u);                     // neighbours' faces, edges, corners; bc outside
///   mixprec::stencil_apply(lap, 1.0, u, 0.0, v);              // any stencil op, locally
class cartesian_grid {
 public:
  /// `processes` per axis (0: let MPI_Dims_create choose); their product must be the
  /// communicator's size and no process may get fewer points along an axis than 1.
  /// Blocks start at multiples of `align` along every axis (each block but the last along
  /// an axis a whole number of `align` points; the split is even in those units): with
  /// align = 2^L, distributed_multigrid keeps L levels across the processes before it
  /// gathers. Every process must pass the same align.
  cartesian_grid(const communicator& comm, grid_extent global, const boundary_conditions& bc,
                 std::array<int, 3> processes = {0, 0, 0}, std::int64_t align = 1);

  const grid_extent& global_extent() const;
  const grid_extent& local_extent() const;
  /// Global index of this process's local point (0, 0, 0).
  std::array<std::int64_t, 3> first() const;
  std::array<int, 3> processes() const;
  std::array<int, 3> coords() const;
  const boundary_conditions& boundaries() const;
  const communicator& comm() const;

  /// Fills u's halo (u: this process's block, any halo depth up to the block's extent):
  /// faces from the neighbours, axis by axis (x, then y over x's halo too, then z over
  /// both), so that edges and corners come along as fill_halo makes them; the boundary
  /// conditions on the global grid's faces. Values travel in `wire` (the grid's dtype, or
  /// f32/bf16 for f64 and f32 grids). On one process it equals fill_halo bit for bit.
  void exchange_halo(grid& u, dtype wire) const;
  void exchange_halo(grid& u) const { exchange_halo(u, u.type()); }

 private:
  friend class distributed_stencil_operator;
  friend grid& jacobi_sweeps(const cartesian_grid&, const stencil&, grid&, const grid*, grid&, int, double);
  friend grid& heat_steps(const cartesian_grid&, grid&, grid&, double, int);
  friend std::unique_ptr<multigrid_preconditioner> distributed_multigrid(const distributed_stencil_operator&,
                                                                         multigrid_options);
  std::shared_ptr<const detail::cartesian_state> state_;
};

/// What jacobi_sweeps and heat_steps (mixprec/stencil.hpp) do on one process, across the
/// processes of `g`, equal to them bit for bit: each sweep exchanges the halo of its input
/// and sweeps the block, and the result's halo is exchanged at the end (no temporal blocking
/// across processes). Returns the grid that holds the result, u or scratch.
grid& jacobi_sweeps(const cartesian_grid& g, const stencil& s, grid& u, const grid* f, grid& scratch, int sweeps,
                    double omega = 1.0);
grid& heat_steps(const cartesian_grid& g, grid& u, grid& scratch, double r, int steps);

/// A stencil over a decomposed grid as an operator on this process's interior points
/// (x fastest): stencil_operator's distributed twin; equal to it bit for bit on each block.
class distributed_stencil_operator : public linear_operator {
 public:
  /// Halo values travel in `halo` (f64, f32 or bf16; never wider than the vectors), and
  /// in `inner_halo` for the copy stored_as() makes (what refinement's inner solves apply).
  distributed_stencil_operator(const cartesian_grid& g, stencil s, dtype halo = dtype::f64,
                               dtype inner_halo = dtype::f64);

  void apply(double alpha, const_view x, double beta, view y) const override;
  using linear_operator::apply;
  std::string describe() const override;
  void diagonal(double* d) const override;
  /// The same operator exchanging halos in inner_halo (a stencil has no stored values to
  /// round: `values` changes nothing else).
  std::unique_ptr<linear_operator> stored_as(dtype values) const override;
  /// stored_as, its halo the narrower of inner_halo and `halo`.
  std::unique_ptr<linear_operator> inner_copy(dtype values, dtype halo) const override;
  const reduction_domain* reductions() const override;
  /// The halo's dtype; f64 on one process, where nothing travels.
  dtype halo_type() const override;
  const cartesian_grid& decomposition() const { return grid_; }
  const stencil& shape() const { return stencil_; }

 private:
  cartesian_grid grid_;
  stencil stencil_;
  dtype halo_, inner_halo_;
  std::shared_ptr<grid> scratch_;  // x with its halo
};

/// The multigrid V-cycle (mixprec/multigrid.hpp) over a decomposed grid, for an operator
/// with zero Dirichlet faces: the same cycle as on one process, point for point, while the
/// levels are the same. Every block must start at an even index (the smoother's colors are
/// local parities; cartesian_grid's align makes them so for any extent). Levels go on
/// across the processes while every block halves into one that does too; from the first
/// level where one cannot, the level is gathered onto process 0, which runs the rest of the
/// cycle on the whole grid and scatters the correction back (the others wait: the coarse
/// levels are small).
std::unique_ptr<multigrid_preconditioner> distributed_multigrid(const distributed_stencil_operator& a,
                                                                multigrid_options options = {});

}  // namespace mixprec

MIXPREC_PUBLIC_END
