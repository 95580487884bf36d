// mixprec/float16.hpp — scalar IEEE binary16 (`half`) and bfloat16 (`bfloat16`).
//
// Both are 2-byte, trivially copyable, bit-compatible with IEEE binary16 / Google's
// bfloat16, with Eigen::half / Eigen::bfloat16 and with CUDA's __half / __nv_bfloat16:
// a buffer of any of them can be reinterpreted as the other (see mixprec/eigen.hpp).
//
//   mixprec::half h = mixprec::half(0.1f);      // rounds to nearest, ties to even
//   float back = static_cast<float>(h);          // exact
//   uint16_t bits = h.bits();                    // 0x2e66
//
// Numerics contract
// - Narrowing (f32 -> f16/bf16, f64 -> f16/bf16) rounds once to nearest, ties to even, with
//   gradual underflow (subnormal results), overflow to ±inf, NaN kept as a quiet NaN with its
//   sign. f64 -> f16 rounds once directly from the double: going through f32 would round twice
//   and be wrong in rare ties.
// - Widening (f16/bf16 -> f32/f64) is exact, subnormals included.
// - Arithmetic on these types is not provided on purpose: kernels widen to f32, compute, and
//   round once when they store (see each op's accumulation contract).
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__F16C__) && !defined(__CUDA_ARCH__)
#include <immintrin.h>
#endif

#if defined(__CUDACC__)
#define MIXPREC_HOST_DEVICE __host__ __device__
#else
#define MIXPREC_HOST_DEVICE
#endif

// The conversions are forced inline: kernels built for different ISAs include this header,
// and an out-of-line copy compiled with AVX-512 flags must never be the one the linker keeps
// for a generic caller.
#if defined(__GNUC__) || defined(__clang__)
#define MIXPREC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MIXPREC_ALWAYS_INLINE inline
#endif

namespace mixprec {
namespace detail {

template <class To, class From>
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

// Round an IEEE value with SrcMant/SrcExp bits to a narrower format with DstMant/DstExp bits,
// once, to nearest with ties to even. Requires DstExp <= SrcExp (source range covers the
// destination's, so source subnormals are far below the destination's smallest subnormal).
// Used for every narrowing that has no hardware path of the same correctness.
template <int SrcMant, int SrcExp, int DstMant, int DstExp>
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE std::uint64_t narrow_ieee(std::uint64_t x) {
  constexpr int src_bias = (1 << (SrcExp - 1)) - 1;
  constexpr int dst_bias = (1 << (DstExp - 1)) - 1;
  constexpr std::uint64_t dst_exp_all = (std::uint64_t(1) << DstExp) - 1;
  constexpr std::uint64_t dst_inf = dst_exp_all << DstMant;
  const std::uint64_t sign = (x >> (SrcMant + SrcExp)) & 1;
  const std::uint64_t dst_sign = sign << (DstMant + DstExp);
  const int src_exp = int((x >> SrcMant) & ((std::uint64_t(1) << SrcExp) - 1));
  const std::uint64_t mant = x & ((std::uint64_t(1) << SrcMant) - 1);

  if (src_exp == (1 << SrcExp) - 1) {  // inf or NaN; NaN keeps its top payload bits, made quiet
    if (mant == 0) return dst_sign | dst_inf;
    return dst_sign | dst_inf | (std::uint64_t(1) << (DstMant - 1)) | (mant >> (SrcMant - DstMant));
  }
  if (src_exp == 0) return dst_sign;  // source subnormal or zero: below half the dst minimum

  const int dst_exp = src_exp - src_bias + dst_bias;
  if (dst_exp >= int(dst_exp_all)) return dst_sign | dst_inf;
  const std::uint64_t sig = mant | (std::uint64_t(1) << SrcMant);  // with the implicit bit
  // Normal results drop SrcMant-DstMant bits; subnormal ones drop (1 - dst_exp) more.
  const int shift = SrcMant - DstMant + (dst_exp >= 1 ? 0 : 1 - dst_exp);
  if (shift > SrcMant + 1) return dst_sign;  // below half the smallest subnormal
  std::uint64_t kept = sig >> shift;
  const std::uint64_t rest = sig & ((std::uint64_t(1) << shift) - 1);
  const std::uint64_t halfway = std::uint64_t(1) << (shift - 1);
  if (rest > halfway || (rest == halfway && (kept & 1))) ++kept;
  // For normals `kept` still holds the implicit bit, which adds one to (dst_exp - 1); a carry
  // out of the mantissa moves into the exponent (and to inf) by itself.
  std::uint64_t bits = dst_exp >= 1 ? ((std::uint64_t(dst_exp - 1) << DstMant) + kept) : kept;
  if (bits > dst_inf) bits = dst_inf;
  return dst_sign | bits;
}

MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE std::uint16_t f32_to_f16_bits(float f) {
  return std::uint16_t(narrow_ieee<23, 8, 10, 5>(bit_cast<std::uint32_t>(f)));
}
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE std::uint16_t f64_to_f16_bits(double d) {
  return std::uint16_t(narrow_ieee<52, 11, 10, 5>(bit_cast<std::uint64_t>(d)));
}
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE std::uint16_t f64_to_bf16_bits(double d) {
  return std::uint16_t(narrow_ieee<52, 11, 7, 8>(bit_cast<std::uint64_t>(d)));
}
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE float f64_to_f32(double d) {
  return bit_cast<float>(std::uint32_t(narrow_ieee<52, 11, 23, 8>(bit_cast<std::uint64_t>(d))));
}

// f32 -> bf16 shares the exponent range, so rounding is integer arithmetic on the top half:
// add 0x7fff plus the lowest kept bit (ties to even), then truncate. Subnormals round the
// same way; NaN is made quiet first so that the addition cannot carry it into inf.
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE std::uint16_t f32_to_bf16_bits(float f) {
  const std::uint32_t x = bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((x >> 16) | 0x0040u);
  return std::uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// f16 -> f32, exact. Code built with F16C (kernels of the AVX-512 folders) uses its one
// instruction; elsewhere normals and inf/NaN move by shifting and re-biasing the exponent,
// and subnormals are renormalised by one exact float subtraction.
MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE float f16_bits_to_f32(std::uint16_t h) {
#if defined(__F16C__) && !defined(__CUDA_ARCH__)
  return _cvtsh_ss(h);
#else
  constexpr std::uint32_t exp_mask_shifted = 0x7c00u << 13;
  std::uint32_t o = std::uint32_t(h & 0x7fffu) << 13;
  const std::uint32_t exp = o & exp_mask_shifted;
  o += (127u - 15u) << 23;  // re-bias the exponent
  if (exp == exp_mask_shifted) {
    o += (128u - 16u) << 23;  // inf/NaN: exponent all ones
  } else if (exp == 0) {      // zero or subnormal: value = o' - 2^-14, both exact floats
    o += 1u << 23;
    o = bit_cast<std::uint32_t>(bit_cast<float>(o) - bit_cast<float>(113u << 23));
  }
  o |= std::uint32_t(h & 0x8000u) << 16;
  return bit_cast<float>(o);
#endif
}

MIXPREC_HOST_DEVICE MIXPREC_ALWAYS_INLINE float bf16_bits_to_f32(std::uint16_t b) {
  return bit_cast<float>(std::uint32_t(b) << 16);
}

struct from_bits_tag {};

}  // namespace detail

/// IEEE 754 binary16: 1 sign, 5 exponent, 10 mantissa bits; max 65504, eps 2^-10.
struct half {
  std::uint16_t x;

