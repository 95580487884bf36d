// CUDA attention and KV cache kernels (mixprec/attention.hpp): the lane bodies of
// kernels/common/attention_lanes.hpp, which the CPU's reference kernels run too. Attention
// takes a block per query row and head, its threads the lanes: each tile of row_threads keys
// is scored a key per thread, its max and sum merged over the block (block_all.cuh), and P * V
// accumulated a head entry per thread, with the query row, the accumulators and the tile's
// probabilities in shared memory. When the rows are too few to fill the device (a decode
// step: one row per head), each row's keys are split over several blocks, each writing its
// running state and accumulators to scratch, and a second launch merges them. The append takes a block per token and KV
// head; the finiteness scan a thread per entry, the first bad one found by an atomic minimum.
#include <algorithm>
#include <limits>

#include "kernels/common/attention_lanes.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/block_all.cuh"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;
using B = kern::attention_lanes;

struct max_op {
  __device__ float operator()(float a, float b) const { return B::max_of(a, b); }
};

/// Shared memory of an attention block: the query row and the accumulators (head_dim each),
/// and the tile's logits, then probabilities (row_threads).
std::size_t attention_shared_bytes(idx head_dim) { return std::size_t(2 * head_dim + row_threads) * sizeof(float); }

/// Where split blocks leave their results: per (row, split), the running state and
/// head_dim accumulators. splits == 1: none, each block stores its row.
struct split_results {
  idx splits, span;  // span: keys per split, whole tiles
  B::running* parts;
  float* acc;
};

template <class T, class K>
__global__ void attention_kernel(detail::attention_args a, split_results sr) {
  extern __shared__ float shared[];
  float* q = shared;
  float* acc = q + a.head_dim;
  float* p = acc + a.head_dim;
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx b = blockIdx.x; b < a.m * a.heads * sr.splits; b += gridDim.x) {
    const idx r = b / sr.splits, i = r / a.heads, h = r % a.heads, g = B::kv_head_of(a, h);
    idx begin, end;
    B::split_keys(B::visible_keys(a, i), sr.span, b % sr.splits, &begin, &end);
    B::load_query<T>(a, i, h, q, lane, lanes);
    for (idx d = lane; d < a.head_dim; d += lanes) acc[d] = 0;
    __syncthreads();
    B::running run = B::start();
    for (idx t0 = begin; t0 < end; t0 += lanes) {
      const float c = B::take_tile_max(run, block_all(B::score_lane<K>(a, g, t0, end, q, p, lane), max_op{}));
      // block_all synchronises the block: every p[j] is written before it is read.
      B::take_tile_sum(run, c, block_all(B::probability_lane(p, run, lane), sum_op<float>{}));
      B::accumulate_lane<K>(a, g, t0, end - t0 < lanes ? end - t0 : lanes, p, c, acc, lane, lanes);
      __syncthreads();  // the next tile rewrites p
    }
    if (sr.splits == 1) {
      B::store_lane<T>(a, i, h, acc, run, lane, lanes);
    } else {
      if (lane == 0) sr.parts[b] = run;
      for (idx d = lane; d < a.head_dim; d += lanes) sr.acc[b * a.head_dim + d] = acc[d];
    }
    __syncthreads();  // the next row rewrites q and acc
  }
}

/// A block per row, a head entry per thread: the row's splits merged into its output.
template <class T>
__global__ void merge_splits_kernel(detail::attention_args a, split_results sr) {
  for (idx r = blockIdx.x; r < a.m * a.heads; r += gridDim.x)
    B::merge_splits_lane<T>(a, r / a.heads, r % a.heads, sr.parts + r * sr.splits, sr.acc + r * sr.splits * a.head_dim,
                            sr.splits, threadIdx.x, blockDim.x);
}

/// Splits per row: enough blocks for two per multiprocessor, each split at least four tiles.
idx splits_for(const detail::attention_args& a, int device) {
  int sms = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) sms = 1;
  const idx rows = a.m * a.heads, wanted = (2 * idx(sms) + rows - 1) / rows;
  const idx most = a.kv_len / (4 * row_threads);
  return std::max<idx>(1, std::min(wanted, most));
}

template <class S, class T>
__global__ void kv_append_kernel(detail::kv_append_args a) {
  const idx lane = threadIdx.x, lanes = blockDim.x;
  for (idx r = blockIdx.x; r < a.m * a.kv_heads; r += gridDim.x) {
    const idx t = r / a.kv_heads, g = r % a.kv_heads;
    float amax = 0;
    if constexpr (std::is_same_v<S, std::int8_t>)
      amax = block_all(B::append_lane_amax<T>(a, t, g, lane, lanes), max_op{});
    B::append_lane_store<S, T>(a, t, g, amax, lane, lanes);
  }
}

