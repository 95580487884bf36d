// mixprec/error.hpp — the one exception type of the C++ API.
//
//   try {
//     mixprec::axpy(2.0, x, y);
//   } catch (const mixprec::error& e) {
//     if (e.code() == mixprec::status::shape_mismatch) { ... }
//     std::cerr << e.what();   // "axpy: shape_mismatch: x has 10 elements, y has 12 (src/blas1.cpp:88)"
//   }
//
// Contract: an op validates all its arguments before it writes anything, so an op that
// throws has left its outputs untouched (an op that cannot promise this says so).
#pragma once

#include <exception>
#include <string>
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class status {
  success = 0,
  invalid_argument,     // a value is out of its domain (null data, negative size, bad stride)
  shape_mismatch,       // operand sizes do not agree
  unsupported,          // valid request that no kernel here implements
  backend_unavailable,  // CUDA asked for where there is no plugin, driver or device
  out_of_memory,
  numerical_breakdown,  // the computation cannot go on (overflow in low precision, breakdown)
  io,
  internal,
};

const char* name_of(status s);

class error : public std::exception {
 public:
  error(status code, std::string op, std::string message, const char* file, int line);

  status code() const noexcept { return code_; }
  const std::string& op() const noexcept { return op_; }
  const std::string& message() const noexcept { return message_; }
  const char* file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  status code_;
  std::string op_;
  std::string message_;
  const char* file_;
  int line_;
  std::string what_;
};

}  // namespace mixprec

MIXPREC_PUBLIC_END
