// AVX-512 SpMV. CSR with i32 indices: each row is walked eight (f64) or sixteen (f32)
// entries at a time, x gathered by column, values widened from any float dtype in
// registers, with a masked gather for the row's tail; rows are cut into work-balanced
// chunks. SELL-8: one slice row per f64 lane, x loaded by scalar loads (not gathers),
// lanes past their row's length masked off.
#include "kernels/common/spmv_chunked.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

using detail::csr_args;
using detail::exec_args;
using detail::sell_args;

/// Row sums in f64 for f64 vectors.
template <class V>
double row_sum_f64(const V* v, const std::int32_t* ci, const double* x, std::int64_t k, std::int64_t e) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (; k + 16 <= e; k += 16) {
    const __m256i i0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ci + k));
    const __m256i i1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ci + k + 8));
    acc0 = _mm512_fmadd_pd(load8(v + k), _mm512_i32gather_pd(i0, x, 8), acc0);
    acc1 = _mm512_fmadd_pd(load8(v + k + 8), _mm512_i32gather_pd(i1, x, 8), acc1);
  }
  for (; k < e; k += 8) {
    const std::int64_t left = std::min<std::int64_t>(8, e - k);
    const __mmask8 m = tail_mask8(left == 8 ? 8 : left);
    const __m256i i0 = _mm256_maskz_loadu_epi32(m, ci + k);
    const __m512d xv = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, i0, x, 8);
    acc0 = _mm512_fmadd_pd(left == 8 ? load8(v + k) : load8_tail(v + k, left), xv, acc0);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
}

/// Row sums in f32 for f32 vectors (values f32, f16 or bf16).
template <class V>
float row_sum_f32(const V* v, const std::int32_t* ci, const float* x, std::int64_t k, std::int64_t e) {
  __m512 acc = _mm512_setzero_ps();
  for (; k + 16 <= e; k += 16) {
    const __m512i i0 = _mm512_loadu_si512(ci + k);
    acc = _mm512_fmadd_ps(load16(v + k), _mm512_i32gather_ps(i0, x, 4), acc);
  }
  if (k < e) {
    const __mmask16 m = tail_mask16(e - k);
    const __m512i i0 = _mm512_maskz_loadu_epi32(m, ci + k);
    acc = _mm512_fmadd_ps(load16_tail(v + k, e - k), _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, i0, x, 4), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

template <class V, class X>
void csr(const exec_args& ex, const csr_args& a, double alpha, const void* xv, double beta, void* yv, accumulation) {
  using A = spmv_acc_t<V, X>;
  const auto* rp = static_cast<const std::int32_t*>(a.row_ptr);
  const auto* ci = static_cast<const std::int32_t*>(a.col_idx);
  const V* v = static_cast<const V*>(a.values);
  const X* x = static_cast<const X*>(xv);
  X* y = static_cast<X*>(yv);
  const int chunks = spmv_chunks(ex, a.nnz + a.rows);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t rb, re;
    balanced_rows(rp, a.rows, chunks, c, &rb, &re);
    for (std::int64_t i = rb; i < re; ++i) {
      prefetch_row_ahead(v, ci, rp[i]);
      A sum;
      if constexpr (std::is_same_v<X, double>)
        sum = row_sum_f64(v, ci, x, rp[i], rp[i + 1]);
      else
        sum = row_sum_f32(v, ci, x, rp[i], rp[i + 1]);
      spmv_store(y, i, sum, A(alpha), A(beta));
    }
  });
}

