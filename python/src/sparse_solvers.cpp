// Python: CSR matrices (SciPy's arrays wrapped without copies, Matrix Market files, model
// problems), SpMV, the Krylov solvers with preconditioners and the mixed-precision
// refinement by policy name, and heat steps on structured grids.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "mixprec/mixprec.hpp"

namespace mixprec::python {

namespace {

/// A CSR matrix for Python: SciPy's (or any caller's) arrays wrapped without a copy, or one
/// mixprec owns. Solvers need an owned matrix; a wrapped one is copied once, on first use.
struct py_csr {
  csr_ref ref;
  py::object keep_indptr, keep_indices, keep_data;  // the wrapped arrays
  mutable std::shared_ptr<const csr_matrix> owned;

  static py_csr own(csr_matrix&& m) {
    py_csr c;
    c.owned = std::make_shared<const csr_matrix>(std::move(m));
    c.ref = c.owned->ref();
    return c;
  }

  const csr_matrix& matrix() const {
    if (!owned) owned = std::make_shared<csr_matrix>(csr_matrix::copy_of(ref));
    return *owned;
  }
};

py_csr wrap_arrays(py::object indptr, py::object indices, py::object data, std::pair<std::int64_t, std::int64_t> shape,
                   bool check) {
  const const_view rp = as_view(indptr, false, "indptr"), ci = as_view(indices, false, "indices"),
                   v = as_view(data, false, "data");
  if (rp.rank() != 1 || ci.rank() != 1 || v.rank() != 1 || !rp.is_contiguous() || !ci.is_contiguous() ||
      !v.is_contiguous())
    throw py::value_error("CsrMatrix: indptr, indices and data must be contiguous 1-D arrays");
  if (rp.type() != dtype::i32 || ci.type() != dtype::i32)
    throw py::value_error("CsrMatrix: indptr and indices must both be int32 (or both int64)");
  if (rp.size() != shape.first + 1)
    throw py::value_error("CsrMatrix: indptr has " + std::to_string(rp.size()) + " entries for " +
                          std::to_string(shape.first) + " rows (rows + 1 expected)");
  if (ci.size() != v.size())
    throw py::value_error("CsrMatrix: indices has " + std::to_string(ci.size()) + " entries, data " +
                          std::to_string(v.size()));
  py_csr c;
  const auto wrap = [&](auto index_tag, auto value_tag) {
    using I = decltype(index_tag);
    using V = decltype(value_tag);
    const auto* p = static_cast<const I*>(rp.data());
    const auto* q = static_cast<const I*>(ci.data());
    const auto* w = static_cast<const V*>(v.data());
    c.ref = check ? csr_ref::wrap(shape.first, shape.second, p, q, w)
                  : csr_ref::wrap_unchecked(shape.first, shape.second, p, q, w);
  };
  const auto with_value = [&](auto index_tag) {
    switch (v.type()) {
      case dtype::f64:
        return wrap(index_tag, double{});
      case dtype::f32:
        return wrap(index_tag, float{});
      case dtype::f16:
        return wrap(index_tag, half{});
      case dtype::bf16:
        return wrap(index_tag, bfloat16{});
      default:
        throw py::value_error(std::string("CsrMatrix: data is ") + name_of(v.type()) + " (f64, f32, f16 or bf16)");
    }
  };
  with_value(std::int32_t{});
  c.keep_indptr = indptr;
  c.keep_indices = indices;
  c.keep_data = data;
  return c;
}

py_csr wrap_int64_arrays(py::array_t<std::int64_t, py::array::c_style> indptr,
                         py::array_t<std::int64_t, py::array::c_style> indices, py::object data,
                         std::pair<std::int64_t, std::int64_t> shape, bool check) {
  const const_view v = as_view(data, false, "data");
  if (indptr.size() != shape.first + 1) throw py::value_error("CsrMatrix: indptr must have rows + 1 entries");
  if (v.type() != dtype::f64 || !v.is_contiguous())
    throw py::value_error("CsrMatrix: int64 indices take contiguous float64 data");
  py_csr c;
  const auto* w = static_cast<const double*>(v.data());
  c.ref = check ? csr_ref::wrap(shape.first, shape.second, indptr.data(), indices.data(), w)
                : csr_ref::wrap_unchecked(shape.first, shape.second, indptr.data(), indices.data(), w);
  c.keep_indptr = indptr;
  c.keep_indices = indices;
  c.keep_data = data;
  return c;
}

std::unique_ptr<linear_operator> make_preconditioner(const linear_operator& a, const std::string& name,
                                                     const std::string& storage) {
  const dtype st = parse_dtype(storage);
  if (name == "none") return nullptr;
  if (name == "jacobi") return std::make_unique<jacobi_preconditioner>(a, st);
  if (name == "block_jacobi") {
    block_jacobi_options o;
    o.storage = st;
    return std::make_unique<block_jacobi_preconditioner>(a, o);
  }
  if (name == "sgs") return std::make_unique<sgs_preconditioner>(a, true, st);
  if (name == "ilu0") return std::make_unique<incomplete_factorization>(a, incomplete_factorization::kind::ilu0, st);
  if (name == "ic0") return std::make_unique<incomplete_factorization>(a, incomplete_factorization::kind::ic0, st);
  if (name == "multigrid") {
    const auto* s = dynamic_cast<const stencil_operator*>(&a);
    if (!s) throw py::value_error("preconditioner 'multigrid' needs a mixprec.LaplaceOperator, not a matrix");
    multigrid_options o;
    o.storage = st;
    return std::make_unique<multigrid_preconditioner>(*s, o);
  }
  throw py::value_error("preconditioner '" + name + "' (none, jacobi, block_jacobi, sgs, ilu0, ic0, multigrid)");
}

/// A Python callable as the operator y = f(x) (a SciPy LinearOperator's matvec, or the
/// caller's function): f gets x as a read-only NumPy array over the solver's vector (f64, or
/// f32 in refinement's inner solves; valid during the call only) and returns n values,
/// copied into y in y's dtype. The solve holds the GIL only while f runs; an exception f
/// raises ends the solve and reaches the caller.
std::unique_ptr<callback_operator> python_operator(std::int64_t n, py::object f, const std::string& name) {
  if (n < 0) throw py::value_error("Operator: n = " + std::to_string(n) + " is negative");
  if (!PyCallable_Check(f.ptr())) throw py::type_error("Operator: matvec must be callable");
  // Released with the GIL held, whichever thread drops the last reference.
  const std::shared_ptr<py::object> fn(new py::object(std::move(f)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  auto apply = [fn, n, name](const_view x, view y) {
    py::gil_scoped_acquire gil;
    const py::dtype type = x.type() == dtype::f32 ? py::dtype::of<float>() : py::dtype::of<double>();
    const py::capsule no_owner(x.data(), [](void*) {});  // the solver owns the memory
    py::array xa(type, {x.size()}, {std::int64_t(size_of(x.type()))}, x.data(), no_owner);
    xa.attr("setflags")(py::arg("write") = false);
    const py::module_ np = py::module_::import("numpy");
    const py::array result = np.attr("asarray")((*fn)(xa));
    if (result.dtype().kind() == 'c')
      throw py::type_error("Operator '" + name + "': matvec returned complex values; the solvers are real");
    const py::array out = np.attr("ascontiguousarray")(
        result, py::arg("dtype") = y.type() == dtype::f32 ? py::dtype::of<float>() : py::dtype::of<double>());
    if (out.size() != n)
      throw py::value_error("Operator '" + name + "': matvec returned " + std::to_string(out.size()) +
                            " values for a vector of " + std::to_string(n));
    convert(const_view(out.data(), y.type(), {n}, {1}, context::cpu()), y);
  };
  return std::make_unique<callback_operator>(n, n, std::move(apply), name);
}

/// The preconditioner a solve was given: a name (built here, on `a`, stored in `storage`)
/// or a mixprec.Operator (SciPy's M), used as it is.
struct preconditioner_choice {
  std::unique_ptr<linear_operator> built;
  const linear_operator* use = nullptr;
};
preconditioner_choice choose_preconditioner(const linear_operator& a, py::handle spec, const std::string& storage) {
  preconditioner_choice c;
  if (py::isinstance<callback_operator>(spec)) {
    c.use = &spec.cast<const callback_operator&>();
  } else if (py::isinstance<py::str>(spec)) {
    c.built = make_preconditioner(a, spec.cast<std::string>(), storage);
    c.use = c.built.get();
  } else {
    throw py::type_error(
        "preconditioner: a name (none, jacobi, block_jacobi, sgs, ilu0, ic0, multigrid) or an "
        "operator (mixprec.Operator, a SciPy LinearOperator)");
  }
  return c;
}

inner_solver parse_inner(const std::string& s) {
  if (s == "cg") return inner_solver::cg;
  if (s == "bicgstab") return inner_solver::bicgstab;
  if (s == "gmres") return inner_solver::gmres;
  if (s == "fgmres") return inner_solver::fgmres;
  if (s == "cg_reliable") return inner_solver::cg_reliable;
  throw py::value_error("inner solver '" + s + "' (cg, bicgstab, gmres, fgmres, cg_reliable)");
}

/// x: the initial guess copied into a new f64 array (zeros when None).
py::array_t<double> start_vector(py::object x0, std::int64_t n) {
  py::array_t<double> x(n);
  view xv = make_view(x.mutable_data(), n);
  if (x0.is_none())
    fill(xv, 0.0);
  else
    convert(as_view(x0, false, "x0"), xv);
  return x;
}

/// b as the solve reads it: f64, as x is. A float32 or float16 right-hand side is widened
/// into a new array (the solve is in f64, as SciPy's solvers make it); other dtypes pass
/// through for the solver to name.
struct rhs_vector {
  py::object held;  // the array the view reads
  const_view values;
};
rhs_vector rhs_in_f64(py::object b) {
  const const_view bv = as_view(b, false, "b");
  if (bv.type() != dtype::f32 && bv.type() != dtype::f16) return {b, bv};
  py::array_t<double> wide(bv.size());
  const view wv = make_view(wide.mutable_data(), bv.size());
  convert(bv, wv);
  return {wide, wv};
}

/// Solves op x = b from x0 with one of the Krylov methods: (x, report).
py::tuple solve_with(const linear_operator& op, py::object b, py::object x0, const std::string& method,
                     py::object precond, const std::string& precond_dtype, double rtol, double atol, int maxiter,
                     int restart, const std::string& ortho, bool history) {
  const rhs_vector rhs = rhs_in_f64(b);
  const const_view bv = rhs.values;
  py::array_t<double> x = start_vector(x0, op.cols());
  const preconditioner_choice pc = choose_preconditioner(op, precond, precond_dtype);
  solve_options o;
  o.rel_tol = rtol;
  o.abs_tol = atol;
  o.max_iterations = maxiter;
  o.restart = restart;
  if (ortho == "mgs")
    o.ortho = orthogonalization::mgs;
  else if (ortho == "cgs2")
    o.ortho = orthogonalization::cgs2;
  else if (ortho == "dcgs2")
    o.ortho = orthogonalization::dcgs2;
  else
    throw py::value_error("ortho '" + ortho + "' (dcgs2, cgs2 or mgs)");
  o.preconditioner = pc.use;
  o.record_history = history;
  const view xv = make_view(x.mutable_data(), op.cols());
  solve_report r;
  {
    py::gil_scoped_release nogil;
    if (method == "cg")
      r = cg(op, bv, xv, o);
    else if (method == "bicgstab")
      r = bicgstab(op, bv, xv, o);
    else if (method == "gmres")
      r = gmres(op, bv, xv, o);
    else if (method == "fgmres")
      r = fgmres(op, bv, xv, o);
    else if (method == "cg_pipelined")
      r = cg_pipelined(op, bv, xv, o);
    else
      throw py::value_error("method '" + method + "' (cg, cg_pipelined, bicgstab, gmres, fgmres)");
  }
  return py::make_tuple(x, r);
}

/// FP64-accurate solve of op x = b with the inner solves in a policy's precisions: (x, report).
py::tuple refine_with(const linear_operator& op, py::object b, py::object x0, const std::string& policy,
                      const std::string& inner, py::object precond, double rtol, int maxiter, double inner_rtol,
                      int inner_maxiter, bool fallback) {
  const rhs_vector rhs = rhs_in_f64(b);
  const const_view bv = rhs.values;
  py::array_t<double> x = start_vector(x0, op.cols());
  refinement_options o;
  o.policy = precision_policy::parse(policy);
  o.inner_method = parse_inner(inner);
  o.outer.rel_tol = rtol;
  o.outer.max_iterations = maxiter;
  o.inner.rel_tol = inner_rtol;
  o.inner.max_iterations = inner_maxiter;
  o.fallback = fallback;
  // The inner solves' preconditioner is built on the policy's matrix precision.
  const preconditioner_choice pc = choose_preconditioner(op, precond, name_of(o.policy.matrix));
  o.inner.preconditioner = pc.use;
  solve_report r;
  {
    py::gil_scoped_release nogil;
    r = mixprec::refine(op, bv, make_view(x.mutable_data(), op.cols()), o);
  }
  return py::make_tuple(x, r);
}

/// solve() and refine() for an operator Python holds and the solvers use as it is.
template <class Op>
void bind_operator_solvers(py::module_& m, const char* solve_doc, const char* refine_doc) {
  m.def(
      "solve",
      [](const Op& a, py::object b, py::object x0, const std::string& method, py::object precond,
         const std::string& precond_dtype, double rtol, double atol, int maxiter, int restart, const std::string& ortho,
         bool history) {
        return solve_with(a, b, x0, method, precond, precond_dtype, rtol, atol, maxiter, restart, ortho, history);
      },
      py::arg("a"), py::arg("b"), py::arg("x0") = py::none(), py::arg("method") = "cg",
      py::arg("preconditioner") = "none", py::arg("preconditioner_dtype") = "f64", py::arg("rtol") = 1e-8,
      py::arg("atol") = 0.0, py::arg("maxiter") = 1000, py::arg("restart") = 30, py::arg("ortho") = "dcgs2",
      py::arg("history") = true, solve_doc);
  m.def(
      "refine",
      [](const Op& a, py::object b, py::object x0, const std::string& policy, const std::string& inner,
         py::object precond, double rtol, int maxiter, double inner_rtol, int inner_maxiter, bool fallback) {
        return refine_with(a, b, x0, policy, inner, precond, rtol, maxiter, inner_rtol, inner_maxiter, fallback);
      },
      py::arg("a"), py::arg("b"), py::arg("x0") = py::none(), py::arg("policy") = "f32-ir", py::arg("inner") = "cg",
      py::arg("preconditioner") = "none", py::arg("rtol") = 1e-8, py::arg("maxiter") = 1000,
      py::arg("inner_rtol") = 1e-4, py::arg("inner_maxiter") = 1000, py::arg("fallback") = true, refine_doc);
}

}  // namespace

void register_sparse_and_solvers(py::module_& m) {
  py::class_<py_csr>(m, "CsrMatrix",
                     "A sparse matrix in CSR form. CsrMatrix(indptr, indices, data, shape) wraps the arrays "
                     "without a copy (validated once unless check=False); mixprec.csr(scipy_matrix) does this "
                     "for SciPy matrices.")
      .def(py::init([](py::object indptr, py::object indices, py::object data,
                       std::pair<std::int64_t, std::int64_t> shape, bool check) {
             const py::array ip = py::array::ensure(indptr);
             if (ip && ip.dtype().kind() == 'i' && ip.dtype().itemsize() == 8)
               return wrap_int64_arrays(indptr, indices, data, shape, check);
             return wrap_arrays(indptr, indices, data, shape, check);
           }),
           py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("shape"), py::arg("check") = true)
      .def_static(
          "read",
          [](const std::string& path, const std::string& type) {
            const coo_matrix coo = read_matrix_market(path);
            const index_type it = coo.rows > 2147483647 || coo.nnz() > 2147483647 ? index_type::i64 : index_type::i32;
            return py_csr::own(csr_matrix::from_coo(coo, parse_dtype(type), it));
          },
          py::arg("path"), py::arg("dtype") = "f64", "A Matrix Market file.")
      .def_static(
          "poisson_2d", [](std::int64_t n) { return py_csr::own(poisson_2d(n)); }, py::arg("n"))
      .def_static(
          "poisson_3d", [](std::int64_t n) { return py_csr::own(poisson_3d(n)); }, py::arg("n"))
      .def_static(
          "convection_diffusion_3d",
          [](std::int64_t n, double pe) { return py_csr::own(convection_diffusion_3d(n, pe)); }, py::arg("n"),
          py::arg("peclet"))
      .def(
          "write", [](const py_csr& a, const std::string& path) { write_matrix_market(path, a.matrix().to_coo()); },
          py::arg("path"))
      .def(
          "with_values",
          [](const py_csr& a, const std::string& t) { return py_csr::own(a.matrix().with_values(parse_dtype(t))); },
          py::arg("dtype"), "A copy with its values stored in dtype (f64, f32, f16, bf16).")
      .def_property_readonly("shape", [](const py_csr& a) { return py::make_tuple(a.ref.rows(), a.ref.cols()); })
      .def_property_readonly("nnz", [](const py_csr& a) { return a.ref.nnz(); })
      .def_property_readonly("dtype", [](const py_csr& a) { return std::string(name_of(a.ref.value_type())); })
      .def("__repr__", [](const py_csr& a) {
        return "mixprec.CsrMatrix(" + std::to_string(a.ref.rows()) + " x " + std::to_string(a.ref.cols()) + ", nnz " +
               std::to_string(a.ref.nnz()) + ", " + name_of(a.ref.value_type()) + ")";
      });

  m.def(
      "spmv",
      [](const py_csr& a, py::object x, py::object y, double alpha, double beta, const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object out = y.is_none() ? new_array(xv.type(), {a.ref.rows()}) : y;
        spmv(alpha, a.ref, xv, y.is_none() ? 0.0 : beta, as_view(out, true, "y"), parse_accumulation(acc));
        return out;
      },
      py::arg("a"), py::arg("x"), py::arg("y") = py::none(), py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
      py::arg("accumulation") = "standard", "y = alpha A x + beta y (a new y of x's dtype when None).");

  py::class_<solve_report>(m, "SolveReport", "What a solve did: stop reason, iterations, residuals, precisions.")
      .def_property_readonly("converged", &solve_report::converged)
      .def_property_readonly("reason", [](const solve_report& r) { return std::string(name_of(r.reason)); })
      .def_readonly("method", &solve_report::method)
      .def_readonly("message", &solve_report::message)
      .def_readonly("iterations", &solve_report::iterations)
      .def_readonly("inner_iterations", &solve_report::inner_iterations)
      .def_readonly("restarts", &solve_report::restarts)
      .def_readonly("final_residual", &solve_report::final_residual)
      .def_readonly("true_residual", &solve_report::true_residual)
      .def_readonly("history", &solve_report::history)
      .def_readonly("fallback", &solve_report::fallback)
      .def_readonly("seconds", &solve_report::seconds)
      .def_property_readonly("matrix_dtype", [](const solve_report& r) { return std::string(name_of(r.matrix_type)); })
      .def_property_readonly("krylov_dtype", [](const solve_report& r) { return std::string(name_of(r.krylov_type)); })
      .def("summary", &solve_report::summary)
      .def("__repr__", &solve_report::summary);

  m.def(
      "solve",
      [](const py_csr& a, py::object b, py::object x0, const std::string& method, py::object precond,
         const std::string& precond_dtype, double rtol, double atol, int maxiter, int restart, const std::string& ortho,
         bool history) {
        const csr_operator op(a.matrix());
        return solve_with(op, b, x0, method, precond, precond_dtype, rtol, atol, maxiter, restart, ortho, history);
      },
      py::arg("a"), py::arg("b"), py::arg("x0") = py::none(), py::arg("method") = "cg",
      py::arg("preconditioner") = "none", py::arg("preconditioner_dtype") = "f64", py::arg("rtol") = 1e-8,
      py::arg("atol") = 0.0, py::arg("maxiter") = 1000, py::arg("restart") = 30, py::arg("ortho") = "dcgs2",
      py::arg("history") = true,
      "Solves A x = b in f64 (a float32 or float16 b is widened): returns (x, SolveReport).");
  py::class_<stencil_operator>(
      m, "LaplaceOperator",
      "The 5-point (2-D) or 7-point (3-D) Laplacian with zero Dirichlet boundaries on a "
      "grid of shape (ny, nx) or (nz, ny, nx), without a matrix: for solve(), with "
      "preconditioner='multigrid' (geometric V-cycle, preconditioner_dtype f64 or f32). Solves on "
      "several threads may share one.")
      .def(py::init([](const std::vector<std::int64_t>& shape) {
             if (shape.size() == 2)
               return std::make_unique<stencil_operator>(stencil::laplace_2d5(), grid_extent(shape[1], shape[0]));
             if (shape.size() == 3)
               return std::make_unique<stencil_operator>(stencil::laplace_3d7(),
                                                         grid_extent(shape[2], shape[1], shape[0]));
             throw py::value_error("LaplaceOperator: shape must be (ny, nx) or (nz, ny, nx)");
           }),
           py::arg("shape"))
      .def_property_readonly("n", [](const stencil_operator& a) { return a.rows(); })
      .def(
          "apply",
          [](const stencil_operator& a, py::object x) {
            const const_view xv = as_view(x, false, "x");
            py::object y = new_array(xv.type(), {a.rows()});
            a.apply(1.0, xv, 0.0, view_of_new(y));
            return y;
          },
          py::arg("x"), "y = A x (x: the grid's points in row-major order).")
      .def("__repr__", [](const stencil_operator& a) { return "mixprec.LaplaceOperator(" + a.describe() + ")"; });
  bind_operator_solvers<stencil_operator>(
      m, "Solves A x = b in f64 for a LaplaceOperator A (x, b: its grid's points in row-major order).",
      "The same for a LaplaceOperator; preconditioner 'multigrid' runs its V-cycle in the policy's matrix "
      "precision (f64 or f32).");

  py::class_<callback_operator>(
      m, "Operator",
      "A matrix-free operator from Python: Operator(n, matvec, name='python'), matvec(x) returning A x for x of "
      "n values (read-only and valid during the call only; f64, or f32 in refine()'s inner solves). solve() and "
      "refine() make one of a SciPy LinearOperator, as matrix or as preconditioner.")
      .def(py::init(&python_operator), py::arg("n"), py::arg("matvec"), py::arg("name") = "python")
      .def_property_readonly("n", [](const callback_operator& a) { return a.rows(); })
      .def("__repr__", [](const callback_operator& a) { return "mixprec.Operator(" + a.describe() + ")"; });
  bind_operator_solvers<callback_operator>(
      m, "Solves A x = b in f64 for a matrix-free Operator (its matvec called once per product).",
      "The same for an Operator: its matvec gets f32 vectors in the inner solves of an f32 policy.");

  m.def(
      "refine",
      [](const py_csr& a, py::object b, py::object x0, const std::string& policy, const std::string& inner,
         py::object precond, double rtol, int maxiter, double inner_rtol, int inner_maxiter, bool fallback) {
        const csr_operator op(a.matrix());
        return refine_with(op, b, x0, policy, inner, precond, rtol, maxiter, inner_rtol, inner_maxiter, fallback);
      },
      py::arg("a"), py::arg("b"), py::arg("x0") = py::none(), py::arg("policy") = "f32-ir", py::arg("inner") = "cg",
      py::arg("preconditioner") = "none", py::arg("rtol") = 1e-8, py::arg("maxiter") = 1000,
      py::arg("inner_rtol") = 1e-4, py::arg("inner_maxiter") = 1000, py::arg("fallback") = true,
      "FP64-accurate solve with the inner solves in a policy's precisions ('f32-ir', 'bf16/f32-ir', ...): (x, "
      "report).");
  m.def(
      "heat_steps",
      [](py::object u0, double r, int steps, const std::string& bc, double value) {
        const const_view in = as_view(u0, false, "u");
        if (in.rank() != 2 && in.rank() != 3)
          throw py::value_error("heat_steps: u must be 2-D (ny, nx) or 3-D (nz, ny, nx)");
        const grid_extent e = in.rank() == 2 ? grid_extent(in.extent(1), in.extent(0))
                                             : grid_extent(in.extent(2), in.extent(1), in.extent(0));
        boundary kind = boundary::dirichlet;
        if (bc == "periodic")
          kind = boundary::periodic;
        else if (bc == "neumann")
          kind = boundary::neumann;
        else if (bc != "dirichlet")
          throw py::value_error("boundary '" + bc + "' (dirichlet, periodic, neumann)");
        py::object out = new_array(in.type(), shape_of(in));
        const view ov = view_of_new(out);
        grid u(in.type(), e, 1), scratch(in.type(), e, 1);
        if (!in.is_contiguous()) throw py::value_error("heat_steps: u must be C-contiguous");
        copy_interior(grid::wrap(const_cast<void*>(in.data()), in.type(), e, 0, e.nx, e.nx * e.ny), u);
        grid& result = heat_steps(u, scratch, r, boundary_conditions::all(kind, value), steps);
        grid dst = grid::wrap(ov.data(), ov.type(), e, 0, e.nx, e.nx * e.ny);
        copy_interior(result, dst);
        return out;
      },
      py::arg("u"), py::arg("r"), py::arg("steps"), py::arg("boundary") = "dirichlet", py::arg("value") = 0.0,
      "Explicit Euler steps of u_t = Laplacian(u) (r = kappa dt / h^2): a new array.");
}

}  // namespace mixprec::python
