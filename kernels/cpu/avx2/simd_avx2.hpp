// AVX2 + F16C building blocks shared by this folder's kernels: eight f32 lanes loaded from
// or stored to f32, f16 or bf16, four f64 lanes loaded from any float dtype, and the two as
// vector types with the interface of kernels/common/blas1_vector.hpp. vcvtps2ph with an
// explicit round-to-nearest-even immediate rounds like the contract (subnormals and
// overflow included); bf16 rounds with integer adds. Include only from translation units
// built with this folder's flags; it sits in the folder's inline namespace
// (kernels/common/isa_namespace.hpp), so no other folder's code can share its functions.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/common/isa_namespace.hpp"
#include "mixprec/float16.hpp"

namespace mixprec::kern::avx2 {
inline namespace MIXPREC_KERNEL_ISA {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const half* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load8(const bfloat16* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

inline __m256 load8(const std::int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

inline void store8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store8(half* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
inline void store8(bfloat16* p, __m256 v) {
  // Round to nearest even on the bits; NaN lanes are made quiet instead (no carry into inf).
  const __m256i b = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
  // Pack the eight 32-bit lanes' low halves: packus works per 128-bit lane, then reorder.
  const __m256i packed = _mm256_packus_epi32(r, r);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
}

// ---- f64 x 4 loads from any float dtype -------------------------------------------------

inline __m256d load4_pd(const double* p) { return _mm256_loadu_pd(p); }
inline __m256d load4_pd(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline __m256d load4_pd(const half* p) {
  return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m256d load4_pd(const bfloat16* p) {
  const __m128i bits = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(bits, 16)));
}

// ---- tails --------------------------------------------------------------------------------

/// The first k < W elements of p followed by zeros, in a stack copy that full-width loads
/// can read: AVX2 has no masked loads for 16-bit lanes, and a tail comes once per chunk.
template <class T, int W>
struct padded_tail {
  T v[W];
  padded_tail(const T* p, std::int64_t k) {
    std::memset(static_cast<void*>(v), 0, sizeof v);
    std::memcpy(static_cast<void*>(v), p, std::size_t(k) * sizeof(T));
  }
};

// ---- vector types --------------------------------------------------------------------------

struct f32x8 {
  using scalar = float;
  static constexpr int width = 8;
  __m256 v;
  static f32x8 zero() { return {_mm256_setzero_ps()}; }
  static f32x8 broadcast(float a) { return {_mm256_set1_ps(a)}; }
  template <class T>
  static f32x8 load(const T* p) {
    return {load8(p)};
  }
  template <class T>
  static f32x8 load_halves(const T* p) {
    return load(p);
  }
  template <class T>
  static f32x8 load_tail(const T* p, std::int64_t k) {
    return {load8(padded_tail<T, 8>(p, k).v)};
  }
  template <class T>
  void store(T* p) const {
    store8(p, v);
  }
  template <class T>
  void store_tail(T* p, std::int64_t k) const {
    T out[8];
    store8(out, v);
    std::memcpy(static_cast<void*>(p), out, std::size_t(k) * sizeof(T));
  }
  friend f32x8 operator+(f32x8 a, f32x8 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend f32x8 operator-(f32x8 a, f32x8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend f32x8 operator*(f32x8 a, f32x8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  static f32x8 fma(f32x8 a, f32x8 b, f32x8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static f32x8 fms(f32x8 a, f32x8 b, f32x8 c) { return {_mm256_fmsub_ps(a.v, b.v, c.v)}; }
  f32x8 abs() const { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), v)}; }
  void lanes(float* out) const { _mm256_storeu_ps(out, v); }
  static f32x8 max(f32x8 a, f32x8 b) { return {_mm256_max_ps(a.v, b.v)}; }
  bool has_nan() const { return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0; }
  float reduce_max() const {
    float l[8];
    lanes(l);
    return *std::max_element(l, l + 8);
  }
  unsigned equal_lanes(f32x8 b) const { return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(v, b.v, _CMP_EQ_OQ))); }
  // For the NN row kernels (kernels/common/nn_rows.hpp).
  friend f32x8 operator/(f32x8 a, f32x8 b) { return {_mm256_div_ps(a.v, b.v)}; }
  static f32x8 min(f32x8 a, f32x8 b) { return {_mm256_min_ps(a.v, b.v)}; }
  static f32x8 sqrt(f32x8 a) { return {_mm256_sqrt_ps(a.v)}; }
  static f32x8 select_lt(f32x8 a, f32x8 b, f32x8 x, f32x8 y) {
    return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ))};
  }
  static f32x8 tail_or(f32x8 a, std::int64_t k, float s) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(int(k)), lane));
    return {_mm256_blendv_ps(_mm256_set1_ps(s), a.v, keep)};
  }
  static f32x8 pow2_from_magic(f32x8 t) {
    const __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t.v), _mm256_set1_epi32(0x4B400000));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23))};
  }
  float reduce_add() const {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
  }
};

/// Four f64 lanes: loaded from every float dtype, stored to f64 only (no f64 -> f16/bf16
/// rounding here).
struct f64x4 {
  using scalar = double;
  static constexpr int width = 4;
  __m256d v;
  static f64x4 zero() { return {_mm256_setzero_pd()}; }
  static f64x4 broadcast(double a) { return {_mm256_set1_pd(a)}; }
  template <class T>
  static f64x4 load(const T* p) {
    return {load4_pd(p)};
  }
  template <class T>
  static f64x4 load_halves(const T* p) {
    return load(p);
  }
  template <class T>
  static f64x4 load_tail(const T* p, std::int64_t k) {
    return {load4_pd(padded_tail<T, 4>(p, k).v)};
  }
  template <class T>
  void store(T* p) const {
    static_assert(std::is_same_v<T, double>, "f64x4 stores f64 only");
    _mm256_storeu_pd(p, v);
  }
  template <class T>
  void store_tail(T* p, std::int64_t k) const {
    static_assert(std::is_same_v<T, double>, "f64x4 stores f64 only");
    double out[4];
    _mm256_storeu_pd(out, v);
    std::memcpy(p, out, std::size_t(k) * sizeof(double));
  }
  friend f64x4 operator+(f64x4 a, f64x4 b) { return {_mm256_add_pd(a.v, b.v)}; }
  friend f64x4 operator-(f64x4 a, f64x4 b) { return {_mm256_sub_pd(a.v, b.v)}; }
  friend f64x4 operator*(f64x4 a, f64x4 b) { return {_mm256_mul_pd(a.v, b.v)}; }
  static f64x4 fma(f64x4 a, f64x4 b, f64x4 c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  static f64x4 fms(f64x4 a, f64x4 b, f64x4 c) { return {_mm256_fmsub_pd(a.v, b.v, c.v)}; }
  f64x4 abs() const { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), v)}; }
  void lanes(double* out) const { _mm256_storeu_pd(out, v); }
  static f64x4 max(f64x4 a, f64x4 b) { return {_mm256_max_pd(a.v, b.v)}; }
  bool has_nan() const { return _mm256_movemask_pd(_mm256_cmp_pd(v, v, _CMP_UNORD_Q)) != 0; }
  double reduce_max() const {
    double l[4];
    lanes(l);
    return *std::max_element(l, l + 4);
  }
  unsigned equal_lanes(f64x4 b) const { return unsigned(_mm256_movemask_pd(_mm256_cmp_pd(v, b.v, _CMP_EQ_OQ))); }
};

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern::avx2
