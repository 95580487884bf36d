// GGUF block formats: quantizing weights row by row (src/internal/block_format.hpp, the
// formats' reference rule), dequantizing, and the checks before the block matmul kernel runs.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "internal/block_format.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/parallel.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/block_quant.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace {

/// A rank-2 (or rank-1: one row) f32 row-major view: rows, cols, row stride, and where it
/// lives (the host's memory unless `any_memory`).
struct f32_rows {
  const float* data;
  std::int64_t rows, cols, ld;
  context ctx;
};

f32_rows f32_rows_of(const char* op, const char* name, const const_view& v, bool any_memory = false) {
  if (v.ctx().empty()) MIXPREC_THROW(invalid_argument, op, name, " has no context (a default-constructed view)");
  if (v.type() != dtype::f32) MIXPREC_THROW(unsupported, op, name, " is ", name_of(v.type()), "; it must be f32");
  if (!any_memory && v.ctx().kind() != backend::cpu) MIXPREC_THROW(unsupported, op, name, " must be in CPU memory");
  if (v.rank() == 1) {
    if (v.stride(0) != 1 && v.extent(0) > 1) MIXPREC_THROW(unsupported, op, name, " must have unit stride");
    return {static_cast<const float*>(v.data()), 1, v.extent(0), v.extent(0), v.ctx()};
  }
  if (v.rank() != 2) MIXPREC_THROW(shape_mismatch, op, name, " must be rank 1 or 2, not rank ", v.rank());
  if (v.stride(1) != 1 && v.extent(1) > 1)
    MIXPREC_THROW(unsupported, op, name, " must be row-major with unit column stride");
  return {static_cast<const float*>(v.data()), v.extent(0), v.extent(1), v.stride(0), v.ctx()};
}

/// |x|'s bit pattern: for magnitudes, the order of these integers is the order of the values
/// (infinity and NaN above every finite one), and their maximum is a loop the compiler
/// vectorizes, where a float maximum is a chain of dependent maxss.
constexpr std::uint32_t infinity_bits = 0x7F800000u;
inline std::uint32_t magnitude_bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b & 0x7FFFFFFFu;
}
inline std::uint32_t largest_magnitude_bits(const float* x) {
  std::uint32_t top = 0;
  for (int j = 0; j < block_values; ++j) top = std::max(top, magnitude_bits(x[j]));
  return top;
}

void check_cols(const char* op, std::int64_t cols) {
  if (cols % block_values != 0)
    MIXPREC_THROW(shape_mismatch, op, "rows of ", cols, " values are not whole blocks of ", block_values);
}

}  // namespace

const char* name_of(block_format f) { return f == block_format::q8_0 ? "q8_0" : "q4_0"; }

block_matrix block_matrix::quantize(const_view wv, block_format f) {
  constexpr const char* op = "block_matrix::quantize";
  const f32_rows w = f32_rows_of(op, "w", wv);
  check_cols(op, w.cols);
  // Rows in chunks over the view's threads: a model loader quantizes whole checkpoints.
  const int chunks = detail::chunk_count(w.rows, wv.ctx().threads(), 16);
  auto for_rows = [&](auto&& body) {
    detail::parallel_chunks(chunks, [&](int c) {
      std::int64_t begin = 0, end = 0;
      detail::chunk_range(w.rows, chunks, c, 1, &begin, &end);
      body(c, begin, end);
    });
  };
  block_matrix m;
  m.rows_ = w.rows, m.cols_ = w.cols, m.format_ = f;
  const std::int64_t blocks = w.cols / block_values;
  auto blocks_out = std::make_shared<buffer>(dtype::u8, w.rows * blocks * std::int64_t(block_bytes(f)));
  auto* bytes_out = static_cast<std::uint8_t*>(blocks_out->data());
  // One pass: each block's largest magnitude, which also finds a non-finite value, then its
  // bytes. The first non-finite entry of each chunk, in row-major order; the first of all is
  // named.
  std::vector<std::int64_t> bad(std::size_t(chunks), -1);
  for_rows([&](int c, std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t b = 0; b < blocks; ++b) {
        const float* x = w.data + i * w.ld + b * block_values;
        const std::uint32_t top = largest_magnitude_bits(x);
        if (top >= infinity_bits) {
          std::int64_t j = 0;
          while (magnitude_bits(x[j]) < infinity_bits) ++j;
          bad[std::size_t(c)] = i * w.cols + b * block_values + j;
          return;
        }
        std::uint8_t* out = bytes_out + std::size_t(i * blocks + b) * block_bytes(f);
        if (f == block_format::q8_0) {
          float amax;
          std::memcpy(&amax, &top, sizeof amax);
          detail::q8_0_block_of(x, amax, out);
        } else {
          // The first value of that magnitude; +0 for a block of zeros, whatever their signs
          // (the definition's running maximum starts at +0 and only a larger one replaces it).
          std::int64_t j = 0;
          while (top != 0 && magnitude_bits(x[j]) != top) ++j;
          detail::q4_0_block_of(x, top != 0 ? x[j] : 0.0f, out);
        }
      }
  });
  for (std::int64_t at : bad)
    if (at >= 0) {
      const std::int64_t i = at / w.cols, j = at % w.cols;
      MIXPREC_THROW(invalid_argument, op, "w(", i, ", ", j, ") = ", w.data[i * w.ld + j],
                    " is not finite; a block format has no Inf or NaN");
    }
  m.data_ = std::move(blocks_out);
  return m;
}

