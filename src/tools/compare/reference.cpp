#include "tools/compare/reference.hpp"

#include <algorithm>
#include <cmath>

namespace mixprec::compare {

std::vector<double> uniform_values(std::int64_t n, std::uint64_t seed, double lo, double hi) {
  // splitmix64: tiny, fixed, and identical everywhere (std:: distributions are not).
  std::vector<double> v(static_cast<std::size_t>(n));
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (double& x : v) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x = lo + (hi - lo) * double(z >> 11) * 0x1.0p-53;
  }
  return v;
}

buffer stored_as(dtype t, const std::vector<double>& values) {
  buffer b(t, std::int64_t(values.size()));
  convert(make_view(values.data(), std::int64_t(values.size())), b.as_view());
  return b;
}

std::vector<double> values_of(const_view v) {
  std::vector<double> out(static_cast<std::size_t>(v.size()));
  convert(v, make_view(out.data(), std::int64_t(out.size())));
  return out;
}

double max_relative_error(const std::vector<double>& got, const std::vector<long double>& ref, double floor) {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const long double scale = std::max<long double>(std::fabs(ref[i]), floor);
    if (scale == 0) continue;
    const double e = double(std::fabs((long double)got[i] - ref[i]) / scale);
    if (!(e <= worst)) worst = e;  // NaN wins
  }
  return worst;
}

double normwise_error(const std::vector<double>& got, const std::vector<long double>& ref) {
  long double num = 0, den = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const long double d = (long double)got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den > 0 ? double(std::sqrt(num / den)) : double(std::sqrt(num));
}

std::vector<long double> widened(const std::vector<double>& v) { return {v.begin(), v.end()}; }

accuracy_figure checked_figure(std::string metric, std::string against, double error, double bound, std::string reason,
                               bool higher_is_better) {
  accuracy_figure f;
  f.metric = std::move(metric);
  f.against = std::move(against);
  f.error = error;
  f.bound = bound;
  f.has_bound = true;
  f.higher_is_better = higher_is_better;
  f.held = higher_is_better ? error >= bound : error <= bound;  // NaN fails either way
  f.reason = std::move(reason);
  return f;
}

accuracy_figure plain_figure(std::string metric, std::string against, double error) {
  accuracy_figure f;
  f.metric = std::move(metric);
  f.against = std::move(against);
  f.error = error;
  return f;
}

std::string size_label(std::int64_t n) {
  if (n % (1 << 20) == 0) return "n" + std::to_string(n >> 20) + "M";
  return "n" + std::to_string(n);
}

}  // namespace mixprec::compare