/// x[c[0..7]] as one f64 vector, by eight scalar loads paired into 128-bit halves and
/// inserted: on cores whose vgatherdpd (and its masked form most of all) is slow, this is
/// several times faster for the SELL-8 kernel below (docs/performance-notes.md).
inline __m512d load_x8(const double* x, const std::int32_t* c) {
  const __m128d x01 = _mm_loadh_pd(_mm_load_sd(x + c[0]), x + c[1]);
  const __m128d x23 = _mm_loadh_pd(_mm_load_sd(x + c[2]), x + c[3]);
  const __m128d x45 = _mm_loadh_pd(_mm_load_sd(x + c[4]), x + c[5]);
  const __m128d x67 = _mm_loadh_pd(_mm_load_sd(x + c[6]), x + c[7]);
  const __m256d lo = _mm256_insertf128_pd(_mm256_castpd128_pd256(x01), x23, 1);
  const __m256d hi = _mm256_insertf128_pd(_mm256_castpd128_pd256(x45), x67, 1);
  return _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1);
}

/// SELL-8: lane l of slice s sums row row_of[8s + l] in column order. Padding slots hold
/// column 0 and value 0; their x is loaded (a valid address) but the FMA is masked off by
/// the lane's length, so an Inf or NaN in x[0] cannot reach another row. A slice of eight
/// consecutive rows (every slice but the last when sigma == 1) stores y as one vector.
template <class V>
void sell8(const exec_args& ex, const sell_args& a, double alpha, const void* xv, double beta, void* yv, accumulation) {
  const V* v = static_cast<const V*>(a.values);
  const double* x = static_cast<const double*>(xv);
  double* y = static_cast<double*>(yv);
  const __m256i lane_ids = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int chunks = spmv_chunks(ex, a.slice_ptr[a.slices]);
  detail::parallel_chunks(chunks, [&](int c) {
    std::int64_t sb, se;
    detail::chunk_range(a.slices, chunks, c, 1, &sb, &se);
    for (std::int64_t s = sb; s < se; ++s) {
      const __m256i len = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.lane_len + s * 8));
      __m512d acc = _mm512_setzero_pd();
      const std::int64_t base = a.slice_ptr[s];
      for (std::int32_t k = 0; k < a.slice_len[s]; ++k) {
        const std::int64_t at = base + std::int64_t(k) * 8;
        prefetch_row_ahead(v, a.col_idx, at);
        const __mmask8 m = _mm256_cmpgt_epi32_mask(len, _mm256_set1_epi32(k));
        acc = _mm512_mask3_fmadd_pd(load8(v + at), load_x8(x, a.col_idx + at), acc, m);
      }
      const __m256i rows = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.row_of + s * 8));
      const std::int32_t first = _mm256_cvtsi256_si32(rows);
      const bool consecutive =
          _mm256_cmpeq_epi32_mask(rows, _mm256_add_epi32(_mm256_set1_epi32(first), lane_ids)) == 0xff;
      if (consecutive) {
        double* yr = y + first;
        const __m512d ax = _mm512_mul_pd(_mm512_set1_pd(alpha), acc);
        _mm512_storeu_pd(yr, beta == 0 ? ax : _mm512_fmadd_pd(_mm512_set1_pd(beta), _mm512_loadu_pd(yr), ax));
        continue;
      }
      double sums[8];
      _mm512_storeu_pd(sums, acc);
      for (int l = 0; l < 8; ++l) {
        const std::int32_t row = a.row_of[s * 8 + l];
        if (row >= 0) spmv_store(y, row, sums[l], alpha, beta);
      }
    }
  });
}

}  // namespace

#define MIXPREC_DEFINE(V, VN)                                      \
  const detail::spmv_csr_fn spmv_csr_##VN##_f64 = &csr<V, double>; \
  const detail::spmv_sell_fn spmv_sell8_##VN##_f64 = &sell8<V>;
MIXPREC_FOR_EACH_FLOAT_DTYPE(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE
const detail::spmv_csr_fn spmv_csr_f32_f32 = &csr<float, float>;
const detail::spmv_csr_fn spmv_csr_f16_f32 = &csr<half, float>;
const detail::spmv_csr_fn spmv_csr_bf16_f32 = &csr<bfloat16, float>;

}  // namespace mixprec::kern::avx512
