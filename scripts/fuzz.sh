#!/usr/bin/env bash
# Fuzzes the parsers and validators with libFuzzer, the whole library built by clang under
# AddressSanitizer and UndefinedBehaviorSanitizer: the Matrix Market reader (+ CSR + SpMV),
# caller-built CSR arrays (+ DIA), GGUF block bytes, and the C API's entry points.
# Usage: scripts/fuzz.sh [seconds per harness, default 600] [harness ...]
#   (harnesses: matrix_market csr_dia block_quant capi; build: build-fuzz/, override BUILD_DIR)
#   FUZZ_RUNS=N: stop each harness after N executions instead (the seconds still cap it):
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 36000 is a campaign of 10^7 executions per harness.
#   FUZZ_JOBS=N: N harnesses at once (default 1; one core each).
#   Do not pause a running fuzzer (kill -STOP) to free a core: -timeout counts wall time, so
#   an input that was running when it stopped is reported as a hang once it resumes.
# Each run starts from the checked-in inputs (tests/data/matrix_market, tests/data/fuzz/<h>)
# and prints its executions. Any crash, timeout, leak or sanitizer report stops it with a
# non-zero status and leaves the input as build-fuzz/crash-* (or timeout-*, oom-*): once
# fixed, add it to tests/data/fuzz/<harness>/, where ctest replays it (fuzz_replay_*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(matrix_market csr_dia block_quant capi)
build="${BUILD_DIR:-build-fuzz}"
packages=(clang libclang-rt-14-dev cmake libomp-14-dev)
source scripts/lib/ensure-packages.sh
ensure_packages "${packages[@]}"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# (scripts/sanitize.sh ci has built the harnesses in its own sanitizer build already.)
[[ -n "${FUZZ_SKIP_BUILD:-}" ]] || CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_SHARED_LIBS=OFF \
  -DMIXPREC_BUILD_FUZZ=ON -DMIXPREC_BUILD_TESTS=OFF -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF \
  -DMIXPREC_CUDA=OFF -DMIXPREC_PYTHON=OFF -DCMAKE_CXX_FLAGS="$sanitize -fsanitize=fuzzer-no-link" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" > /dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
[[ -n "${FUZZ_SKIP_BUILD:-}" ]] || cmake --build "$build" -j2 --target "${targets[@]}"
cd "$build"
# Runs one harness from its inputs; any finding prints the log's end and fails.
fuzz_one() {
  local h="$1" corpus="corpus_$1" runs took
  mkdir -p "$corpus"
  [[ "$h" == matrix_market ]] && cp ../tests/data/matrix_market/*.mtx "$corpus/"
  [[ -d "../tests/data/fuzz/$h" ]] && cp ../tests/data/fuzz/"$h"/* "$corpus/" 2>/dev/null || true
  # One thread per run: the harnesses check parsers and validators, not the threading runtime.
  OMP_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1 ./fuzz/"fuzz_$h" "$corpus" -max_total_time="$seconds" \
    ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=4096 \
    -print_final_stats=1 2> "fuzz_$h.log" ||
    { tail -40 "fuzz_$h.log"; echo "fuzz_$h: FAILED (input left in $build)"; return 1; }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz_$h.log" | grep -o '[0-9]*$')
  took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "fuzz_$h.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*$' || true)
  echo "fuzz_$h: ${runs:-?} executions in ${took:-$seconds} s, no crash, hang, leak or sanitizer report"
}
# FUZZ_JOBS harnesses at a time (default 1), each on a core of its own.
jobs_max="${FUZZ_JOBS:-1}"
running=()
failed=0
for h in "${harnesses[@]}"; do
  fuzz_one "$h" &
  running+=($!)
  if ((${#running[@]} >= jobs_max)); then
    wait "${running[0]}" || failed=1
    running=("${running[@]:1}")
  fi
done
for pid in "${running[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
