#!/usr/bin/env python3
"""SciPy's time on the small solves of bench/bench_solve_small.cpp, beside mixprec's.

Usage: scipy_small_solves.py PROBLEM_DIR MIXPREC_JSON
       scipy_small_solves.py --summary ROUNDS_TXT OUT_JSON MIXPREC_JSON...

PROBLEM_DIR holds the matrices the benchmark wrote (<problem>.mtx); MIXPREC_JSON is the
benchmark's --benchmark_out. The first form prints one comparison line per benchmark run in
MIXPREC_JSON; the second prints the lines of ROUNDS_TXT (the first form's output over
several rounds), then per benchmark the median and range of the ratios, and writes the runs
of all MIXPREC_JSON files into OUT_JSON. Each system is solved as the benchmark solves it: b = A*1,
x0 = 0, Jacobi preconditioner, relative residual 1e-8 (absolute tolerance 0), GMRES
restarted every 30 iterations. Times are medians of repeated solves on one thread (run this
with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1). Prints one line per benchmark with both
times, their ratio, and both iteration counts and true residuals, so a ratio is only read
beside the work each solver did.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.io
import scipy.sparse
import scipy.sparse.linalg as sla

TOL = 1e-8


def solve(method, a, b, m):
    """One solve; returns (x, iterations). Iterations count Krylov steps, as mixprec does."""
    count = [0]

    def step(*_):
        count[0] += 1

    kw = dict(x0=np.zeros_like(b), tol=TOL, atol=0.0, M=m)
    if method == "gmres_jacobi":
        # 'pr_norm' calls back once per inner iteration (SciPy 1.10 API: tol=, restart=).
        x, info = sla.gmres(a, b, restart=30, maxiter=20000, callback=step, callback_type="pr_norm", **kw)
    elif method == "bicgstab_jacobi":
        x, info = sla.bicgstab(a, b, maxiter=20000, callback=step, **kw)
    elif method == "pcg_jacobi":
        x, info = sla.cg(a, b, maxiter=20000, callback=step, **kw)
    else:
        return None, 0
    if info != 0:
        raise RuntimeError(f"scipy {method} did not converge (info {info})")
    return x, count[0]


def timed(method, a, b, m, budget=0.5):
    """Median seconds of repeated solves filling about `budget` seconds (at least 3)."""
    x, its = solve(method, a, b, m)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        solve(method, a, b, m)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), its, np.linalg.norm(b - a @ x) / np.linalg.norm(b)


HEADER = (f"{'benchmark':48s} {'mixprec ms':>10s} {'scipy ms':>9s} {'ratio':>6s} "
          f"{'its mp/sp':>11s} {'true res mp/sp':>20s}")


def summary(rounds_txt, out_json, run_files):
    """Every round's lines, then each benchmark's median ratio and range; merges the runs."""
    with open(rounds_txt) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    print(f"scipy {scipy.__version__}, numpy {np.__version__}; each mixprec run followed by SciPy's")
    print(HEADER)
    ratios = {}
    for line in lines:
        print(line)
        fields = line.split()
        ratios.setdefault(fields[0], []).append(float(fields[3]))
    print()
    print(f"{'benchmark':48s} {'rounds':>6s} {'median ratio':>12s} {'range':>12s}")
    for name, r in ratios.items():
        print(f"{name:48s} {len(r):6d} {statistics.median(r):12.2f} {min(r):6.2f}-{max(r):.2f}")
    merged = None
    for path in run_files:
        with open(path) as f:
            data = json.load(f)
        if merged is None:
            merged = data
        else:
            merged["benchmarks"].extend(data["benchmarks"])
    with open(out_json, "w") as f:
        json.dump(merged, f, indent=1)


def main():
    if sys.argv[1] == "--summary":
        summary(sys.argv[2], sys.argv[3], sys.argv[4:])
        return
    problem_dir, mixprec_json = sys.argv[1], sys.argv[2]
    with open(mixprec_json) as f:
        runs = json.load(f)["benchmarks"]
    for run in runs:
        name = run["name"]
        parts = name.split("/")
        if len(parts) < 4 or not parts[3].startswith("small_") or "error_occurred" in run:
            continue
        method, problem = parts[1], parts[3][len("small_"):]
        a = scipy.sparse.csr_matrix(scipy.io.mmread(os.path.join(problem_dir, problem + ".mtx")))
        b = a @ np.ones(a.shape[1])
        inv_diag = 1.0 / a.diagonal()
        m = sla.LinearOperator(a.shape, matvec=lambda v, d=inv_diag: d * v.ravel(), dtype=np.float64)
        mixprec_ms = run["real_time"]  # the benchmark's unit is milliseconds
        if method == "fgmres_jacobi":
            # SciPy has no flexible GMRES; with a fixed preconditioner it is GMRES's work.
            sp_method = "gmres_jacobi"
        else:
            sp_method = method
        seconds, its, res = timed(sp_method, a, b, m)
        print(f"{name:48s} {mixprec_ms:10.3f} {seconds * 1e3:9.3f} {mixprec_ms / (seconds * 1e3):6.2f} "
              # The solve's "iterations" counter is written after (and so read over) Google
              # Benchmark's own loop count of the same name.
              f"{int(run['iterations']):5d}/{its:<5d} "
              f"{run.get('true_residual', float('nan')):9.2e}/{res:9.2e}")


if __name__ == "__main__":
    main()
