// Rows of box stencils (kernels/common/stencil_box_rows.hpp) with AVX-512: each input row
// is loaded once per vector, and its x-1 and x+1 neighbours are shifted in from the vectors
// before and after it with valign, in registers. Included only by this folder's stencil
// file (AVX-512 flags).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/common/stencil_box_rows.hpp"
#include "kernels/common/stencil_row_plan.hpp"

namespace mixprec::kern::avx512 {

template <class C>
struct box_vec;

template <>
struct box_vec<double> {
  using V = __m512d;
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V mul(const double* k, V v) { return _mm512_mul_pd(_mm512_set1_pd(*k), v); }
  static V madd(const double* k, V v, V s) { return _mm512_fmadd_pd(_mm512_set1_pd(*k), v, s); }
  /// (a[1], ..., a[7], b[0]) and (a[7], b[0], ..., b[6]).
  static V ahead(V a, V b) {
    return _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(b), _mm512_castpd_si512(a), 1));
  }
  static V behind(V a, V b) {
    return _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(b), _mm512_castpd_si512(a), 7));
  }
};

template <>
struct box_vec<float> {
  using V = __m512;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V mul(const float* k, V v) { return _mm512_mul_ps(_mm512_set1_ps(*k), v); }
  static V madd(const float* k, V v, V s) { return _mm512_fmadd_ps(_mm512_set1_ps(*k), v, s); }
  static V ahead(V a, V b) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 1));
  }
  static V behind(V a, V b) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 15));
  }
};

/// sum_rows_fixed's contract (rows, strides, prefetch, dst/line/done) for a box of R rows:
/// `in` holds the R input rows at x = 0, `k` the box_shape coefficients; the sum in
/// box_sum_at's order, lane by lane. Reads x in [-1, n] of each row only: the first vector
/// loads its x-1 neighbours and the last whole one its x+1 neighbours, rather than take
/// them from vectors that would reach past the row's halo.
template <int R, bool Middle, class C, class Dst, class Line, class Done>
inline void sum_rows_box(const C* const* in, const C* k, std::int64_t n, std::int64_t rows, std::int64_t in_sy,
                         kern::row_prefetch pf, std::int64_t pf_sy, Dst&& dst, Line&& line, Done&& done) {
  using B = box_vec<C>;
  using V = typename B::V;
  constexpr int L = int(64 / sizeof(C));
  const C* q[R];
  for (int r = 0; r < R; ++r) q[r] = in[r];
  // Per row, the vectors at x - L (prev) and x (mid) carried from one vector to the next:
  // 2R registers, plus three per row while it is summed (18 + 4 for the 27-point box).
  V prev[R], mid[R];
  // The output vector at x. From the left: x-1 shifted in from prev (else loaded); from the
  // right: x+1 shifted in from the vector at x + L, which then moves along (else loaded).
  auto vector_at = [&](std::int64_t x, auto from_left, auto from_right) {
    V s;
#pragma GCC unroll 9
    for (int r = 0; r < R; ++r) {
      const V left = decltype(from_left)::value ? B::behind(prev[r], mid[r]) : B::load(q[r] + x - 1);
      V next, right;
      if constexpr (decltype(from_right)::value) {
        next = B::load(q[r] + x + L);
        right = B::ahead(mid[r], next);
      } else {
        right = B::load(q[r] + x + 1);
      }
      s = r == 0 ? B::mul(k, left) : B::madd(k + 3 * r, left, s);
      if (r != 0 || Middle) s = B::madd(k + 3 * r + 1, mid[r], s);
      s = B::madd(k + 3 * r + 2, right, s);
      if constexpr (decltype(from_right)::value) {
        prev[r] = mid[r];
        mid[r] = next;
      }
    }
    return s;
  };
  constexpr std::true_type shifted{};
  constexpr std::false_type loaded{};
  for (std::int64_t j = 0; j < rows; ++j) {
    C* acc = dst(j);
    std::int64_t x = 0;
    const char* p = pf.p ? pf.p : reinterpret_cast<const char*>(acc);  // prefetching acc: a no-op
    auto emit = [&](V v) {
      __builtin_prefetch(p);
      B::store(acc + x, v);
      line(j, x, acc);
      x += L;
      if (pf.p) p += pf.step;
    };
    if (n >= L) {
#pragma GCC unroll 9
      for (int r = 0; r < R; ++r) mid[r] = B::load(q[r]);
      if (n >= 2 * L) {
        emit(vector_at(x, loaded, shifted));
        while (x + 2 * L <= n) emit(vector_at(x, shifted, shifted));
        emit(vector_at(x, shifted, loaded));
      } else {
        emit(vector_at(x, loaded, loaded));
      }
    }
    if (pf.p) pf.p += pf_sy;
    const std::int64_t rest = x;
    for (; x < n; ++x) acc[x] = kern::box_sum_at<R, Middle>(k, q, x);
    done(j, rest, acc);
    for (int r = 0; r < R; ++r) q[r] += in_sy;
  }
}

}  // namespace mixprec::kern::avx512
