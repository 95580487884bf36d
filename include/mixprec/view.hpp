// mixprec/view.hpp — non-owning views: pointer, dtype, shape, strides, context.
//
//   std::vector<float> v(100);
//   mixprec::view x = mixprec::make_view(v.data(), 100);          // CPU memory, stride 1
//   mixprec::view every_other = mixprec::make_view(v.data(), 50, 2);
//   mixprec::const_view m = mixprec::make_view(cptr, {rows, cols}, {ld, 1});   // row-major
//
// A view wraps memory the caller owns (a simulation code's array, an Eigen::Map, a tensor
// from an ML engine) without copying; it must not outlive that memory. Strides are in
// elements and may be negative (the view then walks backwards from `data`, which points at
// element 0). The context says which memory space the pointer belongs to: a CUDA pointer
// must be wrapped with a CUDA context.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

inline constexpr int max_rank = 4;

namespace detail {
// Throws mixprec::error(invalid_argument) naming the problem: negative extent, rank out of
// range, null data for a non-empty view, stride count not matching the shape.
void check_view_args(const void* data, int rank, const std::int64_t* shape, const std::int64_t* strides,
                     std::size_t n_strides);
}  // namespace detail

template <bool Const>
class basic_view {
 public:
  using pointer = std::conditional_t<Const, const void*, void*>;

  basic_view() = default;
  /// A general view. `strides` empty means dense row-major.
  basic_view(pointer data, dtype type, std::initializer_list<std::int64_t> shape,
             std::initializer_list<std::int64_t> strides, context ctx)
      : data_(data), type_(type), rank_(int(shape.size())), ctx_(std::move(ctx)) {
    detail::check_view_args(data, rank_, shape.begin(), strides.size() ? strides.begin() : nullptr, strides.size());
    int i = 0;
    for (auto e : shape) shape_[i++] = e;
    if (strides.size()) {
      i = 0;
      for (auto s : strides) strides_[i++] = s;
    } else {
      std::int64_t s = 1;
      for (int d = rank_ - 1; d >= 0; --d) {
        strides_[d] = s;
        s *= shape_[d];
      }
    }
  }

  /// A mutable view converts to a const one, never the other way.
  template <bool C = Const, class = std::enable_if_t<C>>
  basic_view(const basic_view<false>& other)  // NOLINT(google-explicit-constructor)
      : data_(other.data()), type_(other.type()), rank_(other.rank()), ctx_(other.ctx()) {
    for (int d = 0; d < rank_; ++d) {
      shape_[d] = other.extent(d);
      strides_[d] = other.stride(d);
    }
  }

  pointer data() const { return data_; }
  dtype type() const { return type_; }
  int rank() const { return rank_; }
  std::int64_t extent(int d) const { return shape_[d]; }
  std::int64_t stride(int d) const { return strides_[d]; }
  const context& ctx() const { return ctx_; }

  std::int64_t size() const {
    std::int64_t n = rank_ ? 1 : 0;
    for (int d = 0; d < rank_; ++d) n *= shape_[d];
    return n;
  }
  bool empty() const { return size() == 0; }

  /// Dense row-major with unit innermost stride.
  bool is_contiguous() const {
    std::int64_t s = 1;
    for (int d = rank_ - 1; d >= 0; --d) {
      if (shape_[d] != 1 && strides_[d] != s) return false;
      s *= shape_[d];
    }
    return true;
  }

  /// Typed pointer; T must match the view's dtype (checked).
  template <class T>
  auto typed() const -> std::conditional_t<Const, const T*, T*>;

 private:
  pointer data_ = nullptr;
  dtype type_ = dtype::f64;
  int rank_ = 0;
  std::int64_t shape_[max_rank] = {};
  std::int64_t strides_[max_rank] = {};
  context ctx_;
};

using view = basic_view<false>;
using const_view = basic_view<true>;

namespace detail {
void check_typed_access(dtype have, dtype want);
}

template <bool Const>
template <class T>
auto basic_view<Const>::typed() const -> std::conditional_t<Const, const T*, T*> {
  detail::check_typed_access(type_, dtype_of<T>);
  return static_cast<std::conditional_t<Const, const T*, T*>>(data_);
}

/// A view whose rank is known at run time only (1 to max_rank), as C callers, DLPack and
/// Python hand shapes over: shape[rank] extents and strides[rank] in elements (strides null:
/// dense row-major).
view make_view(void* data, dtype type, int rank, const std::int64_t* shape, const std::int64_t* strides,
               context ctx = context::cpu());

/// A rank-1 view of n elements, `inc` apart, in `ctx`'s memory (the CPU by default).
template <class T>
view make_view(T* data, std::int64_t n, std::int64_t inc = 1, context ctx = context::cpu()) {
  return view(data, dtype_of<T>, {n}, {inc}, std::move(ctx));
}
template <class T>
const_view make_view(const T* data, std::int64_t n, std::int64_t inc = 1, context ctx = context::cpu()) {
  return const_view(data, dtype_of<T>, {n}, {inc}, std::move(ctx));
}
/// A tensor view with explicit shape and strides (empty strides: dense row-major).
template <class T>
view make_view(T* data, std::initializer_list<std::int64_t> shape, std::initializer_list<std::int64_t> strides = {},
               context ctx = context::cpu()) {
  return view(data, dtype_of<T>, shape, strides, std::move(ctx));
}
template <class T>
const_view make_view(const T* data, std::initializer_list<std::int64_t> shape,
                     std::initializer_list<std::int64_t> strides = {}, context ctx = context::cpu()) {
  return const_view(data, dtype_of<T>, shape, strides, std::move(ctx));
}

}  // namespace mixprec

MIXPREC_PUBLIC_END
