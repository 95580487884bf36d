// The memory system of the machine the library runs on, as kernels size their blocks and
// choose their stores by it. Read at run time (never the build machine's); a sane default
// where the OS does not say.
#pragma once

#include <cstdint>

namespace mixprec::detail {

// Out of line, in the core (src/kernel_tuning.cpp): kernel folders built with wider ISA flags
// call them, and each cached value is one for the process.

/// Bytes of the L2 cache of one core (1 MiB when unknown: a common size on current servers).
std::int64_t l2_cache_bytes();

/// Whether outputs far larger than the caches should be written with non-temporal stores.
/// They spare the read of each line before it is overwritten, a third of a sweep's traffic
/// on cores that do that read, and are the established choice on Intel servers. On recent
/// AMD cores ordinary stores measured faster (docs/performance-notes.md), so AMD CPUs default
/// to ordinary stores. MIXPREC_STREAMING_STORES=1 or 0 overrides (kernel_tuning).
bool streaming_stores_pay();

}  // namespace mixprec::detail
