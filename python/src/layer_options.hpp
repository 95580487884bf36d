// Option parsing shared by the Python bindings of the layers (dense_ai.cpp) and of their
// training kernels (training.cpp).
#pragma once

#include <string>

#include "arrays.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/nn.hpp"

namespace mixprec::python {

inline activation parse_activation(const std::string& s) {
  if (s == "none") return activation::none;
  if (s == "relu") return activation::relu;
  if (s == "gelu_erf" || s == "gelu") return activation::gelu_erf;
  if (s == "gelu_tanh") return activation::gelu_tanh;
  if (s == "silu") return activation::silu;
  throw py::value_error("activation '" + s + "' (none, relu, gelu_erf, gelu_tanh, silu)");
}

/// `out` when given, else a new array of x's shape and dtype.
inline py::object output_like(py::object out, const const_view& x) {
  return out.is_none() ? new_array(x.type(), shape_of(x)) : out;
}

inline softmax_options softmax_opts(double scale, bool causal, std::int64_t offset, bool log, const const_view& mask,
                                    const std::string& acc) {
  softmax_options o;
  o.scale = scale;
  o.causal = causal;
  o.causal_offset = offset;
  o.log = log;
  o.mask = mask;
  o.acc = parse_accumulation(acc);
  return o;
}

inline norm_options norm_opts(double eps, const std::string& acc) {
  norm_options o;
  o.eps = eps;
  o.acc = parse_accumulation(acc);
  return o;
}

inline attention_options attention_opts(double scale, bool causal) {
  attention_options o;
  o.scale = scale;
  o.causal = causal;
  return o;
}

}  // namespace mixprec::python
