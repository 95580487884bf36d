// The data caches of the machine the library runs on, as kernels size their blocks by them.
// Read once at run time (never the build machine's); a sane default where the OS does not say.
#pragma once

#include <cstdint>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace mixprec::detail {

/// Bytes of the L2 cache of one core (1 MiB when unknown: a common size on current servers).
inline std::int64_t l2_cache_bytes() {
  static const std::int64_t bytes = [] {
    long v = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE)
    v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return v > 0 ? std::int64_t(v) : std::int64_t(1) << 20;
  }();
  return bytes;
}

}  // namespace mixprec::detail
