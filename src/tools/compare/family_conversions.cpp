// Conversions: f64 data rounded to each storage dtype (the first thing a mixed-precision
// code does), against the f64 copy as baseline. Contract (mixprec/blas1.hpp): one rounding
// to nearest even, so the relative error of a value in the normal range is at most u.
#include <cmath>

#include "tools/compare/reference.hpp"

namespace mixprec::compare {

void add_conversion_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = s.size == suite_size::tiny ? 4096 : s.size == suite_size::quick ? 1 << 24 : 1 << 26;
  for (dtype t : float_types) {
    case_def d{"conversions", "from_f64/" + size_label(n), name_of(t), {}};
    d.prepare = [n, t] {
      // Values spread over [2^-8, 2^8) in magnitude with both signs: normal in every dtype.
      auto src = std::make_shared<std::vector<double>>(uniform_values(n, 11, -8, 8));
      for (double& x : *src) x = std::copysign(std::exp2(x), x - std::floor(x) - 0.5);
      auto out = std::make_shared<buffer>(t, n);
      prepared_case c;
      c.bytes = double(n) * double(8 + size_of(t));
      c.run = [src, out, n] { convert(make_view(src->data(), n), out->as_view()); };
      c.check = [src, out, t](case_result& r) {
        const double err = max_relative_error(values_of(out->as_view()), widened(*src));
        r.accuracy.push_back(checked_figure("max relative error", "f64 problem", err, unit_roundoff(t),
                                            "one rounding to nearest: u of the storage dtype"));
      };
      return c;
    };
    cases.push_back(std::move(d));
  }
}

}  // namespace mixprec::compare
