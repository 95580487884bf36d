// CUDA kernels of the fused Krylov vector ops (CG's update, point Jacobi, the multi-vector
// dot and axpy of GMRES's Gram-Schmidt). Each thread runs the same per-element bodies as
// the CPU kernels (kernels/common/blas1_loops.hpp), which the CPU tests cover; the sums
// go through the deterministic block reduction of reduce.cuh, in f64 as on the CPU.
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
};

}  // namespace

void register_krylov_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  kern::add_cg_update<krylov>(sink, v);
  kern::add_diagonal_ops<krylov>(sink, v);
  kern::add_multi_vector_ops<krylov>(sink, v);
}

}  // namespace mixprec::cuda
