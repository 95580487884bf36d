// What a mixprec::context handle points to.
#pragma once

#include <atomic>
#include <string>

#include "internal/registry.hpp"
#include "mixprec/context.hpp"

namespace mixprec::detail {

struct context_state {
  backend kind = backend::cpu;
  int device = 0;
  int threads = 1;
  std::string reason;            // why this context was chosen (for describe())
  void* stream = nullptr;        // CUDA: the context's stream
  void* device_state = nullptr;  // CUDA: plugin state (stream, scratch)

  context_state() = default;
  context_state(const context_state&) = delete;
  context_state& operator=(const context_state&) = delete;
  ~context_state();

  exec_args exec() const { return exec_args{threads, stream, device_state}; }

  /// Host <-> device copies through this context (context::transfers()).
  mutable std::atomic<long long> to_device{0}, to_host{0}, transferred_bytes{0};
  void count_transfer(bool host_to_device, std::size_t bytes) const {
    (host_to_device ? to_device : to_host).fetch_add(1, std::memory_order_relaxed);
    transferred_bytes.fetch_add(static_cast<long long>(bytes), std::memory_order_relaxed);
  }
};

/// The library's way into a context handle (its state is private to users).
struct context_access {
  static const std::shared_ptr<context_state>& state(const context& c) { return c.state_; }
  /// A handle on a state built by hand (tests: a context that claims a CUDA device).
  static context make(std::shared_ptr<context_state> s) { return context(std::move(s)); }
};
/// The state a context handle points to (null for an empty context).
inline const std::shared_ptr<context_state>& state_of(const context& c) { return context_access::state(c); }

/// Allocates `bytes` in the context's memory (64-byte aligned on the CPU; 2 MiB aligned and
/// huge-page advised from 4 MiB up). Throws out_of_memory naming the size. Host blocks of
/// 128 KiB and more come from a cache of freed blocks of the same size when it has one.
void* allocate(const context_state& ctx, std::size_t bytes);
/// Frees (or, on the host, keeps for reuse) a block of `bytes` from allocate().
void release(const context_state& ctx, void* p, std::size_t bytes) noexcept;

/// Raw copy between memory spaces; `src_ctx`/`dst_ctx` say where each pointer lives.
void copy_bytes(const context_state& src_ctx, const void* src, const context_state& dst_ctx, void* dst,
                std::size_t bytes);

/// Name of the threading runtime the CPU kernels were built with.
const char* threading_runtime();

}  // namespace mixprec::detail
