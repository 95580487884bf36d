#!/usr/bin/env bash
# Small solves against SciPy on one thread: builds mixprec_bench, runs its
# solve/*/small_* benchmarks (writing their matrices), then SciPy on the same matrices.
# Usage: scripts/compare_small_solves.sh [output prefix, default bench/results/small_solves]
# Writes <prefix>.json (mixprec's benchmark output) and <prefix>.txt (the comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-bench/results/small_solves}"
scripts/install-deps.sh --bench
# Debian's python3 (where apt puts SciPy), not whatever python3 comes first on PATH.
python=/usr/bin/python3
if ! "$python" -c "import scipy" 2>/dev/null; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-scipy
fi
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target mixprec_bench
problems=$(mktemp -d)
trap 'rm -rf "$problems"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_PROC_BIND=close OMP_PLACES=cores
MIXPREC_SMALL_PROBLEM_DIR="$problems" "$build/bin/mixprec_bench" --benchmark_filter='^solve/.*/small_' \
  --benchmark_out="$prefix.json" --benchmark_out_format=json
"$python" scripts/scipy_small_solves.py "$problems" "$prefix.json" | tee "$prefix.txt"
