#!/usr/bin/env bash
# Fuzzes the Matrix Market reader, CSR construction and SpMV with libFuzzer, the whole
# library built by clang under AddressSanitizer and UndefinedBehaviorSanitizer.
# Usage: scripts/fuzz.sh [seconds, default 600]   (build: build-fuzz/, override BUILD_DIR)
# Any crash, timeout, leak or sanitizer report stops the run with a non-zero status and
# leaves the input as build-fuzz/crash-* (or timeout-*, oom-*): add it to
# tests/data/matrix_market/ with a test once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
build="${BUILD_DIR:-build-fuzz}"
packages=(clang libclang-rt-14-dev cmake libomp-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_SHARED_LIBS=OFF \
  -DMIXPREC_BUILD_FUZZ=ON -DMIXPREC_BUILD_TESTS=OFF -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF \
  -DMIXPREC_CUDA=OFF -DCMAKE_CXX_FLAGS="$sanitize -fsanitize=fuzzer-no-link" \
  -DCMAKE_EXE_LINKER_FLAGS="$sanitize"
cmake --build "$build" -j2 --target fuzz_matrix_market
# The corpus starts from the checked-in hostile files and grows in the build directory.
corpus="$build/corpus_matrix_market"
mkdir -p "$corpus"
cp tests/data/matrix_market/*.mtx "$corpus/"
cd "$build"
# One thread per run: the harness checks the reader, not the threading runtime.
OMP_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1 ./fuzz/fuzz_matrix_market "corpus_matrix_market" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=4096 \
  -print_final_stats=1
