// AVX-512 building blocks shared by this folder's kernels: loads that widen any stored
// float dtype to f32x16 or f64x8 registers and stores that round back to storage, as two
// vector types with the interface of kernels/common/blas1_vector.hpp. Included by the
// AVX-512 folder and by the folders above it (AVX512-BF16): each compiles its own copy, in
// its ISA's inline namespace (kernels/common/isa_namespace.hpp), so a copy built with the
// higher folder's flags is never the one the AVX-512 folder's kernels call.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/common/isa_namespace.hpp"
#include "kernels/common/scalar.hpp"

namespace mixprec::kern::avx512 {
inline namespace MIXPREC_KERNEL_ISA {

using idx = std::int64_t;

inline __mmask16 tail_mask16(idx k) { return __mmask16((1u << k) - 1u); }
inline __mmask8 tail_mask8(idx k) { return __mmask8((1u << k) - 1u); }

// ---- f32 x 16 loads from f32 / f16 / bf16 / i8 ------------------------------------------

inline __m512 bf16_bits_to_ps(__m256i b) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}

template <class T>
inline __m512 load16(const T* p) {
  if constexpr (std::is_same_v<T, float>) return _mm512_loadu_ps(p);
  if constexpr (std::is_same_v<T, half>)
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  if constexpr (std::is_same_v<T, bfloat16>)
    return bf16_bits_to_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  if constexpr (std::is_same_v<T, std::int8_t>)
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

/// Loads the first k < 16 elements; the other lanes are 0.
template <class T>
inline __m512 load16_tail(const T* p, idx k) {
  const __mmask16 m = tail_mask16(k);
  if constexpr (std::is_same_v<T, float>) return _mm512_maskz_loadu_ps(m, p);
  if constexpr (std::is_same_v<T, half>) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  if constexpr (std::is_same_v<T, bfloat16>) return bf16_bits_to_ps(_mm256_maskz_loadu_epi16(m, p));
  if constexpr (std::is_same_v<T, std::int8_t>)
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
}

// ---- f64 x 8 loads from any float dtype ------------------------------------------------

inline __m256 bf16x8_bits_to_ps(__m128i b) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
}

template <class T>
inline __m512d load8(const T* p) {
  if constexpr (std::is_same_v<T, double>) return _mm512_loadu_pd(p);
  if constexpr (std::is_same_v<T, float>) return _mm512_cvtps_pd(_mm256_loadu_ps(p));
  if constexpr (std::is_same_v<T, half>)
    return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  if constexpr (std::is_same_v<T, bfloat16>)
    return _mm512_cvtps_pd(bf16x8_bits_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

template <class T>
inline __m512d load8_tail(const T* p, idx k) {
  const __mmask8 m = tail_mask8(k);
  if constexpr (std::is_same_v<T, double>) return _mm512_maskz_loadu_pd(m, p);
  if constexpr (std::is_same_v<T, float>) return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p));
  if constexpr (std::is_same_v<T, half>) return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_maskz_loadu_epi16(m, p)));
  if constexpr (std::is_same_v<T, bfloat16>) return _mm512_cvtps_pd(bf16x8_bits_to_ps(_mm_maskz_loadu_epi16(m, p)));
}

// ---- rounding stores --------------------------------------------------------------------

/// f32 -> bf16 bits by integer operations: round to nearest even, NaN made quiet (the method
/// of detail::f32_to_bf16_bits, sixteen lanes at a time; subnormals round correctly).
/// The bits in the low 16 of each 32-bit lane (the high 16 zero).
inline __m512i ps_to_bf16_lanes_by_integers(__m512 v) {
  const __m512i b = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40));
}
inline __m256i ps_to_bf16_bits_by_integers(__m512 v) { return _mm512_cvtepi32_epi16(ps_to_bf16_lanes_by_integers(v)); }

/// f32 -> bf16 bits, round to nearest even, NaN made quiet, subnormals rounded, not flushed.
/// Where the folder is built for AVX512-BF16, vcvtneps2bf16 and a class test do it, where
/// the integer method takes eight operations; the instruction treats subnormal inputs as
/// zero, so a vector holding one (rare: |x| < 2^-126) takes the integer method instead.
inline __m256i ps_to_bf16_bits(__m512 v) {
#if defined(__AVX512BF16__)
  constexpr int subnormal_class = 0x20;  // vfpclassps category: denormal
  if (__builtin_expect(_mm512_fpclass_ps_mask(v, subnormal_class) == 0, 1))
    return reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
#endif
  return ps_to_bf16_bits_by_integers(v);
}

