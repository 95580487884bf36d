#!/usr/bin/env bash
# The main job: builds mixprec, says what this machine offers (mixprec-info), runs the
# first-steps demo, then compares precisions: BLAS-1 against the machine's own STREAM triad,
# stencils against a plain loop, SpMV (CSR and DIA) against Eigen, GEMM against
# OpenBLAS/oneDNN and the measured unit peaks, solvers against Eigen's CG. Installs missing dependencies first. Build directory: build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
build="${BUILD_DIR:-build}"
# The benchmarks explicitly: a build directory configured by scripts/test.sh has them off.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIXPREC_BUILD_BENCH=ON
cmake --build "$build" -j2
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_PROC_BIND="${OMP_PROC_BIND:-close}" OMP_PLACES="${OMP_PLACES:-cores}"
echo "== mixprec-info"
"$build/bin/mixprec-info"
echo
echo "== demo: examples/01_first_steps"
"$build/bin/01_first_steps" cpu 4000000
echo
echo "== the 3D heat equation in f64 and f32 storage: examples/02_heat_equation"
"$build/bin/02_heat_equation" 128 100
echo
echo "== an MLP in f32, bf16 and int8: examples/03_int8_inference"
"$build/bin/03_int8_inference" 32 20
echo
echo "== a llama-style decoder (4 layers, d_model 1024, GQA, vocabulary 8192) with f32, bf16, Q8_0 and Q4_0 weights: examples/05_transformer_decode"
"$build/bin/05_transformer_decode"
echo
echo "== an MLP trained in f32, bf16 (f32 master weights), f16 with and without loss scaling: examples/06_mixed_precision_training"
(cd "$build" && "$build/bin/06_mixed_precision_training")
echo
echo "== 3D Poisson to an FP64 residual of 1e-10: CG, MG-PCG, and mixed precision: examples/04_poisson_solve"
"$build/bin/04_poisson_solve" 128
if [[ -x "$build/bin/mixprec_bench" ]]; then
  echo
  echo "== precision comparison: BLAS-1 at 2^24 and 2^26 elements, as a fraction of the measured triad"
  "$build/bin/mixprec_bench" --benchmark_filter='^(stream|blas1/(dot|axpy))/' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
  echo
  echo "== precision comparison: 7-point Jacobi sweeps on 256^3 in four storage precisions, one sweep and 8 time-blocked ones, plain OpenMP loop as peer; HPCG's 27-point operator on 128^3 in f64 and f32"
  "$build/bin/mixprec_bench" --benchmark_filter='^(stencil/jacobi7(_8sweeps)?|peer/plain_omp_jacobi7|stencil/hpcg27)/' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
  echo
  echo "== precision comparison: SpMV on the 7-point Laplacian 128^3, CSR and DIA storage, values in four precisions, Eigen's CSR SpMV as peer"
  "$build/bin/mixprec_bench" --benchmark_filter='^(spmv/(csr|dia)/.*/poisson7_128|peer/eigen_spmv/f64/poisson7_128)' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
  echo
  echo "== precision comparison: GEMM 2048^3 and 32x4096x4096 (packed weights) in every precision, OpenBLAS and oneDNN as peers"
  "$build/bin/mixprec_bench" --benchmark_filter='^gemm/.*/(2048x2048x2048|32x4096x4096)/' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
  echo
  echo "== transformer layers: softmax, norms, activations against oneDNN's primitives; block-quantized matmul; attention (decode over a 4096-token cache, 2048-token causal prefill against GEMM + softmax + GEMM)"
  "$build/bin/mixprec_bench" --benchmark_filter='^nn/' --benchmark_min_time=0.1 --benchmark_counters_tabular=true
  echo
  echo "== training kernels: norm/softmax/GELU backward against oneDNN's, fused cross-entropy against our unfused ops, AdamW over 10^8 parameters, the linear layer's backward GEMMs against its forward"
  "$build/bin/mixprec_bench" --benchmark_filter='^train/' --benchmark_min_time=0.1 --benchmark_counters_tabular=true
  echo
  echo "== solvers: poisson7_128 to 1e-10 — CG, MG-PCG and mixed-precision policies, Eigen's ConjugateGradient as peer"
  "$build/bin/mixprec_bench" --benchmark_filter='^(solve/|peer/eigen_cg/)' --benchmark_counters_tabular=true
fi
