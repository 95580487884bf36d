// Allocation in a context, owning buffers, and explicit copies between memory spaces.
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

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
}  // namespace

void* allocate(const context_state& ctx, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (ctx.kind == backend::cuda) {
    char err[512] = {};
    void* p = nullptr;
    if (cuda_plugin()->allocate(ctx.device, bytes, &p, err, sizeof err) != 0)
      MIXPREC_THROW(out_of_memory, "allocate", "cannot allocate ", bytes, " bytes on cuda:",
                    ctx.device, ": ", err);
    return p;
  }
  // Large arrays get 2 MiB alignment and transparent huge pages: streaming kernels then miss
  // the TLB far less often.
  const bool large = bytes >= 2 * huge_page;
  const std::size_t align = large ? huge_page : cache_line;
  void* p = nullptr;
  if (posix_memalign(&p, align, (bytes + align - 1) / align * align) != 0 || !p)
    MIXPREC_THROW(out_of_memory, "allocate", "cannot allocate ", bytes, " bytes of host memory");
#if defined(MADV_HUGEPAGE)
  if (large) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void release(const context_state& ctx, void* p) noexcept {
  if (!p) return;
  if (ctx.kind == backend::cuda)
    cuda_plugin()->release(ctx.device, p);
  else
    std::free(p);
}

void copy_bytes(const context_state& src_ctx, const void* src, const context_state& dst_ctx,
                void* dst, std::size_t bytes) {
  if (bytes == 0) return;
  if (src_ctx.kind == backend::cpu && dst_ctx.kind == backend::cpu) {
    std::memmove(dst, src, bytes);
    return;
  }
  const copy_kind kind = src_ctx.kind == backend::cpu   ? copy_kind::host_to_device
                         : dst_ctx.kind == backend::cpu ? copy_kind::device_to_host
                                                        : copy_kind::device_to_device;
  void* stream = src_ctx.kind == backend::cuda ? src_ctx.stream : dst_ctx.stream;
  char err[512] = {};
  check_cuda(cuda_plugin()->copy(stream, dst, src, bytes, kind, err, sizeof err), "copy", err);
}

}  // namespace detail

void buffer::releaser::operator()(void* p) const {
  if (ctx) detail::release(*ctx, p);
}

buffer::buffer(dtype type, std::int64_t n, const context& ctx) : ctx_(ctx), type_(type), size_(n) {
  if (n < 0) MIXPREC_THROW(invalid_argument, "buffer", "size ", n, " is negative");
  if (!ctx.state()) MIXPREC_THROW(invalid_argument, "buffer", "the context is empty");
  data_ = std::unique_ptr<void, releaser>(detail::allocate(*ctx.state(), std::size_t(n) * size_of(type)),
                                          releaser{ctx.state()});
}

buffer buffer::to(const context& target) const {
  buffer out(type_, size_, target);
  if (size_ > 0) detail::copy_bytes(*ctx_.state(), data(), *target.state(), out.data(), bytes());
  return out;
}

void copy(const_view src, view dst) {
  if (!src.ctx().state() || !dst.ctx().state())
    MIXPREC_THROW(invalid_argument, "copy", "a view has no context (default-constructed)");
  if (src.type() != dst.type())
    MIXPREC_THROW(invalid_argument, "copy", "src is ", name_of(src.type()), " but dst is ",
                  name_of(dst.type()), "; use convert to change dtype");
  if (src.size() != dst.size())
    MIXPREC_THROW(shape_mismatch, "copy", "src has ", src.size(), " elements, dst has ",
                  dst.size());
  if (src.ctx().same_memory(dst.ctx())) {
    convert(src, dst);  // same dtype: a strided copy through the dispatched kernel
    return;
  }
  if (!src.is_contiguous() || !dst.is_contiguous())
    MIXPREC_THROW(unsupported, "copy", "copies between memory spaces need dense views");
  detail::copy_bytes(*src.ctx().state(), src.data(), *dst.ctx().state(), dst.data(),
                     std::size_t(src.size()) * size_of(src.type()));
}

}  // namespace mixprec
