// The memory system of the machine the library runs on, as kernels size their blocks and
// choose their stores by it. Read at run time (never the build machine's); a sane default
// where the OS does not say.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "internal/kernel_tuning.hpp"
#include "mixprec/context.hpp"

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

/// Whether outputs far larger than the caches should be written with non-temporal stores.
/// They spare the read of each line before it is overwritten, a third of a sweep's traffic
/// on cores that do that read, and are the established choice on Intel servers. On recent
/// AMD cores ordinary stores measured faster (docs/performance-notes.md), so AMD CPUs default
/// to ordinary stores. MIXPREC_STREAMING_STORES=1 or 0 overrides (kernel_tuning).
inline bool streaming_stores_pay() {
  if (tuning().streaming_stores >= 0) return tuning().streaming_stores == 1;
  static const bool pay = cpu_info().vendor != "AuthenticAMD";
  return pay;
}

}  // namespace mixprec::detail
