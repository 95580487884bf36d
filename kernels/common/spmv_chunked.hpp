// CSR and SELL SpMV from the scalar bodies, serial (the `_ref` kernels, products added in
// order) or cut into work-balanced chunks on the CPU threads (the portable kernels, CSR
// rows summed in two partial sums).
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include "internal/parallel.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/spmv_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Chunks for an SpMV of this much work: one per thread, none below ~32k entries.
inline int spmv_chunks(const detail::exec_args& ex, std::int64_t work) {
  return detail::chunk_count(work, ex.threads, 1 << 15);
}

template <bool Parallel>
struct spmv_chunked {
  template <class V, class I, class X>
  static void csr(const detail::exec_args& ex, const detail::csr_args& a, double alpha, const void* xv, double beta,
                  void* yv, accumulation acc) {
    if (acc == accumulation::f64 && !std::is_same_v<X, double>) {
      run<V, I, X, double>(ex, a, alpha, xv, beta, yv);
    } else {
      run<V, I, X, spmv_acc_t<V, X>>(ex, a, alpha, xv, beta, yv);
    }
  }

  template <class V, class I, class X>
  static void csr_mm(const detail::exec_args& ex, const detail::csr_args& a, std::int64_t k, double alpha,
                     const void* xv, std::int64_t ldx, double beta, void* yv, std::int64_t ldy, accumulation acc) {
    if (acc == accumulation::f64 && !std::is_same_v<X, double>)
      run_mm<V, I, X, double>(ex, a, k, alpha, xv, ldx, beta, yv, ldy);
    else
      run_mm<V, I, X, spmv_acc_t<V, X>>(ex, a, k, alpha, xv, ldx, beta, yv, ldy);
  }

  template <class V, class X>
  static void sell(const detail::exec_args& ex, const detail::sell_args& a, double alpha, const void* xv, double beta,
                   void* yv, accumulation acc) {
    if (acc == accumulation::f64 && !std::is_same_v<X, double>)
      run_sell<V, X, double>(ex, a, alpha, xv, beta, yv);
    else
      run_sell<V, X, spmv_acc_t<V, X>>(ex, a, alpha, xv, beta, yv);
  }

 private:
  template <class V, class I, class X, class A>
  static void run_mm(const detail::exec_args& ex, const detail::csr_args& a, std::int64_t k, double alpha,
                     const void* xv, std::int64_t ldx, double beta, void* yv, std::int64_t ldy) {
    const I* rp = static_cast<const I*>(a.row_ptr);
    const int chunks = Parallel ? spmv_chunks(ex, (a.nnz + a.rows) * k) : 1;
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t rb, re;
      balanced_rows(rp, a.rows, chunks, c, &rb, &re);
      spmm_csr_rows<V, I, X, A, Parallel ? 2 : 1>(a, rb, re, k, A(alpha), static_cast<const X*>(xv), ldx, A(beta),
                                                  static_cast<X*>(yv), ldy);
    });
  }

  template <class V, class I, class X, class A>
  static void run(const detail::exec_args& ex, const detail::csr_args& a, double alpha, const void* xv, double beta,
                  void* yv) {
    const I* rp = static_cast<const I*>(a.row_ptr);
    const int chunks = Parallel ? spmv_chunks(ex, a.nnz + a.rows) : 1;
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t rb, re;
      balanced_rows(rp, a.rows, chunks, c, &rb, &re);
      spmv_csr_rows<V, I, X, A, Parallel ? 2 : 1>(a, rb, re, A(alpha), static_cast<const X*>(xv), A(beta),
                                                  static_cast<X*>(yv));
    });
  }

  template <class V, class X, class A>
  static void run_sell(const detail::exec_args& ex, const detail::sell_args& a, double alpha, const void* xv,
                       double beta, void* yv) {
    const int chunks = Parallel ? spmv_chunks(ex, a.slice_ptr[a.slices]) : 1;
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t sb, se;
      detail::chunk_range(a.slices, chunks, c, 1, &sb, &se);
      if (a.chunk == 8)
        sell_slices<8, V, X, A>(a, sb, se, A(alpha), static_cast<const X*>(xv), A(beta), static_cast<X*>(yv));
      else
        sell_slices<16, V, X, A>(a, sb, se, A(alpha), static_cast<const X*>(xv), A(beta), static_cast<X*>(yv));
    });
  }

  /// Slices [sb, se) of SELL-C: each row's products are added in column order, as CSR's
  /// reference does, but the slice is walked one column step at a time for all C lanes, so
  /// values and indices are read in storage order and the C sums are independent chains.
  /// Walking it lane by lane (a strided loop and a loop exit per row) was twice as slow as
  /// CSR. Padding slots are skipped, not multiplied: their
  /// column 0 may hold an Inf or NaN of another row.
  template <int C, class V, class X, class A>
  static void sell_slices(const detail::sell_args& a, std::int64_t sb, std::int64_t se, A alpha, const X* x, A beta,
                          X* y) {
    const V* v = static_cast<const V*>(a.values);
    for (std::int64_t s = sb; s < se; ++s) {
      const std::int32_t* len = a.lane_len + s * C;
      A sum[C] = {};
      for (std::int32_t k = 0; k < a.slice_len[s]; ++k) {
        const std::int64_t at = a.slice_ptr[s] + std::int64_t(k) * C;
        prefetch_row_ahead(v, a.col_idx, at);
        for (int lane = 0; lane < C; ++lane)
          if (k < len[lane]) sum[lane] += A(widen(v[at + lane])) * A(widen(x[a.col_idx[at + lane]]));
      }
      for (int lane = 0; lane < C; ++lane) {
        const std::int32_t row = a.row_of[s * C + lane];
        if (row >= 0) spmv_store(y, row, sum[lane], alpha, beta);
      }
    }
  }
};

