#!/usr/bin/env bash
# Builds mixprec in a configuration other than the default one and runs the suite, including
# the checks that no kernel folder holds a copy of code the core or another folder has too.
# Installs what it needs first.
# Usage: scripts/test-configuration.sh tbb|clang
#   tbb:   oneTBB instead of OpenMP (-DMIXPREC_THREADING=TBB); build-tbb/.
#   clang: clang's Release build instead of GCC's (the sanitizer builds are clang at -O0/-O1);
#          build-clang/.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: scripts/test-configuration.sh tbb|clang}"
scripts/install-deps.sh
source scripts/lib/ensure-packages.sh
options=(-DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_CUDA=OFF -DMIXPREC_MPI=OFF)
case "$mode" in
  tbb)
    ensure_packages libtbb-dev
    build="${BUILD_DIR:-build-tbb}"
    options+=(-DMIXPREC_THREADING=TBB -DMIXPREC_BUILD_EXAMPLES=OFF)
    ;;
  clang)
    ensure_packages clang libomp-14-dev
    build="${BUILD_DIR:-build-clang}"
    export CC=clang CXX=clang++
    ;;
  *)
    echo "mode must be tbb or clang" >&2
    exit 2
    ;;
esac
cmake -S . -B "$build" "${options[@]}" > /dev/null
cmake --build "$build" -j2
cd "$build"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" ctest -j2 --output-on-failure
