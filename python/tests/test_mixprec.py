"""The Python bindings against NumPy and SciPy references, with bounds from the precisions,
and against the C API (through ctypes) for bit-identical results."""
import ctypes
import os
import sys

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import mixprec

U32 = 2.0 ** -24
U64 = 2.0 ** -53
DATA = os.environ.get("MIXPREC_TEST_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data"))
# The same generators that wrote the SciPy-made files the C API tests read.
sys.path.insert(0, os.path.join(DATA, "scipy"))
from make_systems import anisotropic, convection_diffusion  # noqa: E402


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, rounding to nearest even (NaN kept quiet)."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


# ---- solvers on SciPy matrices ----------------------------------------------------------------

@pytest.mark.parametrize("method,precond", [("cg", "jacobi"), ("cg", "ic0"), ("cg_pipelined", "jacobi"),
                                            ("gmres", "ilu0"), ("bicgstab", "jacobi")])
def test_solvers_on_scipy_matrices_meet_the_tolerance_and_agree_with_scipy(method, precond):
    a = anisotropic(32, 0.1) if method.startswith("cg") else convection_diffusion(30, 2.0)
    b = a @ np.ones(a.shape[0])
    x, rep = mixprec.solve(a, b, method=method, preconditioner=precond, rtol=1e-10, maxiter=5000)
    assert rep.converged, rep.summary()
    r = np.linalg.norm(b - a @ x)
    assert r <= 1e-10 * np.linalg.norm(b)
    assert abs(rep.true_residual - r / np.linalg.norm(b)) <= 1e-3 * rep.true_residual + 1e-16
    # Both answers within ||A^-1|| ||r|| of the exact one: compare with SciPy's direct solve.
    exact = spla.spsolve(a.tocsc(), b)
    smallest_sv = np.linalg.svd(a.toarray(), compute_uv=False)[-1]
    assert np.linalg.norm(x - exact) <= r / smallest_sv + 1e3 * U64 * np.linalg.norm(exact)
    assert len(rep.history) == rep.iterations + 1


def test_a_float32_right_hand_side_is_solved_in_f64():
    # As SciPy's solvers do: b's values widened, x in f64, the same answer as from b in f64.
    a = anisotropic(16, 0.1)
    b32 = np.sin(np.arange(a.shape[0])).astype(np.float32)
    for solver in (mixprec.solve, mixprec.refine):
        x, rep = solver(a, b32, rtol=1e-10)
        x64, _ = solver(a, b32.astype(np.float64), rtol=1e-10)
        assert rep.converged and x.dtype == np.float64, rep.summary()
        assert np.array_equal(x, x64)
    assert b32.dtype == np.float32  # the caller's array untouched


@pytest.mark.parametrize("policy", ["f32-ir", "bf16/f32-ir", "f16/f32-ir"])
def test_refinement_reaches_f64_accuracy_in_every_policy(policy):
    a = anisotropic(32, 0.1)
    b = np.sin(np.arange(a.shape[0]))
    x, rep = mixprec.refine(a, b, policy=policy)
    assert rep.converged, rep.summary()
    assert np.linalg.norm(b - a @ x) <= 1e-8 * np.linalg.norm(b)
    assert rep.matrix_dtype == policy.split("/")[0].replace("-ir", "")


def test_laplace_operator_with_multigrid_against_scipy():
    import scipy.sparse as sp
    ny, nx = 48, 40
    t = lambda m: sp.diags([-1, 2, -1], [-1, 0, 1], shape=(m, m))  # noqa: E731
    lap = (sp.kron(sp.identity(ny), t(nx)) + sp.kron(t(ny), sp.identity(nx))).tocsr()
    a = mixprec.LaplaceOperator((ny, nx))
    x = np.random.default_rng(17).standard_normal(a.n)
    # Integer coefficients: each output is the sum of five products, rounded once or twice.
    assert np.all(np.abs(a.apply(x) - lap @ x) <= 8 * U64 * (np.abs(lap) @ np.abs(x)))
    b = lap @ np.ones(a.n)
    plain, rep_plain = mixprec.solve(a, b, rtol=1e-10, maxiter=5000)
    mg, rep_mg = mixprec.solve(a, b, preconditioner="multigrid", preconditioner_dtype="f32", rtol=1e-10)
    for x, rep in ((plain, rep_plain), (mg, rep_mg)):
        assert rep.converged, rep.summary()
        assert np.linalg.norm(b - lap @ x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-3)
        # ||x - 1|| <= ||A^-1|| ||r||, ||A^-1|| = 1 / lambda_min ~ 100 here, ||r|| <= 1e-10 ||b|| ~ 1.3e-9
        assert np.linalg.norm(x - 1) <= 1e-6
    # The V-cycle's point: iterations independent of the grid, against CG's growth with it.
    assert rep_mg.iterations * 4 <= rep_plain.iterations
    # Refinement: the inner CG and its V-cycle in f32, the answer to f64's tolerance.
    x, rep = mixprec.refine(a, b, policy="f32-ir", preconditioner="multigrid", rtol=1e-10)
    assert rep.converged and rep.krylov_dtype == "f32", rep.summary()
    assert np.linalg.norm(b - lap @ x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-3)
    with pytest.raises(ValueError, match="LaplaceOperator"):
        mixprec.solve(lap, b, preconditioner="multigrid")


