// The bytes a view touches, for the front ends' checks that an output does not overlap an
// input (GEMM, row_dots).
#pragma once

#include <cstdint>

#include "mixprec/view.hpp"

namespace mixprec::detail {

/// [lowest, highest) byte address a view touches; empty views give {0, 0}.
struct byte_span {
  std::uintptr_t lo = 0, hi = 0;
};

inline byte_span span_of(const const_view& v) {
  if (v.empty()) return {};
  std::int64_t lo = 0, hi = 0;
  for (int d = 0; d < v.rank(); ++d) {
    const std::int64_t reach = (v.extent(d) - 1) * v.stride(d);
    (reach < 0 ? lo : hi) += reach;
  }
  const std::int64_t es = std::int64_t(size_of(v.type()));
  const auto base = reinterpret_cast<std::uintptr_t>(v.data());
  return {base + std::uintptr_t(lo * es), base + std::uintptr_t((hi + 1) * es)};
}

inline bool overlap(const byte_span& a, const byte_span& b) { return a.lo < b.hi && b.lo < a.hi; }

}  // namespace mixprec::detail
