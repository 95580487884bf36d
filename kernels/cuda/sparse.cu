// CUDA SpMV on CSR: cuSPARSE's (deterministic CSR_ALG2) for f64 and f32 values and vectors,
// and the library's own kernel, one thread per row running the CPU kernels' row sum
// (kernels/common/spmv_rows.hpp: csr_row_sum, spmv_store), for what cuSPARSE does not
// take: f16/bf16 values with f32 or f64 vectors, f32 with f64 accumulation. DIA SpMV: one
// thread per row running the CPU reference's row (kernels/common/spmv_dia.hpp); SELL SpMV:
// one thread per slot running the CPU reference's slot sum (spmv_rows.hpp: sell_slot).
// CSR SpMM: one thread per output entry running the row sum on a strided column of X. The
// groups of triangular solves and Gauss-Seidel sweeps: one thread per row of the group.
#include "kernels/common/csr_rows_solve.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/spmv_dia.hpp"
#include "kernels/common/spmv_rows.hpp"
#include "kernels/cuda/plugin_state.cuh"
#include "kernels/cuda/vendor_libraries.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

template <class V, class I, class X, class A>
__global__ void csr_rows_kernel(detail::csr_args a, A alpha, const X* x, A beta, X* y) {
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  MIXPREC_GRID_STRIDE(r, a.rows) {
    const I b = rp[r], e = rp[r + 1];
    kern::spmv_store(y, r, kern::csr_row_sum<2, A>(v + b, ci + b, I(e - b), x), alpha, beta);
  }
}

/// SpMM: a thread per entry of Y, j fastest, so a warp shares row i's entries and reads rows
/// of X contiguously; each column sums as csr_rows_kernel's SpMV of it does.
template <class V, class I, class X, class A>
__global__ void csr_spmm_kernel(detail::csr_args a, std::int64_t k, A alpha, const X* x, std::int64_t ldx, A beta, X* y,
                                std::int64_t ldy) {
  const I* rp = static_cast<const I*>(a.row_ptr);
  const I* ci = static_cast<const I*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  MIXPREC_GRID_STRIDE(e, a.rows * k) {
    const idx r = e / k, j = e % k;
    const I b = rp[r], end = rp[r + 1];
    kern::spmv_store(y + r * ldy, j, kern::csr_row_sum_strided<2, A>(v + b, ci + b, I(end - b), x + j, ldx), alpha,
                     beta);
  }
}

/// Calls launch(A{}) with the accumulator SpMV uses: f64 when asked for, else the one the
/// values' and vectors' dtypes give (as on the CPU).
template <class V, class X, class F>
void with_accumulator(accumulation acc, F&& launch) {
  if (acc == accumulation::f64 && !std::is_same_v<X, double>)
    launch(double{});
  else
    launch(kern::spmv_acc_t<V, X>{});
}

template <class V, class I, class X>
struct own_csr {
  template <class A>
  static void launch(const exec_args& ex, const detail::csr_args& a, double alpha, const void* x, double beta,
                     void* y) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    csr_rows_kernel<V, I, X, A><<<grid_for(a.rows), block_threads, 0, st.stream>>>(
        a, A(alpha), static_cast<const X*>(x), A(beta), static_cast<X*>(y));
    check_launch("csr_rows_kernel");
  }
  static void run(const exec_args& ex, const detail::csr_args& a, double alpha, const void* x, double beta, void* y,
                  accumulation acc) {
    if (a.rows == 0) return;
    with_accumulator<V, X>(acc, [&](auto tag) { launch<decltype(tag)>(ex, a, alpha, x, beta, y); });
  }
  static void spmm(const exec_args& ex, const detail::csr_args& a, std::int64_t k, double alpha, const void* x,
                   std::int64_t ldx, double beta, void* y, std::int64_t ldy, accumulation acc) {
    if (a.rows == 0 || k == 0) return;
    with_accumulator<V, X>(acc, [&](auto tag) {
      using A = decltype(tag);
      device_state& st = state_of(ex);
      cudaSetDevice(st.device);
      csr_spmm_kernel<V, I, X, A><<<grid_for(a.rows * k), block_threads, 0, st.stream>>>(
          a, k, A(alpha), static_cast<const X*>(x), ldx, A(beta), static_cast<X*>(y), ldy);
      check_launch("csr_spmm_kernel");
    });
  }
};

