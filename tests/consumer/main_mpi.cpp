// A consumer of the installed distributed layer: links mixprec::mpi and solves a Poisson
// system split over the processes mpirun starts.
#include <mixprec/distributed.hpp>

#include <cstdio>

#include <mixprec/array.hpp>
#include <mixprec/blas1.hpp>
#include <mixprec/solver.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int failed = 0;
  {
    const mixprec::communicator comm(MPI_COMM_WORLD);
    const mixprec::csr_matrix a = mixprec::poisson_3d(12);
    const auto d =
        mixprec::distributed_csr_operator::from_global(comm, a, mixprec::row_partition::even(a.rows(), comm.size()));
    mixprec::array<double> b(d.rows()), x(d.rows());
    mixprec::fill(b, 1.0);
    mixprec::fill(x, 0.0);
    mixprec::solve_options o;
    o.rel_tol = 1e-10;
    const mixprec::solve_report r = mixprec::cg(d, b, x, o);
    failed = r.converged() ? 0 : 1;
    if (comm.rank() == 0) std::printf("distributed consumer on %d processes: %s\n", comm.size(), r.summary().c_str());
  }
  MPI_Finalize();
  return failed;
}
