#!/usr/bin/env bash
# Small solves against SciPy on one thread: builds mixprec_bench, runs each of its
# solve/*/small_* benchmarks (writing their matrices) and SciPy on the same matrix right
# after it, ROUNDS times (default 3).
# Usage: [ROUNDS=n] scripts/compare_small_solves.sh [output prefix, default bench/results/small_solves]
# Writes <prefix>.json (mixprec's benchmark runs, every round) and <prefix>.txt (every
# round's comparison, then the ratios' median and range per benchmark).
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
# The machine's speed drifts by tens of percent over seconds: each benchmark is followed at
# once by SciPy on the same system, and the whole list is run ROUNDS times, so that every
# ratio compares two runs a second apart and the summary shows the spread of the ratios.
rounds="${ROUNDS:-3}"
names=$("$build/bin/mixprec_bench" --benchmark_list_tests --benchmark_filter='^solve/.*/small_')
runs=()
for round in $(seq "$rounds"); do
  i=0
  for name in $names; do
    i=$((i + 1))
    out="$problems/round${round}_$i.json"
    MIXPREC_SMALL_PROBLEM_DIR="$problems" "$build/bin/mixprec_bench" --benchmark_filter="^${name}\$" \
      --benchmark_out="$out" --benchmark_out_format=json >/dev/null
    "$python" scripts/scipy_small_solves.py "$problems" "$out" >>"$problems/rounds.txt"
    runs+=("$out")
  done
done
"$python" scripts/scipy_small_solves.py --summary "$problems/rounds.txt" "$prefix.json" "${runs[@]}" | tee "$prefix.txt"
