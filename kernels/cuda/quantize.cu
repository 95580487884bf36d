// CUDA quantize / dequantize: a thread per element running the CPU's element bodies
// (kernels/common/quant_math.hpp). The scales and zero points are host arrays in the API
// (mixprec::quant_params); each call copies them to a device block first, stream-ordered,
// a few bytes per parameter beside the tensor's. The GGUF block matmul: x's blocks
// quantized to Q8_0 a thread per block, then a thread per output, by the CPU reference's
// bodies (kernels/common/block_matmul_lanes.hpp).
#include "kernels/common/block_matmul_lanes.hpp"
#include "kernels/common/quant_math.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

template <class X, class Q>
__global__ void quantize_kernel(detail::quant_args a) {
  MIXPREC_GRID_STRIDE(t, a.rows * a.cols)
  kern::quantize_element<X, Q>(a, t / a.cols, t % a.cols, kern::quant_params_of_row(a, t / a.cols));
}

template <class Q, class X>
__global__ void dequantize_kernel(detail::quant_args a) {
  MIXPREC_GRID_STRIDE(t, a.rows * a.cols)
  kern::dequantize_element<Q, X>(a, t / a.cols, t % a.cols, kern::quant_params_of_row(a, t / a.cols));
}

/// The parameters in device memory: a's scale and zero_point pointers replaced, the block
/// returned in *block (given back by the caller after the launch); false on failure.
bool parameters_on_device(device_state& st, detail::quant_args& a, void** block) {
  const idx count = ((a.rows + a.row_div - 1) / a.row_div) * a.grid_cols;
  const std::size_t bytes = std::size_t(count) * (sizeof(float) + sizeof(std::int32_t));
  *block = device_take(st, bytes);
  if (!*block) {
    pending_error("quantize parameters", "out of device memory");
    return false;
  }
  auto* scale = static_cast<float*>(*block);
  auto* zero = reinterpret_cast<std::int32_t*>(scale + count);
  cudaError_t e =
      cudaMemcpyAsync(scale, a.scale, std::size_t(count) * sizeof(float), cudaMemcpyHostToDevice, st.stream);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(zero, a.zero_point, std::size_t(count) * sizeof(std::int32_t), cudaMemcpyHostToDevice,
                        st.stream);
  if (e != cudaSuccess) {
    record_error("cudaMemcpyAsync(quantize parameters)", e);
    return false;
  }
  a.scale = scale;
  a.zero_point = zero;
  return true;
}

template <bool Quantize, class From, class To>
void run(const exec_args& ex, const detail::quant_args& args) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  detail::quant_args a = args;
  void* block = nullptr;
  if (parameters_on_device(st, a, &block)) {
    if constexpr (Quantize)
      quantize_kernel<From, To><<<grid_for(a.rows * a.cols), block_threads, 0, st.stream>>>(a);
    else
      dequantize_kernel<From, To><<<grid_for(a.rows * a.cols), block_threads, 0, st.stream>>>(a);
    check_launch(Quantize ? "quantize_kernel" : "dequantize_kernel");
  }
  device_give_back(st, block);
}

using B = kern::block_matmul_lanes;

__global__ void quantize_x_blocks_kernel(detail::block_matmul_args a, float* dx, std::int8_t* qx) {
  const std::int64_t blocks = B::blocks(a);
  MIXPREC_GRID_STRIDE(e, a.m * blocks) {
    const std::int64_t i = e / blocks, b = e % blocks;
    B::quantize_x_block(a, i, b, dx + e, qx + i * a.k + b * detail::qk);
  }
}

/// j fastest: a warp shares x's quantized row and reads consecutive weight rows.
__global__ void block_outputs_kernel(detail::block_matmul_args a, const float* dx, const std::int8_t* qx) {
  const std::int64_t blocks = B::blocks(a);
  MIXPREC_GRID_STRIDE(e, a.m * a.n) {
    const std::int64_t i = e / a.n, j = e % a.n;
    a.y[i * a.ldy + j] = B::output(a, dx + i * blocks, qx + i * a.k, j);
  }
}

void block_matmul(const detail::exec_args& ex, const detail::block_matmul_args& a) {
  if (a.m == 0 || a.n == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const std::int64_t blocks = B::blocks(a);
  const std::size_t scale_bytes = std::size_t(a.m * blocks) * sizeof(float);
  auto* scratch = static_cast<char*>(device_take(st, scale_bytes + std::size_t(a.m * a.k)));
  if (!scratch) return pending_error("block_matmul", "out of device memory for x's quantized blocks");
  auto* dx = reinterpret_cast<float*>(scratch);
  auto* qx = reinterpret_cast<std::int8_t*>(scratch + scale_bytes);
  quantize_x_blocks_kernel<<<grid_for(a.m * blocks), block_threads, 0, st.stream>>>(a, dx, qx);
  if (check_launch("quantize_x_blocks_kernel")) {
    block_outputs_kernel<<<grid_for(a.m * a.n), block_threads, 0, st.stream>>>(a, dx, qx);
    check_launch("block_outputs_kernel");
  }
  device_give_back(st, scratch);  // stream-ordered: reused only by work queued after these
}

}  // namespace

void register_quantize_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  auto add = [&](auto x_tag) {
    using X = decltype(x_tag);
    kern::add_kernel<detail::op_id::quantize>(sink, v, dtype_of<X>, dtype::i8, &run<true, X, std::int8_t>);
    kern::add_kernel<detail::op_id::quantize>(sink, v, dtype_of<X>, dtype::u8, &run<true, X, std::uint8_t>);
  };
  add(float{});
  add(bfloat16{});
  add(half{});
  kern::add_kernel<detail::op_id::dequantize>(sink, v, dtype::i8, dtype::f32, &run<false, std::int8_t, float>);
  kern::add_kernel<detail::op_id::dequantize>(sink, v, dtype::u8, dtype::f32, &run<false, std::uint8_t, float>);
  kern::add_kernel<detail::op_id::dequantize>(sink, v, dtype::i8, dtype::bf16, &run<false, std::int8_t, bfloat16>);
  kern::add_kernel<detail::op_id::dequantize>(sink, v, dtype::u8, dtype::bf16, &run<false, std::uint8_t, bfloat16>);
  kern::add_kernel<detail::op_id::block_matmul>(sink, v, dtype::f32, dtype::f32, &block_matmul);
}

}  // namespace mixprec::cuda