inline __m128i ps8_to_bf16_bits(__m256 v) {
  const __m256i b = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __mmask8 nan = _mm256_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm256_mask_or_epi32(r, nan, _mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
  return _mm256_cvtepi32_epi16(r);
}

template <class T>
inline void store16(T* p, __m512 v) {
  if constexpr (std::is_same_v<T, float>) _mm512_storeu_ps(p, v);
  if constexpr (std::is_same_v<T, half>)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if constexpr (std::is_same_v<T, bfloat16>) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ps_to_bf16_bits(v));
}

template <class T>
inline void store16_tail(T* p, __m512 v, idx k) {
  const __mmask16 m = tail_mask16(k);
  if constexpr (std::is_same_v<T, float>) _mm512_mask_storeu_ps(p, m, v);
  if constexpr (std::is_same_v<T, half>)
    _mm256_mask_storeu_epi16(p, m, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if constexpr (std::is_same_v<T, bfloat16>) _mm256_mask_storeu_epi16(p, m, ps_to_bf16_bits(v));
}

/// f64 -> f32 rounding to odd: truncate, then set the last bit if anything was cut off.
/// Rounding that result once more to a format at least 2 bits narrower (f16, bf16) gives
/// the correctly rounded f64 -> f16/bf16 value: one rounding, not two.
inline __m256 pd_to_ps_round_to_odd(__m512d v) {
  const __m256 t = _mm512_cvt_roundpd_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask8 inexact = _mm512_cmp_pd_mask(_mm512_cvtps_pd(t), v, _CMP_NEQ_UQ);
  const __m256i ti = _mm256_castps_si256(t);
  return _mm256_castsi256_ps(_mm256_mask_or_epi32(ti, inexact, ti, _mm256_set1_epi32(1)));
}

/// Rounds 8 doubles once to T and stores the first k (k == 8: all).
template <class T>
inline void store8_from_pd(T* p, __m512d v, idx k) {
  const __mmask8 m = tail_mask8(k == 8 ? 8 : k);
  if constexpr (std::is_same_v<T, double>) _mm512_mask_storeu_pd(p, m, v);
  if constexpr (std::is_same_v<T, float>) _mm256_mask_storeu_ps(p, m, _mm512_cvtpd_ps(v));
  if constexpr (std::is_same_v<T, half>)
    _mm_mask_storeu_epi16(p, m,
                          _mm256_cvtps_ph(pd_to_ps_round_to_odd(v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if constexpr (std::is_same_v<T, bfloat16>) _mm_mask_storeu_epi16(p, m, ps8_to_bf16_bits(pd_to_ps_round_to_odd(v)));
}

// ---- vector types with one interface ----------------------------------------------------

/// v, held in a register at this point (an empty asm the compiler cannot see through).
MIXPREC_ALWAYS_INLINE __m512 in_register(__m512 v) {
  asm("" : "+v"(v));
  return v;
}

struct f32x16 {
  using scalar = float;
  static constexpr int width = 16;
  __m512 v;
  static f32x16 zero() { return {_mm512_setzero_ps()}; }
  static f32x16 broadcast(float a) { return {_mm512_set1_ps(a)}; }
  template <class T>
  static f32x16 load(const T* p) {
    return {load16(p)};
  }
  /// As load, with 64-byte loads made of two 32-byte ones (see blas1_vector.hpp).
  template <class T>
  static f32x16 load_halves(const T* p) {
    if constexpr (std::is_same_v<T, float>)
      return {_mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(p)), _mm256_loadu_ps(p + 8), 1)};
    else
      return load(p);
  }
  template <class T>
  static f32x16 load_tail(const T* p, idx k) {
    return {load16_tail(p, k)};
  }
  template <class T>
  void store(T* p) const {
    store16(p, v);
  }
  template <class T>
  void store_tail(T* p, idx k) const {
    store16_tail(p, v, k);
  }
  friend f32x16 operator+(f32x16 a, f32x16 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend f32x16 operator-(f32x16 a, f32x16 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend f32x16 operator*(f32x16 a, f32x16 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  static f32x16 fma(f32x16 a, f32x16 b, f32x16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static f32x16 fms(f32x16 a, f32x16 b, f32x16 c) { return {_mm512_fmsub_ps(a.v, b.v, c.v)}; }
  f32x16 abs() const { return {_mm512_abs_ps(v)}; }
  void lanes(float* out) const { _mm512_storeu_ps(out, v); }
  static f32x16 max(f32x16 a, f32x16 b) { return {_mm512_max_ps(a.v, b.v)}; }
  bool has_nan() const { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }
  float reduce_max() const { return _mm512_reduce_max_ps(v); }
  unsigned equal_lanes(f32x16 b) const { return _mm512_cmp_ps_mask(v, b.v, _CMP_EQ_OQ); }
  // For the NN row kernels (kernels/common/nn_rows.hpp).
  friend f32x16 operator/(f32x16 a, f32x16 b) { return {_mm512_div_ps(a.v, b.v)}; }
  static f32x16 min(f32x16 a, f32x16 b) { return {_mm512_min_ps(a.v, b.v)}; }
  static f32x16 sqrt(f32x16 a) { return {_mm512_sqrt_ps(a.v)}; }
  /// x where a < b, else y. x and y are put in registers first: a constant operand would
  /// otherwise become a merge-masked memory broadcast, and a masked load whose mask is all
  /// zero (a select that rarely fires) touches no memory, so nothing brings the constant's
  /// page into the TLB; such a load then takes a microcode assist every time it runs.
  static f32x16 select_lt(f32x16 a, f32x16 b, f32x16 x, f32x16 y) {
    return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ), in_register(y.v), in_register(x.v))};
  }
  static f32x16 tail_or(f32x16 a, idx k, float s) {
    return {_mm512_mask_blend_ps(__mmask16((1u << k) - 1), _mm512_set1_ps(s), a.v)};
  }
  static f32x16 pow2_from_magic(f32x16 t) {
    const __m512i n = _mm512_sub_epi32(_mm512_castps_si512(t.v), _mm512_set1_epi32(0x4B400000));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23))};
  }
  float reduce_add() const { return _mm512_reduce_add_ps(v); }
#if defined(__AVX512BF16__)
  /// 32 bf16 values as two vectors, dealt even and odd (nn_rows.hpp's load_pair): a shift and
  /// a mask of one 64-byte load, where two vectors in order take two widening shuffles.
  static void load_pair(const bfloat16* p, f32x16* even, f32x16* odd) {
    const __m512i v = _mm512_loadu_si512(p);
    *even = {_mm512_castsi512_ps(_mm512_slli_epi32(v, 16))};
    *odd = {_mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(0xffff0000u))))};
  }
  /// Where value `at` (< 32) of a load_pair lands in even, then odd.
  static constexpr int pair_slot(int at) { return at % 2 * 16 + at / 2; }
  /// The inverse of load_pair, each value rounded once to bf16 (as ps_to_bf16_bits): one
  /// vcvtne2ps2bf16 and one vpermw that puts the halves back in order.
  static void store_pair(bfloat16* p, f32x16 even, f32x16 odd) {
    constexpr int subnormal_class = 0x20;  // vfpclassps category: denormal
    __m512i r;
    if (__builtin_expect(
            (_mm512_fpclass_ps_mask(even.v, subnormal_class) | _mm512_fpclass_ps_mask(odd.v, subnormal_class)) == 0,
            1)) {
      // cvtne2ps: even's 16 in elements 0-15, odd's in 16-31; element 2i takes i, 2i+1 takes 16+i
      const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                                  22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
      r = _mm512_permutexvar_epi16(interleave, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(odd.v, even.v)));
    } else {
      r = _mm512_or_si512(_mm512_slli_epi32(ps_to_bf16_lanes_by_integers(odd.v), 16),
                          ps_to_bf16_lanes_by_integers(even.v));
    }
    _mm512_storeu_si512(p, r);
  }
