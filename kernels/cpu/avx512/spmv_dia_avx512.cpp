// AVX-512 DIA SpMV. Over the rows where every diagonal lies inside the matrix, a register
// block of rows (16 f64 or 32 f32 sums) walks the diagonals in ascending offset order:
// one contiguous load of values (widened from any float dtype) and one of x per diagonal
// and vector, no indices, no gathers, and each diagonal prefetched ahead; with f64 sums,
// more than 8 diagonals are taken 7 at a time over blocks of rows. The rows at the matrix's
// edges take the portable body.
#include "kernels/common/spmv_dia.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

using detail::dia_args;
using detail::exec_args;

/// Bytes of values prefetched ahead, shared by all diagonals: each stream gets 16 KiB / its
/// count, a third of L1. Many diagonals are more streams than the hardware prefetchers
/// follow, so without it 27 of them read at half the bandwidth; 64 KiB and more thrash L1
/// (docs/performance-notes.md).
constexpr std::int64_t prefetch_bytes = 16384;

/// Elements ahead for each diagonal's prefetch: a whole number of row blocks, at least one.
template <class V>
std::int64_t prefetch_ahead(const dia_args& a, std::int64_t block) {
  const std::int64_t streams = std::max<std::int64_t>(1, a.diagonals);
  return std::max<std::int64_t>(block, prefetch_bytes / (streams * std::int64_t(sizeof(V))) / block * block);
}

/// Rows [rb, re) of the full-band range, sums in f64 (X is f64, or f32 widened exactly).
template <class V, class X>
std::int64_t rows_f64(const dia_args& a, std::int64_t rb, std::int64_t re, double alpha, const X* x, double beta,
                      X* y) {
  const V* v = static_cast<const V*>(a.values);
  const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
  const std::int64_t ahead = prefetch_ahead<V>(a, 16);
  std::int64_t i = rb;
  for (; i + 16 <= re; i += 16) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    for (std::int64_t d = 0; d < a.diagonals; ++d) {
      const V* vd = v + d * a.stride + i;
      const X* xd = x + i + a.offsets[d];
      _mm_prefetch(reinterpret_cast<const char*>(vd + ahead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(vd + ahead + 8), _MM_HINT_T0);
      acc0 = _mm512_fmadd_pd(load8(vd), load8(xd), acc0);
      acc1 = _mm512_fmadd_pd(load8(vd + 8), load8(xd + 8), acc1);
    }
    __m512d r0 = _mm512_mul_pd(va, acc0), r1 = _mm512_mul_pd(va, acc1);
    if (beta != 0.0) {  // beta == 0 does not read y
      r0 = _mm512_add_pd(r0, _mm512_mul_pd(vb, load8(y + i)));
      r1 = _mm512_add_pd(r1, _mm512_mul_pd(vb, load8(y + i + 8)));
    }
    store8_from_pd(y + i, r0, 8);
    store8_from_pd(y + i + 8, r1, 8);
  }
  return i;
}

/// Matrices with more diagonals than this take them a group at a time (rows_f64_grouped).
constexpr std::int64_t diagonal_group = 7;

/// As rows_f64 for many diagonals: a block of 512 rows takes the diagonals 7 at a time, its
/// partial sums kept in L1 between groups, so that at most 7 value streams run at once (one
/// core sustains the triad's pace on 7, as poisson7 shows, but not on 27). Each row's terms
/// still come in ascending offset order. hpcg27_104, f64, one process: 8.0 -> 5.0-5.7 ms;
/// blocks of 128-1024 rows and groups of 5-14 measured, 512 x 7 the fastest.
template <class V, class X>
std::int64_t rows_f64_grouped(const dia_args& a, std::int64_t rb, std::int64_t re, double alpha, const X* x,
                              double beta, X* y) {
  constexpr std::int64_t block = 512, group = diagonal_group;
  const V* v = static_cast<const V*>(a.values);
  const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
  alignas(64) double part[block];
  std::int64_t i = rb;
  for (; i + block <= re; i += block) {
    for (std::int64_t d0 = 0; d0 < a.diagonals; d0 += group) {
      const std::int64_t d1 = std::min(a.diagonals, d0 + group);
      for (std::int64_t j = 0; j < block; j += 16) {
        __m512d acc0 = d0 == 0 ? _mm512_setzero_pd() : _mm512_load_pd(part + j);
        __m512d acc1 = d0 == 0 ? _mm512_setzero_pd() : _mm512_load_pd(part + j + 8);
        for (std::int64_t d = d0; d < d1; ++d) {
          const V* vd = v + d * a.stride + i + j;
          const X* xd = x + i + j + a.offsets[d];
          _mm_prefetch(reinterpret_cast<const char*>(vd + block), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(vd + block + 8), _MM_HINT_T0);
          acc0 = _mm512_fmadd_pd(load8(vd), load8(xd), acc0);
          acc1 = _mm512_fmadd_pd(load8(vd + 8), load8(xd + 8), acc1);
        }
        _mm512_store_pd(part + j, acc0);
        _mm512_store_pd(part + j + 8, acc1);
      }
    }
    for (std::int64_t j = 0; j < block; j += 8) {
      __m512d r = _mm512_mul_pd(va, _mm512_load_pd(part + j));
      if (beta != 0.0) r = _mm512_add_pd(r, _mm512_mul_pd(vb, load8(y + i + j)));
      store8_from_pd(y + i + j, r, 8);
    }
  }
  return i;
}

