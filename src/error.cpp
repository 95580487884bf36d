// mixprec::error and the status names.
#include "mixprec/error.hpp"

#include "internal/error_macros.hpp"

namespace mixprec {

const char* name_of(status s) {
  switch (s) {
    case status::success:
      return "success";
    case status::invalid_argument:
      return "invalid_argument";
    case status::shape_mismatch:
      return "shape_mismatch";
    case status::unsupported:
      return "unsupported";
    case status::backend_unavailable:
      return "backend_unavailable";
    case status::out_of_memory:
      return "out_of_memory";
    case status::numerical_breakdown:
      return "numerical_breakdown";
    case status::io:
      return "io";
    case status::internal:
      return "internal";
  }
  return "unknown";
}

error::error(status code, std::string op, std::string message, const char* file, int line)
    : code_(code), op_(std::move(op)), message_(std::move(message)), file_(file), line_(line) {
  what_ = op_ + ": " + name_of(code_) + ": " + message_ + " (" + file_ + ":" + std::to_string(line_) + ")";
}

namespace detail {
void throw_error(status code, const char* op, std::string message, const char* file, int line) {
  throw error(code, op, std::move(message), file, line);
}
}  // namespace detail

}  // namespace mixprec
