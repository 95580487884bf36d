// mixprec/dlpack.hpp — tensors in and out through DLPack, the exchange format of NumPy,
// PyTorch, JAX and CuPy, without copies. Needs <dlpack/dlpack.h> (Debian: libdlpack-dev).
//
//   // in: a tensor another framework exported (its capsule's DLManagedTensor)
//   mixprec::view x = mixprec::from_dlpack(managed->dl_tensor);   // CPU or CUDA memory
//   mixprec::scal(2.0, x);                                         // in place, no copy
//   managed->deleter(managed);                                     // when done with x
//
//   // out: a buffer handed to another framework, which calls the deleter when done
//   auto owner = std::make_shared<mixprec::buffer>(mixprec::dtype::f32, n);
//   DLManagedTensor* t = mixprec::to_dlpack(owner->as_view(), owner);
#pragma once

#include <dlpack/dlpack.h>

#include <memory>

#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

/// A view of t's memory: rank 1 to 4; dtypes float64/32/16, bfloat16, int8, uint8, int32
/// with one lane; strides in elements (NULL: compact row-major); byte_offset applied.
/// kDLCPU and kDLCUDAHost memory gets a CPU context, kDLCUDA and kDLCUDAManaged memory
/// context::cuda(device_id) (backend_unavailable where that device cannot be used). Anything
/// else is refused naming the field at fault. The view does not own the memory.
view from_dlpack(const DLTensor& t);

/// A DLPack tensor describing v (a CPU or CUDA view) whose deleter releases `owner`, the
/// object that keeps v's memory alive (a buffer, an array, a Python object); the receiver
/// calls the deleter once it no longer needs the memory.
DLManagedTensor* to_dlpack(const view& v, std::shared_ptr<void> owner);

}  // namespace mixprec

MIXPREC_PUBLIC_END
