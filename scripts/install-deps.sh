#!/usr/bin/env bash
# Installs what building mixprec needs on Debian 12, only where something is missing.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds the benchmarks' peer libraries)
set -euo pipefail
# CLI11 and nlohmann-json: mixprec-compare (the main job) and its tests. DLPack: tensor
# exchange. pybind11, NumPy, SciPy and pytest: the Python bindings and their tests. Open MPI:
# the distributed layer and its mpirun tests. QEMU's user-mode emulator: the test that runs
# the library on CPUs without AVX-512 and without AVX2 (scripts/cpu-emulation-check.sh).
packages=(build-essential cmake libgtest-dev libbenchmark-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
          libdlpack-dev pybind11-dev python3-dev python3-numpy python3-scipy python3-pytest libopenmpi-dev
          openmpi-bin qemu-user)
if [[ "${1:-}" == "--bench" ]]; then
  # Debian's oneDNN CMake package requires OpenCL (its GPU runtime), which libdnnl-dev only
  # recommends: without it configuring the benchmarks fails.
  # PETSc: the distributed benchmarks' peer (scripts/bench-mpi.sh).
  packages+=(libopenblas-openmp-dev libdnnl-dev ocl-icd-opencl-dev petsc-dev)
fi
source "$(dirname "$0")/lib/ensure-packages.sh"
ensure_packages "${packages[@]}"
