// Kernel settings a user may override from the environment, for tuning on machines unlike
// the ones the defaults were measured on. Read once, at first use, not at every call:
//   MIXPREC_STREAMING_STORES=0|1   non-temporal stores for outputs past 32 MiB (default: by CPU)
//   MIXPREC_WAVEFRONT_TILE=bx,by   tile of the time-blocked stencil sweeps (default: chosen)
//   MIXPREC_WAVEFRONT_LEVELS=n     most sweeps per pass of those sweeps (default: chosen)
// Tests reach the overridden paths with scoped_kernel_tuning.
#pragma once

#include <cstdint>

namespace mixprec::detail {

struct kernel_tuning {
  int streaming_stores = -1;          // -1: as the CPU's vendor suggests; 0 or 1: as set
  std::int64_t wavefront_tile_x = 0;  // 0: chosen by the kernel (with tile_y)
  std::int64_t wavefront_tile_y = 0;
  int wavefront_levels = 0;  // 0: chosen by the kernel
};

/// The settings in force: the environment's, read at the first call.
const kernel_tuning& tuning();

/// Replaces the settings for a scope (tests); not for use while kernels run on other threads.
class scoped_kernel_tuning {
 public:
  explicit scoped_kernel_tuning(const kernel_tuning& t);
  ~scoped_kernel_tuning();
  scoped_kernel_tuning(const scoped_kernel_tuning&) = delete;
  scoped_kernel_tuning& operator=(const scoped_kernel_tuning&) = delete;

 private:
  kernel_tuning previous_;
};

}  // namespace mixprec::detail