  half() = default;
  constexpr half(std::uint16_t bits, detail::from_bits_tag) : x(bits) {}
  MIXPREC_HOST_DEVICE explicit half(float f) : x(detail::f32_to_f16_bits(f)) {}
  MIXPREC_HOST_DEVICE explicit half(double d) : x(detail::f64_to_f16_bits(d)) {}
  MIXPREC_HOST_DEVICE explicit operator float() const { return detail::f16_bits_to_f32(x); }
  MIXPREC_HOST_DEVICE explicit operator double() const { return double(detail::f16_bits_to_f32(x)); }
  static constexpr half from_bits(std::uint16_t bits) { return half(bits, detail::from_bits_tag{}); }
  constexpr std::uint16_t bits() const { return x; }
};

/// bfloat16: 1 sign, 8 exponent, 7 mantissa bits; the f32 range with eps 2^-7.
struct bfloat16 {
  std::uint16_t x;

  bfloat16() = default;
  constexpr bfloat16(std::uint16_t bits, detail::from_bits_tag) : x(bits) {}
  MIXPREC_HOST_DEVICE explicit bfloat16(float f) : x(detail::f32_to_bf16_bits(f)) {}
  MIXPREC_HOST_DEVICE explicit bfloat16(double d) : x(detail::f64_to_bf16_bits(d)) {}
  MIXPREC_HOST_DEVICE explicit operator float() const { return detail::bf16_bits_to_f32(x); }
  MIXPREC_HOST_DEVICE explicit operator double() const { return double(detail::bf16_bits_to_f32(x)); }
  static constexpr bfloat16 from_bits(std::uint16_t bits) { return bfloat16(bits, detail::from_bits_tag{}); }
  constexpr std::uint16_t bits() const { return x; }
};

static_assert(sizeof(half) == 2 && sizeof(bfloat16) == 2, "16-bit types must be 2 bytes");

}  // namespace mixprec
