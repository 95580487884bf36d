#!/usr/bin/env python3
"""The CUDA backend's targets from one run of mixprec_bench_cuda (its JSON output):
device-resident copy/axpy/dot against cudaMemcpy's device-to-device bandwidth, CSR SpMV
against cuSPARSE, the 7-point stencil against the copy bandwidth, GEMM against cuBLAS,
and CG on the GPU against CG on two CPU threads of the same machine. Prints one line per
target with the measured ratio and whether it is met; exits 1 if a benchmark is missing.

Usage: cuda_targets.py RESULTS.json
"""
import json
import sys


def main(path):
    with open(path) as f:
        runs = {r["name"].replace("/real_time", ""): r for r in json.load(f)["benchmarks"]
                if r.get("run_type", "iteration") == "iteration"}
    errors = [n for n, r in runs.items() if r.get("error_occurred")]
    for n in errors:
        print(f"error: {n}: {runs[n].get('error_message', '')}")

    def bw(name):
        r = runs.get(name)
        return r["bytes_per_second"] if r and not r.get("error_occurred") else None

    def seconds(name):
        r = runs.get(name)
        if not r or r.get("error_occurred"):
            return None
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[r["time_unit"]]
        return r["real_time"] * scale

    lines = []

    def target(what, value, goal, unit="x"):
        if value is None:
            lines.append(f"{what:58s}  missing")
            return
        lines.append(f"{what:58s}  {value:7.2f}{unit}  (target >= {goal}{unit}: {'met' if value >= goal else 'MISSED'})")

    line = bw("cuda/copy/f64/n64M/peer_cudamemcpy")
    for name in ("cuda/copy/f64/n64M/mixprec", "cuda/axpy/f64/n64M", "cuda/dot/f64/n64M"):
        target(f"{name} / cudaMemcpy bandwidth", bw(name) / line if line and bw(name) else None, 0.8)
    ours, peer = seconds("cuda/spmv/csr/f64/poisson7_192/mixprec"), seconds("cuda/spmv/csr/f64/poisson7_192/peer_cusparse")
    target("spmv csr f64 poisson7_192: cuSPARSE time / ours", peer / ours if ours and peer else None, 1.0)
    target("stencil 7pt f64 192^3 / cudaMemcpy bandwidth",
           bw("cuda/stencil/7pt/f64/192") / line if line and bw("cuda/stencil/7pt/f64/192") else None, 0.8)
    for name in ("cuda/softmax/bf16/16384x4096", "cuda/rms_norm/bf16/16384x4096",
                 "cuda/attention_decode/bf16/32x128_kv8_L8192"):
        value = bw(name) / line if line and bw(name) else None
        lines.append(f"{name + ' / cudaMemcpy bandwidth':58s}  "
                     + (f"{value:7.2f}x  (no target: the data read once)" if value else "missing"))
    gpu, cpu = seconds("cuda/cg/f64/poisson7_192"), seconds("cpu2t/cg/f64/poisson7_192")
    target("CG poisson7_192 to 1e-10: 2-thread CPU time / GPU time", cpu / gpu if gpu and cpu else None, 10)
    for t in ("f64f64f64", "f32f32f32", "f32f32f32_tf32", "f16f16f32", "bf16bf16f32", "i8i8i32"):
        ours, peer = seconds(f"cuda/gemm/{t}/mixprec/4096"), seconds(f"cuda/gemm/{t}/peer_cublas/4096")
        lines.append(f"{'gemm ' + t + ' 4096^3: cuBLAS time / ours':58s}  "
                     + (f"{peer / ours:7.2f}x  (ours is cuBLAS: overhead only)" if ours and peer else "missing"))
    ours, peer = seconds("cuda/gemm/bf16bf16bf16_bias_gelu/mixprec/4096"), seconds("cuda/gemm/bf16bf16f32/peer_cublas/4096")
    lines.append(f"{'gemm bf16 + bias + GELU 4096^3: plain cuBLAS time / ours':58s}  "
                 + (f"{peer / ours:7.2f}x  (the epilogue's extra pass over C)" if ours and peer else "missing"))
    for t in ("bf16bf16f32", "i8i8i32"):
        for m in (8, 32):
            for form in ("plain", "packed"):
                name = f"cuda/gemm_weights/{t}/m{m}_n4096_k4096/{form}"
                value = bw(name)
                lines.append(f"{name + ' weights / cudaMemcpy':58s}  "
                             + (f"{value / line:7.2f}x  (no target: B read once)" if value and line else "missing"))
    print("\n".join(lines))
    return 1 if any(l.endswith("missing") for l in lines) else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