#endif
};

/// s[r * stride + k] = the sum of acc[r][k]'s lanes for 4 rows x 4 keys, as the generic
/// store_row_sums (kernels/common/attention_tiles.hpp) does with sixteen reduce_adds: halves,
/// then quarters of pairs of vectors are added, then a 4 x 4 transpose-and-add within each
/// 128-bit lane leaves key k's four row sums in lane group k, and one permutation puts row
/// r's four key sums in lane group r (about 45 instructions, not 130).
MIXPREC_ALWAYS_INLINE void store_row_sums(const f32x16 (&acc)[4][4], float* s, idx stride) {
  __m512 half_sums[8];
  for (int i = 0; i < 8; ++i) {
    const __m512 x = acc[i / 2][2 * (i % 2)].v, y = acc[i / 2][2 * (i % 2) + 1].v;
    half_sums[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x44), _mm512_shuffle_f32x4(x, y, 0xEE));
  }
  __m512 quarter_sums[4];
  for (int i = 0; i < 4; ++i) {
    const __m512 x = half_sums[2 * i], y = half_sums[2 * i + 1];
    quarter_sums[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
  }
  const __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(quarter_sums[0], quarter_sums[1]),
                                  _mm512_unpackhi_ps(quarter_sums[0], quarter_sums[1]));
  const __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(quarter_sums[2], quarter_sums[3]),
                                  _mm512_unpackhi_ps(quarter_sums[2], quarter_sums[3]));
  const __m512 by_key = _mm512_add_ps(_mm512_shuffle_ps(t0, t1, 0x44), _mm512_shuffle_ps(t0, t1, 0xEE));
  const __m512 sums =
      _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), by_key);
  _mm_storeu_ps(s, _mm512_castps512_ps128(sums));
  _mm_storeu_ps(s + stride, _mm512_extractf32x4_ps(sums, 1));
  _mm_storeu_ps(s + 2 * stride, _mm512_extractf32x4_ps(sums, 2));
  _mm_storeu_ps(s + 3 * stride, _mm512_extractf32x4_ps(sums, 3));
}

