// Deterministic reductions for the CUDA kernels: each block merges its threads' accumulators
// with CUB's BlockReduce (a fixed tree for a fixed block size) and writes one partial; one
// thread then merges the partials in block order. No atomics: the same result every run.
// The accumulators are the CPU's (kernels/common/scalar.hpp), so both backends keep one
// contract for plain, f64 and compensated sums.
#pragma once

#include <cub/block/block_reduce.cuh>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {

/// K accumulators merged together (mdot's k dot products, PCG's r'r and r'Dr).
template <class Acc, int K>
struct acc_pack {
  Acc v[K];
  __device__ void merge(const acc_pack& o) {
    for (int j = 0; j < K; ++j) v[j].merge(o.v[j]);
  }
};

struct merge_op {
  template <class P>
  __device__ P operator()(P a, const P& b) const {
    a.merge(b);
    return a;
  }
};

/// The block's total of `mine` (valid in thread 0), written to partial[blockIdx.x].
template <class P>
__device__ void write_block_total(const P& mine, P* partial) {
  using block_reduce = cub::BlockReduce<P, block_threads>;
  __shared__ typename block_reduce::TempStorage temp;
  const P total = block_reduce(temp).Reduce(mine, merge_op{});
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

/// Merges the partials in block order; out[j] = value of accumulator j, j < k.
template <class Acc, int K>
__global__ void merge_partials(int blocks, const acc_pack<Acc, K>* partial, int k, double* out) {
  if (threadIdx.x != 0) return;
  acc_pack<Acc, K> total = partial[0];
  for (int b = 1; b < blocks; ++b) total.merge(partial[b]);
  for (int j = 0; j < k; ++j) out[j] = double(total.v[j].value());
}

/// Blocks of a reduction over n elements: enough to fill the device, at most what the
/// scratch buffer's partials hold.
inline int reduction_blocks(std::int64_t n) {
  return int(
      std::min<std::int64_t>(max_reduction_blocks, std::max<std::int64_t>(1, (n + block_threads - 1) / block_threads)));
}

/// Where the partials go and where the merged values land in the context's scratch.
template <class P>
P* partials_in(device_state& st) {
  static_assert(sizeof(P) * max_reduction_blocks <= scratch_bytes - result_slot_bytes, "partials exceed the scratch");
  return static_cast<P*>(st.scratch);
}
inline double* results_in(device_state& st) {
  return reinterpret_cast<double*>(static_cast<char*>(st.scratch) + st.scratch_bytes - result_slot_bytes);
}

/// Merges `blocks` partials already written, copies k values to the host and waits.
template <class Acc, int K>
void finish_reduction(device_state& st, int blocks, int k, double* host_out) {
  merge_partials<Acc, K><<<1, 32, 0, st.stream>>>(blocks, partials_in<acc_pack<Acc, K>>(st), k, results_in(st));
  if (!check_launch("merge_partials")) return;
  fetch_to_host(st, results_in(st), host_out, sizeof(double) * std::size_t(k));
}

}  // namespace mixprec::cuda
