// Per-context state of the CUDA plugin, and error capture for kernel launches.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "internal/registry.hpp"

namespace mixprec::cuda {

/// What a CUDA context owns: its device, its stream, scratch memory for reductions, the
/// vendor library handles bound to its stream (made on first use) and pinned staging
/// buffers for copies from and to pageable host memory (made on first use).
struct device_state {
  int device = 0;
  cudaStream_t stream = nullptr;
  void* scratch = nullptr;  // per-block partials and the final result
  std::size_t scratch_bytes = 0;
  void* cublas_handle = nullptr;
  void* cusparse_handle = nullptr;
  void* staging[2] = {nullptr, nullptr};  // pinned host buffers of staging_bytes each
  cudaEvent_t staged[2] = {nullptr, nullptr};
};

/// Device memory from the context's device cache (stream-ordered reuse; see
/// src/internal/stream_block_cache.hpp); null when the device has no room.
void* device_take(device_state& st, std::size_t bytes);
void device_give_back(device_state& st, void* p);

/// Blocks a reduction may use; its partials must fit the scratch buffer.
inline constexpr int max_reduction_blocks = 1024;
inline constexpr int block_threads = 256;
/// Room for one partial per block of the largest accumulator pack (8 compensated f64 sums),
/// then the merged results.
inline constexpr std::size_t result_slot_bytes = 256;
inline constexpr std::size_t scratch_bytes = std::size_t(max_reduction_blocks) * 256 + result_slot_bytes;

inline device_state& state_of(const detail::exec_args& ex) { return *static_cast<device_state*>(ex.device_state); }

/// The loop of every element kernel: i over [0, n), each thread from its global index in
/// steps of the whole grid (so any grid size covers any n).
#define MIXPREC_GRID_STRIDE(i, n)                                                     \
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += std::int64_t(gridDim.x) * blockDim.x)

/// Blocks of a grid-stride loop over n elements (the grid's x dimension limits them).
inline int grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + block_threads - 1) / block_threads;
  return int(std::max<std::int64_t>(1, std::min<std::int64_t>(blocks, 65535)));
}

/// Records the first failure of a launch on this thread; take_kernel_error() hands it to
/// the core, which throws.
void record_error(const char* what, cudaError_t e);

/// Records a failure that is not a cudaError_t (a vendor library's status).
void pending_error(const char* what, const char* message);

inline bool check_launch(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return true;
  record_error(kernel, e);
  return false;
}

/// Copies `bytes` of a result from device memory to the host on the context's stream and
/// waits for it: the one host round trip of a reduction.
inline void fetch_to_host(device_state& st, const void* dev, void* host, std::size_t bytes) {
  const cudaError_t e = cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, st.stream);
  if (e != cudaSuccess) return record_error("cudaMemcpyAsync(result)", e);
  const cudaError_t s = cudaStreamSynchronize(st.stream);
  if (s != cudaSuccess) record_error("cudaStreamSynchronize", s);
}

/// The smallest index that launch(first)'s kernels flag by atomicMin(first, index), copied
/// back to the host (one 8-byte round trip): ~0ull when none is flagged, or when the scan
/// could not run (its error recorded under `what`). The checks that refuse bad input before a
/// kernel writes anything (non-finite entries, ids outside a vocabulary) run so.
template <class Launch>
unsigned long long smallest_flagged(device_state& st, const char* what, Launch&& launch) {
  unsigned long long host = ~0ull;
  auto* first = static_cast<unsigned long long*>(device_take(st, sizeof host));
  if (!first) {
    pending_error(what, "out of device memory");
    return host;
  }
  const cudaError_t e = cudaMemsetAsync(first, 0xff, sizeof host, st.stream);
  if (e != cudaSuccess) {
    record_error(what, e);
  } else {
    launch(first);
    if (check_launch(what)) fetch_to_host(st, first, &host, sizeof host);
  }
  device_give_back(st, first);
  return host;
}

inline void set_error(char* err, std::size_t len, const char* call, cudaError_t e) {
  std::snprintf(err, len, "%s: %s (%s)", call, cudaGetErrorString(e), cudaGetErrorName(e));
}

}  // namespace mixprec::cuda