template <class V, class X, class A>
__global__ void sell_slots_kernel(detail::sell_args a, A alpha, const X* x, A beta, X* y) {
  MIXPREC_GRID_STRIDE(slot, a.slices * a.chunk)
  kern::sell_slot<V, X, A>(a, slot / a.chunk, int(slot % a.chunk), alpha, x, beta, y);
}

/// SELL: a thread per slot, so a warp reads a slice's column step in one sweep of consecutive
/// values and indices (the layout SELL was made for).
template <class V, class X>
struct own_sell {
  template <class A>
  static void launch(const exec_args& ex, const detail::sell_args& a, double alpha, const void* x, double beta,
                     void* y) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    sell_slots_kernel<V, X, A><<<grid_for(a.slices * a.chunk), block_threads, 0, st.stream>>>(
        a, A(alpha), static_cast<const X*>(x), A(beta), static_cast<X*>(y));
    check_launch("sell_slots_kernel");
  }
  static void run(const exec_args& ex, const detail::sell_args& a, double alpha, const void* x, double beta, void* y,
                  accumulation acc) {
    if (a.rows == 0) return;
    with_accumulator<V, X>(acc, [&](auto tag) { launch<decltype(tag)>(ex, a, alpha, x, beta, y); });
  }
};

template <class V, class X, class A>
__global__ void dia_rows_kernel(detail::dia_args a, A alpha, const X* x, A beta, X* y) {
  MIXPREC_GRID_STRIDE(i, a.rows)
  kern::spmv_dia_row<V, X, A>(a, i, alpha, x, beta, y);
}

template <class V, class X>
struct own_dia {
  template <class A>
  static void launch(const exec_args& ex, const detail::dia_args& a, double alpha, const void* x, double beta,
                     void* y) {
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    dia_rows_kernel<V, X, A><<<grid_for(a.rows), block_threads, 0, st.stream>>>(a, A(alpha), static_cast<const X*>(x),
                                                                                A(beta), static_cast<X*>(y));
    check_launch("dia_rows_kernel");
  }
  static void run(const exec_args& ex, const detail::dia_args& a, double alpha, const void* x, double beta, void* y,
                  accumulation acc) {
    if (a.rows == 0) return;
    with_accumulator<V, X>(acc, [&](auto tag) { launch<decltype(tag)>(ex, a, alpha, x, beta, y); });
  }
};

template <index_type I>
bool supports_index(const void* problem, const char** why) {
  if (static_cast<const detail::spmv_problem*>(problem)->index == I) return true;
  *why = I == index_type::i32 ? "needs i32 indices" : "needs i64 indices";
  return false;
}

/// cuSPARSE: the index type, the library present, and the accumulation its compute type
/// gives (f64 vectors accumulate in f64, f32 in f32: standard, or f64 for f64 vectors).
template <index_type I, bool F64>
bool supports_cusparse(const void* problem, const char** why) {
  if (!supports_index<I>(problem, why)) return false;
  const auto* p = static_cast<const detail::spmv_problem*>(problem);
  if (p->acc == accumulation::compensated || (!F64 && p->acc == accumulation::f64)) {
    *why = "cuSPARSE accumulates in the vectors' precision only";
    return false;
  }
  if (!cusparse().loaded) {
    *why = cusparse().why.c_str();  // static storage: the library state lives to the end
    return false;
  }
  return true;
}

void record_cusparse(const char* call, cusparseStatus_t s) {
  pending_error(call, cusparse().status_string ? cusparse().status_string(s) : "cuSPARSE error");
}