def test_scipy_linear_operators_as_matrix_and_preconditioner():
    # Matrix-free from SciPy: A's products and M's through their matvec, the GIL taken per call.
    a = anisotropic(24, 0.1)
    b = a @ np.ones(a.shape[0])
    seen = set()

    def matvec(v):
        seen.add(v.dtype.name)
        return a @ v

    op = spla.LinearOperator(a.shape, matvec=matvec, dtype=np.float64)
    x, rep = mixprec.solve(op, b, rtol=1e-10, maxiter=5000)
    assert rep.converged and np.linalg.norm(b - a @ x) <= 1e-10 * np.linalg.norm(b), rep.summary()
    _, rep_csr = mixprec.solve(a, b, rtol=1e-10, maxiter=5000)
    assert abs(rep.iterations - rep_csr.iterations) <= 2
    # SciPy's M: M^-1 as an operator, the same steps as the built-in Jacobi.
    inv_diag = 1 / a.diagonal()
    m = spla.LinearOperator(a.shape, matvec=lambda v: inv_diag * v)
    _, rep_m = mixprec.solve(a, b, preconditioner=m, rtol=1e-10, maxiter=5000)
    _, rep_j = mixprec.solve(a, b, preconditioner="jacobi", rtol=1e-10, maxiter=5000)
    assert rep_m.converged and abs(rep_m.iterations - rep_j.iterations) <= 1, (rep_m.summary(), rep_j.summary())
    # Refinement: the inner solves in f32 call matvec with f32 vectors; the answer is f64's.
    seen.clear()
    x, rep = mixprec.refine(op, b, policy="f32-ir", rtol=1e-10)
    assert rep.converged and rep.krylov_dtype == "f32" and "float32" in seen, rep.summary()
    assert np.linalg.norm(b - a @ x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-3)


def test_operator_errors_reach_the_caller_by_name():
    n = 50
    b = np.ones(n)

    def fails(v):
        raise ZeroDivisionError("in the user's matvec")

    with pytest.raises(ZeroDivisionError, match="user's matvec"):
        mixprec.solve(mixprec.Operator(n, fails), b)
    with pytest.raises(ValueError, match="matvec returned 3 values for a vector of 50"):
        mixprec.solve(mixprec.Operator(n, lambda v: v[:3]), b)
    with pytest.raises(TypeError, match="complex"):
        mixprec.solve(mixprec.Operator(n, lambda v: v * 1j), b)

    def writes(v):
        v[0] = 1.0
        return v

    with pytest.raises(ValueError, match="read-only"):
        mixprec.solve(mixprec.Operator(n, writes), b)
    with pytest.raises(mixprec.Error, match="assembled matrix"):
        mixprec.solve(mixprec.Operator(n, lambda v: 2 * v), b, preconditioner="ilu0")
    with pytest.raises(TypeError, match="Operator"):
        mixprec.solve(mixprec.Operator(n, lambda v: 2 * v), b, preconditioner=3)
    with pytest.raises(TypeError, match="callable"):
        mixprec.Operator(n, "not a function")


def test_solves_on_threads_share_one_laplace_operator():
    # solve() releases the GIL: a thread pool over one operator runs its solves at once, and
    # each must give what it gives alone (the operator takes a scratch grid per apply).
    from concurrent.futures import ThreadPoolExecutor
    a = mixprec.LaplaceOperator((24, 20, 16))
    rhs = [np.random.default_rng(40 + i).standard_normal(a.n) for i in range(4)]
    alone = [mixprec.solve(a, b, rtol=1e-10)[0] for b in rhs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda b: mixprec.solve(a, b, rtol=1e-10)[0], rhs * 3))
    for i, x in enumerate(together):
        assert np.array_equal(x, alone[i % 4])


def test_wrapped_scipy_matrix_spmv_has_no_copy_and_matches_numpy():
    a = convection_diffusion(20, 1.0)
    m = mixprec.csr(a)
    x = np.random.default_rng(1).standard_normal(a.shape[0])
    y = mixprec.spmv(m, x)
    assert np.allclose(y, a @ x, rtol=0, atol=8 * U64 * (abs(a) @ abs(x)).max())
    a.data[0] *= 2.0  # the wrapped values are SciPy's own
    assert mixprec.spmv(m, x)[0] != y[0]


def test_bad_csr_structure_is_refused_naming_it():
    with pytest.raises(mixprec.Error, match="column") as e:
        mixprec.CsrMatrix(np.array([0, 1, 2], np.int32), np.array([0, 5], np.int32), np.ones(2), (2, 2))
    assert e.value.status == "invalid_argument"


def test_matrix_market_file_solved():
    a = mixprec.CsrMatrix.read(os.path.join(DATA, "scipy", "convection_diffusion_2d_scipy.mtx"))
    assert a.shape == (900, 900)
    b = np.ones(900)
    x, rep = mixprec.solve(a, b, method="gmres", preconditioner="jacobi")
    assert rep.converged


# ---- bit-identical to the C API ------------------------------------------------------------

def c_api():
    path = os.environ.get("MIXPREC_LIBRARY")
    if not path:
        pytest.skip("MIXPREC_LIBRARY not set (the shared C library to compare with; a static build has none)")
    lib = ctypes.CDLL(path)
    lib.mixprec_last_error.restype = ctypes.c_char_p
    return lib


def check(lib, status):
    assert status == 0, lib.mixprec_last_error().decode()


