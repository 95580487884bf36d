// Stencil kernels for CPUs with AVX2 and FMA but no AVX-512: the shared row engine
// (kernels/common/stencil_rows.hpp) compiled with this folder's flags, so that its loops
// become 256-bit multiply-adds instead of the portable build's SSE2, with rows of f16/bf16
// widened and rounded eight lanes at a time (F16C; simd_avx2.hpp).
#include "kernels/common/stencil_kernels.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {

/// scalar_rows with the f16/bf16 row conversions vectorised (f32 and f64 rows as there).
/// Scalar f16/bf16 conversions made the time-blocked f16 sweeps 4x slower than f32 ones.
struct simd_rows : scalar_rows {
  template <class S>
  static void load(const S* src, compute_t<S>* dst, std::int64_t n) {
    std::int64_t i = 0;
    if constexpr (std::is_same_v<S, half> || std::is_same_v<S, bfloat16>)
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src + i));
    scalar_rows::load(src + i, dst + i, n - i);
  }
  template <class S>
  static void store(const compute_t<S>* src, S* dst, std::int64_t n) {
    std::int64_t i = 0;
    if constexpr (std::is_same_v<S, half> || std::is_same_v<S, bfloat16>)
      for (; i + 8 <= n; i += 8) store8(dst + i, _mm256_loadu_ps(src + i));
    scalar_rows::store(src + i, dst + i, n - i);
  }
  /// No non-temporal stores here: a plain store of the row.
  template <class S>
  static void stream(const compute_t<S>* src, S* dst, std::int64_t n) {
    store(src, dst, n);
  }
};

using kernels = stencil_kernels<simd_rows>;

}  // namespace

const detail::stencil_kernel_table stencil_set = stencil_table_of<kernels>();

}  // namespace mixprec::kern::avx2
