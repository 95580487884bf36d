// The kernel settings of internal/kernel_tuning.hpp, read from the environment once, and the
// memory-system facts of internal/cache_info.hpp, read from the OS once.
#include "internal/kernel_tuning.hpp"

#include "internal/cache_info.hpp"
#include "mixprec/context.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mixprec::detail {
namespace {

kernel_tuning from_environment() {
  kernel_tuning t;
  if (const char* e = std::getenv("MIXPREC_STREAMING_STORES"); e && *e) t.streaming_stores = std::strcmp(e, "0") != 0;
  if (const char* e = std::getenv("MIXPREC_WAVEFRONT_TILE")) {
    long x = 0, y = 0;
    if (std::sscanf(e, "%ld,%ld", &x, &y) == 2 && x > 0 && y > 0) {
      t.wavefront_tile_x = x;
      t.wavefront_tile_y = y;
    }
  }
  if (const char* e = std::getenv("MIXPREC_WAVEFRONT_LEVELS"))
    if (std::atoi(e) > 0) t.wavefront_levels = std::atoi(e);
  return t;
}

kernel_tuning& current() {
  static kernel_tuning t = from_environment();
  return t;
}

}  // namespace

const kernel_tuning& tuning() { return current(); }

scoped_kernel_tuning::scoped_kernel_tuning(const kernel_tuning& t) : previous_(current()) { current() = t; }
scoped_kernel_tuning::~scoped_kernel_tuning() { current() = previous_; }

std::int64_t l2_cache_bytes() {
  static const std::int64_t bytes = [] {
    long v = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE)
    v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return v > 0 ? std::int64_t(v) : std::int64_t(1) << 20;
  }();
  return bytes;
}

bool streaming_stores_pay() {
  if (tuning().streaming_stores >= 0) return tuning().streaming_stores == 1;
  static const bool pay = cpu_info().vendor != "AuthenticAMD";
  return pay;
}

}  // namespace mixprec::detail