/// Rejects index types other than I (the registry holds one entry per index type).
template <index_type I>
bool supports_index(const void* problem, const char** why) {
  if (static_cast<const detail::spmv_problem*>(problem)->index == I) return true;
  *why = I == index_type::i32 ? "needs i32 indices" : "needs i64 indices";
  return false;
}

template <class Impl, class V, class X>
constexpr detail::spmv_kernel_table::entries spmv_entries_of() {
  return {&Impl::template csr<V, std::int32_t, X>, &Impl::template csr<V, std::int64_t, X>, &Impl::template sell<V, X>,
          &Impl::template csr_mm<V, std::int32_t, X>, &Impl::template csr_mm<V, std::int64_t, X>};
}

/// Impl's CSR, SELL and SpMM kernels for every (values, vectors) pair, as constant pointers
/// that a registration file built with other flags can register.
template <class Impl>
constexpr detail::spmv_kernel_table spmv_table_of() {
  return {{{spmv_entries_of<Impl, double, double>(), spmv_entries_of<Impl, double, float>()},
           {spmv_entries_of<Impl, float, double>(), spmv_entries_of<Impl, float, float>()},
           {spmv_entries_of<Impl, half, double>(), spmv_entries_of<Impl, half, float>()},
           {spmv_entries_of<Impl, bfloat16, double>(), spmv_entries_of<Impl, bfloat16, float>()}}};
}

/// Registers a folder's spmv_kernel_table: CSR per index type (named suffix_i32 /
/// suffix_i64), SELL (suffix_sell) and CSR SpMM, for every (values, vectors) pair.
inline void add_spmv_table(const detail::kernel_sink& sink, const char* suffix_i32, const char* suffix_i64,
                           const char* suffix_sell, backend where, cpu_isa isa, const detail::spmv_kernel_table& t) {
  using detail::op_id;
  const variant_desc v32{suffix_i32, where, isa, supports_index<index_type::i32>};
  const variant_desc v64{suffix_i64, where, isa, supports_index<index_type::i64>};
  const variant_desc vs{suffix_sell, where, isa, nullptr};
  const dtype values[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  const dtype vectors[] = {dtype::f64, dtype::f32};
  for (int v = 0; v < 4; ++v)
    for (int x = 0; x < 2; ++x) {
      const auto& e = t.of[v][x];
      add_kernel<detail::op_id::spmv_csr>(sink, v32, values[v], vectors[x], e.csr_i32);
      add_kernel<detail::op_id::spmv_csr>(sink, v64, values[v], vectors[x], e.csr_i64);
      add_kernel<detail::op_id::spmv_sell>(sink, vs, values[v], vectors[x], e.sell);
      add_kernel<detail::op_id::spmm_csr>(sink, v32, values[v], vectors[x], e.spmm_i32);
      add_kernel<detail::op_id::spmm_csr>(sink, v64, values[v], vectors[x], e.spmm_i64);
    }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
