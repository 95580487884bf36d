// What every family of mixprec-compare needs to check a result: reproducible test data, the
// stored (rounded) form of it in each dtype, unit roundoffs and the gamma_n of the bounds,
// error measures against long-double references, and the accuracy figures built from them.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/dtype.hpp"
#include "tools/compare/compare.hpp"

namespace mixprec::compare {

/// n values uniform in [lo, hi) from a fixed-seed generator (the same on every machine).
std::vector<double> uniform_values(std::int64_t n, std::uint64_t seed, double lo = -1, double hi = 1);

// unit_roundoff(dtype), the storage's, is mixprec's own (mixprec/dtype.hpp).
/// Unit roundoff of the precision a dtype computes in (f64 for f64, f32 otherwise).
inline double compute_roundoff(dtype t) {
  return t == dtype::f64 ? unit_roundoff(dtype::f64) : unit_roundoff(dtype::f32);
}
/// gamma_n(u) = n u / (1 - n u), the bound of n roundings in a row (Higham, eq. 3.8).
inline double gamma(double n, double u) { return n * u / (1 - n * u); }

/// Half the smallest subnormal of t: what a result that underflows may add to a bound.
inline double half_subnormal(dtype t) {
  return t == dtype::f16 ? 0x1p-25 : t == dtype::bf16 ? 0x1p-134 : t == dtype::f32 ? 0x1p-150 : 0x1p-1074 / 2;
}

/// A buffer of `values` rounded once to `t` (to nearest even, as convert does).
buffer stored_as(dtype t, const std::vector<double>& values);
/// A buffer's elements as a dense row-major rows x cols matrix.
inline view matrix_view(buffer& b, std::int64_t rows, std::int64_t cols) {
  return view(b.data(), b.type(), {rows, cols}, {cols, 1}, b.ctx());
}

/// The values a view holds, widened exactly to f64.
std::vector<double> values_of(const_view v);

/// max_i |got_i - ref_i| / max(|ref_i|, floor) (floor guards entries near zero).
double max_relative_error(const std::vector<double>& got, const std::vector<long double>& ref, double floor = 0);
/// ||got - ref||_2 / ||ref||_2.
double normwise_error(const std::vector<double>& got, const std::vector<long double>& ref);
std::vector<long double> widened(const std::vector<double>& v);

/// A figure checked against a bound (held when error <= bound, or >= for agreement figures).
accuracy_figure checked_figure(std::string metric, std::string against, double error, double bound, std::string reason,
                               bool higher_is_better = false);
/// A figure reported without a bound (what the precision costs against the f64 problem).
accuracy_figure plain_figure(std::string metric, std::string against, double error);

/// "n16M" for multiples of 2^20, "n4096" otherwise.
std::string size_label(std::int64_t n);

/// The floating storage dtypes every family compares, f64 first (the baseline).
inline constexpr dtype float_types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};

}  // namespace mixprec::compare
