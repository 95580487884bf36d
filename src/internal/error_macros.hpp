// Throwing mixprec::error from the core: one macro, so every error carries file:line and
// the op's name, and messages are built from values without format strings.
#pragma once

#include <sstream>
#include <string>

#include "mixprec/error.hpp"

namespace mixprec::detail {

template <class... A>
std::string cat(const A&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void throw_error(status code, const char* op, std::string message, const char* file, int line);

}  // namespace mixprec::detail

/// MIXPREC_THROW(shape_mismatch, "axpy", "x has ", n, " elements, y has ", m)
#define MIXPREC_THROW(code, op, ...) \
  ::mixprec::detail::throw_error(::mixprec::status::code, op, ::mixprec::detail::cat(__VA_ARGS__), __FILE__, __LINE__)