/// Rows [rb, re) of the full-band range, sums in f32 (f32 vectors, values f32/f16/bf16).
template <class V>
std::int64_t rows_f32(const dia_args& a, std::int64_t rb, std::int64_t re, float alpha, const float* x, float beta,
                      float* y) {
  const V* v = static_cast<const V*>(a.values);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const std::int64_t ahead = prefetch_ahead<V>(a, 32);
  std::int64_t i = rb;
  for (; i + 32 <= re; i += 32) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (std::int64_t d = 0; d < a.diagonals; ++d) {
      const V* vd = v + d * a.stride + i;
      const float* xd = x + i + a.offsets[d];
      _mm_prefetch(reinterpret_cast<const char*>(vd + ahead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(vd + ahead + 16), _MM_HINT_T0);
      acc0 = _mm512_fmadd_ps(load16(vd), _mm512_loadu_ps(xd), acc0);
      acc1 = _mm512_fmadd_ps(load16(vd + 16), _mm512_loadu_ps(xd + 16), acc1);
    }
    __m512 r0 = _mm512_mul_ps(va, acc0), r1 = _mm512_mul_ps(va, acc1);
    if (beta != 0.0f) {
      r0 = _mm512_add_ps(r0, _mm512_mul_ps(vb, _mm512_loadu_ps(y + i)));
      r1 = _mm512_add_ps(r1, _mm512_mul_ps(vb, _mm512_loadu_ps(y + i + 16)));
    }
    _mm512_storeu_ps(y + i, r0);
    _mm512_storeu_ps(y + i + 16, r1);
  }
  return i;
}

template <class V, class X, class A>
void run(const exec_args& ex, const dia_args& a, double alpha, const void* xv, double beta, void* yv) {
  const X* x = static_cast<const X*>(xv);
  X* y = static_cast<X*>(yv);
  std::int64_t lo, hi;
  dia_full_rows(a, &lo, &hi);
  const int chunks = spmv_dia_chunks(ex, a);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t rb, re;
    detail::chunk_range(a.rows, chunks, c, 64, &rb, &re);
    const std::int64_t vb = std::clamp(lo, rb, re), ve = std::clamp(hi, rb, re);
    spmv_dia_rows<V, X, A>(a, rb, vb, A(alpha), x, A(beta), y);
    std::int64_t done;
    if constexpr (std::is_same_v<A, double>) {
      done = a.diagonals > diagonal_group + 1 ? rows_f64_grouped<V, X>(a, vb, ve, alpha, x, beta, y) : vb;
      done = rows_f64<V, X>(a, done, ve, alpha, x, beta, y);
    } else
      done = rows_f32<V>(a, vb, ve, float(alpha), x, float(beta), y);
    spmv_dia_rows<V, X, A>(a, done, re, A(alpha), x, A(beta), y);
  });
}

template <class V, class X>
void dia(const exec_args& ex, const dia_args& a, double alpha, const void* x, double beta, void* y, accumulation acc) {
  if (acc == accumulation::f64 && !std::is_same_v<X, double>)
    run<V, X, double>(ex, a, alpha, x, beta, y);
  else
    run<V, X, spmv_acc_t<V, X>>(ex, a, alpha, x, beta, y);
}

}  // namespace

const detail::spmv_dia_kernel_table spmv_dia_set = {{{&dia<double, double>, &dia<double, float>},
                                                     {&dia<float, double>, &dia<float, float>},
                                                     {&dia<half, double>, &dia<half, float>},
                                                     {&dia<bfloat16, double>, &dia<bfloat16, float>}}};

}  // namespace mixprec::kern::avx512
