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
tables=0
[[ "${1:-}" == "--bench-tables" ]] && tables=1
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
mkdir -p "$build/compare"
"$build/bin/mixprec-compare" plot "$build/training_curves.csv" --out "$build/compare/training_curves.svg" --log-y \
  --title "training loss: f32, bf16, f16 with and without loss scaling"
echo
echo "== a dense system to FP64 accuracy with the LU in f64, f32 and bf16 (HPL-MxP's algorithm): examples/07_dense_mixed_solve"
"$build/bin/07_dense_mixed_solve"
echo
echo "== 3D Poisson to an FP64 residual of 1e-10: CG, MG-PCG, and mixed precision: examples/04_poisson_solve"
"$build/bin/04_poisson_solve" 128
if ((tables)) && [[ -x "$build/bin/mixprec_bench" ]]; then
  echo
  echo "== raw benchmark tables with peers (OpenBLAS, oneDNN, Eigen, a plain OpenMP loop)"
  "$build/bin/mixprec_bench" --benchmark_filter='^(stream|blas1/(dot|axpy))/|^(stencil/jacobi7(_8sweeps)?|peer/plain_omp_jacobi7)/|^(spmv/(csr|dia)/.*/poisson7_128|peer/eigen_spmv/f64/poisson7_128)|^gemm/.*/(2048x2048x2048|32x4096x4096)/|^nn/|^train/|^(solve/|peer/eigen_cg/)' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
fi
echo
echo "== precision comparison: mixprec-compare --suite quick (speed, error against f64 and the documented bound, per case)"
status=0
"$build/bin/mixprec-compare" --suite quick --out "$build/compare" || status=$?
echo "open $build/compare/report.html for the charts (speed-up against error per family, roofline, solver convergence)"
exit "$status"
