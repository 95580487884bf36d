// CUDA BLAS-1 and conversion kernels for every dtype, with the element numerics and the
// accumulators shared with the CPU (kernels/common/scalar.hpp), so both backends keep one
// contract. Reductions are deterministic (reduce.cuh).
#include <algorithm>

#include "kernels/common/dtype_list.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/scalar.hpp"
#include "kernels/cuda/plugin_state.cuh"
#include "kernels/cuda/reduce.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

// ---- elementwise -------------------------------------------------------------------------

template <class Src, class Dst>
__global__ void convert_kernel(idx n, const Src* x, idx incx, Dst* y, idx incy) {
  MIXPREC_GRID_STRIDE(i, n)
  y[i * incy] = kern::convert_value<Dst>(x[i * incx]);
}

template <class T>
__global__ void fill_kernel(idx n, T value, T* x, idx incx) {
  MIXPREC_GRID_STRIDE(i, n) x[i * incx] = value;
}

template <class T>
__global__ void axpy_kernel(idx n, kern::compute_t<T> alpha, const T* x, idx incx, T* y, idx incy) {
  MIXPREC_GRID_STRIDE(i, n)
  y[i * incy] = kern::narrow<T>(alpha * kern::widen(x[i * incx]) + kern::widen(y[i * incy]));
}

template <class T>
__global__ void axpby_kernel(idx n, kern::compute_t<T> alpha, const T* x, idx incx, kern::compute_t<T> beta, T* y,
                             idx incy) {
  MIXPREC_GRID_STRIDE(i, n)
  y[i * incy] = beta == kern::compute_t<T>(0)
                    ? kern::narrow<T>(alpha * kern::widen(x[i * incx]))
                    : kern::narrow<T>(alpha * kern::widen(x[i * incx]) + beta * kern::widen(y[i * incy]));
}

template <class T>
__global__ void scal_kernel(idx n, kern::compute_t<T> alpha, T* x, idx incx) {
  MIXPREC_GRID_STRIDE(i, n)
  x[i * incx] = kern::narrow<T>(alpha * kern::widen(x[i * incx]));
}

// ---- reductions --------------------------------------------------------------------------

enum class reduce_kind { dot, sumsq, asum };

template <reduce_kind K, class T, class Acc, class A>
__global__ void reduce_partials(idx n, const T* x, idx incx, const T* y, idx incy, double scale,
                                acc_pack<Acc, 1>* partial) {
  acc_pack<Acc, 1> acc;
  MIXPREC_GRID_STRIDE(i, n) {
    if constexpr (K == reduce_kind::dot) {
      acc.v[0].add_product(A(kern::widen(x[i * incx])), A(kern::widen(y[i * incy])));
    } else if constexpr (K == reduce_kind::sumsq) {
      // Rescaled passes form the product in f64, exactly (see nrm2).
      const A v = scale == 1.0 ? A(kern::widen(x[i * incx])) : A(kern::to_f64(x[i * incx]) * scale);
      acc.v[0].add_product(v, v);
    } else {
      const A v = A(kern::widen(x[i * incx]));
      acc.v[0].add(v < A(0) ? -v : v);
    }
  }
  write_block_total(acc, partial);
}

/// Launches both passes and copies the result to the host (the stream is synchronised).
template <reduce_kind K, class T, class Acc, class A>
void run_reduction(const exec_args& ex, idx n, const void* x, idx incx, const void* y, idx incy, double scale,
                   double* result) {
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const int blocks = reduction_blocks(n);
  reduce_partials<K, T, Acc, A><<<blocks, block_threads, 0, st.stream>>>(
      n, static_cast<const T*>(x), incx, static_cast<const T*>(y), incy, scale, partials_in<acc_pack<Acc, 1>>(st));
  if (!check_launch("reduce_partials")) return;
  finish_reduction<Acc, 1>(st, blocks, 1, result);
}

/// Picks the accumulator the contract gives T under `mode` (host side).
template <reduce_kind K, class T>
void reduce(const exec_args& ex, idx n, const void* x, idx incx, const void* y, idx incy, double scale,
            accumulation mode, double* result) {
  using C = kern::compute_t<T>;
  if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>) {
    run_reduction<K, T, kern::exact_int_sum, std::int64_t>(ex, n, x, incx, y, incy, scale, result);
  } else if (mode == accumulation::f64) {
    run_reduction<K, T, kern::plain_sum<double>, double>(ex, n, x, incx, y, incy, scale, result);
  } else if (mode == accumulation::compensated) {
    run_reduction<K, T, kern::compensated_sum<C>, C>(ex, n, x, incx, y, incy, scale, result);
  } else {
    run_reduction<K, T, kern::plain_sum<C>, C>(ex, n, x, incx, y, incy, scale, result);
  }
}

// ---- amax --------------------------------------------------------------------------------

struct best_at {
  double magnitude;
  idx index;
};

