#!/usr/bin/env bash
# Builds the library and its tests with clang under a sanitizer and runs them.
# Usage: scripts/sanitize.sh address|thread|mpi|ci|ci-thread [ctest -R regex]
#   address: AddressSanitizer + UndefinedBehaviorSanitizer (leaks included), every C/C++
#            test (the Python bindings and the install check, built without the
#            sanitizer, and the checks of the Release objects are left out); build-asan/.
#   thread:  ThreadSanitizer over the threaded kernels and solvers (the suites that run on
#            two threads at one ISA level, and the C API tests), OpenMP from LLVM's libomp
#            with its Archer tool so that TSan understands OpenMP's barriers; build-tsan/.
#   mpi:     the distributed layer's tests (mpirun, 1/2/4 processes) under ASan + UBSan;
#            build-asan-mpi/.
#   ci:      what CI has time for: one clang build under ASan + UBSan with the portable
#            kernels only (the per-ISA ones are checked bit for bit against them by the
#            Release suite), running the C API tests (every family, through the C API),
#            the replayed fuzz inputs and each libFuzzer harness for FUZZ_SECONDS (20);
#            build-ci-sanitize/.
#   ci-thread: what CI has time for under ThreadSanitizer: the portable kernels, the
#            threading tests (Krylov solves on two OpenMP threads, operators shared by
#            concurrent solves) and the C API tests; build-ci-tsan/.
# The other modes build without the distributed layer (MPI): the mpi mode covers it.
# Pass a regex to run another subset of the tests.
# Any report fails the test that caused it (halt_on_error), so ctest's status is the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: scripts/sanitize.sh address|thread|mpi|ci|ci-thread [ctest regex]}"
packages=(clang libclang-rt-14-dev libomp-14-dev cmake libgtest-dev libeigen3-dev)
source scripts/lib/ensure-packages.sh
ensure_packages "${packages[@]}"
case "$mode" in
  address)
    build="${BUILD_DIR:-build-asan}"
    levels="all"
    flags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    regex="${2:-.}"
    # Also left out: the checks of what the Release objects hold (the instrumentation adds a
    # constructor and type information to every object, and keeps inline templates out of
    # line at -O1) and the run under an emulated older CPU (QEMU does not host ASan's shadow).
    exclude="python_bindings|install_and_consume|isa_kernel_objects_|cpu_below_the_build_machine"
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    ;;
  thread)
    build="${BUILD_DIR:-build-tsan}"
    flags="-O1 -g -fsanitize=thread -fno-omit-frame-pointer"
    regex="${2:-tests_kernels|tests_isa_avx512$|capi}"
    exclude="python_bindings|install_and_consume"
    levels="avx512"  # the threaded code is the same at every ISA level: one is enough
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
    export OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so
    ;;
  mpi)
    # The distributed layer and its tests under ASan + UBSan, at 1, 2 and 4 processes.
    # Leak detection is off here: Open MPI unloads its components at MPI_Finalize, so their
    # own allocations end as leaks in unknown modules that no suppression can name.
    build="${BUILD_DIR:-build-asan-mpi}"
    flags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    ensure_packages libopenmpi-dev openmpi-bin
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$flags" \
      -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
      -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF -DMIXPREC_CUDA=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_MPI=ON \
      -DMIXPREC_CPU_KERNEL_LEVELS=none > /dev/null
    cmake --build "$build" -j2 --target mixprec_mpi_tests
    export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    (cd "$build" && ctest --output-on-failure -R "${2:-mpi_np}")
    exit 0
    ;;
  ci)
    build="${BUILD_DIR:-build-ci-sanitize}"
    # -O0: the quickest compile; the sanitizers check the same accesses at any level.
    flags="-O0 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DBUILD_SHARED_LIBS=OFF \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags -fsanitize=fuzzer-no-link" \
      -DCMAKE_EXE_LINKER_FLAGS="$flags" -DMIXPREC_CPU_KERNEL_LEVELS=none -DMIXPREC_BUILD_FUZZ=ON \
      -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF -DMIXPREC_CUDA=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_MPI=OFF > /dev/null
    harnesses=(matrix_market csr_dia block_quant capi)
    targets=(mixprec_capi_c_test mixprec_capi_cpp_test)
    for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done  # (they replay the kept inputs too)
    cmake --build "$build" -j2 --target "${targets[@]}"
    (cd "$build" && OMP_NUM_THREADS=2 ctest -j2 --output-on-failure -R "${2:-capi_c|capi_matches_cpp|fuzz_replay}")
    BUILD_DIR="$build" FUZZ_SKIP_BUILD=1 FUZZ_JOBS="${FUZZ_JOBS:-2}" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
    exit 0
    ;;
  ci-thread)
    build="${BUILD_DIR:-build-ci-tsan}"
    flags="-O1 -g -fsanitize=thread -fno-omit-frame-pointer"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
    export OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DBUILD_SHARED_LIBS=OFF \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
      -DMIXPREC_CPU_KERNEL_LEVELS=none -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF \
      -DMIXPREC_CUDA=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_MPI=OFF > /dev/null
    cmake --build "$build" -j2 --target mixprec_capi_c_test mixprec_capi_cpp_test mixprec_threading_tests
    (cd "$build" && OMP_NUM_THREADS=2 ctest -j2 --output-on-failure -R "${2:-capi_c|capi_matches_cpp|threading}")
    exit 0
    ;;
  *)
    echo "mode must be address, thread, mpi, ci or ci-thread" >&2
    exit 2
    ;;
esac
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
  -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_EXAMPLES=OFF -DMIXPREC_CUDA=OFF -DMIXPREC_PYTHON=OFF -DMIXPREC_MPI=OFF \
  -DMIXPREC_CPU_KERNEL_LEVELS="$levels" > /dev/null
cmake --build "$build" -j"${JOBS:-2}"
cd "$build"
OMP_NUM_THREADS=2 ctest -j2 --output-on-failure -R "$regex" -E "$exclude"
