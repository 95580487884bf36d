/* PETSc on the problem mixprec's distributed benchmarks run (bench/mpi/bench_mpi.cpp): the
 * 7-point Poisson matrix on edge^3, rows split evenly (PETSc's default layout, which is
 * mixprec's even partition), MatMult and unpreconditioned KSPCG to a relative residual of
 * 1e-10. Each timing runs from a barrier to the slowest process's end; process 0 prints one
 * line per measurement. Built and run by scripts/bench-mpi.sh. */
#include <petscksp.h>

static double timed_max(double seconds) {
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
  return seconds;
}

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscInt n = 128, lo, hi;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-edge", &n, NULL));
  const PetscInt N = n * n * n;
  int size, rank;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);

  Mat A;
  PetscCall(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, N, N, 7, NULL, 3, NULL, &A));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  for (PetscInt r = lo; r < hi; ++r) {
    const PetscInt i = r % n, j = (r / n) % n, k = r / (n * n);
    PetscInt cols[7], m = 0;
    PetscScalar vals[7];
    if (k > 0) cols[m] = r - n * n, vals[m++] = -1;
    if (j > 0) cols[m] = r - n, vals[m++] = -1;
    if (i > 0) cols[m] = r - 1, vals[m++] = -1;
    cols[m] = r, vals[m++] = 6;
    if (i < n - 1) cols[m] = r + 1, vals[m++] = -1;
    if (j < n - 1) cols[m] = r + n, vals[m++] = -1;
    if (k < n - 1) cols[m] = r + n * n, vals[m++] = -1;
    PetscCall(MatSetValues(A, 1, &r, m, cols, vals, INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));

  Vec x, b, y;
  PetscCall(MatCreateVecs(A, &x, &b));
  PetscCall(VecDuplicate(b, &y));
  PetscCall(VecSet(x, 1.0));
  PetscCall(MatMult(A, x, b)); /* b = A * ones, as mixprec's benchmark */

  const int reps = 50;
  double best = 1e30;
  for (int t = 0; t < reps; ++t) {
    MPI_Barrier(PETSC_COMM_WORLD);
    const double t0 = MPI_Wtime();
    PetscCall(MatMult(A, x, y));
    const double s = timed_max(MPI_Wtime() - t0);
    best = s < best ? s : best;
  }
  double mean = 0;
  MPI_Barrier(PETSC_COMM_WORLD);
  {
    const double t0 = MPI_Wtime();
    for (int t = 0; t < reps; ++t) PetscCall(MatMult(A, x, y));
    mean = timed_max(MPI_Wtime() - t0) / reps;
  }
  if (rank == 0)
    printf("petsc/matmult/f64/poisson7_%d/np%d  mean_ms %.4f  best_ms %.4f\n", (int)n, size, mean * 1e3, best * 1e3);

  KSP ksp;
  PC pc;
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCNONE));
  PetscCall(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PetscCall(KSPSetTolerances(ksp, 1e-10, 1e-300, PETSC_DEFAULT, 5000));
  PetscCall(KSPSetFromOptions(ksp));
  for (int t = 0; t < 2; ++t) {
    PetscCall(VecSet(x, 0.0));
    MPI_Barrier(PETSC_COMM_WORLD);
    const double t0 = MPI_Wtime();
    PetscCall(KSPSolve(ksp, b, x));
    const double s = timed_max(MPI_Wtime() - t0);
    PetscInt its;
    PetscCall(KSPGetIterationNumber(ksp, &its));
    if (rank == 0) printf("petsc/kspcg/f64/poisson7_%d/np%d  time_ms %.2f  iterations %d\n", (int)n, size, s * 1e3, (int)its);
  }
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscCall(VecDestroy(&y));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscFinalize());
  return 0;
}
