#!/usr/bin/env bash
# The showcase's runs, over a build that has them: mixprec-info, the examples, the training
# curves drawn, then mixprec-compare's suite and where its report is. scripts/showcase.sh
# builds and calls this; ctest calls it with --small (the examples at their ctest sizes and
# the tiny suite) so that the script itself is tested, from a build directory given relative
# to the source tree as the showcase's default is.
# Usage: scripts/lib/showcase-run.sh BUILD_DIR [--small] [--bench-tables]
set -euo pipefail
build="$(realpath "${1:?usage: scripts/lib/showcase-run.sh BUILD_DIR [--small] [--bench-tables]}")"
shift
small=0 tables=0
for arg in "$@"; do
  case "$arg" in
    --small) small=1 ;;
    --bench-tables) tables=1 ;;
    *) echo "showcase-run.sh: unknown option '$arg' (--small, --bench-tables)" >&2; exit 2 ;;
  esac
done
bin="$build/bin"
out="$build/compare"
if ((small)); then
  out="$build/showcase-small"
  mkdir -p "$out"
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_PROC_BIND="${OMP_PROC_BIND:-close}" OMP_PLACES="${OMP_PLACES:-cores}"
# Each example's arguments: the showcase's sizes, or the small ones its ctest entry uses.
args() { if ((small)); then echo "$2"; else echo "$1"; fi; }
echo "== mixprec-info"
"$bin/mixprec-info"
echo
echo "== demo: examples/01_first_steps"
"$bin/01_first_steps" cpu $(args 4000000 100000)
echo
echo "== the 3D heat equation in f64 and f32 storage: examples/02_heat_equation"
"$bin/02_heat_equation" $(args "128 100" "40 60")
echo
echo "== an MLP in f32, bf16 and int8: examples/03_int8_inference"
"$bin/03_int8_inference" $(args "32 20" "8 2")
echo
echo "== a llama-style decoder (4 layers, d_model 1024, GQA, vocabulary 8192) with f32, bf16, Q8_0 and Q4_0 weights: examples/05_transformer_decode"
"$bin/05_transformer_decode" $(args "" "2 256 1024 16 8")
echo
echo "== an MLP trained in f32, bf16 (f32 master weights), f16 with and without loss scaling: examples/06_mixed_precision_training"
mkdir -p "$out"
# The example writes its curves (training_curves.csv) where it runs.
(cd "$out" && "$bin/06_mixed_precision_training" $(args "" "60 256 128"))
"$bin/mixprec-compare" plot "$out/training_curves.csv" --out "$out/training_curves.svg" --log-y \
  --title "training loss: f32, bf16, f16 with and without loss scaling"
echo
echo "== a dense system to FP64 accuracy with the LU in f64, f32 and bf16 (HPL-MxP's algorithm): examples/07_dense_mixed_solve"
"$bin/07_dense_mixed_solve" $(args "" "600 120")
echo
echo "== 3D Poisson to an FP64 residual of 1e-10: CG, MG-PCG, and mixed precision: examples/04_poisson_solve"
"$bin/04_poisson_solve" $(args 128 32)
if ((tables)) && [[ -x "$bin/mixprec_bench" ]]; then
  echo
  echo "== raw benchmark tables with peers (OpenBLAS, oneDNN, Eigen, a plain OpenMP loop)"
  "$bin/mixprec_bench" --benchmark_filter='^(stream|blas1/(dot|axpy))/|^(stencil/jacobi7(_8sweeps)?|peer/plain_omp_jacobi7)/|^(spmv/(csr|dia)/.*/poisson7_128|peer/eigen_spmv/f64/poisson7_128)|^gemm/.*/(2048x2048x2048|32x4096x4096)/|^nn/|^train/|^(solve/|peer/eigen_cg/)' \
    --benchmark_min_time=0.2 --benchmark_counters_tabular=true
fi
echo
suite=$(args quick tiny)
echo "== precision comparison: mixprec-compare --suite $suite (speed, error against f64 and the documented bound, per case)"
status=0
if ((small)); then
  "$bin/mixprec-compare" --suite tiny --repeat 1 --out "$out" || status=$?
else
  "$bin/mixprec-compare" --suite quick --out "$out" || status=$?
fi
echo "open $out/report.html for the charts (speed-up against error per family, roofline, solver convergence)"
exit "$status"