/// a beats b: larger magnitude (NaN largest), or equal and earlier.
__device__ bool beats(const best_at& a, const best_at& b) {
  if (a.index < 0) return false;
  if (b.index < 0) return true;
  const bool an = a.magnitude != a.magnitude, bn = b.magnitude != b.magnitude;
  if (an || bn) return an && (!bn || a.index < b.index);
  return a.magnitude > b.magnitude || (a.magnitude == b.magnitude && a.index < b.index);
}

template <class T>
__global__ void amax_partials(idx n, const T* x, idx incx, best_at* partial) {
  best_at mine{0.0, -1};
  MIXPREC_GRID_STRIDE(i, n) {
    const double v = ::fabs(kern::to_f64(x[i * incx]));
    const best_at c{v, i};
    if (beats(c, mine)) mine = c;
  }
  __shared__ best_at sh[block_threads];
  sh[threadIdx.x] = mine;
  __syncthreads();
  for (int stride = block_threads / 2; stride > 0; stride /= 2) {
    if (int(threadIdx.x) < stride && beats(sh[threadIdx.x + stride], sh[threadIdx.x]))
      sh[threadIdx.x] = sh[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

__global__ void amax_final(int blocks, const best_at* partial, idx* result) {
  if (threadIdx.x != 0) return;
  best_at b = partial[0];
  for (int i = 1; i < blocks; ++i)
    if (beats(partial[i], b)) b = partial[i];
  *result = b.index;
}

// ---- the kernel set the registry sees -----------------------------------------------------

template <class T>
struct blas1 {
  using C = kern::compute_t<T>;
  static void fill(const exec_args& ex, idx n, double value, void* x, idx incx) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    fill_kernel<T><<<grid_for(n), block_threads, 0, st.stream>>>(n, kern::from_f64<T>(value), static_cast<T*>(x), incx);
    check_launch("fill_kernel");
  }
  static void axpy(const exec_args& ex, idx n, double alpha, const void* x, idx incx, void* y, idx incy) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    axpy_kernel<T><<<grid_for(n), block_threads, 0, st.stream>>>(n, C(alpha), static_cast<const T*>(x), incx,
                                                                 static_cast<T*>(y), incy);
    check_launch("axpy_kernel");
  }
  static void axpby(const exec_args& ex, idx n, double alpha, const void* x, idx incx, double beta, void* y, idx incy) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    axpby_kernel<T><<<grid_for(n), block_threads, 0, st.stream>>>(n, C(alpha), static_cast<const T*>(x), incx, C(beta),
                                                                  static_cast<T*>(y), incy);
    check_launch("axpby_kernel");
  }
  static void scal(const exec_args& ex, idx n, double alpha, void* x, idx incx) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    scal_kernel<T><<<grid_for(n), block_threads, 0, st.stream>>>(n, C(alpha), static_cast<T*>(x), incx);
    check_launch("scal_kernel");
  }
  static void dot(const exec_args& ex, idx n, const void* x, idx incx, const void* y, idx incy, accumulation acc,
                  double* result) {
    reduce<reduce_kind::dot, T>(ex, n, x, incx, y, incy, 1.0, acc, result);
  }
  static void sumsq(const exec_args& ex, idx n, const void* x, idx incx, double scale, accumulation acc,
                    double* result) {
    reduce<reduce_kind::sumsq, T>(ex, n, x, incx, x, incx, scale, acc, result);
  }
  static void asum(const exec_args& ex, idx n, const void* x, idx incx, accumulation acc, double* result) {
    reduce<reduce_kind::asum, T>(ex, n, x, incx, x, incx, 1.0, acc, result);
  }
  static void amax(const exec_args& ex, idx n, const void* x, idx incx, idx* result) {
    if (n == 0) {
      *result = -1;
      return;
    }
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    const int blocks = reduction_blocks(n);
    auto* partial = partials_in<best_at>(st);
    auto* dev_result = reinterpret_cast<idx*>(results_in(st));
    amax_partials<T><<<blocks, block_threads, 0, st.stream>>>(n, static_cast<const T*>(x), incx, partial);
    if (!check_launch("amax_partials")) return;
    amax_final<<<1, 32, 0, st.stream>>>(blocks, partial, dev_result);
    if (!check_launch("amax_final")) return;
    fetch_to_host(st, dev_result, result, sizeof(idx));
  }
};

template <class Src, class Dst>
struct convert {
  static void run(const exec_args& ex, idx n, const void* x, idx incx, void* y, idx incy) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    convert_kernel<Src, Dst>
        <<<grid_for(n), block_threads, 0, st.stream>>>(n, static_cast<const Src*>(x), incx, static_cast<Dst*>(y), incy);
    check_launch("convert_kernel");
  }
};

}  // namespace

void register_blas1_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
#define MIXPREC_ADD(T, N) kern::add_blas1_set<blas1, T>(sink, v);
  MIXPREC_FOR_EACH_DTYPE(MIXPREC_ADD)
#undef MIXPREC_ADD
#define MIXPREC_ADD(S, SN, D, DN) kern::add_convert<convert, S, D>(sink, v);
  MIXPREC_FOR_EACH_DTYPE_PAIR(MIXPREC_ADD)
#undef MIXPREC_ADD
}

}  // namespace mixprec::cuda
