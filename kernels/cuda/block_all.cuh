// A value merged over a block's threads and handed back to all of them: the step between
// two lane steps of the row kernels (kernels/common/nn_lanes.hpp, train_lanes.hpp). CUB's
// BlockReduce merges in a fixed tree for a fixed block size: the same result every run.
#pragma once

#include <cub/block/block_reduce.cuh>

namespace mixprec::cuda {

/// Threads of a row's block: the lanes of the row kernels.
inline constexpr int row_threads = 256;

/// Every thread's `mine` merged by merge(a, b), returned to all the block's threads. For
/// blocks of row_threads threads, called by all of them.
template <class A, class Merge>
__device__ A block_all(A mine, Merge merge) {
  using block_reduce = cub::BlockReduce<A, row_threads>;
  __shared__ typename block_reduce::TempStorage temp;
  __shared__ A total;
  const A r = block_reduce(temp).Reduce(mine, merge);
  if (threadIdx.x == 0) total = r;
  __syncthreads();
  const A out = total;
  __syncthreads();  // the next call reuses temp and total
  return out;
}

template <class A>
struct sum_op {
  __device__ A operator()(A a, A b) const { return a + b; }
};

/// Blocks of a block-per-row kernel (each block loops over rows when there are more); at
/// least one, a launch of none being an error.
inline int row_blocks(std::int64_t rows) { return int(rows < 1 ? 1 : rows > 65535 ? 65535 : rows); }

}  // namespace mixprec::cuda
