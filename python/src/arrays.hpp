// Python objects as mixprec views, without copies: NumPy arrays (any strides), mixprec
// tensors, bf16 arrays (uint16 data tagged bf16), and anything with __dlpack__ (PyTorch,
// JAX, CuPy). And new NumPy arrays for results.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"

namespace mixprec::python {

namespace py = pybind11;

/// bf16 data for Python: NumPy has no bfloat16, so a uint16 array of the bit patterns
/// carries the values and this tag says how to read them (mixprec.bf16(u16_array)).
struct bf16_array {
  py::array_t<std::uint16_t> bits;
};

/// A tensor whose memory mixprec or another framework owns: from mixprec.empty (a mixprec
/// buffer) or mixprec.from_dlpack (another framework's, kept alive until this is freed).
/// Exports itself through __dlpack__ and, on the CPU, the buffer protocol.
struct tensor {
  view v;
  std::shared_ptr<void> owner;
};

/// The view of a Python object; `writable` refuses read-only NumPy arrays (named `what`).
view as_view(py::handle obj, bool writable, const char* what);
/// The same, or an empty view for None.
view as_optional_view(py::handle obj, bool writable, const char* what);

/// Token ids, labels or positions as the int32 view the ops take. An int32 array is viewed
/// as it is; a NumPy array of another integer dtype (int64 is NumPy's default) is narrowed
/// into a new int32 array kept in `held`, once every value is checked to fit (a ValueError
/// naming the first that does not).
view as_index_view(py::handle obj, const char* what, py::object& held);

/// The operands one call only reads, for the ops on row-major matrices (unit column stride,
/// any row stride): a NumPy array (or mixprec.bf16) whose last dimension is strided, such as
/// a transpose, a column step or Fortran order, is copied to C order, as NumPy's own
/// functions take any layout. The copies live as long as this object: one call. Everything
/// else is viewed as it is. Outputs and arrays changed in place never come here (the write
/// would land in a copy); for them the library's error names the stride.
class row_major_inputs {
 public:
  const_view operator()(py::handle obj, const char* what);
  /// The same, or an empty view for None.
  const_view optional(py::handle obj, const char* what);

 private:
  std::vector<py::object> copies_;
};

/// A new C-contiguous array of `shape` for results of dtype t (bf16: a tagged uint16 array).
py::object new_array(dtype t, const std::vector<std::int64_t>& shape);
/// The view of an array new_array returned.
view view_of_new(const py::object& a);

dtype parse_dtype_name(const std::string& name);
/// "standard", "f64" or "compensated" (ValueError otherwise).
accumulation parse_accumulation(const std::string& name);
std::vector<std::int64_t> shape_of(const const_view& v);

void register_arrays(py::module_& m);

}  // namespace mixprec::python
