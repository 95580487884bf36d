// Quantize / dequantize kernels: the reference (one thread, row by row) and the portable
// OpenMP version (rows split among threads). Both run the element bodies of quant_math.hpp,
// which the CUDA kernels run too.
#include "internal/parallel.hpp"
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/quant_math.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern {
namespace {

template <class X, class Q>
void quantize_rows(const detail::quant_args& a, std::int64_t r0, std::int64_t r1) {
  for (std::int64_t i = r0; i < r1; ++i) {
    const std::int64_t row_params = quant_params_of_row(a, i);
    for (std::int64_t j = 0; j < a.cols; ++j) quantize_element<X, Q>(a, i, j, row_params);
  }
}

template <class Q, class X>
void dequantize_rows(const detail::quant_args& a, std::int64_t r0, std::int64_t r1) {
  for (std::int64_t i = r0; i < r1; ++i) {
    const std::int64_t row_params = quant_params_of_row(a, i);
    for (std::int64_t j = 0; j < a.cols; ++j) dequantize_element<Q, X>(a, i, j, row_params);
  }
}

/// Runs body(r0, r1) over the rows: on one thread (reference) or split among threads.
template <bool Parallel, class Body>
void over_rows(const detail::exec_args& ex, std::int64_t rows, std::int64_t cols, Body&& body) {
  if (!Parallel) return body(0, rows);
  const int chunks = detail::chunk_count(rows * cols, ex.threads, 1 << 15);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t r0, r1;
    detail::chunk_range(rows, chunks, c, 1, &r0, &r1);
    body(r0, r1);
  });
}

template <class X, class Q, bool Parallel>
void quantize(const detail::exec_args& ex, const detail::quant_args& a) {
  over_rows<Parallel>(ex, a.rows, a.cols, [&](std::int64_t r0, std::int64_t r1) { quantize_rows<X, Q>(a, r0, r1); });
}
template <class Q, class X, bool Parallel>
void dequantize(const detail::exec_args& ex, const detail::quant_args& a) {
  over_rows<Parallel>(ex, a.rows, a.cols, [&](std::int64_t r0, std::int64_t r1) { dequantize_rows<Q, X>(a, r0, r1); });
}

template <bool Parallel>
void add_all(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::op_id;
#define MIXPREC_ADD_Q(X)                                                                                     \
  add_kernel<detail::op_id::quantize>(sink, v, dtype_of<X>, dtype::i8, &quantize<X, std::int8_t, Parallel>); \
  add_kernel<detail::op_id::quantize>(sink, v, dtype_of<X>, dtype::u8, &quantize<X, std::uint8_t, Parallel>);
  MIXPREC_ADD_Q(float)
  MIXPREC_ADD_Q(bfloat16)
  MIXPREC_ADD_Q(half)
#undef MIXPREC_ADD_Q
#define MIXPREC_ADD_D(X)                                                                                         \
  add_kernel<detail::op_id::dequantize>(sink, v, dtype::i8, dtype_of<X>, &dequantize<std::int8_t, X, Parallel>); \
  add_kernel<detail::op_id::dequantize>(sink, v, dtype::u8, dtype_of<X>, &dequantize<std::uint8_t, X, Parallel>);
  MIXPREC_ADD_D(float)
  MIXPREC_ADD_D(bfloat16)
#undef MIXPREC_ADD_D
}

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_quantize_kernels(const kernel_sink& sink) {
  kern::add_all<false>(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr});
  kern::add_all<true>(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr});
}
}  // namespace mixprec::detail
