#!/usr/bin/env bash
# The main job: builds mixprec, says what this machine offers (mixprec-info), runs the
# examples, then compares every precision the library offers in speed and in error
# (mixprec-compare's quick suite: conversions, BLAS-1, stencils, SpMV, solvers and policies,
# GEMM, quantization, AI layers, training) and ends with the summary table and where the
# report (HTML with charts, Markdown, JSON) is. Installs missing dependencies first.
# Usage: scripts/showcase.sh [--bench-tables]   (adds the raw Google Benchmark tables with
# their peers: OpenBLAS, oneDNN, Eigen). Build directory: build/; report: build/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  [[ "$arg" == --bench-tables ]] || { echo "showcase.sh: unknown option '$arg' (--bench-tables)" >&2; exit 2; }
done
scripts/install-deps.sh --bench
build="${BUILD_DIR:-build}"
# The benchmarks explicitly: a build directory configured by scripts/test.sh has them off.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=ON
cmake --build "$build" -j2
exec scripts/lib/showcase-run.sh "$build" "$@"
