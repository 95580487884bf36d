#!/usr/bin/env bash
# Checks that mixprec-compare times a case as mixprec_bench does: runs the cases both tools
# share (BLAS-1 dot at 2^24, GEMM 1024^3, in every precision) with each tool, one right after
# the other, and prints the ratio of the times (target: within 10 %). Needs a build with the
# benchmarks (scripts/showcase.sh makes one) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
command -v python3 >/dev/null || { echo "needs python3"; exit 1; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_PROC_BIND="${OMP_PROC_BIND:-close}" OMP_PLACES="${OMP_PLACES:-cores}"
out="$(mktemp -d)"
"$build/bin/mixprec_bench" --benchmark_filter='^(blas1/dot/[a-z0-9]+/n16M|gemm/[a-z0-9]+/mixprec/1024x1024x1024)/' \
  --benchmark_min_time=0.5 --benchmark_format=json > "$out/bench.json"
"$build/bin/mixprec-compare" --suite quick --only 'blas1/dot/n16M/,gemm/1024^3/' --repeat 9 --quiet --out "$out" >/dev/null || true
python3 - "$out/bench.json" "$out/report.json" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))["benchmarks"]
cases = {c["id"]: c for c in json.load(open(sys.argv[2]))["cases"]}
gemm_types = {"f64f64f64": "f64", "f32f32f32": "f32", "f16f16f32": "f16", "bf16bf16f32": "bf16", "s8s8s32": "s8s8s32"}
unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
worst = 0.0
print(f"{'case':40s} {'bench':>11s} {'compare':>11s} {'ratio':>7s}")
for b in bench:
    parts = b["name"].split("/")
    if parts[0] == "blas1":
        cid = f"blas1/dot/{parts[3]}/{parts[2]}"
    elif parts[0] == "gemm" and parts[1] in gemm_types:
        cid = f"gemm/1024^3/{gemm_types[parts[1]]}"
    else:
        continue
    if cid not in cases:
        continue
    tb = b["real_time"] * unit[b["time_unit"]]
    tc = cases[cid]["time"]["median_seconds"]
    worst = max(worst, abs(tc / tb - 1))
    print(f"{cid:40s} {tb * 1e3:9.3f}ms {tc * 1e3:9.3f}ms {tc / tb:7.3f}")
print(f"largest difference {100 * worst:.1f} % (target 10 %)")
PY
rm -rf "$out"
