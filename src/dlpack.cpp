// DLPack import and export: views of other frameworks' tensors, and managed tensors of ours.
#include "mixprec/dlpack.hpp"

#include <vector>

#include "internal/error_macros.hpp"

namespace mixprec {

namespace {

constexpr const char* op_in = "from_dlpack";

dtype dtype_from(const DLDataType& t) {
  if (t.lanes != 1)
    MIXPREC_THROW(unsupported, op_in, "dtype.lanes = ", int(t.lanes), " (vector types are not supported)");
  const int code = t.code, bits = t.bits;
  if (code == kDLFloat && bits == 64) return dtype::f64;
  if (code == kDLFloat && bits == 32) return dtype::f32;
  if (code == kDLFloat && bits == 16) return dtype::f16;
  if (code == kDLBfloat && bits == 16) return dtype::bf16;
  if (code == kDLInt && bits == 8) return dtype::i8;
  if (code == kDLUInt && bits == 8) return dtype::u8;
  if (code == kDLInt && bits == 32) return dtype::i32;
  MIXPREC_THROW(unsupported, op_in, "dtype code ", code, " with ", bits,
                " bits (float64/32/16, bfloat16, int8, uint8, int32)");
}

DLDataType dtype_to(dtype t) {
  switch (t) {
    case dtype::f64:
      return {kDLFloat, 64, 1};
    case dtype::f32:
      return {kDLFloat, 32, 1};
    case dtype::f16:
      return {kDLFloat, 16, 1};
    case dtype::bf16:
      return {kDLBfloat, 16, 1};
    case dtype::i8:
      return {kDLInt, 8, 1};
    case dtype::u8:
      return {kDLUInt, 8, 1};
    case dtype::i32:
      return {kDLInt, 32, 1};
  }
  MIXPREC_THROW(internal, "to_dlpack", "unknown dtype");
}

context context_from(const DLDevice& d) {
  switch (d.device_type) {
    case kDLCPU:
    case kDLCUDAHost:
      return context::cpu();
    case kDLCUDA:
    case kDLCUDAManaged:
      return context::cuda(d.device_id);
    default:
      MIXPREC_THROW(unsupported, op_in, "device_type ", int(d.device_type),
                    " (CPU, CUDA, CUDA host or managed memory)");
  }
}

/// What an exported tensor carries: its shape and strides arrays and the owner.
struct export_state {
  std::int64_t shape[max_rank] = {};
  std::int64_t strides[max_rank] = {};
  std::shared_ptr<void> owner;
  DLManagedTensor managed{};
};

}  // namespace

view from_dlpack(const DLTensor& t) {
  if (t.ndim < 1 || t.ndim > max_rank) MIXPREC_THROW(unsupported, op_in, "ndim = ", t.ndim, " (1 to ", max_rank, ")");
  if (!t.shape) MIXPREC_THROW(invalid_argument, op_in, "shape is NULL");
  const dtype type = dtype_from(t.dtype);
  context ctx = context_from(t.device);
  void* data = t.data ? static_cast<char*>(t.data) + t.byte_offset : nullptr;
  return make_view(data, type, t.ndim, t.shape, t.strides, std::move(ctx));
}

DLManagedTensor* to_dlpack(const view& v, std::shared_ptr<void> owner) {
  if (v.ctx().empty()) MIXPREC_THROW(invalid_argument, "to_dlpack", "the view has no context");
  auto state = std::make_unique<export_state>();
  for (int d = 0; d < v.rank(); ++d) {
    state->shape[d] = v.extent(d);
    state->strides[d] = v.stride(d);
  }
  state->owner = std::move(owner);
  DLTensor& t = state->managed.dl_tensor;
  t.data = v.data();
  t.device = v.ctx().kind() == backend::cuda ? DLDevice{kDLCUDA, v.ctx().device()} : DLDevice{kDLCPU, 0};
  t.ndim = v.rank();
  t.dtype = dtype_to(v.type());
  t.shape = state->shape;
  t.strides = state->strides;
  t.byte_offset = 0;
  state->managed.manager_ctx = state.get();
  state->managed.deleter = [](DLManagedTensor* self) { delete static_cast<export_state*>(self->manager_ctx); };
  return &state.release()->managed;
}

}  // namespace mixprec
