// AVX-512 BLAS-1 kernels for f64, f32, f16 and bf16 with unit strides: the shared bodies of
// kernels/common/blas1_vector.hpp on 8 f64 / 16 f32 lanes, and conversions between the
// float dtypes.
#include "kernels/common/blas1_vector.hpp"
#include "kernels/cpu/avx512/simd_avx512.hpp"

namespace mixprec::kern::avx512 {
namespace {

using detail::exec_args;

struct lanes {
  using f64 = f64x8;
  using f32 = f32x16;
};

template <class Src, class Dst>
struct convert {
  /// 16 lanes through f32 when neither side is f64, else 8 lanes through f64 (one rounding
  /// at the store either way).
  using V = std::conditional_t<std::is_same_v<Src, double> || std::is_same_v<Dst, double>, f64x8, f32x16>;
  static void run(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
    const Src* x = static_cast<const Src*>(xv);
    Dst* y = static_cast<Dst*>(yv);
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + V::width <= e; i += V::width) V::load(x + i).store(y + i);
      if (i < e) V::load_tail(x + i, e - i).store_tail(y + i, e - i);
    });
  }
};

}  // namespace
}  // namespace mixprec::kern::avx512

// Kernel pointers for this folder's registration file (compiled without AVX-512 flags).
#include "kernels/cpu/avx512/kernels_avx512.hpp"

namespace mixprec::kern::avx512 {
const detail::blas1_kernel_table blas1_set = blas1_vector_table<lanes>();
#define MIXPREC_DEFINE(S, SN, D, DN) const detail::convert_fn convert_##SN##_##DN = &convert<S, D>::run;
MIXPREC_FOR_EACH_FLOAT_CONVERSION(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE
}  // namespace mixprec::kern::avx512