template <class T>
__global__ void find_non_finite_kernel(detail::find_non_finite_args a, unsigned long long* first) {
  MIXPREC_GRID_STRIDE(e, a.rows * a.cols) {
    if (!B::finite_at<T>(a, e / a.cols, e % a.cols)) atomicMin(first, static_cast<unsigned long long>(e));
  }
}

template <class T, class K>
void attention(const exec_args& ex, const detail::attention_args& a) {
  if (a.m == 0 || a.heads == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const std::size_t shared = attention_shared_bytes(a.head_dim);
  if (shared > 48 * 1024)
    return pending_error("attention_kernel", "head_dim too large: the query row and accumulators pass 48 KiB");
  split_results sr{splits_for(a, st.device), 0, nullptr, nullptr};
  void* scratch = nullptr;
  if (sr.splits > 1) {
    const idx parts = a.m * a.heads * sr.splits;
    scratch = device_take(st, std::size_t(parts) * (sizeof(B::running) + std::size_t(a.head_dim) * sizeof(float)));
    if (!scratch) sr.splits = 1;  // no room for the splits' results: one block per row still computes it
  }
  if (sr.splits > 1) {
    sr.span = (a.kv_len + sr.splits - 1) / sr.splits;
    sr.span = (sr.span + row_threads - 1) / row_threads * row_threads;
    sr.parts = static_cast<B::running*>(scratch);
    sr.acc = reinterpret_cast<float*>(sr.parts + a.m * a.heads * sr.splits);
  } else {
    sr.span = a.kv_len;
  }
  attention_kernel<T, K><<<row_blocks(a.m * a.heads * sr.splits), row_threads, shared, st.stream>>>(a, sr);
  if (check_launch("attention_kernel") && sr.splits > 1) {
    merge_splits_kernel<T><<<row_blocks(a.m * a.heads), row_threads, 0, st.stream>>>(a, sr);
    check_launch("merge_splits_kernel");
  }
  if (scratch) device_give_back(st, scratch);  // stream-ordered: reused only after the kernels
}

template <class S, class T>
void kv_append(const exec_args& ex, const detail::kv_append_args& a) {
  if (a.m == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  kv_append_kernel<S, T><<<row_blocks(a.m * a.kv_heads), row_threads, 0, st.stream>>>(a);
  check_launch("kv_append_kernel");
}

/// The scan on the device; the first bad entry's index, and then its value, come back to the
/// host (the caller refuses the operand by them).
template <class T>
void find_non_finite(const exec_args& ex, const detail::find_non_finite_args& a) {
  *a.at = -1;
  if (a.rows == 0 || a.cols == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const unsigned long long bad = smallest_flagged(st, "find_non_finite_kernel", [&](unsigned long long* first) {
    find_non_finite_kernel<T><<<grid_for(a.rows * a.cols), block_threads, 0, st.stream>>>(a, first);
  });
  if (bad == ~0ull) return;
  const idx at = idx(bad), i = at / a.cols, j = at % a.cols;
  T value{};
  fetch_to_host(st, static_cast<const T*>(a.x) + i * a.ld + j, &value, sizeof value);
  *a.at = at;
  *a.value = double(float(value));
}

}  // namespace

void register_attention_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  detail::attention_kernel_table table{};
  auto add = [&](auto tag, int i) {
    using T = decltype(tag);
    const dtype t = dtype_of<T>;
    table.fn[i][0] = &attention<T, float>;
    table.fn[i][1] = &attention<T, bfloat16>;
    table.fn[i][2] = &attention<T, half>;
    table.fn[i][3] = &attention<T, std::int8_t>;
    kern::add_kernel<detail::op_id::find_non_finite>(sink, v, t, t, &find_non_finite<T>);
    kern::add_kernel<detail::op_id::kv_append>(sink, v, dtype::f32, t, &kv_append<float, T>);
    kern::add_kernel<detail::op_id::kv_append>(sink, v, dtype::bf16, t, &kv_append<bfloat16, T>);
    kern::add_kernel<detail::op_id::kv_append>(sink, v, dtype::f16, t, &kv_append<half, T>);
    kern::add_kernel<detail::op_id::kv_append>(sink, v, dtype::i8, t, &kv_append<std::int8_t, T>);
  };
  add(float{}, 0);
  add(bfloat16{}, 1);
  add(half{}, 2);
  kern::add_attention_table(sink, v, table);
}

}  // namespace mixprec::cuda