cusparseHandle_t cusparse_handle(device_state& st) {
  if (!st.cusparse_handle) {
    cusparseHandle_t h = nullptr;
    const cusparseStatus_t s = cusparse().create(&h);
    if (s != CUSPARSE_STATUS_SUCCESS) {
      record_cusparse("cusparseCreate", s);
      return nullptr;
    }
    cusparse().set_stream(h, st.stream);
    st.cusparse_handle = h;
  }
  return static_cast<cusparseHandle_t>(st.cusparse_handle);
}

template <class T, class I>
struct cusparse_csr {
  static void run(const exec_args& ex, const detail::csr_args& a, double alpha, const void* x, double beta, void* y,
                  accumulation acc) {
    if (a.rows == 0) return;
    if (a.nnz == 0) return own_csr<T, I, T>::run(ex, a, alpha, x, beta, y, acc);  // no arrays to describe
    device_state& st = state_of(ex);
    cudaSetDevice(st.device);
    const cusparse_library& lib = cusparse();
    cusparseHandle_t h = cusparse_handle(st);
    if (!h) return;
    constexpr cudaDataType type = std::is_same_v<T, double> ? CUDA_R_64F : CUDA_R_32F;
    constexpr cusparseIndexType_t index = std::is_same_v<I, std::int32_t> ? CUSPARSE_INDEX_32I : CUSPARSE_INDEX_64I;
    const T al = T(alpha), be = T(beta);
    cusparseConstSpMatDescr_t mat = nullptr;
    cusparseConstDnVecDescr_t vx = nullptr;
    cusparseDnVecDescr_t vy = nullptr;
    void* work = nullptr;
    std::size_t work_bytes = 0;
    cusparseStatus_t s = lib.create_csr(&mat, a.rows, a.cols, a.nnz, a.row_ptr, a.col_idx, a.values, index, index,
                                        CUSPARSE_INDEX_BASE_ZERO, type);
    if (s == CUSPARSE_STATUS_SUCCESS) s = lib.create_const_vector(&vx, a.cols, x, type);
    if (s == CUSPARSE_STATUS_SUCCESS) s = lib.create_vector(&vy, a.rows, y, type);
    if (s == CUSPARSE_STATUS_SUCCESS)
      s = lib.spmv_buffer_size(h, CUSPARSE_OPERATION_NON_TRANSPOSE, &al, mat, vx, &be, vy, type, CUSPARSE_SPMV_CSR_ALG2,
                               &work_bytes);
    if (s == CUSPARSE_STATUS_SUCCESS && work_bytes > 0) {
      work = device_take(st, work_bytes);
      if (!work) pending_error("cusparseSpMV workspace", "out of device memory");
    }
    if (s == CUSPARSE_STATUS_SUCCESS && (work || work_bytes == 0))
      s = lib.spmv(h, CUSPARSE_OPERATION_NON_TRANSPOSE, &al, mat, vx, &be, vy, type, CUSPARSE_SPMV_CSR_ALG2, work);
    if (s != CUSPARSE_STATUS_SUCCESS) record_cusparse("cusparseSpMV", s);
    device_give_back(st, work);  // stream-ordered: reused only by work queued after this SpMV
    if (vy) lib.destroy_vector(vy);
    if (vx) lib.destroy_vector(vx);
    if (mat) lib.destroy_matrix(mat);
  }
};

/// One group of a triangular solve or Gauss-Seidel sweep: a thread per listed row (the rows
/// of a group never reference each other), running the CPU kernel's row update.
template <class V, class X, class I>
__global__ void rows_solve_kernel(detail::csr_rows_solve_args s) {
  MIXPREC_GRID_STRIDE(r, s.count) { kern::csr_rows_solve_row<V, X, I>(s, s.rows[r]); }
}

template <class V, class X>
void rows_solve(const exec_args& ex, const detail::csr_rows_solve_args& s) {
  if (s.count == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  if (s.a.index == index_type::i32)
    rows_solve_kernel<V, X, std::int32_t><<<grid_for(s.count), block_threads, 0, st.stream>>>(s);
  else
    rows_solve_kernel<V, X, std::int64_t><<<grid_for(s.count), block_threads, 0, st.stream>>>(s);
  check_launch("rows_solve_kernel");
}

}  // namespace

