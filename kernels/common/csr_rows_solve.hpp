// The row update shared by sparse triangular solves and Gauss-Seidel sweeps (see
// csr_rows_solve_args): the rows of one call are independent, so they are split over the
// threads; each row is a short sparse dot product in the accumulator precision of SpMV.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/scalar.hpp"
#include "kernels/common/spmv_rows.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Row i's update: x_i = (b_i - sum_{j != i} a_ij x_j) * inv_diag[i], in SpMV's accumulator
/// precision and column order. The CPU kernel runs it row after row of a group on each
/// thread, the CUDA kernel a thread per row of the group.
template <class V, class X, class I>
MIXPREC_KI void csr_rows_solve_row(const detail::csr_rows_solve_args& s, std::int64_t i) {
  using A = spmv_acc_t<V, X>;
  const I* rp = static_cast<const I*>(s.a.row_ptr);
  const I* ci = static_cast<const I*>(s.a.col_idx);
  const V* v = static_cast<const V*>(s.a.values);
  const X* x_in = static_cast<const X*>(s.x);
  A sum = A(widen(static_cast<const X*>(s.b)[i]));
  for (I k = rp[i]; k < rp[i + 1]; ++k)
    if (std::int64_t(ci[k]) != i) sum -= A(widen(v[k])) * A(widen(x_in[ci[k]]));
  static_cast<X*>(s.x)[i] = narrow<X>(sum * A(s.inv_diag[i]));
}

template <class V, class X>
struct csr_rows_solver {
  template <class I>
  static void rows(const detail::exec_args& ex, const detail::csr_rows_solve_args& s) {
    const int chunks = detail::chunk_count(s.count, ex.threads, 2048);
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t lo, hi;
      detail::chunk_range(s.count, chunks, c, 1, &lo, &hi);
      for (std::int64_t r = lo; r < hi; ++r) csr_rows_solve_row<V, X, I>(s, s.rows[r]);
    });
  }

  static void run(const detail::exec_args& ex, const detail::csr_rows_solve_args& s) {
    if (s.a.index == index_type::i32)
      rows<std::int32_t>(ex, s);
    else
      rows<std::int64_t>(ex, s);
  }
};

/// Registers csr_rows_solve for values f64/f32 with vectors f64/f32.
inline void add_csr_rows_solve_set(const detail::kernel_sink& sink, const variant_desc& v) {
  add_kernel<detail::op_id::csr_rows_solve>(sink, v, dtype::f64, dtype::f64, &csr_rows_solver<double, double>::run);
  add_kernel<detail::op_id::csr_rows_solve>(sink, v, dtype::f32, dtype::f64, &csr_rows_solver<float, double>::run);
  add_kernel<detail::op_id::csr_rows_solve>(sink, v, dtype::f64, dtype::f32, &csr_rows_solver<double, float>::run);
  add_kernel<detail::op_id::csr_rows_solve>(sink, v, dtype::f32, dtype::f32, &csr_rows_solver<float, float>::run);
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
