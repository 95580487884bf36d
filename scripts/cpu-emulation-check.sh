#!/usr/bin/env bash
# Runs the library on CPUs older than the one that built it, under QEMU's user-mode
# emulation, which executes no AVX-512 at all: a Haswell (AVX2, FMA, F16C) and a Nehalem
# (baseline x86-64). Each must load the library, detect its own ISA, and pass a smoke subset
# of the tests on the kernels dispatch picks for it. An instruction the emulated CPU lacks,
# run anywhere (a kernel folder's static initialiser at load, dispatch choosing a kernel the
# CPU cannot run), ends the run with SIGILL.
# Usage: scripts/cpu-emulation-check.sh <mixprec_tests> <mixprec-info>
# Exit 77 (ctest's skip) where qemu-x86_64 is not installed.
set -euo pipefail
tests="$1"
info="$2"
if ! command -v qemu-x86_64 > /dev/null; then
  echo "qemu-x86_64 not found (Debian: qemu-user); skipped"
  exit 77
fi
# Small tests over each family that has ISA-folder kernels: the parametrised suites run
# every kernel the emulated CPU can run.
smoke='context.*:nn.*:kernels/nn_*:train_reference.*:train_optimizer.*:attention.*:block_quant.*'
smoke+=':gemm_blas_style.*:dense_getrf.*'
# One emulated CPU: detection, then the smoke tests; prints ok or FAIL and returns 0 or 1.
# Each emulation runs one OpenMP thread (the smoke tests check the ISA's kernels, not the
# threading), so the two run side by side on two cores.
emulate() {
  local cpu="${1%%:*}" want="${1##*:}" detected
  # QEMU warns about host-only CPUID bits it does not model; they are not ours.
  detected=$(qemu-x86_64 -cpu "$cpu" "$info" 2> /dev/null | sed -n 's/^isa detected: *//p') || true
  if [[ "$detected" != "$want" ]]; then
    echo "FAIL: on an emulated $cpu mixprec-info said isa '$detected' (empty: it crashed), expected '$want'"
    return 1
  fi
  if OMP_NUM_THREADS=1 qemu-x86_64 -cpu "$cpu" "$tests" --gtest_filter="$smoke" --gtest_brief=1 2> /dev/null; then
    echo "ok: $cpu ($want)"
  else
    echo "FAIL: the smoke tests on an emulated $cpu ($want) exited with $?"
    return 1
  fi
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
emulate Haswell:avx2 > "$log" 2>&1 &
haswell=$!
status=0
emulate Nehalem:generic || status=1
wait "$haswell" || status=1
cat "$log"
exit $status
