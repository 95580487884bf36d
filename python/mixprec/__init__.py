"""mixprec from Python: mixed-precision kernels for simulation and AI.

NumPy arrays go in and out without copies (float64/32/16, int8, uint8, int32; bf16 as
``mixprec.bf16(uint16_array)``), SciPy CSR matrices are accepted by the solvers directly,
and any tensor with ``__dlpack__`` (PyTorch, JAX, CuPy) passes through DLPack::

    import numpy as np, scipy.sparse as sp, mixprec
    A = sp.diags([-1, 2, -1], [-1, 0, 1], shape=(100, 100), format="csr")
    x, report = mixprec.solve(A, np.ones(100), method="cg", preconditioner="jacobi")
    x, report = mixprec.refine(A, np.ones(100), policy="bf16/f32-ir")   # f64 answer
    report.converged, report.iterations, report.true_residual

Errors raise ``mixprec.Error`` (a RuntimeError whose ``status`` names the cause) or, for
Python-side mistakes, ValueError / TypeError.
"""
from ._mixprec import *  # noqa: F401,F403
from ._mixprec import CsrMatrix, Error, bf16  # noqa: F401
from . import _mixprec

__version__ = _mixprec.version()


def csr(a, check=True):
    """A mixprec.CsrMatrix from a SciPy sparse matrix (CSR kept as is, without a copy;
    other formats converted to CSR first) or a CsrMatrix (returned unchanged)."""
    if isinstance(a, CsrMatrix):
        return a
    if not hasattr(a, "tocsr"):
        raise TypeError(f"expected a scipy.sparse matrix or mixprec.CsrMatrix, got {type(a).__name__}")
    m = a if getattr(a, "format", None) == "csr" else a.tocsr()
    if not m.has_sorted_indices:
        m = m.sorted_indices()
    return CsrMatrix(m.indptr, m.indices, m.data, m.shape, check)


def spmv(a, x, y=None, alpha=1.0, beta=0.0, accumulation="standard"):
    """y = alpha A x + beta y; A a SciPy sparse matrix or CsrMatrix."""
    return _mixprec.spmv(csr(a), x, y, alpha, beta, accumulation)


def _operator(a, what="A"):
    """What the solvers take for a matrix or a preconditioner: a LaplaceOperator or Operator
    as it is, a SciPy sparse matrix or CsrMatrix as CSR, and a SciPy LinearOperator (or any
    square object with shape and matvec) as an Operator over its matvec."""
    if isinstance(a, (_mixprec.LaplaceOperator, _mixprec.Operator)):
        return a
    if isinstance(a, CsrMatrix) or hasattr(a, "tocsr"):
        return csr(a)
    if hasattr(a, "matvec") and hasattr(a, "shape"):
        rows, cols = a.shape
        if rows != cols:
            raise ValueError(f"{what}: a {rows} x {cols} operator; the solvers need a square one")
        return _mixprec.Operator(rows, a.matvec, type(a).__name__)
    raise TypeError(f"{what}: expected a SciPy sparse matrix or LinearOperator, a CsrMatrix, a LaplaceOperator "
                    f"or an Operator, got {type(a).__name__}")


def solve(a, b, x0=None, method="cg", preconditioner="none", **options):
    """Solves A x = b in f64: returns (x, SolveReport). A: SciPy sparse, CsrMatrix, a
    matrix-free LaplaceOperator((ny, nx) or (nz, ny, nx)), a SciPy LinearOperator or a
    mixprec.Operator(n, matvec). method: cg, cg_pipelined, bicgstab, gmres, fgmres;
    preconditioner: none, jacobi, block_jacobi, sgs, ilu0, ic0, multigrid (LaplaceOperator
    only), or an operator applying M^-1 (as SciPy's M); options: rtol, atol, maxiter,
    restart, ortho, history, preconditioner_dtype (the preconditioner's storage: f64, f32, ...)."""
    if not isinstance(preconditioner, str):
        preconditioner = _operator(preconditioner, "preconditioner")
    return _mixprec.solve(_operator(a), b, x0, method, preconditioner, **options)


def refine(a, b, x0=None, policy="f32-ir", inner="cg", **options):
    """FP64-accurate solve whose inner solves run in the policy's precisions ("f32-ir",
    "bf16/f32-ir", "f16/f32-ir", "f64"): returns (x, SolveReport). A as for solve(); on a
    LaplaceOperator, preconditioner="multigrid" runs the V-cycle in the policy's matrix
    precision (f64 or f32); an operator's matvec gets the inner solves' f32 vectors."""
    if not isinstance(options.get("preconditioner", "none"), str):
        options["preconditioner"] = _operator(options["preconditioner"], "preconditioner")
    return _mixprec.refine(_operator(a), b, x0, policy, inner, **options)


def _rows(a):
    """a itself when its rows are contiguous (C order), else a copy that is: the dense
    solves read rows (and copy A into their factorization anyway)."""
    import numpy as np
    return np.ascontiguousarray(a) if isinstance(a, np.ndarray) and not a.flags.c_contiguous else a


def gesv_ir(a, b, *args, **kwargs):
    return _mixprec.gesv_ir(_rows(a), b, *args, **kwargs)


def posv_ir(a, b, *args, **kwargs):
    return _mixprec.posv_ir(_rows(a), b, *args, **kwargs)


_IN_ANY_ORDER = " a may be in any memory order (an order other than C is copied into rows first)."
gesv_ir.__doc__ = (_mixprec.gesv_ir.__doc__ or "") + _IN_ANY_ORDER
posv_ir.__doc__ = (_mixprec.posv_ir.__doc__ or "") + _IN_ANY_ORDER


class DenseSolver(_mixprec.DenseSolver):
    __doc__ = (_mixprec.DenseSolver.__doc__ or "") + (
        " A matrix in another memory order (Fortran order, a transpose) is copied into rows once, "
        "and the copy is what the solver keeps.")

    def __init__(self, a, *args, **kwargs):
        super().__init__(_rows(a), *args, **kwargs)

    def refactor(self, a):
        super().refactor(_rows(a))


def to_bf16(x):
    """A new mixprec.bf16 array of x's values rounded to bfloat16 (to nearest even)."""
    return _mixprec.astype(x, "bf16")


def from_bf16(x, dtype="f32"):
    """The values of a mixprec.bf16 array as a new float32 (or float64) NumPy array."""
    return _mixprec.astype(x, dtype)
