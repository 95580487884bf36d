#!/usr/bin/env bash
# The distributed benchmarks: mixprec on 1 process x 2 threads and 2 processes x 1 thread,
# PETSc (the peer) on 2 processes, the same Poisson problem in one run. Prints the results
# and keeps them in bench/results/<date>_cpu_mpi.txt.  EDGE=<n> changes the n^3 problem (128).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=ON > /dev/null
cmake --build "$build" -j2 --target mixprec_bench_mpi
mpicc -O2 bench/mpi/petsc_peer.c $(pkg-config --cflags --libs PETSc) -o "$build/bin/petsc_peer"

edge="${EDGE:-128}"
out="bench/results/$(date +%F)_cpu_mpi.txt"
mpi=(mpirun --allow-run-as-root --oversubscribe -x OMPI_MCA_btl_vader_single_copy_mechanism=none)
{
  echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
  echo "## mixprec, 1 process x 2 threads"
  OMP_NUM_THREADS=2 "${mpi[@]}" -x OMP_NUM_THREADS -np 1 --bind-to none "$build/bin/mixprec_bench_mpi" --edge="$edge"
  echo "## mixprec, 2 processes x 1 thread"
  OMP_NUM_THREADS=1 "${mpi[@]}" -x OMP_NUM_THREADS -np 2 --bind-to core "$build/bin/mixprec_bench_mpi" --edge="$edge"
  echo "## PETSc $(pkg-config --modversion PETSc), 2 processes"
  OMP_NUM_THREADS=1 "${mpi[@]}" -x OMP_NUM_THREADS -np 2 --bind-to core "$build/bin/petsc_peer" -edge "$edge"
} 2>&1 | tee "$out"
echo "kept in $out"
