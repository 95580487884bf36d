// A cache of freed device blocks with stream-ordered reuse, the scheme of the caching
// allocators of GPU frameworks: device allocation synchronises the device and costs tens of
// microseconds, while solvers and ops allocate work vectors per call.
//
// A freed block keeps the stream it was last used on and a fence recorded there when it was
// freed. The same stream may take it again at once (its later work runs after the earlier
// work that used the block); another stream only once the fence has passed. When the device
// is out of memory the idle blocks are given back and the allocation tried once more.
//
// Pure C++ over a Device policy, so that the bookkeeping is tested on the CPU:
//   bool Device::allocate(std::size_t, void**);   void Device::free(void*);
//   Device::fence Device::record(void* stream);   bool Device::passed(const fence&);
//   void Device::drop(const fence&);              void Device::synchronize();
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace mixprec::detail {

struct block_cache_stats {
  std::size_t in_use_bytes = 0, cached_bytes = 0;
  long long reuses = 0, allocations = 0, trims = 0;
};

template <class Device>
class stream_block_cache {
 public:
  explicit stream_block_cache(Device device, bool enabled = true) : device_(std::move(device)), enabled_(enabled) {}
  stream_block_cache(const stream_block_cache&) = delete;
  stream_block_cache& operator=(const stream_block_cache&) = delete;
  ~stream_block_cache() { trim(); }

  /// Requests are served in sizes of 512 bytes below 1 MiB and of 2 MiB above, so that
  /// vectors of nearby lengths share blocks.
  static std::size_t rounded(std::size_t bytes) {
    constexpr std::size_t small = 512, large = std::size_t(2) << 20;
    const std::size_t unit = bytes < (std::size_t(1) << 20) ? small : large;
    return (bytes + unit - 1) / unit * unit;
  }

  /// A block of at least `bytes` for work on `stream`, or null when the device has no room
  /// even after the idle blocks are given back.
  void* take(std::size_t bytes, void* stream) {
    const std::size_t size = rounded(bytes == 0 ? 1 : bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    if (enabled_) {
      if (void* p = reuse(size, stream)) return p;
    }
    void* p = nullptr;
    if (!device_.allocate(size, &p)) {
      trim_locked();
      if (!device_.allocate(size, &p)) return nullptr;
    }
    ++stats_.allocations;
    in_use_.emplace(p, size);
    stats_.in_use_bytes += size;
    return p;
  }

  /// Takes back a block from take(); `stream` is where it was last used.
  void give_back(void* p, void* stream) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = in_use_.find(p);
    if (it == in_use_.end()) return;  // not ours: never free what we did not allocate
    const std::size_t size = it->second;
    in_use_.erase(it);
    stats_.in_use_bytes -= size;
    if (!enabled_) {
      device_.free(p);
      return;
    }
    idle_.emplace(size, idle_block{p, stream, device_.record(stream)});
    stats_.cached_bytes += size;
  }

  /// The stream is about to be destroyed: its blocks wait for their fences from now on.
  void forget_stream(void* stream) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, b] : idle_)
      if (b.stream == stream) b.stream = nullptr;
  }

  /// Gives every idle block back to the device (after the device has finished with them).
  void trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    trim_locked();
  }

  block_cache_stats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  struct idle_block {
    void* ptr;
    void* stream;
    typename Device::fence fence;
  };

  /// Best fit among idle blocks of at most twice the size: first one last used on this
  /// stream, else one whose fence has passed.
  void* reuse(std::size_t size, void* stream) {
    const auto first = idle_.lower_bound(size), last = idle_.upper_bound(2 * size);
    auto chosen = idle_.end();
    for (auto it = first; it != last; ++it)
      if (stream && it->second.stream == stream) {
        chosen = it;
        break;
      }
    if (chosen == idle_.end())
      for (auto it = first; it != last; ++it)
        if (device_.passed(it->second.fence)) {
          chosen = it;
          break;
        }
    if (chosen == idle_.end()) return nullptr;
    void* p = chosen->second.ptr;
    const std::size_t held = chosen->first;
    device_.drop(chosen->second.fence);
    idle_.erase(chosen);
    stats_.cached_bytes -= held;
    stats_.in_use_bytes += held;
    in_use_.emplace(p, held);
    ++stats_.reuses;
    return p;
  }

  void trim_locked() {
    if (idle_.empty()) return;
    device_.synchronize();
    for (auto& [size, b] : idle_) {
      device_.drop(b.fence);
      device_.free(b.ptr);
    }
    idle_.clear();
    stats_.cached_bytes = 0;
    ++stats_.trims;
  }

  Device device_;
  bool enabled_;
  mutable std::mutex mutex_;
  std::multimap<std::size_t, idle_block> idle_;
  std::unordered_map<void*, std::size_t> in_use_;
  block_cache_stats stats_;
};

}  // namespace mixprec::detail
