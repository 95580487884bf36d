// The row-level part of the SIMD quantize / dequantize kernels, shared by every ISA: where
// a row's parameters lie and which rows run together. The ISA files supply the vector loop.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "internal/parallel.hpp"
#include "internal/registry.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// Where one row's scales and zero points are: `scale[g]`, `zero_point[g]` for columns
/// [g * block, (g + 1) * block); block is 1 or a multiple of the vector width (or at least
/// the row).
struct quant_param_row {
  const float* scale;
  const std::int32_t* zero_point;
  std::int64_t block;
};

/// The parameters of row i as a quant_param_row for a vector loop of `Lanes` columns: read
/// where they lie when one serves one column or whole vectors (per channel along columns,
/// per tensor, per row, group-wise with groups a multiple of the width); other block widths
/// are expanded to one per column, once per parameter row, into per-thread buffers
/// (expanding every row of a group-wise tensor cost 1.3x).
template <int Lanes>
class quant_row_params {
 public:
  quant_param_row at(const detail::quant_args& a, std::int64_t i) {
    const std::int64_t prow = i / a.row_div;
    const float* s = a.scale + prow * a.grid_cols;
    const std::int32_t* z = a.zero_point + prow * a.grid_cols;
    if (a.col_div == 1 || a.col_div % Lanes == 0 || a.col_div >= a.cols) return {s, z, a.col_div};
    if (prow != for_row_) {
      scale_.resize(std::size_t(a.cols));
      zero_.resize(std::size_t(a.cols));
      for (std::int64_t j0 = 0, g = 0; j0 < a.cols; j0 += a.col_div, ++g) {
        const std::int64_t j1 = std::min(a.cols, j0 + a.col_div);
        std::fill(scale_.begin() + j0, scale_.begin() + j1, s[g]);
        std::fill(zero_.begin() + j0, zero_.begin() + j1, z[g]);
      }
      for_row_ = prow;
    }
    return {scale_.data(), zero_.data(), 1};
  }

 private:
  local_vector<float> scale_;
  local_vector<std::int32_t> zero_;
  std::int64_t for_row_ = -1;  // the parameter row expanded into the buffers
};

/// Calls rows(count, i, params) for rows [i, i + count) sharing one parameter row, every
/// row once, rows split among threads; count is a std::integral_constant: 4 where four
/// rows share one parameter per column, so that each parameter vector loaded serves four
/// rows (loading it for every row, next to a row streaming from memory, cost 1.6x), else
/// 1 (broadcast parameters: four rows at a time measured 1.15x slower there).
template <int Lanes, class Rows>
void quant_over_rows(const detail::exec_args& ex, const detail::quant_args& a, Rows&& rows) {
  const int chunks = detail::chunk_count(a.rows * a.cols, ex.threads, 1 << 15);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t r0, r1;
    detail::chunk_range(a.rows, chunks, c, 1, &r0, &r1);
    quant_row_params<Lanes> rp;
    for (std::int64_t i = r0; i < r1;) {
      const quant_param_row p = rp.at(a, i);
      if (p.block == 1 && i + 4 <= r1 && (i + 3) / a.row_div == i / a.row_div) {
        rows(std::integral_constant<int, 4>{}, i, p);
        i += 4;
      } else {
        rows(std::integral_constant<int, 1>{}, i, p);
        i += 1;
      }
    }
  });
}

/// An ISA's quantize and dequantize kernels from its row functions: Rows provides
/// quantize<R, X, Q>(x, x row stride, q, q row stride, params, n) and
/// dequantize<R, Q>(q, q row stride, x, x row stride, params, n) for R rows sharing params.
template <int Lanes, class Rows>
struct quant_kernels_of {
  template <class X, class Q>
  static void quantize(const detail::exec_args& ex, const detail::quant_args& a) {
    quant_over_rows<Lanes>(ex, a, [&a](auto count, std::int64_t i, const quant_param_row& p) {
      Rows::template quantize<decltype(count)::value, X, Q>(static_cast<const X*>(a.src) + i * a.srs, a.srs,
                                                            static_cast<Q*>(a.dst) + i * a.drs, a.drs, p, a.cols);
    });
  }
  template <class Q>
  static void dequantize(const detail::exec_args& ex, const detail::quant_args& a) {
    quant_over_rows<Lanes>(ex, a, [&a](auto count, std::int64_t i, const quant_param_row& p) {
      Rows::template dequantize<decltype(count)::value, Q>(static_cast<const Q*>(a.src) + i * a.srs, a.srs,
                                                           static_cast<float*>(a.dst) + i * a.drs, a.drs, p, a.cols);
    });
  }
  static constexpr detail::quant_kernel_table table() {
    return {{&quantize<float, std::int8_t>, &quantize<float, std::uint8_t>, &quantize<bfloat16, std::int8_t>,
             &quantize<bfloat16, std::uint8_t>, &quantize<half, std::int8_t>, &quantize<half, std::uint8_t>},
            {&dequantize<std::int8_t>, &dequantize<std::uint8_t>}};
  }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
