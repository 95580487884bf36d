// DIA SpMV: the reference row by row (spmv_dia_row, the CUDA kernel's body too); the
// portable kernels from a scalar body over row blocks split evenly over the CPU threads
// (every row costs the same, one entry per diagonal). SIMD kernels use the block body for
// the rows at the matrix's edges, where some diagonals run off it.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>

#include "internal/parallel.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/spmv_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Rows [*lo, *hi) in which every diagonal lies inside the matrix (empty when none does).
inline void dia_full_rows(const detail::dia_args& a, std::int64_t* lo, std::int64_t* hi) {
  *lo = 0;
  *hi = a.rows;
  for (std::int64_t d = 0; d < a.diagonals; ++d) {
    *lo = std::max(*lo, -a.offsets[d]);
    *hi = std::min(*hi, a.cols - a.offsets[d]);
  }
  if (*hi < *lo) *lo = *hi = 0;
}

/// y[rb, re) = alpha*A*x + beta*y. Within a block of rows the sums are kept in an array and
/// each diagonal adds its contiguous run (a loop compilers vectorise); per row the terms
/// still come in ascending offset order, the same order as CSR's columns.
template <class V, class X, class A>
void spmv_dia_rows(const detail::dia_args& a, std::int64_t rb, std::int64_t re, A alpha, const X* x, A beta, X* y) {
  constexpr std::int64_t block = 256;
  const V* v = static_cast<const V*>(a.values);
  A sum[block];
  for (std::int64_t i0 = rb; i0 < re; i0 += block) {
    const std::int64_t n = std::min(block, re - i0);
    std::fill(sum, sum + n, A(0));
    for (std::int64_t d = 0; d < a.diagonals; ++d) {
      const std::int64_t off = a.offsets[d];
      const std::int64_t lo = std::max(i0, -off), hi = std::min(i0 + n, a.cols - off);
      const V* vd = v + d * a.stride;
      for (std::int64_t i = lo; i < hi; ++i) sum[i - i0] += A(widen(vd[i])) * A(widen(x[i + off]));
    }
    for (std::int64_t j = 0; j < n; ++j) spmv_store(y, i0 + j, sum[j], alpha, beta);
  }
}

/// Row i of y = alpha*A*x + beta*y, the diagonals added in ascending offset order: the
/// same sum as spmv_dia_rows, one row at a time. The reference kernel's body and the CUDA
/// kernel's (a thread per row), so the CPU tests cover what the GPU runs.
template <class V, class X, class A>
MIXPREC_KI void spmv_dia_row(const detail::dia_args& a, std::int64_t i, A alpha, const X* x, A beta, X* y) {
  const V* v = static_cast<const V*>(a.values);
  A sum = 0;
  for (std::int64_t d = 0; d < a.diagonals; ++d) {
    const std::int64_t j = i + a.offsets[d];
    if (j >= 0 && j < a.cols) sum += A(widen(v[d * a.stride + i])) * A(widen(x[j]));
  }
  spmv_store(y, i, sum, alpha, beta);
}

/// Threads for a DIA SpMV: one per ~32k stored entries, at most the context's.
inline int spmv_dia_chunks(const detail::exec_args& ex, const detail::dia_args& a) {
  return detail::chunk_count(a.rows * std::max<std::int64_t>(1, a.diagonals), ex.threads, 1 << 15);
}

template <bool Parallel>
struct spmv_dia_chunked {
  template <class V, class X>
  static void dia(const detail::exec_args& ex, const detail::dia_args& a, double alpha, const void* xv, double beta,
                  void* yv, accumulation acc) {
    if (acc == accumulation::f64 && !std::is_same_v<X, double>)
      run<V, X, double>(ex, a, alpha, xv, beta, yv);
    else
      run<V, X, spmv_acc_t<V, X>>(ex, a, alpha, xv, beta, yv);
  }

 private:
  template <class V, class X, class A>
  static void run(const detail::exec_args& ex, const detail::dia_args& a, double alpha, const void* xv, double beta,
                  void* yv) {
    if constexpr (!Parallel) {  // the reference: row by row
      for (std::int64_t i = 0; i < a.rows; ++i)
        spmv_dia_row<V, X, A>(a, i, A(alpha), static_cast<const X*>(xv), A(beta), static_cast<X*>(yv));
      return;
    }
    const int chunks = spmv_dia_chunks(ex, a);
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t rb, re;
      detail::chunk_range(a.rows, chunks, c, 64, &rb, &re);
      spmv_dia_rows<V, X, A>(a, rb, re, A(alpha), static_cast<const X*>(xv), A(beta), static_cast<X*>(yv));
    });
  }
};

/// Impl's DIA kernels for every (values, vectors) pair, as constant pointers that a
/// registration file built with other flags can register.
template <class Impl>
constexpr detail::spmv_dia_kernel_table spmv_dia_table_of() {
  return {{{&Impl::template dia<double, double>, &Impl::template dia<double, float>},
           {&Impl::template dia<float, double>, &Impl::template dia<float, float>},
           {&Impl::template dia<half, double>, &Impl::template dia<half, float>},
           {&Impl::template dia<bfloat16, double>, &Impl::template dia<bfloat16, float>}}};
}

/// Registers a folder's DIA kernels for every (values, vectors) pair.
inline void add_spmv_dia_table(const detail::kernel_sink& sink, const variant_desc& v,
                               const detail::spmv_dia_kernel_table& t) {
  const dtype values[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  const dtype vectors[] = {dtype::f64, dtype::f32};
  for (int i = 0; i < 4; ++i)
    for (int x = 0; x < 2; ++x) add_kernel<detail::op_id::spmv_dia>(sink, v, values[i], vectors[x], t.of[i][x]);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
