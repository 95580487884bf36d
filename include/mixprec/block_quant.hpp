// mixprec/block_quant.hpp — weights in GGUF's block-quantized formats, and y = x * W^T on them.
//
//   auto W = mixprec::block_matrix::quantize(w_f32, mixprec::block_format::q4_0);  // n x k, once
//   mixprec::matmul(x, W, y);                       // x: m x k f32, y: m x n f32
//
// Q8_0: blocks of 32 values, an f16 scale d = max|x| / 127 and 32 int8 q = round(x / d)
// (34 bytes). Q4_0: an f16 scale d = m / -8, m the value of largest magnitude, and 32 4-bit
// q = min(15, trunc(x / d + 8.5)) packed two per byte, value j in the low nibble of byte j
// and value j + 16 in the high one (18 bytes); a value is (q - 8) d. Both are bit for bit
// the formats' reference quantization (ggml's quantize_row_q8_0_ref / q4_0_ref), so the
// bytes are interchangeable with GGUF files.
//
// matmul quantizes each 32-value block of x's rows to Q8_0 (as llama.cpp does), takes the
// exact integer dot product of each pair of blocks and adds d_x d_w times it in f32:
// |y - sum_b d_xb d_wb (q_xb . q_wb)| <= (k/32 + 2) u sum_b |d_xb d_wb (q_xb . q_wb)|.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class block_format : std::uint8_t { q8_0, q4_0 };
const char* name_of(block_format f);

/// Values per block, and bytes per block of each format.
inline constexpr std::int64_t block_values = 32;
constexpr std::size_t block_bytes(block_format f) { return f == block_format::q8_0 ? 34 : 18; }

/// An n x k weight matrix in a block format, row by row (k / 32 blocks per row), in the
/// host's memory unless copied elsewhere with to(). Copies share the (immutable) blocks.
class block_matrix {
 public:
  block_matrix() = default;
  /// Quantizes w (rows x cols, f32, row-major; cols a multiple of 32) row by row.
  static block_matrix quantize(const_view w, block_format f);
  /// Copies blocks already in the format's layout (a GGUF tensor's data).
  static block_matrix from_bytes(const void* data, std::size_t bytes, std::int64_t rows, std::int64_t cols,
                                 block_format f);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  block_format format() const { return format_; }
  std::size_t bytes() const { return data_ ? data_->bytes() : 0; }
  /// The blocks, in ctx()'s memory.
  const std::uint8_t* data() const { return data_ ? static_cast<const std::uint8_t*>(data_->data()) : nullptr; }
  /// Where the blocks live.
  const context& ctx() const;
  /// A copy of the blocks in target's memory (a device's, for matmul there).
  block_matrix to(const context& target) const;

  /// The values the blocks stand for, (q - offset) * d, into a rows x cols f32 view in CPU
  /// memory (the blocks copied there first when they live on a device).
  void dequantize(view out) const;
  /// Row i's values into cols() floats at out; the blocks must be in CPU memory.
  void dequantize_row(std::int64_t i, float* out) const;

 private:
  std::int64_t rows_ = 0, cols_ = 0;
  block_format format_ = block_format::q8_0;
  std::shared_ptr<const buffer> data_;
};

/// out row t = table row ids[t] dequantized, then rounded once to out's dtype (f32, bf16 or
/// f16): an embedding table kept in a block format (as GGUF files keep token_embd). ids: an
/// i32 view; ids and out in the table's memory (the host's or a device's). An id outside
/// [0, rows) is refused, naming it and its position, before anything is written.
void embedding(const block_matrix& table, const_view ids, view out);

/// y (m x n, f32) = x (m x k, f32) * W^T, W an n x k block_matrix; x and y row-major with
/// unit column stride, in W's memory (the host's or a device's).
void matmul(const_view x, const block_matrix& w, view y);

}  // namespace mixprec

MIXPREC_PUBLIC_END
