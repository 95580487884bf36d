// Allocation in a context, owning buffers, and explicit copies between memory spaces.
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "internal/context_state.hpp"
#include "internal/cuda_plugin_api.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"

namespace mixprec {
namespace detail {

namespace {
constexpr std::size_t cache_line = 64;
constexpr std::size_t huge_page = std::size_t(2) << 20;

std::size_t alignment_for(std::size_t bytes) { return bytes >= 2 * huge_page ? huge_page : cache_line; }
std::size_t rounded(std::size_t bytes) {
  const std::size_t align = alignment_for(bytes);
  return (bytes + align - 1) / align * align;
}

/// Freed host blocks kept for reuse. Solvers and ops allocate their work vectors per call;
/// given back to the system, each new call faulted the pages in again and the kernel zeroed
/// them: over half the time of a Jacobi-FGMRES solve of 5,000 unknowns went to clearing
/// pages. Blocks of 128 KiB and more (smaller ones malloc keeps itself) are reused at their
/// exact rounded size; the cache holds at most MIXPREC_HOST_CACHE_MB (default 256, 0 turns
/// it off) and frees, rather than keeps, what would go over.
class host_block_cache {
 public:
  static host_block_cache& get() {
    static host_block_cache* cache = new host_block_cache;  // outlives buffers freed at exit
    return *cache;
  }
  static constexpr std::size_t smallest = std::size_t(128) << 10;

  void* take(std::size_t bytes) {
    if (bytes < smallest || capacity_ == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = blocks_.find(bytes);
    if (it == blocks_.end()) return nullptr;
    void* p = it->second;
    blocks_.erase(it);
    held_ -= bytes;
    return p;
  }
  bool keep(void* p, std::size_t bytes) {
    if (bytes < smallest || bytes > capacity_ / 4) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (held_ + bytes > capacity_) return false;
    blocks_.emplace(bytes, p);
    held_ += bytes;
    return true;
  }

 private:
  host_block_cache() {
    const char* mb = std::getenv("MIXPREC_HOST_CACHE_MB");
    capacity_ = (mb && *mb ? std::size_t(std::strtoull(mb, nullptr, 10)) : 256) << 20;
  }
  std::mutex mutex_;
  std::multimap<std::size_t, void*> blocks_;
  std::size_t held_ = 0, capacity_ = 0;
};

}  // namespace

void* allocate(const context_state& ctx, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (ctx.kind == backend::cuda) {
    char err[512] = {};
    void* p = nullptr;
    if (cuda_plugin()->allocate(ctx.device_state, bytes, &p, err, sizeof err) != 0)
      MIXPREC_THROW(out_of_memory, "allocate", "cannot allocate ", bytes, " bytes on cuda:", ctx.device, ": ", err);
    return p;
  }
  // Large arrays get 2 MiB alignment and transparent huge pages: streaming kernels then miss
  // the TLB far less often.
  const bool large = bytes >= 2 * huge_page;
  const std::size_t align = alignment_for(bytes);
  if (void* reused = host_block_cache::get().take(rounded(bytes))) return reused;
  void* p = nullptr;
  if (posix_memalign(&p, align, rounded(bytes)) != 0 || !p)
    MIXPREC_THROW(out_of_memory, "allocate", "cannot allocate ", bytes, " bytes of host memory");
#if defined(MADV_HUGEPAGE)
  if (large) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void release(const context_state& ctx, void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (ctx.kind == backend::cuda)
    cuda_plugin()->release(ctx.device_state, p);
  else if (!host_block_cache::get().keep(p, rounded(bytes)))
    std::free(p);
}

void copy_bytes(const context_state& src_ctx, const void* src, const context_state& dst_ctx, void* dst,
                std::size_t bytes) {
  if (bytes == 0) return;
  if (src_ctx.kind == backend::cpu && dst_ctx.kind == backend::cpu) {
    std::memmove(dst, src, bytes);
    return;
  }
  const copy_kind kind = src_ctx.kind == backend::cpu   ? copy_kind::host_to_device
                         : dst_ctx.kind == backend::cpu ? copy_kind::device_to_host
                                                        : copy_kind::device_to_device;
  const context_state& device_side = src_ctx.kind == backend::cuda ? src_ctx : dst_ctx;
  char err[512] = {};
  check_cuda(cuda_plugin()->copy(device_side.device_state, dst, src, bytes, kind, err, sizeof err), "copy", err);
  if (kind != copy_kind::device_to_device) device_side.count_transfer(kind == copy_kind::host_to_device, bytes);
}

}  // namespace detail

void buffer::releaser::operator()(void* p) const {
  if (ctx) detail::release(*ctx, p, bytes);
}

buffer::buffer(dtype type, std::int64_t n, const context& ctx) : ctx_(ctx), type_(type), size_(n) {
  if (n < 0) MIXPREC_THROW(invalid_argument, "buffer", "size ", n, " is negative");
  if (ctx.empty()) MIXPREC_THROW(invalid_argument, "buffer", "the context is empty");
  const std::size_t bytes = std::size_t(n) * size_of(type);
  data_ = std::unique_ptr<void, releaser>(detail::allocate(*detail::state_of(ctx), bytes),
                                          releaser{detail::state_of(ctx), bytes});
}

buffer buffer::to(const context& target) const {
  buffer out(type_, size_, target);
  if (size_ > 0) detail::copy_bytes(*detail::state_of(ctx_), data(), *detail::state_of(target), out.data(), bytes());
  return out;
}

void copy(const_view src, view dst) {
  if (src.ctx().empty() || dst.ctx().empty())
    MIXPREC_THROW(invalid_argument, "copy", "a view has no context (default-constructed)");
  if (src.type() != dst.type())
    MIXPREC_THROW(invalid_argument, "copy", "src is ", name_of(src.type()), " but dst is ", name_of(dst.type()),
                  "; use convert to change dtype");
  if (src.size() != dst.size())
    MIXPREC_THROW(shape_mismatch, "copy", "src has ", src.size(), " elements, dst has ", dst.size());
  if (src.ctx().same_memory(dst.ctx())) {
    convert(src, dst);  // same dtype: a strided copy through the dispatched kernel
    return;
  }
  if (!src.is_contiguous() || !dst.is_contiguous())
    MIXPREC_THROW(unsupported, "copy", "copies between memory spaces need dense views");
  detail::copy_bytes(*detail::state_of(src.ctx()), src.data(), *detail::state_of(dst.ctx()), dst.data(),
                     std::size_t(src.size()) * size_of(src.type()));
}

}  // namespace mixprec
