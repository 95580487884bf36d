// GGUF's Q8_0 and Q4_0 blocks, bit for bit their reference quantization: one definition for
// the weights (src/quant/block_quant.cpp) and for the activations the matmul kernels
// quantize on the fly (kernels/, the CUDA ones included), so both sides follow the same rule.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "mixprec/float16.hpp"

namespace mixprec::detail {

// The helpers the kernel folders call are templates on `Folder`, which only names the
// caller: a folder passes kern::folder_tag (kernels/common/isa_namespace.hpp), so that a
// copy its compiler leaves out of line, compiled with the folder's ISA flags, is a name of
// the folder's own and never the one the core's calls link to; the core uses the default.

inline constexpr int qk = 32;  // values per block

/// std::round (halves away from zero) for |x| < 2^31, in operations a compiler vectorizes
/// at the baseline ISA (std::round is a library call there): the truncation t and the rest
/// x - t (of x's sign, below 1 in magnitude) are exact, and t moves one step away from zero
/// where the rest reaches a half; compares, not a branch, so that a loop of them vectorizes.
template <class Folder = void>
MIXPREC_HOST_DEVICE inline float round_half_away(float x) {
  const float t = float(std::int32_t(x)), rest = x - t;
  return t + float(int(rest >= 0.5f) - int(rest <= -0.5f));
}

/// One Q8_0 block given amax = max|x|: d = amax / 127 (stored as f16), q = round(x / d) half
/// away from zero, from the f32 d (not the rounded one), as ggml's quantize_row_q8_0_ref does.
template <class Folder = void>
MIXPREC_HOST_DEVICE inline void q8_0_block_of(const float* x, float amax, std::uint8_t* out) {
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const std::uint16_t bits = half(d).bits();
  std::memcpy(out, &bits, 2);
  for (int j = 0; j < qk; ++j) out[2 + j] = std::uint8_t(std::int8_t(round_half_away<Folder>(x[j] * id)));
}

/// One Q8_0 block, its amax found here (the block matmuls quantize their activations so, on
/// the host and on a device: hence no <cmath> calls).
template <class Folder = void>
MIXPREC_HOST_DEVICE inline void quantize_q8_0_block(const float* x, std::uint8_t* out) {
  float amax = 0.0f;
  for (int j = 0; j < qk; ++j) {
    const float m = x[j] < 0.0f ? -x[j] : x[j];
    amax = amax < m ? m : amax;
  }
  q8_0_block_of<Folder>(x, amax, out);
}

/// One Q4_0 block given max, the value of largest magnitude (the first of equals): d = max /
/// -8, and q = min(15, trunc(x / d + 8.5)), values j and j + 16 in the low and high nibble of
/// byte j (ggml's quantize_row_q4_0_ref).
inline void q4_0_block_of(const float* x, float max, std::uint8_t* out) {
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const std::uint16_t bits = half(d).bits();
  std::memcpy(out, &bits, 2);
  for (int j = 0; j < qk / 2; ++j) {
    const std::uint8_t lo = std::uint8_t(std::min(15, int(std::int8_t(x[j] * id + 8.5f))));
    const std::uint8_t hi = std::uint8_t(std::min(15, int(std::int8_t(x[j + qk / 2] * id + 8.5f))));
    out[2 + j] = std::uint8_t(lo | (hi << 4));
  }
}

/// The block's f16 scale as f32.
template <class Folder = void>
MIXPREC_HOST_DEVICE inline float block_scale(const std::uint8_t* block) {
  std::uint16_t bits;
  std::memcpy(&bits, block, 2);
  return float(half::from_bits(bits));
}

/// The block's 32 values as integers: Q8_0's q, Q4_0's nibble - 8.
template <class Folder = void>
MIXPREC_HOST_DEVICE inline void block_ints_q8_0(const std::uint8_t* block, std::int8_t* q) {
  std::memcpy(q, block + 2, qk);
}
template <class Folder = void>
MIXPREC_HOST_DEVICE inline void block_ints_q4_0(const std::uint8_t* block, std::int8_t* q) {
  for (int j = 0; j < qk / 2; ++j) {
    q[j] = std::int8_t((block[2 + j] & 0x0F) - 8);
    q[j + qk / 2] = std::int8_t((block[2 + j] >> 4) - 8);
  }
}

}  // namespace mixprec::detail
