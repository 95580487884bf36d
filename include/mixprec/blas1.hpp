// mixprec/blas1.hpp — vector ops: convert, fill, axpy, scal, dot, nrm2, asum, amax.
//
//   auto ctx = mixprec::context::best();
//   mixprec::array<mixprec::bfloat16> x(n, ctx), y(n, ctx);
//   mixprec::fill(x, 0.5);
//   mixprec::convert(x, y32);                       // bf16 -> f32, exact
//   mixprec::axpy(2.0, x, y);                       // y = 2x + y, computed in f32, stored bf16
//   double d = mixprec::dot(x, y);                  // accumulated in f32
//   double e = mixprec::dot(x, y, mixprec::accumulation::f64);   // accumulated in f64
//
// Operands are rank-1 views (a dense tensor view counts as its flattened elements), of the
// same size, dtype (convert excepted) and memory space; the context of the operands says
// where the op runs. Arguments are checked before anything is written: an op that throws
// mixprec::error has left its outputs untouched.
//
// Numerics contract (all ops, all backends)
// - Storage rounding: results are rounded to the output dtype once, to nearest with ties to
//   even. Float -> integer conversions round to nearest even and saturate; NaN becomes 0.
// - Compute precision: f64 data computes in f64; f32, f16 and bf16 compute in f32 (each
//   element widened exactly); i8/u8/i32 compute in f64 and round back with saturation.
// - Reductions (dot, nrm2, asum) accumulate as `accumulation` says:
//     standard     in the compute precision (f32 for f32/f16/bf16, f64 for f64);
//                  i8/u8 accumulate exactly in 64-bit integers, i32 in f64;
//     f64          in f64 whatever the data;
//     compensated  error-free transformations (TwoSum/TwoProduct) in the compute precision:
//                  about as accurate as twice that precision, for roughly twice the flops.
//   Error of dot in `standard`: |dot - exact| <= gamma_n(u) * sum |x_i y_i|, u = 2^-24 for an
//   f32 accumulator, 2^-53 for f64. The summation order is fixed for a given size and thread
//   count, so results are reproducible run to run.
// - nrm2 does not overflow or underflow needlessly: it rescales by a power of two when the
//   plain sum of squares leaves the accumulator's range.
// - NaN propagates through every op; amax returns the index of the first NaN if any.
// - The contract holds in any floating-point mode of the caller: CPU kernels run with round
//   to nearest and subnormals kept (no flush-to-zero or denormals-are-zero, which programs
//   built with -ffast-math turn on), set on their own threads and restored after.
#pragma once

#include <cstdint>

#include "mixprec/view.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class accumulation { standard, f64, compensated };
const char* name_of(accumulation a);

/// y = x converted to y's dtype (any pair of dtypes).
void convert(const_view x, view y);
/// x[i] = value rounded to x's dtype as `convert` would.
void fill(view x, double value);
/// y = alpha * x + y.
void axpy(double alpha, const_view x, view y);
/// y = alpha * x + beta * y in one pass; beta == 0 does not read y.
void axpby(double alpha, const_view x, double beta, view y);
/// x = alpha * x (IEEE: 0 * NaN is NaN).
void scal(double alpha, view x);
/// sum x[i] * y[i].
double dot(const_view x, const_view y, accumulation acc = accumulation::standard);
/// sqrt(sum x[i]^2), without spurious overflow or underflow.
double nrm2(const_view x, accumulation acc = accumulation::standard);
/// sum |x[i]|.
double asum(const_view x, accumulation acc = accumulation::standard);
/// Index of the first element of largest magnitude (first NaN wins); -1 for an empty x.
std::int64_t amax(const_view x);

}  // namespace mixprec

MIXPREC_PUBLIC_END
