#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh runs and gathers it into one small folder, for a GPU
# machine that cannot build it (no package registry): the test binary, the libraries, the
# CUDA plugin, mixprec-info, the CUDA benchmarks and the non-system libraries they load.
# Then, on the GPU machine, from the repository root:
#   scripts/gpu-check.sh --prebuilt gpu-bundle [--out DIR]
# Usage: scripts/gpu-bundle.sh [BUNDLE_DIR, default gpu-bundle]   (build dir: build-gpu/)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${1:-gpu-bundle}"
build="${BUILD_DIR:-build-gpu}"
scripts/install-deps.sh --bench
CUDACXX="${CUDACXX:-/usr/local/cuda/bin/nvcc}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DMIXPREC_BUILD_BENCH=ON -DMIXPREC_CUDA=ON
cmake --build "$build" -j2 --target mixprec_tests mixprec_cuda mixprec-info mixprec_bench_cuda
rm -rf "$bundle"
mkdir -p "$bundle/tests" "$bundle/lib" "$bundle/bin" "$bundle/carried-libs"
cp "$build/tests/mixprec_tests" "$bundle/tests/"
cp -P "$build"/lib/libmixprec.so* "$build/lib/libmixprec_cuda.so" "$bundle/lib/"
cp "$build/bin/mixprec-info" "$build/bin/mixprec_bench_cuda" "$bundle/bin/"
grep '^CMAKE_HOME_DIRECTORY:INTERNAL=' "$build/CMakeCache.txt" >"$bundle/CMakeCache.txt"
# Google Benchmark is a shared library on Debian; the CUDA libraries are the machine's own.
for lib in $(ldd "$build/bin/mixprec_bench_cuda" | awk '/libbenchmark/ {print $3}'); do cp -L "$lib" "$bundle/carried-libs/"; done
du -sh "$bundle"