block_matrix block_matrix::from_bytes(const void* data, std::size_t bytes, std::int64_t rows, std::int64_t cols,
                                      block_format f) {
  constexpr const char* op = "block_matrix::from_bytes";
  if (rows < 0 || cols < 0) MIXPREC_THROW(invalid_argument, op, "negative shape ", rows, " x ", cols);
  check_cols(op, cols);
  // rows x blocks x block bytes must not overflow before it is compared with the bytes given.
  const std::size_t blocks_per_row = std::size_t(cols / block_values), per_block = block_bytes(f);
  if (rows > 0 && blocks_per_row > 0 && std::size_t(rows) > SIZE_MAX / per_block / blocks_per_row)
    MIXPREC_THROW(invalid_argument, op, rows, " x ", cols, " in ", name_of(f), " takes more bytes than memory holds");
  const std::size_t want = std::size_t(rows) * blocks_per_row * per_block;
  if (bytes != want)
    MIXPREC_THROW(shape_mismatch, op, rows, " x ", cols, " in ", name_of(f), " takes ", want, " bytes, not ", bytes);
  if (want > 0 && !data) MIXPREC_THROW(invalid_argument, op, "data is null");
  block_matrix m;
  m.rows_ = rows, m.cols_ = cols, m.format_ = f;
  auto blocks = std::make_shared<buffer>(dtype::u8, std::int64_t(want));
  if (want > 0) std::memcpy(blocks->data(), data, want);
  m.data_ = std::move(blocks);
  return m;
}

const context& block_matrix::ctx() const {
  static const context host = context::cpu();
  return data_ ? data_->ctx() : host;
}

block_matrix block_matrix::to(const context& target) const {
  block_matrix m = *this;
  if (data_) m.data_ = std::make_shared<buffer>(data_->to(target));
  return m;
}

void block_matrix::dequantize_row(std::int64_t i, float* out) const {
  if (i < 0 || i >= rows_)
    MIXPREC_THROW(invalid_argument, "block_matrix::dequantize_row", "row ", i, " is outside [0, ", rows_, ")");
  if (ctx().kind() != backend::cpu)
    MIXPREC_THROW(unsupported, "block_matrix::dequantize_row", "the blocks live in ", name_of(ctx().kind()),
                  " memory; copy them with to(context::cpu()) first");
  const std::int64_t blocks = cols_ / block_values;
  std::int8_t q[block_values];
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::uint8_t* block = data() + std::size_t(i * blocks + b) * block_bytes(format_);
    if (format_ == block_format::q8_0)
      detail::block_ints_q8_0(block, q);
    else
      detail::block_ints_q4_0(block, q);
    const float d = detail::block_scale(block);
    for (std::int64_t t = 0; t < block_values; ++t) out[b * block_values + t] = float(q[t]) * d;
  }
}

void block_matrix::dequantize(view out) const {
  constexpr const char* op = "block_matrix::dequantize";
  const f32_rows o = f32_rows_of(op, "out", out);
  if (o.rows != rows_ || o.cols != cols_)
    MIXPREC_THROW(shape_mismatch, op, "out is ", o.rows, " x ", o.cols, " but the matrix is ", rows_, " x ", cols_);
  // Rows of no values hold nothing to write: no loop over rows the bytes do not back.
  if (cols_ == 0) return;
  if (ctx().kind() != backend::cpu) return to(context::cpu()).dequantize(out);
  float* dst = const_cast<float*>(o.data);
  for (std::int64_t i = 0; i < rows_; ++i) dequantize_row(i, dst + i * o.ld);
}

