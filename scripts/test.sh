#!/usr/bin/env bash
# Builds mixprec with its tests and runs the whole suite (ctest). Installs missing
# dependencies first. Build directory: build/ (override with BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=OFF
cmake --build "$build" -j2
cd "$build"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" ctest -j2 --output-on-failure
