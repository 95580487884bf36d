// Extreme eigenvalue estimates from CG's coefficients (Saad, Iterative Methods, 6.7.3): the
// Lanczos matrix T has diagonal 1/alpha_j + beta_{j-1}/alpha_{j-1} and off-diagonal
// sqrt(beta_j)/alpha_j; its extreme eigenvalues are found by bisection on Sturm sequences.
#include <algorithm>
#include <cmath>
#include <vector>

#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/solver.hpp"
#include "solver/global_sums.hpp"

namespace mixprec {
namespace {

/// How many eigenvalues of the symmetric tridiagonal (d, e) are below x.
int count_below(const std::vector<double>& d, const std::vector<double>& e, double x) {
  int count = 0;
  double q = 1;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double off = i == 0 ? 0.0 : e[i - 1] * e[i - 1];
    q = d[i] - x - (i == 0 ? 0.0 : off / (q != 0.0 ? q : 1e-300));
    if (q < 0) ++count;
  }
  return count;
}

/// The k-th smallest eigenvalue (k = 0 .. n-1) by bisection inside the Gershgorin interval.
double eigenvalue(const std::vector<double>& d, const std::vector<double>& e, int k) {
  double lo = d[0], hi = d[0];
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double r = (i > 0 ? std::abs(e[i - 1]) : 0.0) + (i + 1 < d.size() ? std::abs(e[i]) : 0.0);
    lo = std::min(lo, d[i] - r);
    hi = std::max(hi, d[i] + r);
  }
  for (int it = 0; it < 200 && hi - lo > 1e-14 * std::max(std::abs(lo), std::abs(hi)); ++it) {
    const double mid = 0.5 * (lo + hi);
    if (count_below(d, e, mid) > k)
      hi = mid;
    else
      lo = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

spectrum_estimate estimate_spectrum(const linear_operator& a, int steps, const linear_operator* m) {
  constexpr const char* op = "estimate_spectrum";
  if (a.rows() != a.cols()) MIXPREC_THROW(shape_mismatch, op, "A is not square: ", a.rows(), " x ", a.cols());
  if (steps < 1) MIXPREC_THROW(invalid_argument, op, "steps = ", steps, " (>= 1)");
  const std::int64_t n = a.rows();
  spectrum_estimate out;
  if (n == 0) return out;
  // A fixed right-hand side with every eigencomponent present (a smooth one would miss the
  // high frequencies): a deterministic pseudo-random vector.
  std::vector<double> host(static_cast<std::size_t>(n));
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  for (auto& v : host) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    v = double(s >> 11) * 0x1p-53 - 0.5;
  }
  array<double> r_h(host);
  const array<double> r0 = r_h.to(a.ctx());
  buffer r(dtype::f64, n, a.ctx()), z(dtype::f64, n, a.ctx()), p(dtype::f64, n, a.ctx()), q(dtype::f64, n, a.ctx());
  copy(r0, r.as_view());
  if (m)
    m->apply(r.as_view(), z.as_view());
  else
    copy(r.as_view(), z.as_view());
  copy(z.as_view(), p.as_view());
  const detail::global_sums sums(a);
  double rz = sums.dot(r.as_view(), z.as_view());
  const double rz0 = rz;
  if (!(rz > 0))
    MIXPREC_THROW(numerical_breakdown, op, "r'M^-1 r = ", rz, ": the preconditioner is not positive definite");
  std::vector<double> alpha, beta;
  for (int j = 0; j < steps; ++j) {
    a.apply(p.as_view(), q.as_view());
    const double pq = sums.dot(p.as_view(), q.as_view());
    if (!(pq > 0)) {
      if (!std::isfinite(pq)) MIXPREC_THROW(numerical_breakdown, op, "p'Ap = ", pq, " at step ", j + 1);
      MIXPREC_THROW(numerical_breakdown, op, "p'Ap = ", pq, " <= 0 at step ", j + 1, ": A is not positive definite");
    }
    alpha.push_back(rz / pq);
    axpy(-alpha.back(), q.as_view(), r.as_view());
    if (m)
      m->apply(r.as_view(), z.as_view());
    else
      copy(r.as_view(), z.as_view());
    const double rz_new = sums.dot(r.as_view(), z.as_view());
    beta.push_back(rz_new / rz);
    rz = rz_new;
    axpby(1.0, z.as_view(), beta.back(), p.as_view());
    if (!(rz > 1e-28 * rz0)) break;  // converged (or M^-1 lost definiteness): T is complete
  }
  const std::size_t k = alpha.size();
  std::vector<double> d(k), e(k > 0 ? k - 1 : 0);
  for (std::size_t j = 0; j < k; ++j) {
    d[j] = 1.0 / alpha[j] + (j > 0 ? beta[j - 1] / alpha[j - 1] : 0.0);
    if (j + 1 < k) e[j] = std::sqrt(beta[j]) / alpha[j];
  }
  // T scales with A: bring its largest entry into [1, 2) by a power of two (exact) so that
  // the Sturm sequence's squares e_j^2 neither overflow nor underflow, and scale back.
  double largest = 0;
  for (double v : d) largest = std::max(largest, std::abs(v));
  for (double v : e) largest = std::max(largest, std::abs(v));
  const int exponent = largest > 0 && std::isfinite(largest) ? std::ilogb(largest) : 0;
  for (double& v : d) v = std::ldexp(v, -exponent);
  for (double& v : e) v = std::ldexp(v, -exponent);
  out.steps = int(k);
  out.lambda_min = std::ldexp(eigenvalue(d, e, 0), exponent);
  out.lambda_max = std::ldexp(eigenvalue(d, e, int(k) - 1), exponent);
  return out;
}

}  // namespace mixprec
