// CUDA training ops (mixprec/train.hpp): activation, softmax and norm backward, the fused
// cross-entropy, the optimizer step and the gradient unscale, by the lane bodies of
// kernels/common/train_lanes.hpp, which the CPU's reference kernels run too. Element-wise
// steps take a thread per element; the row sums a block per row (block_all.cuh); the norm's
// weight gradients a thread per column, summing the rows in order (no atomics: the same
// result every run).
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/train_lanes.hpp"
#include "kernels/cuda/block_all.cuh"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;
using kern::train_lanes;

struct sums_op {
  __device__ kern::norm_backward_sums operator()(const kern::norm_backward_sums& a,
                                                 const kern::norm_backward_sums& b) const {
    return a.merged(b);
  }
};

template <class T>
__global__ void eltwise_backward_kernel(detail::eltwise_backward_args g) {
  MIXPREC_GRID_STRIDE(t, g.rows * g.cols)
  train_lanes::eltwise_backward_element<T>(g, t / g.cols, t % g.cols);
}

template <class T>
__global__ void softmax_backward_kernel(detail::softmax_backward_args g) {
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx i = blockIdx.x; i < g.rows; i += gridDim.x) {
    const float sum = block_all(train_lanes::softmax_backward_lane_sum<T>(g, i, lane, lanes), sum_op<float>{});
    train_lanes::softmax_backward_lane_store<T>(g, i, sum, lane, lanes);
  }
}

template <class T>
__global__ void norm_backward_rows_kernel(detail::norm_backward_args g, kern::norm_backward_row* rows) {
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx i = blockIdx.x; i < g.rows; i += gridDim.x) {
    const kern::norm_backward_sums s = block_all(train_lanes::norm_backward_lane_sums<T>(g, i, lane, lanes), sums_op{});
    float centered = 0;
    if (g.kind == detail::norm_kind::layer)
      centered = block_all(
          train_lanes::norm_backward_lane_centered<T>(g, i, train_lanes::norm_backward_mean(g, s), lane, lanes),
          sum_op<float>{});
    if (threadIdx.x == 0) rows[i] = train_lanes::norm_backward_coefficients(g, s, centered);
  }
}

template <class T>
__global__ void norm_backward_weights_kernel(detail::norm_backward_args g, const kern::norm_backward_row* rows) {
  MIXPREC_GRID_STRIDE(j, g.cols) train_lanes::norm_backward_weight_column<T>(g, j, rows);
}

template <class T>
__global__ void norm_backward_dx_kernel(detail::norm_backward_args g, const kern::norm_backward_row* rows) {
  MIXPREC_GRID_STRIDE(t, g.rows * g.cols) {
    const idx i = t / g.cols;
    train_lanes::norm_backward_dx_element<T>(g, i, t % g.cols, rows[i]);
  }
}

struct ce_op {
  __device__ train_lanes::ce_sums operator()(const train_lanes::ce_sums& a, const train_lanes::ce_sums& b) const {
    return train_lanes::ce_merged(a, b);
  }
};

template <class T>
__global__ void cross_entropy_kernel(detail::cross_entropy_args g) {
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx i = blockIdx.x; i < g.rows; i += gridDim.x) {
    const train_lanes::ce_sums row = block_all(train_lanes::ce_lane_max_sum<T>(g, i, lane, lanes), ce_op{});
    const float sumexp = block_all(train_lanes::ce_lane_sumexp<T>(g, i, row.max, lane, lanes), sum_op<float>{});
    train_lanes::ce_lane_finish<T>(g, i, row, sumexp, lane, lanes);
  }
}

template <class G, class M>
__global__ void optimizer_kernel(detail::optimizer_args g, detail::optimizer_tensor t) {
  MIXPREC_GRID_STRIDE(j, t.n) train_lanes::optimizer_element<G, M>(g, t, j);
}

template <class T>
__global__ void unscale_kernel(detail::unscale_args g, int* found) {
  MIXPREC_GRID_STRIDE(j, g.n)
  if (train_lanes::unscale_element<T>(g, j)) *found = 1;  // every writer writes the same 1
}

