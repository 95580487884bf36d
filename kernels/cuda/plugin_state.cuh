// Per-context state of the CUDA plugin, and error capture for kernel launches.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>

namespace mixprec::cuda {

/// What a CUDA context owns: its device, its stream and scratch memory for reductions.
struct device_state {
  int device = 0;
  cudaStream_t stream = nullptr;
  void* scratch = nullptr;  // per-block partials and the final result
  std::size_t scratch_bytes = 0;
};

/// Blocks a reduction may use; its partials must fit the scratch buffer.
inline constexpr int max_reduction_blocks = 1024;
inline constexpr int block_threads = 256;
inline constexpr std::size_t scratch_bytes = std::size_t(max_reduction_blocks + 1) * 64;

/// Records the first failure of a launch on this thread; take_kernel_error() hands it to
/// the core, which throws.
void record_error(const char* what, cudaError_t e);

inline bool check_launch(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return true;
  record_error(kernel, e);
  return false;
}

inline void set_error(char* err, std::size_t len, const char* call, cudaError_t e) {
  std::snprintf(err, len, "%s: %s (%s)", call, cudaGetErrorString(e), cudaGetErrorName(e));
}

}  // namespace mixprec::cuda
