// The C interface between the core and libmixprec_cuda, which the core dlopen()s at run
// time so that the core itself never links the CUDA runtime or driver. The plugin exports
// one symbol, `mixprec_cuda_plugin`, returning this table; the core refuses a plugin whose
// abi_version differs from its own. Every call that can fail returns 0 on success, or
// non-zero with a message naming the failing CUDA call written into (err, err_len).
#pragma once

#include <cstddef>

#include "internal/registry.hpp"

namespace mixprec::detail {

enum class copy_kind : int { host_to_device = 0, device_to_host = 1, device_to_device = 2 };

struct cuda_plugin_api {
  int abi_version;
  const char* build_info;  // CUDA version and architectures the plugin was built for

  int (*device_count)(int* count, char* err, std::size_t err_len);
  int (*device_name)(int device, char* name, std::size_t len, char* err, std::size_t err_len);

  /// Per-context state: a stream and scratch memory on `device`.
  int (*create_state)(int device, void** state, void** stream, char* err, std::size_t err_len);
  void (*destroy_state)(void* state);

  /// Device memory for work on the context whose plugin state is `state`: freed blocks are
  /// cached and reused in stream order. An allocation that fails names the request and
  /// what the device has free.
  int (*allocate)(void* state, std::size_t bytes, void** ptr, char* err, std::size_t err_len);
  void (*release)(void* state, void* ptr);
  /// Copies `bytes` on the context's stream and waits for it; pageable host memory is
  /// staged through pinned buffers.
  int (*copy)(void* state, void* dst, const void* src, std::size_t bytes, copy_kind kind, char* err,
              std::size_t err_len);
  int (*synchronize)(void* stream, char* err, std::size_t err_len);
  /// The first error a kernel launch recorded on this thread since the last call, cleared.
  int (*take_kernel_error)(char* err, std::size_t err_len);

  void (*register_kernels)(const kernel_sink& sink);
};

using cuda_plugin_entry_fn = const cuda_plugin_api* (*)(int abi_version);

/// The loaded plugin, or null with *why set (loaded once per process).
const cuda_plugin_api* cuda_plugin(std::string* why = nullptr);
/// Throws backend_unavailable / the right status when a plugin call returned non-zero.
void check_cuda(int rc, const char* op, const char* err);

}  // namespace mixprec::detail
