#!/usr/bin/env python3
"""Models CG on the distributed 7-point Poisson problem at 1 to 1,000 nodes (weak and strong
scaling, f64 / f32 / bf16 halos, blocking and pipelined reductions) from measured per-node
rates and assumed network figures. Every input is a flag; docs/distributed.md states where
each default comes from.

Per iteration on P nodes with n local rows (a cube of side m = n^(1/3) per node):
  local  = n * bytes_per_row / B            SpMV + CG's vector updates, bandwidth-bound
  halo   = alpha + 6 m^2 w / beta           six faces, w bytes a value, sent at once
  spmv   = max(interior, halo) + boundary   the interior rows hide the halo (overlap)
  reduce = 2 * ceil(log2 P) * alpha_r       one allreduce of a few doubles (tree)
  cg     = local + halo_excess + 2 reduce   two blocking reductions per iteration
  pcg    = local + halo_excess + max(0, reduce - spmv)   one, hidden behind the SpMV
"""
import argparse
import math

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--node-bandwidth", type=float, default=60e9, help="bytes/s a node's memory streams (STREAM triad)")
p.add_argument("--bytes-per-row", type=float, default=216.0,
               help="bytes a CG iteration moves per row: SpMV 7 x 12 + 16, vector updates 11 x 8 + 32 (f64)")
p.add_argument("--alpha", type=float, default=1.5e-6, help="point-to-point latency, s (InfiniBand HDR)")
p.add_argument("--beta", type=float, default=12.5e9, help="injection bandwidth, bytes/s per node")
p.add_argument("--alpha-reduce", type=float, default=1.5e-6, help="latency of one allreduce tree step, s")
p.add_argument("--weak-rows", type=float, default=128**3, help="rows per node, weak scaling")
p.add_argument("--strong-rows", type=float, default=512**3, help="total rows, strong scaling")
a = p.parse_args()


def iteration(P, n, w):
    m = n ** (1 / 3)
    local = n * a.bytes_per_row / a.node_bandwidth
    spmv_share = 100.0 / a.bytes_per_row  # the SpMV's part of the bytes
    boundary = min(1.0, 6 * m * m / n)     # rows next to a face
    spmv_interior = local * spmv_share * (1 - boundary)
    halo = 0.0 if P == 1 else a.alpha + 6 * m * m * w / a.beta
    halo_excess = max(0.0, halo - spmv_interior)
    reduce = 0.0 if P == 1 else 2 * math.ceil(math.log2(P)) * a.alpha_reduce
    cg = local + halo_excess + 2 * reduce
    pcg = local * 1.4 + halo_excess + max(0.0, reduce - local * spmv_share)  # 4 more vector updates
    return cg, pcg


print("| nodes | weak: CG f64 halo | CG f32 halo | pipelined f64 | strong: CG f64 halo | CG bf16 halo | pipelined f64 | strong efficiency (CG f64) |")
print("|---|---|---|---|---|---|---|---|")
t1 = iteration(1, a.strong_rows, 8)[0]
for P in (1, 8, 64, 512, 1000):
    wk = iteration(P, a.weak_rows, 8)
    wk32 = iteration(P, a.weak_rows, 4)
    st = iteration(P, a.strong_rows / P, 8)
    st16 = iteration(P, a.strong_rows / P, 2)
    eff = t1 / (P * st[0])
    print(f"| {P} | {wk[0]*1e6:.0f} µs | {wk32[0]*1e6:.0f} µs | {wk[1]*1e6:.0f} µs | {st[0]*1e6:.1f} µs | "
          f"{st16[0]*1e6:.1f} µs | {st[1]*1e6:.1f} µs | {eff:.2f} |")