void register_sparse_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc own32{"i32_cuda", backend::cuda, cpu_isa::generic, supports_index<index_type::i32>};
  const kern::variant_desc own64{"i64_cuda", backend::cuda, cpu_isa::generic, supports_index<index_type::i64>};
  const kern::variant_desc dia{"cuda", backend::cuda, cpu_isa::generic, nullptr};
  auto own = [&](auto v_tag, auto x_tag) {
    using V = decltype(v_tag);
    using X = decltype(x_tag);
    kern::add_kernel<detail::op_id::spmv_csr>(sink, own32, dtype_of<V>, dtype_of<X>, &own_csr<V, std::int32_t, X>::run);
    kern::add_kernel<detail::op_id::spmv_csr>(sink, own64, dtype_of<V>, dtype_of<X>, &own_csr<V, std::int64_t, X>::run);
    kern::add_kernel<detail::op_id::spmv_dia>(sink, dia, dtype_of<V>, dtype_of<X>, &own_dia<V, X>::run);
    kern::add_kernel<detail::op_id::spmv_sell>(sink, dia, dtype_of<V>, dtype_of<X>, &own_sell<V, X>::run);
    kern::add_kernel<detail::op_id::spmm_csr>(sink, own32, dtype_of<V>, dtype_of<X>,
                                              &own_csr<V, std::int32_t, X>::spmm);
    kern::add_kernel<detail::op_id::spmm_csr>(sink, own64, dtype_of<V>, dtype_of<X>,
                                              &own_csr<V, std::int64_t, X>::spmm);
  };
  auto both = [&](auto v_tag) {
    own(v_tag, double{});
    own(v_tag, float{});
  };
  both(double{});
  both(float{});
  both(half{});
  both(bfloat16{});
  kern::add_kernel<detail::op_id::csr_rows_solve>(sink, dia, dtype::f64, dtype::f64, &rows_solve<double, double>);
  kern::add_kernel<detail::op_id::csr_rows_solve>(sink, dia, dtype::f32, dtype::f64, &rows_solve<float, double>);
  kern::add_kernel<detail::op_id::csr_rows_solve>(sink, dia, dtype::f64, dtype::f32, &rows_solve<double, float>);
  kern::add_kernel<detail::op_id::csr_rows_solve>(sink, dia, dtype::f32, dtype::f32, &rows_solve<float, float>);
  const kern::variant_desc vendor32_64{"i32_cusparse", backend::cuda, cpu_isa::generic,
                                       supports_cusparse<index_type::i32, true>};
  const kern::variant_desc vendor64_64{"i64_cusparse", backend::cuda, cpu_isa::generic,
                                       supports_cusparse<index_type::i64, true>};
  const kern::variant_desc vendor32_32{"i32_cusparse", backend::cuda, cpu_isa::generic,
                                       supports_cusparse<index_type::i32, false>};
  const kern::variant_desc vendor64_32{"i64_cusparse", backend::cuda, cpu_isa::generic,
                                       supports_cusparse<index_type::i64, false>};
  kern::add_kernel<detail::op_id::spmv_csr>(sink, vendor32_64, dtype::f64, dtype::f64,
                                            &cusparse_csr<double, std::int32_t>::run);
  kern::add_kernel<detail::op_id::spmv_csr>(sink, vendor64_64, dtype::f64, dtype::f64,
                                            &cusparse_csr<double, std::int64_t>::run);
  kern::add_kernel<detail::op_id::spmv_csr>(sink, vendor32_32, dtype::f32, dtype::f32,
                                            &cusparse_csr<float, std::int32_t>::run);
  kern::add_kernel<detail::op_id::spmv_csr>(sink, vendor64_32, dtype::f32, dtype::f32,
                                            &cusparse_csr<float, std::int64_t>::run);
}

}  // namespace mixprec::cuda
