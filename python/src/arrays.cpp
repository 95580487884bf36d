// Python objects as mixprec views (see arrays.hpp), the bf16 tag, mixprec tensors and DLPack.
#include "arrays.hpp"

#include <limits>

#include <dlpack/dlpack.h>
#include <pybind11/stl.h>

#include "mixprec/dlpack.hpp"
#include "mixprec/error.hpp"

namespace mixprec::python {

namespace {

dtype dtype_of_numpy(const py::dtype& d, const char* what) {
  const char kind = d.kind();
  const auto size = d.itemsize();
  if (kind == 'f' && size == 8) return dtype::f64;
  if (kind == 'f' && size == 4) return dtype::f32;
  if (kind == 'f' && size == 2) return dtype::f16;
  if (kind == 'i' && size == 1) return dtype::i8;
  if (kind == 'u' && size == 1) return dtype::u8;
  if (kind == 'i' && size == 4) return dtype::i32;
  throw py::type_error(std::string(what) + ": NumPy dtype " + std::string(py::str(py::object(d))) +
                       " has no mixprec dtype (float64/32/16, int8, uint8, int32; bf16 as mixprec.bf16(uint16 array))");
}

view view_of_numpy(const py::array& a, dtype t, bool writable, const char* what) {
  if (writable && !a.writeable()) throw py::value_error(std::string(what) + " is a read-only array but is written");
  const int rank = int(a.ndim());
  if (rank < 1 || rank > max_rank)
    throw py::value_error(std::string(what) + " has " + std::to_string(rank) + " dimensions (1 to 4)");
  const auto item = py::ssize_t(size_of(t));
  std::int64_t e[max_rank] = {}, s[max_rank] = {};
  for (int d = 0; d < rank; ++d) {
    if (a.strides(d) % item != 0)
      throw py::value_error(std::string(what) + ": a stride of " + std::to_string(a.strides(d)) +
                            " bytes is not a whole number of elements");
    e[d] = a.shape(d);
    s[d] = a.strides(d) / item;
  }
  return make_view(const_cast<void*>(a.data()), t, rank, e, s);
}

/// Imports obj.__dlpack__() (a "dltensor" capsule), renaming the capsule as DLPack asks so
/// that its producer does not free it, and keeping the managed tensor until the tensor goes.
tensor import_dlpack(py::handle obj) {
  py::capsule cap = obj.attr("__dlpack__")();
  if (std::string(cap.name()) != "dltensor")
    throw py::value_error("from_dlpack: the capsule is '" + std::string(cap.name()) + "', not an unused 'dltensor'");
  auto* managed = static_cast<DLManagedTensor*>(cap.get_pointer());
  tensor t;
  t.v = from_dlpack(managed->dl_tensor);
  PyCapsule_SetName(cap.ptr(), "used_dltensor");
  t.owner = std::shared_ptr<void>(managed, [](void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    if (m->deleter) m->deleter(m);
  });
  return t;
}

}  // namespace

dtype parse_dtype_name(const std::string& name) { return parse_dtype(name); }

accumulation parse_accumulation(const std::string& name) {
  if (name == "standard") return accumulation::standard;
  if (name == "f64") return accumulation::f64;
  if (name == "compensated") return accumulation::compensated;
  throw py::value_error("accumulation '" + name + "' (standard, f64, compensated)");
}

std::vector<std::int64_t> shape_of(const const_view& v) {
  std::vector<std::int64_t> s(static_cast<std::size_t>(v.rank()));
  for (int d = 0; d < v.rank(); ++d) s[static_cast<std::size_t>(d)] = v.extent(d);
  return s;
}

view as_view(py::handle obj, bool writable, const char* what) {
  if (py::isinstance<tensor>(obj)) return obj.cast<tensor&>().v;
  if (py::isinstance<bf16_array>(obj)) return view_of_numpy(obj.cast<bf16_array&>().bits, dtype::bf16, writable, what);
  if (py::isinstance<py::array>(obj)) {
    const auto a = py::reinterpret_borrow<py::array>(obj);
    return view_of_numpy(a, dtype_of_numpy(a.dtype(), what), writable, what);
  }
  if (py::hasattr(obj, "__dlpack__")) {
    // The view outlives this call only through the caller's object, which owns the memory.
    tensor t = import_dlpack(obj);
    return t.v;
  }
  throw py::type_error(std::string(what) +
                       ": expected a NumPy array, mixprec.bf16, mixprec.Tensor or a DLPack tensor, got " +
                       std::string(py::str(obj.get_type())));
}

view as_index_view(py::handle obj, const char* what, py::object& held) {
  if (!py::isinstance<py::array>(obj)) return as_view(obj, false, what);
  const auto a = py::reinterpret_borrow<py::array>(obj);
  const char kind = a.dtype().kind();
  if ((kind != 'i' && kind != 'u') || (kind == 'i' && a.dtype().itemsize() == 4)) return as_view(obj, false, what);
  const py::module_ np = py::module_::import("numpy");
  const auto lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
  py::object beyond = np.attr("greater")(a, hi);
  if (kind == 'i') beyond = np.attr("logical_or")(beyond, np.attr("less")(a, lo));
  const py::array outside = np.attr("flatnonzero")(beyond);
  if (outside.size() > 0) {
    const py::tuple at = np.attr("unravel_index")(outside.attr("__getitem__")(0), a.attr("shape"));
    std::string index;
    for (const py::handle i : at) index += (index.empty() ? "" : ", ") + std::string(py::str(i));
    const py::object value = a.attr("__getitem__")(at);
    throw py::value_error(std::string(what) + "[" + index + "] = " + std::string(py::str(value)) +
                          " does not fit the int32 the ops take");
  }
  held = a.attr("astype")(np.attr("int32"));
  return as_view(held, false, what);
}

const_view row_major_inputs::operator()(py::handle obj, const char* what) {
  const view v = as_view(obj, false, what);
  const int last = v.rank() - 1;
  if (v.rank() < 1 || v.rank() > 2 || v.extent(last) < 2 || v.stride(last) == 1) return v;
  const bool bf16 = py::isinstance<bf16_array>(obj);
  if (!bf16 && !py::isinstance<py::array>(obj)) return v;  // a framework's tensor: its layout is the caller's
  const py::module_ np = py::module_::import("numpy");
  const py::object source = bf16 ? py::object(obj.cast<bf16_array&>().bits) : py::reinterpret_borrow<py::object>(obj);
  const py::array copy = np.attr("ascontiguousarray")(source);
  copies_.push_back(bf16 ? py::cast(bf16_array{py::reinterpret_borrow<py::array_t<std::uint16_t>>(copy)})
                         : py::object(copy));
  return as_view(copies_.back(), false, what);
}

const_view row_major_inputs::optional(py::handle obj, const char* what) {
  return obj.is_none() ? const_view{} : (*this)(obj, what);
}

view as_optional_view(py::handle obj, bool writable, const char* what) {
  return obj.is_none() ? view{} : as_view(obj, writable, what);
}

py::object new_array(dtype t, const std::vector<std::int64_t>& shape) {
  std::vector<py::ssize_t> s(shape.begin(), shape.end());
  switch (t) {
    case dtype::f64:
      return py::array_t<double>(s);
    case dtype::f32:
      return py::array_t<float>(s);
    case dtype::f16:
      return py::array(py::dtype("float16"), s);
    case dtype::bf16:
      return py::cast(bf16_array{py::array_t<std::uint16_t>(s)});
    case dtype::i8:
      return py::array_t<std::int8_t>(s);
    case dtype::u8:
      return py::array_t<std::uint8_t>(s);
    case dtype::i32:
      return py::array_t<std::int32_t>(s);
  }
  throw py::value_error("unknown dtype");
}

view view_of_new(const py::object& a) { return as_view(a, true, "result"); }

void register_arrays(py::module_& m) {
  py::class_<bf16_array>(m, "bf16",
                         "bf16 values as their uint16 bit patterns: mixprec.bf16(u16_array) tags an array so that "
                         "mixprec reads it as bfloat16 (no copy); .bits is the array.")
      .def(py::init([](py::array_t<std::uint16_t, 0> bits) {
             if (!py::isinstance<py::array_t<std::uint16_t>>(bits))
               throw py::type_error("mixprec.bf16 takes a uint16 array");
             return bf16_array{bits};
           }),
           py::arg("bits"))
      .def_property_readonly("bits", [](const bf16_array& b) { return b.bits; })
      .def_property_readonly("shape", [](const bf16_array& b) { return b.bits.attr("shape"); })
      .def("__repr__", [](const bf16_array& b) {
        return "mixprec.bf16(shape=" + std::string(py::str(b.bits.attr("shape"))) + ")";
      });

  py::class_<tensor>(m, "Tensor", py::buffer_protocol(),
                     "Memory mixprec or another framework owns (mixprec.empty, mixprec.from_dlpack); exchanged "
                     "without copies through __dlpack__ and, on the CPU, the buffer protocol (numpy.asarray).")
      .def_property_readonly("shape", [](const tensor& t) { return shape_of(t.v); })
      .def_property_readonly("dtype", [](const tensor& t) { return std::string(name_of(t.v.type())); })
      .def_property_readonly("device", [](const tensor& t) { return std::string(name_of(t.v.ctx().kind())); })
      .def(
          "__dlpack__",
          [](py::object self, py::object /*stream*/) {
            const tensor& t = self.cast<const tensor&>();
            // The capsule keeps the Python tensor (and so its memory) alive until the
            // consumer calls the deleter.
            auto* keep = new py::object(self);
            DLManagedTensor* managed = to_dlpack(t.v, std::shared_ptr<void>(keep, [](void* p) {
                                                   py::gil_scoped_acquire gil;
                                                   delete static_cast<py::object*>(p);
                                                 }));
            return py::capsule(managed, "dltensor", [](PyObject* cap) {
              // A capsule never consumed still owns the tensor.
              if (PyCapsule_IsValid(cap, "dltensor")) {
                auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
                if (m && m->deleter) m->deleter(m);
              }
            });
          },
          py::arg("stream") = py::none())
      .def("__dlpack_device__",
           [](const tensor& t) {
             return t.v.ctx().kind() == backend::cuda ? py::make_tuple(int(kDLCUDA), t.v.ctx().device())
                                                      : py::make_tuple(int(kDLCPU), 0);
           })
      .def_buffer([](tensor& t) -> py::buffer_info {
        if (t.v.ctx().kind() != backend::cpu) throw py::value_error("a CUDA tensor has no host buffer");
        static const char* formats[] = {"d", "f", "e", "H", "b", "B", "i"};  // bf16: its bits
        const auto item = py::ssize_t(size_of(t.v.type()));
        std::vector<py::ssize_t> shape, strides;
        for (int d = 0; d < t.v.rank(); ++d) {
          shape.push_back(t.v.extent(d));
          strides.push_back(t.v.stride(d) * item);
        }
        return py::buffer_info(t.v.data(), item, formats[int(t.v.type())], t.v.rank(), shape, strides);
      });

  m.def(
      "empty",
      [](std::vector<std::int64_t> shape, const std::string& type) {
        if (shape.empty() || shape.size() > std::size_t(max_rank))
          throw py::value_error("empty: shape must have 1 to 4 dimensions");
        std::int64_t n = 1;
        for (auto e : shape) {
          if (e < 0 || (e > 0 && n > (std::int64_t(1) << 62) / e))
            throw py::value_error("empty: extent " + std::to_string(e) + " is negative or the size passes 2^62");
          n *= e;
        }
        auto buf = std::make_shared<buffer>(parse_dtype(type), n);
        tensor t;
        t.v = make_view(buf->data(), buf->type(), int(shape.size()), shape.data(), nullptr, buf->ctx());
        t.owner = buf;
        return t;
      },
      py::arg("shape"), py::arg("dtype") = "f32",
      "A new uninitialized mixprec.Tensor in CPU memory (64-byte aligned); numpy.from_dlpack or numpy.asarray "
      "sees it without a copy.");
  m.def(
      "from_dlpack", [](py::object obj) { return import_dlpack(obj); }, py::arg("obj"),
      "Any object with __dlpack__ (a NumPy array, a PyTorch tensor) as a mixprec.Tensor, without a copy.");
}

}  // namespace mixprec::python
