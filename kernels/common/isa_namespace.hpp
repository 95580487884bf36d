// Code in kernels/common is compiled once per kernel folder, each with its own ISA flags
// (baseline, AVX2, AVX-512, ...). Its templates and inline functions would otherwise have
// one mangled name in every folder, and the linker would keep a single copy for all: the
// AVX-512 kernels could end up calling the baseline copy (slow), or the baseline kernels
// the AVX-512 copy (an illegal instruction on a CPU without it). So every folder's copy
// lives in its own inline namespace, named by the build (kernels/CMakeLists.txt). The same
// holds for the standard templates the code instantiates: local_vector below, not
// std::vector<float>; helpers of src/internal that the folders call are out of line in the
// core. tests/check_isa_objects_share_no_code.cmake checks every folder's objects for it.
#pragma once

#if !defined(MIXPREC_KERNEL_ISA)
#error "MIXPREC_KERNEL_ISA must name the kernel folder being compiled (set by kernels/CMakeLists.txt)"
#endif

#include <cstddef>
#include <new>
#include <vector>

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// std::allocator under a name of this folder. A std::vector<float> built in two folders is
/// one name with two bodies (the AVX-512 one may use AVX-512 to clear or copy); with this
/// allocator each folder's vectors are a type of their own, and their code stays theirs.
template <class T>
struct local_allocator {
  using value_type = T;
  local_allocator() = default;
  template <class U>
  local_allocator(const local_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
    else
      return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      ::operator delete(p, std::align_val_t(alignof(T)));
    else
      ::operator delete(p);
  }
  friend bool operator==(local_allocator, local_allocator) noexcept { return true; }
  friend bool operator!=(local_allocator, local_allocator) noexcept { return false; }
};

/// The vector kernel code uses for its scratch (see local_allocator).
template <class T>
using local_vector = std::vector<T, local_allocator<T>>;

/// A type of this folder, for the inline helpers of src/internal that the kernels inline in
/// their loops (src/internal/block_format.hpp): instantiated with it, a helper's copy here
/// is a name of this folder's, as local_allocator makes a vector's.
struct folder_tag {};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