def c_wrap(lib, ctx, arr, dtype_code):
    shape = (ctypes.c_int64 * arr.ndim)(*arr.shape)
    handle = ctypes.c_void_p()
    check(lib, lib.mixprec_array_wrap(ctx, arr.ctypes.data_as(ctypes.c_void_p), dtype_code, arr.ndim, shape, None,
                                      ctypes.byref(handle)))
    return handle


def test_cg_and_int8_gemm_give_the_c_apis_bits():
    lib = c_api()
    ctx = ctypes.c_void_p()
    check(lib, lib.mixprec_context_create_cpu(0, ctypes.byref(ctx)))
    path = os.path.join(DATA, "scipy", "anisotropic_2d_scipy.mtx").encode()
    # CG with Jacobi on the SciPy-made system.
    a = mixprec.CsrMatrix.read(path.decode())
    b = np.cos(np.arange(a.shape[0]))
    x_py, _ = mixprec.solve(a, b, method="cg", preconditioner="jacobi")
    csr, op, pc, rep = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    check(lib, lib.mixprec_csr_read_matrix_market(ctx, path, 0, ctypes.byref(csr)))
    check(lib, lib.mixprec_operator_from_csr(csr, 0, ctypes.byref(op)))
    check(lib, lib.mixprec_preconditioner_create(op, 0, 0, ctypes.byref(pc)))

    class SolveOptions(ctypes.Structure):
        _fields_ = [("struct_size", ctypes.c_size_t), ("rel_tol", ctypes.c_double), ("abs_tol", ctypes.c_double),
                    ("max_iterations", ctypes.c_int), ("stagnation_window", ctypes.c_int),
                    ("stagnation_factor", ctypes.c_double), ("restart", ctypes.c_int), ("ortho", ctypes.c_int),
                    ("preconditioner", ctypes.c_void_p), ("record_history", ctypes.c_int),
                    ("lambda_min", ctypes.c_double), ("lambda_max", ctypes.c_double)]

    opts = SolveOptions()
    lib.mixprec_solve_options_init(ctypes.byref(opts))
    opts.preconditioner = pc
    x_c = np.zeros_like(b)
    hb, hx = c_wrap(lib, ctx, b, 0), c_wrap(lib, ctx, x_c, 0)
    check(lib, lib.mixprec_solve(0, op, hb, hx, ctypes.byref(opts), ctypes.byref(rep)))
    assert np.array_equal(x_py, x_c)
    # u8 x s8 -> s32 with a zero point, plain and packed.
    rng = np.random.default_rng(2)
    a8 = rng.integers(0, 256, size=(9, 130), dtype=np.uint8)
    b8 = rng.integers(-127, 128, size=(130, 40), dtype=np.int8)
    c_py = mixprec.gemm(a8, b8, a_zero_point=128)
    c_packed = mixprec.gemm(a8, mixprec.PackedMatrix(b8), a_zero_point=128)
    exact = (a8.astype(np.int64) - 128) @ b8.astype(np.int64)
    assert np.array_equal(c_py, exact) and np.array_equal(c_packed, exact)

    class GemmOptions(ctypes.Structure):
        _fields_ = [("struct_size", ctypes.c_size_t), ("scale", ctypes.c_void_p), ("bias", ctypes.c_void_p),
                    ("act", ctypes.c_int), ("residual", ctypes.c_void_p), ("out_scale", ctypes.c_float),
                    ("out_zero_point", ctypes.c_int32), ("a_zero_point", ctypes.c_int32),
                    ("b_zero_point", ctypes.c_int32), ("f16_allow_bf16_inputs", ctypes.c_int),
                    ("f32_allow_tf32", ctypes.c_int)]

    go = GemmOptions()
    lib.mixprec_gemm_options_init(ctypes.byref(go))
    go.a_zero_point = 128
    c_c = np.zeros((9, 40), np.int32)
    ha, hb8, hc = c_wrap(lib, ctx, a8, 5), c_wrap(lib, ctx, b8, 4), c_wrap(lib, ctx, c_c, 6)
    lib.mixprec_gemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_double, ctypes.c_void_p, ctypes.c_void_p]
    check(lib, lib.mixprec_gemm(0, 0, 1.0, ha, hb8, 0.0, hc, ctypes.byref(go)))
    assert np.array_equal(c_c, c_py)
    for h in (hb, hx, ha, hb8, hc):
        lib.mixprec_array_destroy(h)
    lib.mixprec_report_destroy(rep)
    lib.mixprec_preconditioner_destroy(pc)
    lib.mixprec_operator_destroy(op)
    lib.mixprec_csr_destroy(csr)
    lib.mixprec_context_destroy(ctx)


# ---- arrays, bf16, DLPack ---------------------------------------------------------------------

def test_bf16_conversion_rounds_to_nearest_even_like_numpy_bits():
    x = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    b = mixprec.to_bf16(x)
    assert isinstance(b, mixprec.bf16)
    assert np.array_equal(b.bits, bf16_bits(x))
    back = mixprec.from_bf16(b)
    assert np.all(np.abs(back - x) <= np.abs(x) * 2.0 ** -8)


