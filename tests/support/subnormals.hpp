// Values in a storage format's subnormal range, for the tests that results there are stored
// as that format's subnormals, not flushed to zero (an instruction that rounds f32 to bf16
// may treat subnormal inputs as zero; the contract does not).
#pragma once

#include <cstdint>
#include <vector>

#include "support/harness.hpp"

namespace mixprec::test {

/// n values +1, -2, +3, ... times the smallest subnormal of storage t (f32, bf16 or f16), in
/// T: at the default n, two 16-lane vectors and a tail.
template <class T>
std::vector<T> subnormal_ladder(dtype t, std::int64_t n = 37) {
  const double smallest = t == dtype::f16 ? 0x1p-24 : t == dtype::bf16 ? 0x1p-133 : 0x1p-149;
  std::vector<T> v(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) v[std::size_t(j)] = T((j % 2 ? -1.0 : 1.0) * double(j + 1) * smallest);
  return v;
}

}  // namespace mixprec::test
