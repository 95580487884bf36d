#!/usr/bin/env bash
# Builds mixprec on oneTBB instead of OpenMP (-DMIXPREC_THREADING=TBB) and runs the suite,
# including the check that no kernel folder holds a copy of code the core also has (oneTBB's
# inline functions once did). Installs what it needs first. Build directory: build-tbb/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/lib/ensure-packages.sh
ensure_packages libtbb-dev
build="${BUILD_DIR:-build-tbb}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_THREADING=TBB -DMIXPREC_BUILD_BENCH=OFF \
  -DMIXPREC_BUILD_EXAMPLES=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_CUDA=OFF -DMIXPREC_MPI=OFF > /dev/null
cmake --build "$build" -j2
cd "$build"
ctest -j2 --output-on-failure