def test_blas1_in_place_on_numpy_memory():
    x = np.arange(10, dtype=np.float32)
    y = np.ones(10, dtype=np.float32)
    mixprec.axpy(2.0, x, y)
    assert np.array_equal(y, 2 * np.arange(10) + 1)
    assert mixprec.dot(x, y, accumulation="f64") == float(np.dot(x.astype(np.float64), y))
    strided = np.arange(20, dtype=np.float64)[::2]
    assert mixprec.nrm2(strided) == pytest.approx(np.linalg.norm(strided), rel=4 * U64)


def test_errors_name_the_problem_and_leave_outputs_untouched():
    x, y = np.ones(4, np.float32), np.full(5, 7, np.float32)
    with pytest.raises(mixprec.Error) as e:
        mixprec.axpy(1.0, x, y)
    assert e.value.status == "shape_mismatch"
    assert np.all(y == 7)
    ro = np.ones(4, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        mixprec.scal(2.0, ro)
    with pytest.raises(TypeError, match="complex"):
        mixprec.nrm2(np.ones(3, np.complex128))


def test_dlpack_round_trip_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = mixprec.from_dlpack(a)
    assert t.shape == [2, 3] and t.dtype == "f32" and t.device == "cpu"
    mixprec.scal(2.0, t)  # writes NumPy's memory
    assert np.array_equal(a, 2 * np.arange(6).reshape(2, 3))
    e = mixprec.empty([4], "f64")
    host = np.asarray(e)  # the buffer protocol: writable, no copy
    host[:] = [3, 4, 0, 0]
    assert mixprec.nrm2(e) == 5.0
    exported = np.from_dlpack(e)  # (NumPy marks what it imports by DLPack read-only)
    assert np.shares_memory(exported, host) and exported[1] == 4


def test_torch_tensors_pass_through_dlpack():
    torch = pytest.importorskip("torch")
    t = torch.arange(8, dtype=torch.float32)
    mixprec.scal(0.5, mixprec.from_dlpack(t))
    assert torch.equal(t, torch.arange(8, dtype=torch.float32) / 2)


# ---- GEMM, quantization, layers -------------------------------------------------------------

def test_float_gemm_with_epilogue_within_its_bound():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((20, 300)).astype(np.float32), rng.standard_normal((300, 30)).astype(np.float32)
    bias = rng.standard_normal(30).astype(np.float32)
    c = mixprec.gemm(a, b, bias=bias, activation="relu")
    exact = a.astype(np.float64) @ b.astype(np.float64) + bias
    bound = 301 * U32 * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) + np.abs(bias))
    assert np.all(np.abs(c - np.maximum(exact, 0)) <= bound)


def test_per_channel_quantization_round_trip():
    w = np.random.default_rng(5).standard_normal((64, 16)).astype(np.float32) * np.arange(1, 17, dtype=np.float32)
    q, p = mixprec.quantize(w, granularity="per_channel", axis=1)
    assert q.dtype == np.int8 and p.scale.shape == (16,)
    back = mixprec.dequantize(q, p)
    assert np.all(np.abs(back - w) <= p.scale / 2 * (1 + 4 * U32))


def test_q8_0_blocks_are_ggufs_bytes():
    w = np.random.default_rng(6).standard_normal((4, 64)).astype(np.float32)
    m = mixprec.BlockMatrix(w, "q8_0")
    raw = m.tobytes()
    assert len(raw) == 4 * 2 * 34
    # Block 0: an f16 scale max|w| / 127, then 32 int8 round(w / d).
    d = np.frombuffer(raw[:2], np.float16)[0]
    assert d == np.float16(np.abs(w[0, :32]).max() / 127)
    assert np.array_equal(np.frombuffer(raw[2:34], np.int8), np.round(w[0, :32] / np.float32(d)).astype(np.int8))
    same = mixprec.BlockMatrix.from_bytes(raw, 4, 64, "q8_0")
    assert np.array_equal(same.dequantize(), m.dequantize())


def test_softmax_and_rms_norm_in_f16_and_bf16_within_their_bounds():
    rng = np.random.default_rng(7)
    x = (4 * rng.standard_normal((5, 64))).astype(np.float16)
    y = mixprec.softmax(x)
    z = x.astype(np.float64)
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    zmax = np.abs(z).max(1, keepdims=True)
    bound = (2.0 ** -11 + (64 + 8 + 2 * np.abs(z) + 6 * zmax) * U32) * ref + 2.0 ** -25
    assert np.all(np.abs(y.astype(np.float64) - ref) <= bound)
    g = rng.uniform(0.5, 1.5, 64).astype(np.float32)
    xb = mixprec.to_bf16(rng.standard_normal((3, 64)).astype(np.float32))
    yb = mixprec.from_bf16(mixprec.rms_norm(xb, g), "f64")
    xv = mixprec.from_bf16(xb, "f64")
    ref = xv / np.sqrt((xv ** 2).mean(1, keepdims=True) + 1e-6) * g
    assert np.all(np.abs(yb - ref) <= (2.0 ** -8 + 40 * U32) * np.abs(ref))


def test_decode_attention_over_a_kv_cache():
    rng = np.random.default_rng(8)
    L, d = 7, 16
    k, v = rng.standard_normal((L, d)).astype(np.float32), rng.standard_normal((L, d)).astype(np.float32)
    q = rng.standard_normal((1, 2 * d)).astype(np.float32)
    cache = mixprec.KVCache(32, 1, d)
    cache.append(k, v)
    out = mixprec.attention(q, cache)
    for h in range(2):
        s = k.astype(np.float64) @ q[0, h * d:(h + 1) * d] / np.sqrt(d)
        p = np.exp(s - s.max())
        ref = (p / p.sum()) @ v
        assert np.allclose(out[0, h * d:(h + 1) * d], ref, rtol=0, atol=1e-5)
    # f32 storage never rounds probabilities: asking for f32 ones changes nothing.
    assert np.array_equal(mixprec.attention(q, cache, f32_probabilities=True), out)


