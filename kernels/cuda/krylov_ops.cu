// CUDA kernels of the fused Krylov vector ops (CG's update, point Jacobi, the multi-vector
// dot and axpy of GMRES's Gram-Schmidt, the two-vector dot and update of its DCGS2 step).
// Each thread runs the same per-element bodies as the CPU kernels
// (kernels/common/blas1_loops.hpp), which the CPU tests cover; the sums go through the
// deterministic block reduction of reduce.cuh, in f64 as on the CPU.
#include <vector>

#include "kernels/common/blas1_loops.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/plugin_state.cuh"
#include "kernels/cuda/reduce.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;
using f64_sum = kern::plain_sum<double>;

/// x += alpha p, r -= alpha q and the new r'r (and r'Dr when d is given), one pass.
template <class T, int K>
__global__ void cg_update_kernel(idx n, kern::compute_t<T> alpha, const T* p, const T* q, const T* d, T* x, T* r,
                                 acc_pack<f64_sum, K>* partial) {
  acc_pack<f64_sum, K> acc;
  MIXPREC_GRID_STRIDE(i, n) kern::cg_update_element<T, f64_sum, double>(i, alpha, p, q, d, x, r, acc.v);
  write_block_total(acc, partial);
}

template <class T>
__global__ void diag_scale_kernel(idx n, kern::compute_t<T> alpha, const T* d, const T* r, kern::compute_t<T> beta,
                                  T* z) {
  MIXPREC_GRID_STRIDE(i, n) kern::diag_scale_element(i, alpha, d, r, beta, z);
}

/// h_j = v_j' w for k <= multi_vector_max vectors: w read once for all of them.
template <class T>
__global__ void mdot_kernel(idx n, int k, const T* v, idx ldv, const T* w,
                            acc_pack<f64_sum, detail::multi_vector_max>* partial) {
  acc_pack<f64_sum, detail::multi_vector_max> acc;
  MIXPREC_GRID_STRIDE(i, n) kern::mdot_element<T, f64_sum, double>(i, k, v, ldv, w, acc.v);
  write_block_total(acc, partial);
}

/// The coefficients travel by value, in the kernel's parameters.
template <class C>
struct coefficients {
  C a[detail::multi_vector_max];
};

template <class T>
__global__ void maxpy_kernel(idx n, int k, coefficients<kern::compute_t<T>> a, const T* v, idx ldv, T* w) {
  MIXPREC_GRID_STRIDE(i, n) kern::maxpy_element(i, k, a.a, v, ldv, w);
}

/// Vectors an mdot2 launch takes: two accumulators each, a pack of mdot's size.
constexpr int mdot2_group = detail::multi_vector_max / 2;
using mdot2_pack = acc_pack<f64_sum, 2 * mdot2_group>;

/// hx_j = v_j' x in accumulators [0, k), hy_j = v_j' y in [mdot2_group, mdot2_group + k),
/// for k <= mdot2_group vectors: each v_j read once for both.
template <class T>
__global__ void mdot2_kernel(idx n, int k, const T* v, idx ldv, const T* x, const T* y, mdot2_pack* partial) {
  mdot2_pack acc;
  MIXPREC_GRID_STRIDE(i, n) kern::mdot2_element<T, f64_sum, double>(i, k, v, ldv, x, y, acc.v, acc.v + mdot2_group);
  write_block_total(acc, partial);
}

/// DCGS2's update of x and y over k vectors (coefficients s and t in device memory), y'y.
template <class T>
__global__ void dcgs2_update_kernel(idx n, int k, const kern::compute_t<T>* s, const kern::compute_t<T>* t, const T* v,
                                    idx ldv, kern::compute_t<T> inv_rho, kern::compute_t<T> gamma,
                                    kern::compute_t<T> scale, T* x, T* y, acc_pack<f64_sum, 1>* partial) {
  acc_pack<f64_sum, 1> acc;
  MIXPREC_GRID_STRIDE(i, n) {
    kern::dcgs2_update_element<T, f64_sum, double>(i, k, s, t, v, ldv, inv_rho, gamma, scale, x, y, acc.v);
  }
  write_block_total(acc, partial);
}

template <class T>
struct krylov {
  using C = kern::compute_t<T>;

