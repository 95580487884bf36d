// AVX2 BLAS-1 kernels for f64, f32, f16 and bf16 with unit strides: the shared bodies of
// kernels/common/blas1_vector.hpp on 4 f64 / 8 f32 lanes, f16 widened and rounded with F16C.
// Without them a CPU with AVX2 but no AVX-512 ran the portable build, whose scalar f16
// conversions made f16 vectors slower than f64 ones.
#include "kernels/common/blas1_vector.hpp"
#include "kernels/cpu/avx2/kernels_avx2.hpp"
#include "kernels/cpu/avx2/simd_avx2.hpp"

namespace mixprec::kern::avx2 {
namespace {
struct lanes {
  using f64 = f64x4;
  using f32 = f32x8;
};
}  // namespace

const detail::blas1_kernel_table blas1_set = blas1_vector_table<lanes>();

}  // namespace mixprec::kern::avx2