def test_cross_entropy_and_an_adamw_step():
    rng = np.random.default_rng(9)
    logits = (3 * rng.standard_normal((4, 10))).astype(np.float32)
    labels = np.array([1, -100, 3, 9], np.int32)
    loss, grad = mixprec.cross_entropy(logits, labels)
    z = logits.astype(np.float64)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    keep = labels != -100
    assert loss == pytest.approx((lse[keep] - z[keep, labels[keep]]).mean(), rel=1e-6)
    assert np.all(grad[1] == 0)
    w = rng.standard_normal(50).astype(np.float32)
    g = rng.standard_normal(50).astype(np.float32)
    # The first step: m_hat = g, sqrt(v_hat) = |g|.
    ref = w.astype(np.float64) * (1 - 1e-3 * 0.01) - 1e-3 * g / (np.abs(g) + 1e-8)
    mixprec.AdamW().step([(w, None, g)])
    assert np.all(np.abs(w - ref) <= U32 * (2 * np.abs(ref) + 10 * 1e-3))


def norm_backward_reference(x, dy, gamma, rms, eps):
    """dx, dgamma and dbeta in f64, and the bounds of test_train.cpp for f32 arithmetic."""
    x, dy, g = x.astype(np.float64), dy.astype(np.float64), gamma.astype(np.float64)
    n = x.shape[1]
    mean = np.zeros((x.shape[0], 1)) if rms else x.mean(1, keepdims=True)
    r = 1 / np.sqrt(((x - mean) ** 2).mean(1, keepdims=True) + eps)
    xhat, gd = (x - mean) * r, dy * g
    c_gd = 0 if rms else gd.mean(1, keepdims=True)
    dx = r * (gd - c_gd - xhat * (gd * xhat).mean(1, keepdims=True))
    c = np.abs(mean) * r
    a = (np.abs(gd) * (1 + np.abs(xhat) + c)).mean(1, keepdims=True)
    dx_bound = U32 * np.abs(dx) + (n + 16) * U32 * r * (np.abs(gd) + a * (1 + np.abs(xhat) + c))
    w_bound = (x.shape[0] + n + 16) * U32 * (np.abs(dy) * (1 + np.abs(xhat) + c)).sum(0)
    return dx, (dy * xhat).sum(0), dy.sum(0), dx_bound, w_bound


@pytest.mark.parametrize("rms", [True, False])
def test_norm_backward_against_numpy_within_the_bound(rms):
    rng = np.random.default_rng(12)
    x = rng.uniform(-2, 3, (9, 70)).astype(np.float32)
    dy = rng.uniform(-1, 1, x.shape).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 70).astype(np.float32)
    dgamma, dbeta = np.full(70, 0.25, np.float32), np.full(70, -0.5, np.float32)
    if rms:
        dx = mixprec.rms_norm_backward(x, dy, gamma, eps=1e-5, dgamma=dgamma)
    else:
        dx = mixprec.layer_norm_backward(x, dy, gamma, eps=1e-5, dgamma=dgamma, dbeta=dbeta)
    ref_dx, ref_dg, ref_db, dx_bound, w_bound = norm_backward_reference(x, dy, gamma, rms, 1e-5)
    assert dx.dtype == np.float32 and np.all(np.abs(dx - ref_dx) <= dx_bound)
    assert np.all(np.abs(dgamma - (0.25 + ref_dg)) <= w_bound)  # added into what dgamma held
    if rms:
        assert np.all(dbeta == -0.5)
    else:
        assert np.all(np.abs(dbeta - (-0.5 + ref_db)) <= w_bound)


def test_activation_softmax_and_swiglu_backward_against_numpy():
    from scipy.special import erf
    rng = np.random.default_rng(13)
    a = rng.uniform(-6, 6, (4, 50)).astype(np.float32)
    dy = rng.uniform(-2, 2, a.shape).astype(np.float32)
    x, d = a.astype(np.float64), dy.astype(np.float64)
    # GELU (erf): f' = Phi(x) + x phi(x); the bound of test_train.cpp on its two terms.
    cdf, pdf = 0.5 * (1 + erf(x / np.sqrt(2))), np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
    ref = d * (cdf + x * pdf)
    bound = U32 * np.abs(ref) + (40 + 4 * x * x) * U32 * (cdf + np.abs(x) * pdf) * np.abs(d)
    assert np.all(np.abs(mixprec.activate_backward(a, dy, "gelu_erf") - ref) <= bound)
    # SwiGLU, y = silu(gate) * up
    up = rng.uniform(-3, 3, a.shape).astype(np.float32)
    v = up.astype(np.float64)
    s = 1 / (1 + np.exp(-x))
    ref_g, ref_u = d * v * s * (1 + x * (1 - s)), d * x * s
    mag = s * (1 + np.abs(x) * (1 - s))
    d_gate, d_up = mixprec.swiglu_backward(a, up, dy)
    assert np.all(np.abs(d_gate - ref_g) <= U32 * np.abs(ref_g) + (42 + 4 * x * x) * U32 * mag * np.abs(d * v))
    assert np.all(np.abs(d_up - ref_u) <= U32 * np.abs(ref_u) + (40 + 4 * x * x) * U32 * np.abs(ref_u))
    # softmax, from its output y: dx = y (dy - sum(dy y)), one f32 sum of n terms per row
    y = mixprec.softmax(a)
    yd = y.astype(np.float64)
    ref = yd * (d - (d * yd).sum(1, keepdims=True))
    bound = U32 * np.abs(ref) + (a.shape[1] + 8) * U32 * yd * (np.abs(d) + np.abs(d * yd).sum(1, keepdims=True))
    assert np.all(np.abs(mixprec.softmax_backward(y, dy) - ref) <= bound)


