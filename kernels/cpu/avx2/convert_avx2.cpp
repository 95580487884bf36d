// AVX2 + F16C conversions between f32 and the 16-bit floats, eight lanes at a time: for
// CPUs without AVX-512 (the lane conversions are in simd_avx2.hpp).
#include <immintrin.h>

#include "kernels/common/blas1_chunked.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {

using detail::exec_args;

template <class Src, class Dst>
struct convert {
  static void run(const exec_args& ex, idx n, const void* xv, idx, void* yv, idx) {
    const Src* x = static_cast<const Src*>(xv);
    Dst* y = static_cast<Dst*>(yv);
    for_chunks<true>(ex, n, [&](idx b, idx e) {
      idx i = b;
      for (; i + 8 <= e; i += 8) store8(y + i, load8(x + i));
      convert_range(i, e, x, 1, y, 1);  // the tail, element by element
    });
  }
};

}  // namespace

#define MIXPREC_DEFINE(S, SN, D, DN) const detail::convert_fn convert_##SN##_##DN = &convert<S, D>::run;
MIXPREC_AVX2_CONVERT_PAIRS(MIXPREC_DEFINE)
#undef MIXPREC_DEFINE

}  // namespace mixprec::kern::avx2