void embedding(const block_matrix& table, const_view ids, view out) {
  constexpr const char* op = "embedding";
  if (ids.ctx().empty() || ids.type() != dtype::i32 || !ids.is_contiguous())
    MIXPREC_THROW(invalid_argument, op, "ids must be a dense i32 view");
  const std::int64_t d = table.cols();
  const bool rank2 = out.rank() == 2 && (out.stride(1) == 1 || out.extent(1) <= 1);
  if (!rank2 || out.extent(0) != ids.size() || out.extent(1) != d)
    MIXPREC_THROW(shape_mismatch, op, "out must be a row-major ", ids.size(), " x ", d, " view (one row per id)");
  if (out.type() != dtype::f32 && out.type() != dtype::bf16 && out.type() != dtype::f16)
    MIXPREC_THROW(unsupported, op, "out is ", name_of(out.type()), "; it must be f32, bf16 or f16");
  const detail::rows_view y = detail::rows_of(op, "out", out);
  if (!ids.ctx().same_memory(table.ctx()) || !y.ctx.same_memory(table.ctx()))
    MIXPREC_THROW(invalid_argument, op, "ids and out must be in the table's memory (", name_of(table.ctx().kind()), ":",
                  table.ctx().device(), ")");
  std::int64_t bad_at = -1;
  std::int32_t bad_id = 0;
  detail::embedding_args a{};
  a.n = ids.size();
  a.d = d;
  a.vocab = table.rows();
  a.table = table.data();
  a.ldt = d / block_values * std::int64_t(block_bytes(table.format()));
  a.q4_0 = table.format() == block_format::q4_0;
  a.ids = static_cast<const std::int32_t*>(ids.data());
  a.out = y.data;
  a.ldo = y.ld;
  a.bad_at = &bad_at;
  a.bad_id = &bad_id;
  detail::run_embedding(op, dtype::u8, y, a);
}

void matmul(const_view xv, const block_matrix& w, view yv) {
  constexpr const char* op = "matmul";
  const f32_rows x = f32_rows_of(op, "x", xv, true), y = f32_rows_of(op, "y", yv, true);
  if (!x.ctx.same_memory(w.ctx()) || !y.ctx.same_memory(w.ctx()))
    MIXPREC_THROW(invalid_argument, op, "x and y must be in W's memory (", name_of(w.ctx().kind()), ":",
                  w.ctx().device(), "); copy W there with to()");
  if (x.cols != w.cols())
    MIXPREC_THROW(shape_mismatch, op, "x has ", x.cols, " columns but W is ", w.rows(), " x ", w.cols(),
                  " (y = x W^T needs x's columns = W's columns)");
  if (y.rows != x.rows || y.cols != w.rows())
    MIXPREC_THROW(shape_mismatch, op, "y is ", y.rows, " x ", y.cols, "; it must be ", x.rows, " x ", w.rows());
  const char* xb = reinterpret_cast<const char*>(x.data);
  const char* yb = reinterpret_cast<const char*>(y.data);
  const std::int64_t xs = ((x.rows - 1) * x.ld + x.cols) * 4, ys = ((y.rows - 1) * y.ld + y.cols) * 4;
  if (x.rows > 0 && y.cols > 0 && xb < yb + ys && yb < xb + xs) MIXPREC_THROW(invalid_argument, op, "y overlaps x");
  // Scanned where x lives (one result copied back from a device).
  double value = 0;
  const std::int64_t bad = detail::first_non_finite(
      detail::row_major{const_cast<float*>(x.data), x.rows, x.cols, x.ld, dtype::f32, x.ctx}, &value);
  if (bad >= 0)
    MIXPREC_THROW(invalid_argument, op, "x(", bad / x.cols, ", ", bad % x.cols, ") = ", value,
                  " is not finite; x is quantized to Q8_0, which has no Inf or NaN");
  if (x.rows == 0 || w.rows() == 0) return;
  if (x.cols == 0) {  // empty sums: rows of zeros, written where y lives
    for (std::int64_t i = 0; i < y.rows; ++i)
      fill(view(const_cast<float*>(y.data) + i * y.ld, dtype::f32, {y.cols}, {1}, y.ctx), 0.0);
    return;
  }
  const detail::block_matmul_args a{
      x.rows, w.rows(), x.cols, x.data, x.ld, w.data(), w.format() == block_format::q4_0, const_cast<float*>(y.data),
      y.ld};
  const detail::block_matmul_problem problem{a.q4_0, a.m};
  detail::dispatch<detail::op_id::block_matmul>(
      *detail::state_of(xv.ctx()), dtype::f32, dtype::f32, &problem, accumulation::standard,
      [&](detail::block_matmul_fn kernel, const detail::exec_args& ex) { kernel(ex, a); },
      [&] {
        return std::make_pair(std::string(name_of(w.format())), detail::cat(x.rows, "x", w.rows(), "x", x.cols));
      });
}

}  // namespace mixprec
