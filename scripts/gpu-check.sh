#!/usr/bin/env bash
# Verifies the CUDA backend on the machine it runs on, in one command: builds (or takes a
# build made elsewhere), says which device and plugin it found, then, most telling first (a
# lent GPU's time may run out part-way):
#   1. the tests that run CUDA kernels (cuda_backend, every suite's CUDA parameters, the
#      composite ops run on every context);
#   2. the CUDA benchmarks against cudaMemcpy, cuBLAS and cuSPARSE, and their targets;
#   3. the rest of the test suite;
#   4. the CUDA tests under compute-sanitizer's memcheck, when it is installed.
# It writes
#   bench/results/<date>_cuda_<device>.txt    the log: device, tests, targets, sanitizer
#   bench/results/<date>_cuda_<device>.json   Google Benchmark's JSON
# Without a usable device it says why and exits 2, having written nothing.
#
# Usage: scripts/gpu-check.sh [--prebuilt BUILD_DIR] [--out DIR]
#   --prebuilt  use BUILD_DIR as built (Release, benchmarks on, CUDA plugin built) instead of
#               installing dependencies and building: for GPU machines that cannot fetch
#               packages, with the build carried there (it needs the same x86-64 ABI).
#   --out       also copy the result files to DIR, after every step (so that a run stopped
#               by a time limit still leaves what it measured).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${BUILD_DIR:-build}"
prebuilt=0
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --prebuilt) build="$2"; prebuilt=1; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 64 ;;
  esac
done

if [[ $prebuilt == 0 ]]; then
  scripts/install-deps.sh --bench
  CUDACXX="${CUDACXX:-/usr/local/cuda/bin/nvcc}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMIXPREC_BUILD_BENCH=ON -DMIXPREC_CUDA=ON
  cmake --build "$build" -j"$(nproc)"
fi
for f in "$build/tests/mixprec_tests" "$build/lib/libmixprec_cuda.so" "$build/bin/mixprec_bench_cuda"; do
  [[ -e "$f" ]] || { echo "gpu-check: $f is missing: build with -DMIXPREC_CUDA=ON -DMIXPREC_BUILD_BENCH=ON" >&2; exit 1; }
done
build=$(cd "$build" && pwd)
export MIXPREC_CUDA_PLUGIN="$build/lib/libmixprec_cuda.so"
# A carried build: its libraries beside it, and its test data where the build expects it.
export LD_LIBRARY_PATH="$build/lib:$build/carried-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
if [[ -n "$source_dir" && ! -e "$source_dir/tests/data" ]]; then
  mkdir -p "$source_dir" && ln -sfn "$root/tests" "$source_dir/tests"
fi

if ! "$build/bin/mixprec-info" --cuda-check >/dev/null 2>&1; then
  echo "gpu-check: no usable CUDA device:"
  "$build/bin/mixprec-info" --cuda-check || true
  exit 2
fi
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
[[ -n "$device" ]] || device=$("$build/bin/mixprec-info" --cuda-check)
slug=$(echo "$device" | tr 'A-Z' 'a-z' | sed -E 's/nvidia//; s/[^a-z0-9]+/-/g; s/^-+|-+$//g')
date_tag=$(date -u +%Y-%m-%d)
results="bench/results/${date_tag}_cuda_${slug}"
log="$results.txt"
mkdir -p bench/results
: >"$log"
say() { echo "$@" | tee -a "$log"; }
# The results so far to --out's DIR.
keep() {
  [[ -n "$out" ]] || return 0
  mkdir -p "$out"
  cp "$log" "$out/"
  [[ ! -e "$results.json" ]] || cp "$results.json" "$out/"
}
cuda_tests='cuda_backend.*:*_cuda*:*_cusparse*:*_cublas*:train_attention.*'

say "== device: $device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log" || true
"$build/bin/mixprec-info" 2>&1 | tee -a "$log"

keep

say ""
say "== tests 1/2: those that run CUDA kernels"
status=0
say "CUDA kernels among the parameters: $(OMP_NUM_THREADS=4 "$build/tests/mixprec_tests" --gtest_list_tests | grep -c '_cuda\|_cusparse\|_cublas' || true)"
OMP_NUM_THREADS=4 "$build/tests/mixprec_tests" --gtest_brief=1 --gtest_filter="$cuda_tests" 2>&1 | tee -a "$log" || status=1
keep

say ""
say "== benchmarks (same run: cudaMemcpy, cuBLAS, cuSPARSE; CG on 2 CPU threads of this machine)"
OMP_NUM_THREADS=2 "$build/bin/mixprec_bench_cuda" --benchmark_out="$results.json" --benchmark_out_format=json \
  2>&1 | tee -a "$log" || status=1
python3 scripts/cuda_targets.py "$results.json" 2>&1 | tee -a "$log" || status=1
keep

say ""
say "== tests 2/2: the rest of the suite"
OMP_NUM_THREADS=4 "$build/tests/mixprec_tests" --gtest_brief=1 --gtest_filter="-$cuda_tests" 2>&1 | tee -a "$log" || status=1
keep

if command -v compute-sanitizer >/dev/null; then
  say ""
  say "== compute-sanitizer memcheck: the CUDA tests (no block cache, so every allocation is seen)"
  MIXPREC_CUDA_CACHE=0 compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$build/tests/mixprec_tests" --gtest_brief=1 --gtest_filter="$cuda_tests" 2>&1 | tail -40 | tee -a "$log" || status=1
fi

say ""
say "gpu-check: results in $log and $results.json (status $status)"
keep
exit $status
