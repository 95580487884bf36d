// AVX-512 GEMM kernels for f64, f32 and f16 (f16 B widened by vcvtph2ps as it is loaded;
// f32 FMA: nothing rounds to f16 before the epilogue). The shared driver does the rest.
#include "kernels/common/gemm_driver.hpp"
#include "kernels/cpu/avx512/gemm_micro_avx512.hpp"
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

struct ops_f64 {
  using vec = __m512d;
  static vec zero() { return _mm512_setzero_pd(); }
  static vec load_b(const double* b, int h) { return _mm512_loadu_pd(b + 8 * h); }
  static vec bcast_a(const double* a) { return _mm512_set1_pd(*a); }
  static vec madd(vec acc, vec a, vec b) { return _mm512_fmadd_pd(a, b, acc); }
  static vec add(vec x, vec y) { return _mm512_add_pd(x, y); }
  static void store(double* c, vec v, bool accumulate) {
    _mm512_storeu_pd(c, accumulate ? _mm512_add_pd(_mm512_loadu_pd(c), v) : v);
  }
};

struct ops_f32 {
  using vec = __m512;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load_b(const float* b, int h) { return _mm512_loadu_ps(b + 16 * h); }
  static vec bcast_a(const float* a) { return _mm512_set1_ps(*a); }
  static vec madd(vec acc, vec a, vec b) { return _mm512_fmadd_ps(a, b, acc); }
  static vec add(vec x, vec y) { return _mm512_add_ps(x, y); }
  static void store(float* c, vec v, bool accumulate) {
    _mm512_storeu_ps(c, accumulate ? _mm512_add_ps(_mm512_loadu_ps(c), v) : v);
  }
};

struct ops_f16 : ops_f32 {
  static vec load_b(const half* b, int h) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * h)));
  }
};

// Block sizes: long k blocks, as the bf16/int8 kernels' (the B micro-panel streams from L2,
// the A block of MC x KC, 0.9 MiB, stays in a 2 MiB L2): fewer passes over the accumulator
// than L1-sized blocks of 256 (f32 5-9 % and f64 2-4 % faster at 2048^3, alternated; see
// docs/performance-notes.md); NC bounds the B block.
using micro_f64 = gemm_micro_2v<gemm_f64, ops_f64, 14, 1024, 112, 2048>;
using micro_f32 = gemm_micro_2v<gemm_f32, ops_f32, 14, 2048, 112, 2048>;
using micro_f16 = gemm_micro_2v<gemm_f16, ops_f16, 14, 2048, 112, 2048>;

}  // namespace

const detail::gemm_fn gemm_kernel_f64 = &gemm_driver<kern::gemm_f64, micro_f64>::run;
const detail::gemm_fn gemm_kernel_f32 = &gemm_driver<kern::gemm_f32, micro_f32>::run;
const detail::gemm_fn gemm_kernel_f16 = &gemm_driver<kern::gemm_f16, micro_f16>::run;

}  // namespace mixprec::kern::avx512