  template <int K>
  static void update(const exec_args& ex, idx n, double alpha, const void* p, const void* q, const void* d, void* x,
                     void* r, double* rr) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    const int blocks = reduction_blocks(n);
    cg_update_kernel<T, K><<<blocks, block_threads, 0, st.stream>>>(
        n, C(alpha), static_cast<const T*>(p), static_cast<const T*>(q), static_cast<const T*>(d), static_cast<T*>(x),
        static_cast<T*>(r), partials_in<acc_pack<f64_sum, K>>(st));
    if (!check_launch("cg_update_kernel")) return;
    finish_reduction<f64_sum, K>(st, blocks, K, rr);
  }
  static void cg_update(const exec_args& ex, idx n, double alpha, const void* p, const void* q, void* x, void* r,
                        double* rr) {
    update<1>(ex, n, alpha, p, q, nullptr, x, r, rr);
  }
  static void pcg_jacobi_update(const exec_args& ex, idx n, double alpha, const void* p, const void* q, const void* d,
                                void* x, void* r, double* rr) {
    update<2>(ex, n, alpha, p, q, d, x, r, rr);
  }
  static void diag_scale(const exec_args& ex, idx n, double alpha, const void* d, const void* r, double beta, void* z) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    diag_scale_kernel<T><<<grid_for(n), block_threads, 0, st.stream>>>(
        n, C(alpha), static_cast<const T*>(d), static_cast<const T*>(r), C(beta), static_cast<T*>(z));
    check_launch("diag_scale_kernel");
  }
  static void mdot(const exec_args& ex, idx n, int k, const void* v, idx ldv, const void* w, double* h) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    using pack = acc_pack<f64_sum, detail::multi_vector_max>;
    const int blocks = reduction_blocks(n);
    mdot_kernel<T><<<blocks, block_threads, 0, st.stream>>>(n, k, static_cast<const T*>(v), ldv,
                                                            static_cast<const T*>(w), partials_in<pack>(st));
    if (!check_launch("mdot_kernel")) return;
    finish_reduction<f64_sum, detail::multi_vector_max>(st, blocks, k, h);
  }
  static void maxpy(const exec_args& ex, idx n, int k, const double* a, const void* v, idx ldv, void* w) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    coefficients<C> c{};
    for (int j = 0; j < k; ++j) c.a[j] = C(a[j]);
    maxpy_kernel<T>
        <<<grid_for(n), block_threads, 0, st.stream>>>(n, k, c, static_cast<const T*>(v), ldv, static_cast<T*>(w));
    check_launch("maxpy_kernel");
  }
  /// Any number of vectors, mdot2_group per launch, each launch's sums merged into its own
  /// slots of one device buffer: one copy to the host for all of them.
  static void mdot2(const exec_args& ex, idx n, int k, const void* v, idx ldv, const void* x, const void* y, double* hx,
                    double* hy) {
    if (k == 0) return;
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    const int groups = (k + mdot2_group - 1) / mdot2_group, slots = 2 * mdot2_group;
    auto* sums = static_cast<double*>(device_take(st, sizeof(double) * std::size_t(groups * slots)));
    if (!sums) return pending_error("mdot2 sums", "out of device memory");
    const int blocks = reduction_blocks(n);
    bool launched = true;
    for (int g = 0; g < groups && launched; ++g) {
      const int count = std::min(mdot2_group, k - g * mdot2_group);
      mdot2_kernel<T><<<blocks, block_threads, 0, st.stream>>>(
          n, count, static_cast<const T*>(v) + g * mdot2_group * ldv, ldv, static_cast<const T*>(x),
          static_cast<const T*>(y), partials_in<mdot2_pack>(st));
      launched = check_launch("mdot2_kernel");
      if (launched) {
        merge_partials<f64_sum, slots>
            <<<1, 32, 0, st.stream>>>(blocks, partials_in<mdot2_pack>(st), slots, sums + g * slots);
        launched = check_launch("merge_partials");
      }
    }
    std::vector<double> host(std::size_t(groups * slots));
    if (launched) fetch_to_host(st, sums, host.data(), sizeof(double) * host.size());
    device_give_back(st, sums);
    for (int j = 0; j < k; ++j) {
      hx[j] = host[std::size_t(j / mdot2_group * slots + j % mdot2_group)];
      hy[j] = host[std::size_t(j / mdot2_group * slots + mdot2_group + j % mdot2_group)];
    }
  }
  /// Any number of vectors in one pass: the coefficients go to device memory first.
  static void dcgs2_update(const exec_args& ex, idx n, int k, const void* v, idx ldv, const double* s, const double* t,
                           double inv_rho, double gamma, double scale, void* x, void* y, double* yy) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    std::vector<C> coefficients(2 * std::size_t(k) + 1);  // s, then t (one more: never empty)
    for (int j = 0; j < k; ++j) {
      coefficients[std::size_t(j)] = C(s[j]);
      coefficients[std::size_t(k + j)] = C(t[j]);
    }
    auto* st_dev = static_cast<C*>(device_take(st, sizeof(C) * coefficients.size()));
    if (!st_dev) return pending_error("dcgs2_update coefficients", "out of device memory");
    // From pageable memory: the call returns once the bytes are staged, so the vector may go.
    const cudaError_t e = cudaMemcpyAsync(st_dev, coefficients.data(), sizeof(C) * coefficients.size(),
                                          cudaMemcpyHostToDevice, st.stream);
    if (e != cudaSuccess) {
      record_error("cudaMemcpyAsync(dcgs2_update coefficients)", e);
      return device_give_back(st, st_dev);
    }
    const int blocks = reduction_blocks(n);
    using pack = acc_pack<f64_sum, 1>;
    dcgs2_update_kernel<T><<<blocks, block_threads, 0, st.stream>>>(
        n, k, st_dev, st_dev + k, static_cast<const T*>(v), ldv, C(inv_rho), C(gamma), C(scale), static_cast<T*>(x),
        static_cast<T*>(y), partials_in<pack>(st));
    if (check_launch("dcgs2_update_kernel")) finish_reduction<f64_sum, 1>(st, blocks, 1, yy);
    device_give_back(st, st_dev);
  }
};

}  // namespace

void register_krylov_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  kern::add_cg_update<krylov>(sink, v);
  kern::add_diagonal_ops<krylov>(sink, v);
  kern::add_multi_vector_ops<krylov>(sink, v);
  kern::add_dcgs2_ops<krylov>(sink, v);
}

}  // namespace mixprec::cuda