template <class T>
void eltwise_backward(const exec_args& ex, const detail::eltwise_backward_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  eltwise_backward_kernel<T><<<grid_for(g.rows * g.cols), block_threads, 0, st.stream>>>(g);
  check_launch("eltwise_backward_kernel");
}

template <class T>
void softmax_backward(const exec_args& ex, const detail::softmax_backward_args& g) {
  if (g.rows == 0 || g.cols == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  softmax_backward_kernel<T><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  check_launch("softmax_backward_kernel");
}

template <class T>
void norm_backward(const exec_args& ex, const detail::norm_backward_args& g) {
  if (g.rows == 0 || g.cols == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  auto* rows =
      static_cast<kern::norm_backward_row*>(device_take(st, std::size_t(g.rows) * sizeof(kern::norm_backward_row)));
  if (!rows) return pending_error("norm_backward row coefficients", "out of device memory");
  // Stream order: the weight gradients read x and dy before dx (which may replace either) is written.
  norm_backward_rows_kernel<T><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g, rows);
  if (check_launch("norm_backward_rows_kernel") && (g.dgamma || g.dbeta)) {
    norm_backward_weights_kernel<T><<<grid_for(g.cols), block_threads, 0, st.stream>>>(g, rows);
    check_launch("norm_backward_weights_kernel");
  }
  norm_backward_dx_kernel<T><<<grid_for(g.rows * g.cols), block_threads, 0, st.stream>>>(g, rows);
  check_launch("norm_backward_dx_kernel");
  device_give_back(st, rows);
}

template <class T>
void cross_entropy(const exec_args& ex, const detail::cross_entropy_args& g) {
  if (g.rows == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  cross_entropy_kernel<T><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  check_launch("cross_entropy_kernel");
}

/// A launch per tensor (the list is host memory; its pointers are the device's).
template <class G, class M>
void optimizer(const exec_args& ex, const detail::optimizer_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  for (idx t = 0; t < g.count; ++t) {
    if (g.tensors[t].n == 0) continue;
    optimizer_kernel<G, M><<<grid_for(g.tensors[t].n), block_threads, 0, st.stream>>>(g, g.tensors[t]);
    if (!check_launch("optimizer_kernel")) return;
  }
}

/// The scaling on the device; whether a value was not finite comes back to the host (the
/// caller's answer), one 4-byte copy per call.
template <class T>
void unscale(const exec_args& ex, const detail::unscale_args& g) {
  if (g.n == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  auto* found = static_cast<int*>(device_take(st, sizeof(int)));
  if (!found) return pending_error("unscale flag", "out of device memory");
  const cudaError_t e = cudaMemsetAsync(found, 0, sizeof(int), st.stream);
  if (e != cudaSuccess) {
    record_error("cudaMemsetAsync(unscale flag)", e);
  } else {
    unscale_kernel<T><<<grid_for(g.n), block_threads, 0, st.stream>>>(g, found);
    int host = 0;
    if (check_launch("unscale_kernel")) fetch_to_host(st, found, &host, sizeof host);
    if (host) *g.found = true;
  }
  device_give_back(st, found);
}

}  // namespace

void register_train_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  auto add = [&](auto tag) {
    using T = decltype(tag);
    const dtype t = dtype_of<T>;
    kern::add_kernel<detail::op_id::eltwise_backward>(sink, v, t, t, &eltwise_backward<T>);
    kern::add_kernel<detail::op_id::softmax_backward>(sink, v, t, t, &softmax_backward<T>);
    kern::add_kernel<detail::op_id::norm_backward>(sink, v, t, t, &norm_backward<T>);
    kern::add_kernel<detail::op_id::unscale>(sink, v, t, t, &unscale<T>);
    kern::add_kernel<detail::op_id::cross_entropy>(sink, v, t, t, &cross_entropy<T>);
    kern::add_kernel<detail::op_id::optimizer>(sink, v, t, dtype::f32, &optimizer<T, float>);
    kern::add_kernel<detail::op_id::optimizer>(sink, v, t, dtype::bf16, &optimizer<T, bfloat16>);
    kern::add_kernel<detail::op_id::optimizer>(sink, v, t, dtype::f16, &optimizer<T, half>);
  };
  add(float{});
  add(bfloat16{});
  add(half{});
}

}  // namespace mixprec::cuda
