// The mixprec Python module (_mixprec): NumPy/SciPy/DLPack arrays in and out without copies,
// and every family of the C++ API: conversions and BLAS-1, sparse matrices and solvers with
// their precision policies, dense solves, GEMM and quantization, transformer layers and
// training. mixprec/__init__.py adds the SciPy conveniences on top.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "mixprec/mixprec.hpp"

namespace py = pybind11;
using namespace mixprec;
using namespace mixprec::python;

namespace mixprec::python {
void register_sparse_and_solvers(py::module_& m);
void register_dense_ai(py::module_& m);
void register_training(py::module_& m);
}  // namespace mixprec::python

PYBIND11_MODULE(_mixprec, m) {
  m.doc() = "mixprec: mixed-precision kernels for simulation and AI (see mixprec/__init__.py)";

  // mixprec.Error (a RuntimeError) with .status naming the mixprec::status.
  static py::exception<error> mixprec_error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const error& e) {
      py::object instance = py::handle(mixprec_error.ptr())(e.what());
      instance.attr("status") = py::str(name_of(e.code()));
      PyErr_SetObject(mixprec_error.ptr(), instance.ptr());
    }
  });

  m.def("version", [] { return std::string(version_string()); });
  m.def(
      "cpu_isa", [] { return std::string(name_of(cpu_info().active)); },
      "The CPU kernels' instruction-set level in use (MIXPREC_CPU_ISA caps it).");

  register_arrays(m);

  // ---- conversions and BLAS-1 ------------------------------------------------------------
  m.def(
      "convert", [](py::object x, py::object y) { convert(as_view(x, false, "x"), as_view(y, true, "y")); },
      py::arg("x"), py::arg("y"), "y[:] = x converted to y's dtype (round to nearest even).");
  m.def(
      "astype",
      [](py::object x, const std::string& type) {
        const const_view xv = as_view(x, false, "x");
        py::object y = new_array(parse_dtype_name(type), shape_of(view_of_new(new_array(xv.type(), shape_of(xv)))));
        convert(xv, view_of_new(y));
        return y;
      },
      py::arg("x"), py::arg("dtype"), "A new array of x converted to dtype ('bf16' gives a mixprec.bf16).");
  m.def(
      "axpy", [](double a, py::object x, py::object y) { axpy(a, as_view(x, false, "x"), as_view(y, true, "y")); },
      py::arg("alpha"), py::arg("x"), py::arg("y"), "y += alpha x, in place.");
  m.def(
      "scal", [](double a, py::object x) { scal(a, as_view(x, true, "x")); }, py::arg("alpha"), py::arg("x"));
  m.def(
      "dot",
      [](py::object x, py::object y, const std::string& acc) {
        return dot(as_view(x, false, "x"), as_view(y, false, "y"), parse_accumulation(acc));
      },
      py::arg("x"), py::arg("y"), py::arg("accumulation") = "standard");
  m.def(
      "nrm2",
      [](py::object x, const std::string& acc) { return nrm2(as_view(x, false, "x"), parse_accumulation(acc)); },
      py::arg("x"), py::arg("accumulation") = "standard");
  m.def(
      "asum",
      [](py::object x, const std::string& acc) { return asum(as_view(x, false, "x"), parse_accumulation(acc)); },
      py::arg("x"), py::arg("accumulation") = "standard");
  m.def(
      "amax", [](py::object x) { return amax(as_view(x, false, "x")); }, py::arg("x"));

  register_sparse_and_solvers(m);
  register_dense_ai(m);
  register_training(m);
}
