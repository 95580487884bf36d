// CUDA row-wise NN ops (mixprec/nn.hpp): the lane bodies of kernels/common/nn_lanes.hpp,
// which the CPU's reference kernels run too. Element-wise ops take a thread per element and
// RoPE a thread per rotated pair; softmax and the norms take a block per row, its threads
// the lanes, merging each step's parts (block_all.cuh) before the next step. The embedding
// lookup checks its ids on the device, then gathers a thread per output entry.
#include <limits>

#include "kernels/common/nn_lanes.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/block_all.cuh"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

template <class A>
struct max_op {
  __device__ A operator()(A a, A b) const { return kern::nn_lanes<A>::max_of(a, b); }
};

template <class T>
__global__ void eltwise_kernel(detail::eltwise_args g) {
  MIXPREC_GRID_STRIDE(t, g.rows * g.cols)
  kern::nn_lanes<float>::eltwise_element<T>(g, t / g.cols, t % g.cols);
}

template <class T, class A>
__global__ void softmax_kernel(detail::softmax_args g) {
  using B = kern::nn_lanes<A>;
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx i = blockIdx.x; i < g.rows; i += gridDim.x) {
    const idx len = B::softmax_length(g, i);
    const A max = block_all(B::template softmax_lane_max<T>(g, i, len, lane, lanes), max_op<A>{});
    A sum = 0;
    if (max != -std::numeric_limits<A>::infinity())  // the same for the whole block
      sum = block_all(B::template softmax_lane_sum<T>(g, i, len, max, lane, lanes), sum_op<A>{});
    B::template softmax_lane_store<T>(g, i, len, max, sum, lane, lanes);
  }
}

template <class T, class A>
__global__ void norm_kernel(detail::norm_args g) {
  using B = kern::nn_lanes<A>;
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx i = blockIdx.x; i < g.rows; i += gridDim.x) {
    const A first = block_all(B::template norm_lane_first<T>(g, i, lane, lanes), sum_op<A>{});
    A mean = 0, inv;
    if (g.kind == detail::norm_kind::rms) {
      inv = B::norm_inverse(g, first);
    } else {
      mean = B::norm_mean(g, first);
      inv = B::norm_inverse(g, block_all(B::template norm_lane_centered<T>(g, i, mean, lane, lanes), sum_op<A>{}));
    }
    B::template norm_lane_store<T>(g, i, mean, inv, lane, lanes);
  }
}

template <class T>
__global__ void rope_kernel(detail::rope_args g) {
  const idx pairs = g.rot_dims / 2;
  MIXPREC_GRID_STRIDE(t, g.rows * g.heads * pairs)
  kern::nn_lanes<float>::rope_pair<T>(g, t / (pairs * g.heads), (t / pairs) % g.heads, t % pairs);
}

template <class T>
void eltwise(const exec_args& ex, const detail::eltwise_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  eltwise_kernel<T><<<grid_for(g.rows * g.cols), block_threads, 0, st.stream>>>(g);
  check_launch("eltwise_kernel");
}

template <class T>
void softmax(const exec_args& ex, const detail::softmax_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  if (g.acc == accumulation::f64)
    softmax_kernel<T, double><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  else
    softmax_kernel<T, float><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  check_launch("softmax_kernel");
}

template <class T>
void norm(const exec_args& ex, const detail::norm_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  if (g.acc == accumulation::f64)
    norm_kernel<T, double><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  else
    norm_kernel<T, float><<<row_blocks(g.rows), row_threads, 0, st.stream>>>(g);
  check_launch("norm_kernel");
}

template <class T>
void rope(const exec_args& ex, const detail::rope_args& g) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  rope_kernel<T><<<grid_for(g.rows * g.heads * (g.rot_dims / 2)), block_threads, 0, st.stream>>>(g);
  check_launch("rope_kernel");
}

template <class S, class T>
__global__ void embedding_kernel(detail::embedding_args g) {
  MIXPREC_GRID_STRIDE(e, g.n * g.d) { kern::embedding_lanes::element<S, T>(g, e / g.d, e % g.d); }
}

__global__ void embedding_ids_kernel(detail::embedding_args g, unsigned long long* first_bad) {
  MIXPREC_GRID_STRIDE(t, g.n) {
    if (!kern::embedding_lanes::id_in_range(g, t)) atomicMin(first_bad, static_cast<unsigned long long>(t));
  }
}

/// The ids are checked on the device first; the first bad position (8 bytes) comes back to the
/// host, and the gather runs only when there is none.
template <class S, class T>
void embedding(const exec_args& ex, const detail::embedding_args& g) {
  *g.bad_at = -1;
  if (g.n == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const unsigned long long bad = smallest_flagged(st, "embedding_ids_kernel", [&](unsigned long long* first) {
    embedding_ids_kernel<<<grid_for(g.n), block_threads, 0, st.stream>>>(g, first);
  });
  if (bad != ~0ull) {
    *g.bad_at = idx(bad);
    return fetch_to_host(st, g.ids + bad, g.bad_id, sizeof *g.bad_id);
  }
  if (g.d == 0) return;
  embedding_kernel<S, T><<<grid_for(g.n * g.d), block_threads, 0, st.stream>>>(g);
  check_launch("embedding_kernel");
}

}  // namespace

void register_nn_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  auto add = [&](auto tag) {
    using T = decltype(tag);
    kern::add_kernel<detail::op_id::eltwise>(sink, v, dtype_of<T>, dtype_of<T>, &eltwise<T>);
    kern::add_kernel<detail::op_id::softmax>(sink, v, dtype_of<T>, dtype_of<T>, &softmax<T>);
    kern::add_kernel<detail::op_id::norm>(sink, v, dtype_of<T>, dtype_of<T>, &norm<T>);
    kern::add_kernel<detail::op_id::rope>(sink, v, dtype_of<T>, dtype_of<T>, &rope<T>);
  };
  add(float{});
  add(bfloat16{});
  add(half{});
  auto add_embedding = [&](auto out_tag) {
    using T = decltype(out_tag);
    kern::add_kernel<detail::op_id::embedding>(sink, v, dtype::f32, dtype_of<T>, &embedding<float, T>);
    kern::add_kernel<detail::op_id::embedding>(sink, v, dtype::bf16, dtype_of<T>, &embedding<bfloat16, T>);
    kern::add_kernel<detail::op_id::embedding>(sink, v, dtype::f16, dtype_of<T>, &embedding<half, T>);
    kern::add_kernel<detail::op_id::embedding>(sink, v, dtype::i8, dtype_of<T>, &embedding<std::int8_t, T>);
    kern::add_kernel<detail::op_id::embedding>(sink, v, dtype::u8, dtype_of<T>, &embedding<std::uint8_t, T>);
  };
  add_embedding(float{});
  add_embedding(bfloat16{});
  add_embedding(half{});
}

}  // namespace mixprec::cuda
