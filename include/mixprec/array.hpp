// mixprec/array.hpp — owning memory allocated in a context.
//
//   auto ctx = mixprec::context::best();
//   mixprec::array<float> x(1 << 20, ctx);            // uninitialised, 64-byte aligned
//   mixprec::fill(x.as_view(), 1.0);
//   mixprec::array<float> on_host = x.to(mixprec::context::cpu());   // explicit copy
//   float first = on_host[0];                          // element access: CPU arrays only
//
//   mixprec::buffer b(mixprec::dtype::bf16, 1000, ctx);   // the same, dtype chosen at run time
//
// Copies between contexts are always explicit (`to`, mixprec::copy); nothing migrates
// silently. Moving is cheap; copying an array object is disabled (use `to` or `clone`).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// Dtype-erased owning buffer of `size()` elements.
class buffer {
 public:
  buffer() = default;
  /// Allocates n elements of `type` in `ctx`, not initialised (memory may come back from the
  /// library's block cache); throws status::out_of_memory on failure.
  buffer(dtype type, std::int64_t n, const context& ctx = context::cpu());
  buffer(buffer&&) noexcept = default;
  buffer& operator=(buffer&&) noexcept = default;
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  dtype type() const { return type_; }
  std::int64_t size() const { return size_; }
  std::size_t bytes() const { return std::size_t(size_) * size_of(type_); }
  const context& ctx() const { return ctx_; }

  view as_view() { return view(data(), type_, {size_}, {1}, ctx_); }
  const_view as_view() const { return const_view(data(), type_, {size_}, {1}, ctx_); }

  /// A copy in `target` (which may be this buffer's context).
  buffer to(const context& target) const;

 private:
  struct releaser {
    std::shared_ptr<detail::context_state> ctx;
    std::size_t bytes;  // as allocated (host blocks are kept for reuse by size)
    void operator()(void* p) const;
  };
  context ctx_;
  dtype type_ = dtype::f64;
  std::int64_t size_ = 0;
  std::unique_ptr<void, releaser> data_;
};

/// Typed owning array; element access (operator[]) only for CPU arrays.
template <class T>
class array {
 public:
  array() = default;
  /// n elements, not initialised (as numpy.empty): fill them before they are read, e.g.
  /// before passing the array as a solver's starting guess.
  explicit array(std::int64_t n, const context& ctx = context::cpu()) : buf_(dtype_of<T>, n, ctx) {}
  /// Copies host values into a new array in `ctx`.
  array(const std::vector<T>& values, const context& ctx = context::cpu());

  T* data() { return static_cast<T*>(buf_.data()); }
  const T* data() const { return static_cast<const T*>(buf_.data()); }
  std::int64_t size() const { return buf_.size(); }
  const context& ctx() const { return buf_.ctx(); }

  T& operator[](std::int64_t i) { return data()[i]; }
  const T& operator[](std::int64_t i) const { return data()[i]; }

  view as_view() { return buf_.as_view(); }
  const_view as_view() const { return buf_.as_view(); }
  operator view() { return as_view(); }              // NOLINT(google-explicit-constructor)
  operator const_view() const { return as_view(); }  // NOLINT(google-explicit-constructor)

  array to(const context& target) const {
    array out;
    out.buf_ = buf_.to(target);
    return out;
  }
  array clone() const { return to(ctx()); }
  /// Copies the elements to a host std::vector (from any context).
  std::vector<T> to_vector() const;

 private:
  buffer buf_;
};

/// Copies src into dst: same dtype and size; contexts may differ (CPU <-> CUDA).
/// Strided views are supported within one memory space; across spaces both must be dense.
void copy(const_view src, view dst);

template <class T>
array<T>::array(const std::vector<T>& values, const context& ctx)
    : buf_(dtype_of<T>, std::int64_t(values.size()), ctx) {
  copy(make_view(values.data(), std::int64_t(values.size())), as_view());
}

template <class T>
std::vector<T> array<T>::to_vector() const {
  std::vector<T> out(static_cast<std::size_t>(size()));
  copy(as_view(), make_view(out.data(), size()));
  return out;
}

}  // namespace mixprec

MIXPREC_PUBLIC_END