struct f64x8 {
  using scalar = double;
  static constexpr int width = 8;
  __m512d v;
  static f64x8 zero() { return {_mm512_setzero_pd()}; }
  static f64x8 broadcast(double a) { return {_mm512_set1_pd(a)}; }
  template <class T>
  static f64x8 load(const T* p) {
    return {load8(p)};
  }
  /// As load, with 64-byte loads made of two 32-byte ones (see blas1_vector.hpp).
  template <class T>
  static f64x8 load_halves(const T* p) {
    if constexpr (std::is_same_v<T, double>)
      return {_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(p)), _mm256_loadu_pd(p + 4), 1)};
    else
      return load(p);
  }
  template <class T>
  static f64x8 load_tail(const T* p, idx k) {
    return {load8_tail(p, k)};
  }
  template <class T>
  void store(T* p) const {
    store8_from_pd(p, v, 8);
  }
  template <class T>
  void store_tail(T* p, idx k) const {
    store8_from_pd(p, v, k);
  }
  friend f64x8 operator+(f64x8 a, f64x8 b) { return {_mm512_add_pd(a.v, b.v)}; }
  friend f64x8 operator-(f64x8 a, f64x8 b) { return {_mm512_sub_pd(a.v, b.v)}; }
  friend f64x8 operator*(f64x8 a, f64x8 b) { return {_mm512_mul_pd(a.v, b.v)}; }
  static f64x8 fma(f64x8 a, f64x8 b, f64x8 c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  static f64x8 fms(f64x8 a, f64x8 b, f64x8 c) { return {_mm512_fmsub_pd(a.v, b.v, c.v)}; }
  f64x8 abs() const { return {_mm512_abs_pd(v)}; }
  void lanes(double* out) const { _mm512_storeu_pd(out, v); }
  static f64x8 max(f64x8 a, f64x8 b) { return {_mm512_max_pd(a.v, b.v)}; }
  bool has_nan() const { return _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q) != 0; }
  double reduce_max() const { return _mm512_reduce_max_pd(v); }
  unsigned equal_lanes(f64x8 b) const { return _mm512_cmp_pd_mask(v, b.v, _CMP_EQ_OQ); }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern::avx512