def test_linear_backward_against_numpy():
    rng = np.random.default_rng(14)
    m, k, n = 12, 40, 9
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    dy = rng.standard_normal((m, n)).astype(np.float32)
    dw, db = np.ones((n, k), np.float32), np.zeros(n, np.float32)
    dx = mixprec.linear_backward(x, w, dy, dw=dw, db=db)
    X, W, D = x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64)
    # f32 sums of n (dx), m (dW, db) products: within that many roundings of the terms' magnitude.
    assert np.all(np.abs(dx - D @ W) <= (n + 2) * U32 * (np.abs(D) @ np.abs(W)))
    assert np.all(np.abs(dw - (1 + D.T @ X)) <= (m + 2) * U32 * (1 + np.abs(D).T @ np.abs(X)))
    assert np.all(np.abs(db - D.sum(0)) <= (m + 2) * U32 * np.abs(D).sum(0))
    assert mixprec.linear_backward(x, w, dy, dx=False, dw=dw) is None


def test_attention_for_training_against_numpy():
    rng = np.random.default_rng(15)
    m, L, H, G, hd = 5, 9, 4, 2, 16
    q = rng.uniform(-1, 1, (m, H * hd)).astype(np.float32)
    k = rng.uniform(-1, 1, (L, G * hd)).astype(np.float32)
    v = rng.uniform(-1, 1, (L, G * hd)).astype(np.float32)
    d_out = rng.uniform(-1, 1, (m, H * hd)).astype(np.float32)
    out, probs = mixprec.attention_forward_saved(q, k, v, hd, causal=True)
    dq, dk, dv = mixprec.attention_backward(q, k, v, probs, d_out, hd, causal=True)
    assert probs.shape == (H, m, L) and dq.shape == q.shape and dk.shape == k.shape
    scale = 1 / np.sqrt(hd)
    Q, K, V, DO = (t.astype(np.float64) for t in (q, k, v, d_out))
    ref = {n: np.zeros(t.shape) for n, t in (("out", q), ("dq", q), ("dk", k), ("dv", v))}
    mag = {n: np.zeros(t.shape) for n, t in (("out", q), ("dq", q), ("dk", k), ("dv", v))}
    causal = np.tril(np.ones((m, L), bool), L - m)  # the m queries are the last m of L tokens
    for h in range(H):
        g = h // (H // G)
        qs, ks = slice(h * hd, (h + 1) * hd), slice(g * hd, (g + 1) * hd)
        s = np.where(causal, scale * Q[:, qs] @ K[:, ks].T, -np.inf)
        p = np.exp(s - s.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        assert np.all(np.abs(probs[h] - p) <= (L + hd + 16) * U32)
        dp = DO[:, qs] @ V[:, ks].T
        ds = p * (dp - (dp * p).sum(1, keepdims=True))
        ads = p * (np.abs(DO[:, qs]) @ np.abs(V[:, ks]).T + (np.abs(dp) * p).sum(1, keepdims=True))
        ref["out"][:, qs], mag["out"][:, qs] = p @ V[:, ks], p @ np.abs(V[:, ks])
        ref["dv"][:, ks] += p.T @ DO[:, qs]
        mag["dv"][:, ks] += p.T @ np.abs(DO[:, qs])
        ref["dq"][:, qs], mag["dq"][:, qs] = scale * ds @ K[:, ks], scale * ads @ np.abs(K[:, ks])
        ref["dk"][:, ks] += scale * ds.T @ Q[:, qs]
        mag["dk"][:, ks] += scale * ads.T @ np.abs(Q[:, qs])
    # Each stage sums at most L, hd or m H / G terms in f32 and feeds the next (test_train.cpp).
    c = (4 * (L + hd + m * H // G) + 16) * U32
    for name, got in (("out", out), ("dq", dq), ("dk", dk), ("dv", dv)):
        assert np.all(np.abs(got - ref[name]) <= c * mag[name] + U32 * np.abs(ref[name])), name


def test_add_norms_and_a_configured_loss_scaler():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((3, 32)).astype(np.float32)
    r = rng.standard_normal((3, 32)).astype(np.float32)
    total, y = mixprec.add_layer_norm(x, r, eps=1e-5)
    assert np.array_equal(total, x + r)  # one f32 rounding, as NumPy's
    assert np.array_equal(y, mixprec.layer_norm(total, eps=1e-5))
    total, y = mixprec.add_rms_norm(x, r, eps=1e-5)
    assert np.array_equal(total, x + r) and np.array_equal(y, mixprec.rms_norm(total, eps=1e-5))
    s = mixprec.LossScaler(initial_scale=1024.0, growth_interval=1)
    g = np.array([2048.0, -512.0], np.float32)
    assert s.unscale([g]) and np.array_equal(g, [2.0, -0.5])
    s.update()
    assert s.scale == 2048.0  # one clean step grows it when growth_interval is 1
    with pytest.raises(mixprec.Error, match="backoff_factor"):
        mixprec.LossScaler(backoff_factor=2.0)


def test_dense_mixed_precision_solve():
    rng = np.random.default_rng(10)
    n = 120
    a = rng.uniform(-0.5, 0.5, (n, n))
    a[np.diag_indices(n)] = np.abs(a).sum(1)
    b = rng.standard_normal(n)
    x, rep = mixprec.gesv_ir(a, b, factorization="bf16", gmres=True)
    assert rep.converged and "bf16" in rep.path
    backward = np.abs(b - a @ x).max() / (np.abs(a).sum(1).max() * np.abs(x).max() + np.abs(b).max())
    assert backward <= 16 * n * U64
    assert rep.backward_error <= 16 * n * U64


def test_dense_solve_takes_a_matrix_in_any_memory_order():
    # Fortran order, or a transpose: the values are what counts, as for numpy.linalg.solve.
    a = np.random.default_rng(21).standard_normal((60, 60)) + 60 * np.eye(60)
    b = np.arange(60.0)
    x, _ = mixprec.gesv_ir(a, b)
    xf, rep = mixprec.gesv_ir(np.asfortranarray(a), b)
    assert rep.converged and np.array_equal(x, xf)
    xt, _ = mixprec.gesv_ir(np.ascontiguousarray(a.T).T, b)
    assert np.array_equal(x, xt)
    spd = a @ a.T
    assert np.array_equal(mixprec.posv_ir(spd, b)[0], mixprec.posv_ir(np.asfortranarray(spd), b)[0])
    solver = mixprec.DenseSolver(np.asfortranarray(a))  # copied into rows, the copy kept
    import gc
    gc.collect()
    assert np.array_equal(solver.solve(b)[0], x)
    solver.refactor(np.asfortranarray(spd))
    assert np.array_equal(solver.solve(b)[0], mixprec.gesv_ir(spd, b)[0])


def test_layers_read_inputs_in_any_memory_order_and_refuse_strided_outputs():
    # A transpose, a column step or Fortran order is read through a C-order copy, as NumPy's
    # own functions read any layout: the same bits as the contiguous input. An output that
    # is not row-major is refused by name (a copy would lose the write) and left untouched.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 32)).astype(np.float32)
    wide = rng.standard_normal((6, 64)).astype(np.float32)
    g = rng.uniform(0.5, 1.5, 64).astype(np.float32)
    g_rows = np.ascontiguousarray(g[::2])
    for layout in (np.asfortranarray(x), np.ascontiguousarray(x.T).T):
        assert np.array_equal(mixprec.softmax(layout), mixprec.softmax(x))
        assert np.array_equal(mixprec.layer_norm(layout, g[::2]), mixprec.layer_norm(x, g_rows))
        dy = np.asfortranarray(2 * x)
        assert np.array_equal(mixprec.rms_norm_backward(layout, dy, g[::2])[0],
                              mixprec.rms_norm_backward(x, 2 * x, g_rows)[0])
    column_step = wide[:, ::2]
    assert np.array_equal(mixprec.activate(column_step, "gelu"),
                          mixprec.activate(np.ascontiguousarray(column_step), "gelu"))
    bits = mixprec.to_bf16(x).bits
    assert np.array_equal(mixprec.rms_norm(mixprec.bf16(np.asfortranarray(bits)), g_rows).bits,
                          mixprec.rms_norm(mixprec.bf16(bits), g_rows).bits)
    import scipy.sparse as sp
    a = mixprec.csr(sp.random(40, 40, density=0.1, format="csr", random_state=2))
    columns = rng.standard_normal((40, 3))
    assert np.array_equal(mixprec.spmv(a, columns[:, 1]), mixprec.spmv(a, columns[:, 1].copy()))
    out = np.asfortranarray(np.full((6, 32), 7, dtype=np.float32))
    with pytest.raises(mixprec.Error, match="column stride 6"):
        mixprec.softmax(x, out=out)
    assert np.all(out == 7)


def test_int64_ids_labels_and_positions_are_taken_when_they_fit_int32():
    # NumPy's (and PyTorch's) default integers: narrowed after a check, the same results.
    table = np.arange(40, dtype=np.float32).reshape(10, 4)
    ids = np.array([3, 0, 9])
    assert np.array_equal(mixprec.embedding(table, ids), mixprec.embedding(table, ids.astype(np.int32)))
    assert np.array_equal(mixprec.embedding(table, ids.astype(np.uint8)), table[ids])
    logits = np.random.default_rng(3).standard_normal((3, 10)).astype(np.float32)
    loss64, d64 = mixprec.cross_entropy(logits, ids)
    loss32, d32 = mixprec.cross_entropy(logits, ids.astype(np.int32))
    assert loss64 == loss32 and np.array_equal(d64, d32)
    q, q32 = (np.arange(48, dtype=np.float32).reshape(3, 16) for _ in range(2))
    mixprec.rope(q, 8, np.array([0, 5, 7]))  # two heads of 8 per row
    mixprec.rope(q32, 8, np.array([0, 5, 7], dtype=np.int32))
    assert np.array_equal(q, q32) and not np.array_equal(q, np.arange(48).reshape(3, 16))
    with pytest.raises(ValueError, match=r"ids\[1\] = 4294967296 does not fit"):
        mixprec.embedding(table, np.array([1, 2**32]))
    with pytest.raises(ValueError, match=r"labels\[2\] = -2147483649"):
        mixprec.cross_entropy(logits, np.array([1, 2, -2**31 - 1]))
    with pytest.raises(mixprec.Error, match="outside the vocabulary"):
        mixprec.embedding(table, np.array([10]))
    with pytest.raises(ValueError, match="factorization 'f8'"):
        mixprec.gesv_ir(np.eye(3), np.ones(3), factorization="f8")


def test_dense_solve_of_many_right_hand_sides_matches_numpy():
    rng = np.random.default_rng(11)
    n = 90
    a = rng.standard_normal((n, n)) + n * np.eye(n)
    b = rng.standard_normal((n, 4))
    x, rep = mixprec.gesv_ir(a, b, factorization="f32")
    assert x.shape == (n, 4) and rep.converged and rep.path == "f32 LU + refinement"
    backward = np.abs(b - a @ x).max(0) / (np.abs(a).sum(1).max() * np.abs(x).max(0) + np.abs(b).max(0))
    assert np.all(backward <= np.sqrt(n) * U64)
    assert rep.backward_error == pytest.approx(backward.max(), rel=1e-6)
    # Forward error: kappa (~2 here) times the backward error, about.
    assert np.abs(x - np.linalg.solve(a, b)).max() <= 1e3 * n * U64 * np.abs(x).max()
    # GMRES-IR: the columns' FGMRES iterations go together; each column meets its own rule.
    x, rep = mixprec.gesv_ir(a, b, factorization="f32", gmres=True)
    assert x.shape == (n, 4) and rep.converged and rep.path == "f32 LU + GMRES-IR"
    backward = np.abs(b - a @ x).max(0) / (np.abs(a).sum(1).max() * np.abs(x).max(0) + np.abs(b).max(0))
    assert np.all(backward <= np.sqrt(n) * U64)


def test_dense_solver_factors_once_for_many_solves():
    rng = np.random.default_rng(13)
    n = 80
    a = rng.standard_normal((n, n)) + n * np.eye(n)
    solver = mixprec.DenseSolver(a.copy(), factorization="bf16", gmres=True)
    assert solver.n == n
    for _ in range(3):
        b = rng.standard_normal(n)
        x, rep = solver.solve(b)
        y, once = mixprec.gesv_ir(a, b, factorization="bf16", gmres=True)
        assert rep.converged and rep.path == once.path == "bf16-update LU + GMRES-IR"
        assert np.array_equal(x, y)
        assert rep.backward_error <= np.sqrt(n) * U64
    spd = a @ a.T
    spd = np.tril(spd) + np.tril(spd, -1).T
    b = rng.standard_normal((n, 2))
    x, rep = mixprec.DenseSolver(spd, spd=True).solve(b)  # the solver keeps spd alive
    assert rep.converged and rep.path == "f32 Cholesky + refinement"
    assert np.abs(x - np.linalg.solve(spd, b)).max() <= 1e4 * n * U64 * np.abs(x).max()


def test_dense_solver_refactors_matrices_of_one_size():
    rng = np.random.default_rng(14)
    n = 60
    solver = mixprec.DenseSolver(rng.standard_normal((n, n)) + n * np.eye(n), factorization="bf16", gmres=True)
    for _ in range(2):
        a = rng.standard_normal((n, n)) + n * np.eye(n)
        solver.refactor(a)
        del a  # the solver keeps the matrix it factored alive
        b = rng.standard_normal(n)
        x, rep = solver.solve(b)
        y, once = mixprec.gesv_ir(solver._refactored_a, b, factorization="bf16", gmres=True)
        assert rep.converged and np.array_equal(x, y)
    with pytest.raises(mixprec.Error, match="this solver factors 60 x 60") as e:
        solver.refactor(np.eye(n + 1))
    assert e.value.status == "shape_mismatch"


def test_spd_mixed_precision_solve_against_numpy():
    rng = np.random.default_rng(12)
    n = 100
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * np.logspace(0, -6, n)) @ q.T
    a = np.tril(a) + np.tril(a, -1).T  # exactly symmetric
    b = rng.standard_normal(n)
    x, rep = mixprec.posv_ir(a, b, factorization="f16", gmres=True)
    assert rep.converged and rep.path == "f16-rounded Cholesky + GMRES-IR"
    assert rep.backward_error <= np.sqrt(n) * U64
    # Forward error within kappa times the backward error of NumPy's own f64 solve, about.
    ref = np.linalg.solve(a, b)
    assert np.abs(x - ref).max() <= 1e6 * 16 * n * U64 * np.abs(ref).max()
    with pytest.raises(mixprec.Error, match="exactly symmetric"):
        a[3, 1] += 1e-9
        mixprec.posv_ir(a, b)


def test_heat_steps_match_numpy():
    u = np.random.default_rng(11).standard_normal((10, 12))
    got = mixprec.heat_steps(u, 0.2, 3)
    ref = u.copy()
    for _ in range(3):
        p = np.pad(ref, 1)
        ref = ref + 0.2 * (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * ref)
    assert np.allclose(got, ref, rtol=0, atol=1e-14)
