// Training kernels (mixprec/train.hpp) on every registered variant: activation, softmax and
// norm backward and the fused cross-entropy against long-double analytic derivatives of the
// stored inputs within the header's bounds (the analytic formulas themselves checked against
// central finite differences of the long-double forward); SGD and AdamW against PyTorch's
// update written out in long double; stochastic rounding (unbiased, reproducible); the loss
// scaler's rules; the linear layer's backward on the GEMM; and bad input refused by name
// with parameters and outputs untouched.
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "mixprec/train.hpp"
#include "support/harness.hpp"
#include "support/placed_rows.hpp"
#include "support/subnormals.hpp"

namespace mixprec::test {
namespace {

using ld = long double;
constexpr double u32 = 0x1p-24;

/// f() must throw a mixprec::error whose message names `needle` and its source line.
template <class F>
void expect_refused(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected one naming " << needle;
  } catch (const error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".cpp:"), std::string::npos) << "no file:line: " << e.what();
  }
}
#define EXPECT_THROW_MSG(expr, needle) expect_refused([&] { expr; }, needle)

double unit_of(dtype t) { return t == dtype::f32 ? 0x1p-24 : t == dtype::bf16 ? 0x1p-8 : 0x1p-11; }
/// Half the dtype's smallest subnormal: the absolute error of a result that underflows.
double tiny_of(dtype t) { return t == dtype::f16 ? 0x1p-25 : t == dtype::bf16 ? 0x1p-134 : 0x1p-150; }

template <class T>
std::vector<T> random_vec(std::int64_t n, double lo, double hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = T(d(gen));
  return v;
}

template <class T>
view rows_view_of(std::vector<T>& v, std::int64_t rows, std::int64_t cols) {
  return make_view(v.data(), {rows, cols}, {cols, 1});
}

/// The central finite difference of f at x in long double (step h relative to |x| + 1).
ld central_difference(const std::function<ld(ld)>& f, ld x) {
  const ld h = 1e-6L * (std::fabs(x) + 1);
  return (f(x + h) - f(x - h)) / (2 * h);
}

// ---- activation derivatives (long double) ----

ld phi(ld x) { return std::exp(-x * x / 2) / std::sqrt(2 * 3.14159265358979323846L); }
ld cdf(ld x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
ld sigmoid(ld x) { return 1 / (1 + std::exp(-x)); }
constexpr ld tanh_k = 0.79788456080286535588L, tanh_c = 0.044715L;

ld forward_of(activation a, ld x) {
  switch (a) {
    case activation::relu:
      return std::max(x, 0.0L);
    case activation::gelu_erf:
      return x * cdf(x);
    case activation::gelu_tanh:
      return 0.5L * x * (1 + std::tanh(tanh_k * (x + tanh_c * x * x * x)));
    default:
      return x * sigmoid(x);
  }
}

/// f'(x) and M(x), the sum of the magnitudes of its two terms (the header's bound).
std::pair<ld, ld> derivative_of(activation a, ld x) {
  switch (a) {
    case activation::relu:
      return {x > 0 ? 1 : 0, 1};
    case activation::gelu_erf:
      return {cdf(x) + x * phi(x), cdf(x) + std::fabs(x) * phi(x)};
    case activation::gelu_tanh: {
      // (1 + t) / 2 = sigmoid(2u) and 1 - t^2 = 4 sigmoid(2u) sigmoid(-2u): 1 - t * t cancels
      // to nothing, even in long double, where t is near -1.
      const ld u2 = 2 * tanh_k * (x + tanh_c * x * x * x);
      const ld t1 = sigmoid(u2), t2 = 2 * x * sigmoid(u2) * sigmoid(-u2) * tanh_k * (1 + 3 * tanh_c * x * x);
      return {t1 + t2, std::fabs(t1) + std::fabs(t2)};
    }
    default: {
      const ld s = sigmoid(x);
      return {s * (1 + x * (1 - s)), s * (1 + std::fabs(x) * (1 - s))};
    }
  }
}

TEST(train_reference, analytic_derivatives_match_central_differences) {
  for (activation a : {activation::gelu_erf, activation::gelu_tanh, activation::silu})
    for (ld x = -9.75L; x <= 9.75L; x += 0.5L) {
      const ld fd = central_difference([&](ld t) { return forward_of(a, t); }, x);
      EXPECT_NEAR(double(derivative_of(a, x).first), double(fd), 1e-8) << name_of(a) << " x=" << double(x);
    }
}

class train_eltwise_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(train_eltwise_kernels, activation_backward_matches_the_analytic_derivative_within_the_bound) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    const double uT = unit_of(k.in);
    for (const std::int64_t cols : {std::int64_t(37), std::int64_t(20000)}) {
      const std::int64_t rows = 3;
      auto a = random_vec<T>(rows * cols, -12, 12, unsigned(cols));
      auto dy = random_vec<T>(rows * cols, -2, 2, unsigned(cols) + 1);
      a[0] = T(0.0), a[1] = T(-0.75);  // relu's kink and gelu's zero of the derivative
      const rows_of_t<T> a_in(rows, cols, a), dy_in(rows, cols, dy);
      for (activation act : {activation::relu, activation::gelu_erf, activation::gelu_tanh, activation::silu}) {
        rows_of_t<T> da_out(rows, cols, std::vector<T>(a.size(), T(7.0)));
        activate_backward(act, a_in.as_const(), dy_in.as_const(), da_out.as_view());
        const std::vector<T>& da = da_out.values();
        for (std::size_t i = 0; i < a.size(); ++i) {
          const ld x = ld(double(a[i])), d = ld(double(dy[i]));
          const auto [fp, mag] = derivative_of(act, x);
          const ld r = d * fp;
          const double bound = uT * std::fabs(double(r)) +
                               ((40 + 4 * double(x * x)) * u32 * double(mag) + 0x1p-100) * std::fabs(double(d)) +
                               tiny_of(k.in);
          ASSERT_LE(std::fabs(double(da[i]) - double(r)), bound) << k.name << " " << name_of(act) << " a=" << double(x);
        }
      }
      // swiglu: y = silu(gate) * up
      auto up = random_vec<T>(rows * cols, -3, 3, unsigned(cols) + 2);
      const rows_of_t<T> up_in(rows, cols, up);
      rows_of_t<T> dg_out(rows, cols, std::vector<T>(a.size())), du_out(rows, cols, std::vector<T>(a.size()));
      swiglu_backward(a_in.as_const(), up_in.as_const(), dy_in.as_const(), dg_out.as_view(), du_out.as_view());
      const std::vector<T>&dg = dg_out.values(), &du = du_out.values();
      for (std::size_t i = 0; i < a.size(); ++i) {
        const ld x = ld(double(a[i])), d = ld(double(dy[i])), v = ld(double(up[i]));
        const auto [fp, mag] = derivative_of(activation::silu, x);
        const ld rg = d * v * fp, ru = d * x * sigmoid(x);
        const double bg = uT * std::fabs(double(rg)) +
                          ((42 + 4 * double(x * x)) * u32 * double(mag) + 0x1p-100) * std::fabs(double(d * v)) +
                          tiny_of(k.in);
        const double bu = uT * std::fabs(double(ru)) + (40 + 4 * double(x * x)) * u32 * std::fabs(double(ru)) +
                          0x1p-100 + tiny_of(k.in);
        ASSERT_LE(std::fabs(double(dg[i]) - double(rg)), bg) << k.name << " swiglu d_gate a=" << double(x);
        ASSERT_LE(std::fabs(double(du[i]) - double(ru)), bu) << k.name << " swiglu d_up a=" << double(x);
      }
    }
    // Tails: far out the derivatives are 0 and 1, never NaN; NaN propagates.
    const double inf = std::numeric_limits<double>::infinity();
    const rows_of_t<T> x(std::vector<T>{T(inf), T(-inf), T(-1000.0), T(1000.0), T(std::nan(""))});
    const rows_of_t<T> one(std::vector<T>(5, T(1.0)));
    for (activation act : {activation::gelu_erf, activation::gelu_tanh, activation::silu}) {
      rows_of_t<T> d_out(1, 5, 5);
      activate_backward(act, x.as_const(), one.as_const(), d_out.as_view());
      const std::vector<T>& d = d_out.values();
      EXPECT_EQ(double(d[0]), 1.0) << k.name << " " << name_of(act);
      EXPECT_EQ(double(d[1]), 0.0) << k.name << " " << name_of(act);
      EXPECT_EQ(double(d[2]), 0.0) << k.name << " " << name_of(act);
      EXPECT_EQ(double(d[3]), 1.0) << k.name << " " << name_of(act);
      EXPECT_TRUE(std::isnan(double(d[4]))) << k.name << " " << name_of(act);
    }
  });
}

// A subnormal gradient is stored as the storage format's subnormal, not flushed to zero.
TEST_P(train_eltwise_kernels, subnormal_gradients_are_kept_not_flushed) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    const std::vector<T> dy = subnormal_ladder<T>(k.in);
    const std::int64_t n = std::int64_t(dy.size());
    rows_of_t<T> da_out(1, n, n);
    activate_backward(activation::relu, rows_of_t<T>(std::vector<T>(dy.size(), T(1.0))).as_const(),
                      rows_of_t<T>(dy).as_const(), da_out.as_view());
    const std::vector<T>& da = da_out.values();
    for (std::int64_t j = 0; j < n; ++j)
      ASSERT_EQ(double(da[std::size_t(j)]), double(dy[std::size_t(j)])) << k.name << " at " << j;
  });
}

// ---- softmax backward ----

class train_softmax_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST(train_reference, softmax_backward_formula_matches_central_differences) {
  // L(x) = sum_j w_j softmax(s x)_j; dL/dx_i = s y_i (w_i - sum w y).
  const std::vector<ld> x = {0.3L, -1.2L, 2.0L, 0.7L, -0.4L}, w = {1.0L, -2.0L, 0.5L, 0.25L, 3.0L};
  const ld s = 0.7L;
  auto loss = [&](const std::vector<ld>& v) {
    ld mx = -INFINITY, sum = 0, out = 0;
    for (ld e : v) mx = std::max(mx, s * e);
    for (ld e : v) sum += std::exp(s * e - mx);
    for (std::size_t j = 0; j < v.size(); ++j) out += w[j] * std::exp(s * v[j] - mx) / sum;
    return out;
  };
  std::vector<ld> y(x.size());
  ld sum = 0, dot = 0;
  for (std::size_t j = 0; j < x.size(); ++j) sum += (y[j] = std::exp(s * x[j]));
  for (std::size_t j = 0; j < x.size(); ++j) dot += w[j] * (y[j] /= sum);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const ld fd = central_difference(
        [&](ld t) {
          auto v = x;
          v[i] = t;
          return loss(v);
        },
        x[i]);
    EXPECT_NEAR(double(s * y[i] * (w[i] - dot)), double(fd), 1e-9);
  }
}

TEST_P(train_softmax_kernels, backward_matches_the_formula_on_the_stored_output_within_the_bound) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    const double uT = unit_of(k.in);
    for (const std::int64_t cols : {std::int64_t(1), std::int64_t(45), std::int64_t(5000)}) {
      const std::int64_t rows = 4;
      for (bool log : {false, true}) {
        softmax_options o;
        o.scale = 0.125;
        o.log = log;
        const rows_of_t<T> x_in(rows, cols, random_vec<T>(rows * cols, -4, 4, unsigned(cols) + log));
        rows_of_t<T> y_out(rows, cols, std::vector<T>(std::size_t(rows * cols)));
        softmax(x_in.as_const(), y_out.as_view(), o);
        const auto dy = random_vec<T>(rows * cols, -1, 1, unsigned(cols) + 9);
        rows_of_t<T> dx_out(rows, cols, std::vector<T>(dy.size()));
        softmax_backward(y_out.as_const(), rows_of_t<T>(rows, cols, dy).as_const(), dx_out.as_view(), o);
        const std::vector<T>&y = y_out.values(), &dx = dx_out.values();
        for (std::int64_t i = 0; i < rows; ++i) {
          ld s = 0, mag = 0;
          for (std::int64_t j = 0; j < cols; ++j) {
            const ld yv = double(y[std::size_t(i * cols + j)]), d = double(dy[std::size_t(i * cols + j)]);
            s += log ? d : d * yv;
            mag += std::fabs(log ? d : d * yv);
          }
          for (std::int64_t j = 0; j < cols; ++j) {
            const ld yv = double(y[std::size_t(i * cols + j)]), d = double(dy[std::size_t(i * cols + j)]);
            const ld r = log ? o.scale * (d - std::exp(yv) * s) : o.scale * yv * (d - s);
            const double b = uT * std::fabs(double(r)) + tiny_of(k.in) +
                             double(cols + 8) * u32 * o.scale *
                                 double(log ? std::fabs(d) + std::exp(yv) * mag : std::fabs(yv) * (std::fabs(d) + mag));
            ASSERT_LE(std::fabs(double(dx[std::size_t(i * cols + j)]) - double(r)), b)
                << k.name << " log=" << log << " cols=" << cols << " at " << i << "," << j;
          }
        }
      }
    }
  });
}

// ---- norm backward ----

class train_norm_kernels : public ::testing::TestWithParam<kernel_info> {};

/// The forward of rms / layer norm in long double: y_j = xhat_j gamma_j (+ beta_j).
std::vector<ld> norm_forward(bool rms, const std::vector<ld>& x, const std::vector<ld>& gamma, ld eps) {
  const ld n = ld(x.size());
  ld mean = 0, var = 0;
  if (!rms)
    for (ld e : x) mean += e / n;
  for (ld e : x) var += (e - mean) * (e - mean) / n;
  const ld r = 1 / std::sqrt(var + eps);
  std::vector<ld> y(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) y[j] = (x[j] - mean) * r * gamma[j];
  return y;
}

struct norm_grads {
  std::vector<ld> dx, xhat;
  ld r = 0, mean = 0;
};

/// The analytic backward in long double.
norm_grads norm_backward_ref(bool rms, const std::vector<ld>& x, const std::vector<ld>& gamma,
                             const std::vector<ld>& dy, ld eps) {
  const ld n = ld(x.size());
  norm_grads g;
  if (!rms)
    for (ld e : x) g.mean += e / n;
  ld var = 0;
  for (ld e : x) var += (e - g.mean) * (e - g.mean) / n;
  g.r = 1 / std::sqrt(var + eps);
  ld s_g = 0, s_gx = 0;
  g.xhat.resize(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) {
    g.xhat[j] = (x[j] - g.mean) * g.r;
    s_g += dy[j] * gamma[j] / n;
    s_gx += dy[j] * gamma[j] * g.xhat[j] / n;
  }
  g.dx.resize(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) g.dx[j] = g.r * (dy[j] * gamma[j] - (rms ? 0 : s_g) - g.xhat[j] * s_gx);
  return g;
}

TEST(train_reference, norm_backward_formulas_match_central_differences) {
  const std::vector<ld> x = {0.5L, -1.5L, 2.25L, 0.125L, 1.0L, -0.75L}, gamma = {1.5L, 0.5L, -1.0L, 2.0L, 1.0L, 0.25L};
  const std::vector<ld> dy = {0.3L, -0.2L, 1.0L, 0.4L, -0.9L, 0.6L};
  for (bool rms : {true, false}) {
    const norm_grads g = norm_backward_ref(rms, x, gamma, dy, 1e-5L);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const ld fd = central_difference(
          [&](ld t) {
            auto v = x;
            v[i] = t;
            const auto y = norm_forward(rms, v, gamma, 1e-5L);
            ld l = 0;
            for (std::size_t j = 0; j < y.size(); ++j) l += dy[j] * y[j];
            return l;
          },
          x[i]);
      EXPECT_NEAR(double(g.dx[i]), double(fd), 1e-8) << (rms ? "rms" : "layer") << " i=" << i;
    }
  }
}

TEST_P(train_norm_kernels, backward_matches_long_double_within_the_bound_and_accumulates_weight_gradients) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    const double uT = unit_of(k.in);
    for (const std::int64_t cols : {std::int64_t(7), std::int64_t(64), std::int64_t(3000)}) {
      const std::int64_t rows = 37;
      for (bool rms : {true, false}) {
        auto x = random_vec<T>(rows * cols, -2, 3, unsigned(cols) + rms);
        auto dy = random_vec<T>(rows * cols, -1, 1, unsigned(cols) + 3);
        auto gamma = random_vec<float>(cols, 0.5, 1.5, unsigned(cols) + 4);
        const rows_of_t<T> x_in(rows, cols, x), dy_in(rows, cols, dy);
        const placed_values<float> gamma_in(gamma);
        rows_of_t<T> dx_out(rows, cols, std::vector<T>(x.size()));
        rows_of_t<float> dgamma_out(1, cols, cols, 0.25), dbeta_out(1, cols, cols, -0.5);
        norm_options o;
        o.eps = 1e-5;
        if (rms)
          rms_norm_backward(x_in.as_const(), gamma_in.as_const(), dy_in.as_const(), dx_out.as_view(),
                            dgamma_out.as_vector(), o);
        else
          layer_norm_backward(x_in.as_const(), gamma_in.as_const(), dy_in.as_const(), dx_out.as_view(),
                              dgamma_out.as_vector(), dbeta_out.as_vector(), o);
        const std::vector<T>& dx = dx_out.values();
        const std::vector<float>&dgamma = dgamma_out.values(), &dbeta = dbeta_out.values();
        std::vector<ld> ref_dgamma(std::size_t(cols), 0.25L), ref_dbeta(std::size_t(cols), -0.5L);
        std::vector<ld> bound_w(std::size_t(cols), 0);
        std::vector<ld> g(std::size_t(cols), 0);
        for (std::size_t j = 0; j < g.size(); ++j) g[j] = gamma[j];
        for (std::int64_t i = 0; i < rows; ++i) {
          std::vector<ld> xr(static_cast<std::size_t>(cols)), dyr(static_cast<std::size_t>(cols));
          for (std::int64_t j = 0; j < cols; ++j) {
            xr[std::size_t(j)] = double(x[std::size_t(i * cols + j)]);
            dyr[std::size_t(j)] = double(dy[std::size_t(i * cols + j)]);
          }
          const norm_grads ref = norm_backward_ref(rms, xr, g, dyr, 1e-5L);
          const ld c = std::fabs(ref.mean) * ref.r;
          ld A = 0;
          for (std::int64_t j = 0; j < cols; ++j)
            A += std::fabs(dyr[std::size_t(j)] * g[std::size_t(j)]) * (1 + std::fabs(ref.xhat[std::size_t(j)]) + c) /
                 ld(cols);
          for (std::int64_t j = 0; j < cols; ++j) {
            const std::size_t jj = std::size_t(j);
            const double b = uT * std::fabs(double(ref.dx[jj])) + tiny_of(k.in) +
                             double(cols + 16) * u32 * double(ref.r) *
                                 double(std::fabs(dyr[jj] * g[jj]) + A * (1 + std::fabs(ref.xhat[jj]) + c));
            ASSERT_LE(std::fabs(double(dx[std::size_t(i * cols + j)]) - double(ref.dx[jj])), b)
                << k.name << (rms ? " rms" : " layer") << " cols=" << cols << " at " << i << "," << j;
            ref_dgamma[jj] += dyr[jj] * ref.xhat[jj];
            ref_dbeta[jj] += dyr[jj];
            bound_w[jj] += std::fabs(dyr[jj]) * (1 + std::fabs(ref.xhat[jj]) + c);
          }
        }
        for (std::size_t j = 0; j < std::size_t(cols); ++j) {
          const double b = double(rows + cols + 16) * u32 * double(bound_w[j]);
          ASSERT_LE(std::fabs(dgamma[j] - double(ref_dgamma[j])), b) << k.name << " dgamma " << j;
          if (!rms) ASSERT_LE(std::fabs(dbeta[j] - double(ref_dbeta[j])), b) << k.name << " dbeta " << j;
          if (rms) ASSERT_EQ(dbeta[j], -0.5f) << "rms_norm_backward wrote dbeta";
        }
      }
    }
  });
}

// ---- cross-entropy ----

class train_loss_kernels : public ::testing::TestWithParam<kernel_info> {};

struct ce_ref {
  ld loss = 0;
  std::vector<ld> grad, p;
};

ce_ref cross_entropy_ref(const std::vector<ld>& z, int label, ld s) {
  ld mx = -INFINITY, sum = 0, mean = 0;
  for (ld e : z) mx = std::max(mx, e), mean += e / ld(z.size());
  for (ld e : z) sum += std::exp(e - mx);
  const ld lse = mx + std::log(sum);
  ce_ref r;
  r.loss = (1 - s) * (lse - z[std::size_t(label)]) + s * (lse - mean);
  r.p.resize(z.size());
  r.grad.resize(z.size());
  for (std::size_t j = 0; j < z.size(); ++j) {
    r.p[j] = std::exp(z[j] - lse);
    r.grad[j] = r.p[j] - (int(j) == label ? 1 - s : 0) - s / ld(z.size());
  }
  return r;
}

TEST(train_reference, cross_entropy_gradient_matches_central_differences) {
  const std::vector<ld> z = {0.5L, -1.0L, 2.0L, 0.0L, 1.5L};
  for (ld s : {0.0L, 0.1L}) {
    const ce_ref r = cross_entropy_ref(z, 2, s);
    for (std::size_t i = 0; i < z.size(); ++i) {
      const ld fd = central_difference(
          [&](ld t) {
            auto v = z;
            v[i] = t;
            return cross_entropy_ref(v, 2, s).loss;
          },
          z[i]);
      EXPECT_NEAR(double(r.grad[i]), double(fd), 1e-9);
    }
  }
}

TEST_P(train_loss_kernels, cross_entropy_matches_long_double_with_smoothing_ignored_rows_and_in_place) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    const double uT = unit_of(k.in);
    for (const std::int64_t cols : {std::int64_t(3), std::int64_t(100), std::int64_t(32000)}) {
      const std::int64_t rows = 6;
      for (double smoothing : {0.0, 0.1}) {
        auto z = random_vec<T>(rows * cols, -8, 8, unsigned(cols) + 5);
        std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
        for (std::int64_t i = 0; i < rows; ++i) labels[std::size_t(i)] = std::int32_t((i * 7919) % cols);
        labels[2] = -100;  // ignored
        cross_entropy_options o;
        o.label_smoothing = smoothing;
        o.grad_scale = 1024;  // a loss scale
        const placed_values<std::int32_t> placed_labels(labels);
        for (bool in_place : {false, true}) {
          rows_of_t<T> zc(rows, cols, z), d(rows, cols, std::vector<T>(z.size(), T(5.0)));
          const view dz = in_place ? zc.as_view() : d.as_view();
          const double loss = cross_entropy(zc.as_const(), placed_labels.as_const(), dz, o);
          const std::vector<T>& got = in_place ? zc.values() : d.values();
          ld ref_loss = 0, loss_bound = 0;
          const double count = double(rows - 1);
          for (std::int64_t i = 0; i < rows; ++i) {
            if (i == 2) {
              for (std::int64_t j = 0; j < cols; ++j) ASSERT_EQ(double(got[std::size_t(i * cols + j)]), 0.0);
              continue;
            }
            std::vector<ld> zr(static_cast<std::size_t>(cols));
            ld zmax = 0;
            for (std::int64_t j = 0; j < cols; ++j)
              zmax = std::max(zmax, std::fabs(zr[std::size_t(j)] = double(z[std::size_t(i * cols + j)])));
            const ce_ref r = cross_entropy_ref(zr, labels[std::size_t(i)], smoothing);
            const double c = double(cols + 12) + 2 * double(zmax);
            ref_loss += r.loss / count;
            loss_bound += c * u32 / count;
            for (std::int64_t j = 0; j < cols; ++j) {
              const ld gref = r.grad[std::size_t(j)] * o.grad_scale / count;
              const double b = uT * std::fabs(double(gref)) + tiny_of(k.in) +
                               (c * double(r.p[std::size_t(j)]) + 2) * u32 * o.grad_scale / count;
              ASSERT_LE(std::fabs(double(got[std::size_t(i * cols + j)]) - double(gref)), b)
                  << k.name << " cols=" << cols << " s=" << smoothing << " at " << i << "," << j;
            }
          }
          EXPECT_LE(std::fabs(loss - double(ref_loss)), double(loss_bound) + 1e-15) << k.name << " cols=" << cols;
        }
      }
    }
  });
}

// ---- optimizers ----

class train_optimizer_kernels : public ::testing::TestWithParam<kernel_info> {};

/// PyTorch's AdamW (or SGD) on one value over `steps`, in long double.
struct torch_ref {
  ld p, m = 0, v = 0;
  ld moved = 0, weights = 0;  // sums over the steps of |step| and of |p|, for the error bound
  void adamw(ld g, int t, const adamw_options& o) {
    p *= 1 - ld(o.lr) * ld(o.weight_decay);
    m = ld(o.beta1) * m + (1 - ld(o.beta1)) * g;
    v = ld(o.beta2) * v + (1 - ld(o.beta2)) * g * g;
    const ld bc1 = 1 - std::pow(ld(o.beta1), ld(t)), bc2 = 1 - std::pow(ld(o.beta2), ld(t));
    const ld step = ld(o.lr) / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + ld(o.eps));
    p -= step;
    moved += std::fabs(step);
    weights += std::fabs(p);
  }
  void sgd(ld g, int t, const sgd_options& o) {
    ld d = g + ld(o.weight_decay) * p;
    if (o.momentum != 0) {
      m = t == 1 ? d : ld(o.momentum) * m + (1 - ld(o.dampening)) * d;
      d = o.nesterov ? d + ld(o.momentum) * m : m;
    }
    p -= ld(o.lr) * d;
    moved += std::fabs(ld(o.lr) * d);
    weights += std::fabs(p);
  }
};

TEST_P(train_optimizer_kernels, adamw_and_sgd_follow_pytorch_and_round_the_model_copy_once) {
  const kernel_info& k = GetParam();
  const force_kernel pin(k.name);
  const context ctx = context_for(k);  // the parameters live in the kernel's memory
  with_type(k.in, [&](auto gtag) {
    with_type(k.out, [&](auto mtag) {
      using G = decltype(gtag);
      using M = decltype(mtag);
      if constexpr ((std::is_same_v<G, float> || std::is_same_v<G, bfloat16> || std::is_same_v<G, half>)&&(
                        std::is_same_v<M, float> || std::is_same_v<M, bfloat16> || std::is_same_v<M, half>)) {
        // Two parameters of sizes no vector divides, one large enough to split among threads.
        const std::int64_t sizes[] = {37, 40000};
        for (int which = 0; which < 3; ++which) {
          std::vector<std::vector<float>> master;
          std::vector<std::vector<M>> model;
          std::vector<std::vector<G>> grads;
          std::vector<std::vector<torch_ref>> ref;
          for (std::int64_t n : sizes) {
            master.push_back(random_vec<float>(n, -1, 1, unsigned(n)));
            model.emplace_back(static_cast<std::size_t>(n));
            grads.emplace_back(static_cast<std::size_t>(n));
            ref.emplace_back();
            for (float p : master.back()) ref.back().push_back(torch_ref{ld(p)});
          }
          std::vector<array<float>> placed_master;
          std::vector<array<M>> placed_model;
          std::vector<array<G>> placed_grads;
          std::vector<parameter> params;
          for (std::size_t t = 0; t < master.size(); ++t) {
            placed_master.emplace_back(master[t], ctx);
            placed_model.emplace_back(model[t], ctx);
            placed_grads.emplace_back(grads[t], ctx);
            params.push_back({make_view(placed_master[t].data(), sizes[t], 1, ctx),
                              make_view(placed_model[t].data(), sizes[t], 1, ctx),
                              make_view(placed_grads[t].data(), sizes[t], 1, ctx)});
          }
          adamw_options ao;
          ao.weight_decay = 0.1;
          sgd_options so;
          so.lr = 0.05, so.momentum = 0.9, so.weight_decay = 1e-3, so.nesterov = which == 2;
          std::unique_ptr<optimizer> opt;
          if (which == 0)
            opt = std::make_unique<adamw>(ao);
          else
            opt = std::make_unique<sgd>(so);
          const double grad_scale = 0.5;
          for (int step = 1; step <= 3; ++step) {
            for (std::size_t t = 0; t < grads.size(); ++t) {
              const auto fresh = random_vec<G>(sizes[t], -2, 2, unsigned(step * 100 + t));
              std::copy(fresh.begin(), fresh.end(), grads[t].begin());
              copy(make_view(fresh.data(), sizes[t]), placed_grads[t].as_view());  // the views keep pointing here
              for (std::size_t i = 0; i < grads[t].size(); ++i) {
                const ld g = ld(double(grads[t][i])) * grad_scale;
                if (which == 0)
                  ref[t][i].adamw(g, step, ao);
                else
                  ref[t][i].sgd(g, step, so);
              }
            }
            opt->step(params, grad_scale);
          }
          EXPECT_EQ(opt->steps(), 3);
          for (std::size_t t = 0; t < master.size(); ++t) {
            master[t] = placed_master[t].to_vector();
            model[t] = placed_model[t].to_vector();
          }
          for (std::size_t t = 0; t < master.size(); ++t)
            for (std::size_t i = 0; i < master[t].size(); ++i) {
              // Each step: the weight's decay and the subtraction round twice (each within u of
              // |p|), and the step itself passes about ten f32 roundings (the moments' fmas, the
              // square root and its scaling, the division; SGD's momentum fmas), each within u
              // of the step's size. The hyper-parameters' one-minus terms are exact to f32.
              const double b = u32 * (3 * double(ref[t][i].weights) + 12 * double(ref[t][i].moved));
              ASSERT_LE(std::fabs(master[t][i] - double(ref[t][i].p)), b)
                  << k.name << " optimizer " << which << " tensor " << t << " at " << i;
              ASSERT_EQ(double(model[t][i]), double(M(master[t][i]))) << k.name << " model copy not rounded once";
            }
        }
      }
    });
  });
}

TEST(train_optimizer, stochastic_rounding_is_unbiased_and_reproducible_where_nearest_loses_the_update) {
  // bf16 weights without a master copy, all 1.0, each step moving them by 1e-4: a quarter of
  // 1/64 of bf16's spacing just below 1 (2^-8), so rounding to nearest keeps every weight at 1.
  const std::int64_t n = 1 << 17;
  auto run = [&](bool sr, std::uint64_t seed, int threads) {
    std::vector<bfloat16> w(std::size_t(n), bfloat16(1.0f));
    std::vector<float> g(std::size_t(n), 1.0f);
    sgd_options o;
    o.lr = 1e-4;
    o.stochastic_rounding = sr;
    o.seed = seed;
    sgd opt(o);
    const context ctx = context::cpu(threads);
    opt.step({parameter{view(), view(w.data(), dtype::bf16, {n}, {1}, ctx),
                        const_view(g.data(), dtype::f32, {n}, {1}, ctx)}});
    return w;
  };
  const auto nearest = run(false, 0, 2);
  for (bfloat16 v : nearest) ASSERT_EQ(float(v), 1.0f);
  const auto a = run(true, 42, 2), b = run(true, 42, 1), c = run(true, 43, 2);
  ld mean = 0;
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(a[std::size_t(i)].bits(), b[std::size_t(i)].bits()) << "not reproducible across thread counts";
    const float v = float(a[std::size_t(i)]);
    ASSERT_TRUE(v == 1.0f || v == 1.0f - 0x1p-8f) << v;
    mean += ld(v) / ld(n);
    differ += a[std::size_t(i)].bits() != c[std::size_t(i)].bits();
  }
  // Each weight goes down one step (2^-8) with probability q = 1e-4 / 2^-8: the mean is
  // 1 - 1e-4 with standard deviation 2^-8 sqrt(q (1 - q) / n); allow 6 of them.
  const double q = 1e-4 / 0x1p-8, sd = 0x1p-8 * std::sqrt(q * (1 - q) / double(n));
  EXPECT_NEAR(double(mean), 1.0 - 1e-4, 6 * sd);
  EXPECT_GT(differ, 0) << "another seed gave the same rounding";
}

TEST(train_optimizer, a_skipped_step_touches_nothing_and_a_changed_list_is_refused) {
  std::vector<float> master = {1.0f, 2.0f, 3.0f}, grad = {0.5f, 0.5f, 0.5f};
  std::vector<bfloat16> model(3);
  adamw opt;
  std::vector<parameter> params = {
      {make_view(master.data(), 3), make_view(model.data(), 3), make_view(grad.data(), 3)}};
  opt.step(params, 1.0, /*skip=*/true);
  EXPECT_EQ(master[0], 1.0f);
  EXPECT_EQ(opt.steps(), 0);
  opt.step(params);
  const std::vector<float> after = master;
  std::vector<float> g2(2, 0.5f);
  std::vector<parameter> other = {{make_view(master.data(), 3), make_view(model.data(), 3), make_view(g2.data(), 2)}};
  EXPECT_THROW_MSG(opt.step(other), "gradient must be 3");
  std::vector<float> m2(3, 1.0f);
  std::vector<parameter> more = {params[0], {make_view(m2.data(), 3), view(), make_view(grad.data(), 3)}};
  EXPECT_THROW_MSG(opt.step(more), "first step had 1");
  std::vector<half> g16(3, half(0.5f));
  std::vector<parameter> retyped = {
      {make_view(master.data(), 3), make_view(model.data(), 3), make_view(g16.data(), 3)}};
  EXPECT_THROW_MSG(opt.step(retyped), "not the one the first step had");
  EXPECT_EQ(master, after);
  adamw bad(adamw_options{1e-3, 1.0, 0.999, 1e-8, 0.01, false, 0});
  EXPECT_THROW_MSG(bad.step(params), "beta1");
  std::vector<float> model32(3), master2 = {1.0f, 2.0f, 3.0f};
  sgd sr(sgd_options{1e-3, 0, 0, 0, false, true, 1});
  EXPECT_THROW_MSG(sr.step({{make_view(master2.data(), 3), make_view(model32.data(), 3), make_view(grad.data(), 3)}}),
                   "stochastic rounding is to bf16");
  EXPECT_EQ(master2[0], 1.0f);
}

// ---- loss scaling ----

class train_unscale_kernels : public ::testing::TestWithParam<kernel_info> {};

TEST_P(train_unscale_kernels, unscale_divides_exactly_and_finds_any_non_finite_value) {
  const kernel_info& k = GetParam();
  on_kernel_storage(k, [&](auto tag) {
    using T = decltype(tag);
    for (const std::int64_t n : {std::int64_t(1), std::int64_t(37), std::int64_t(100000)}) {
      const auto before = random_vec<T>(n, -100, 100, unsigned(n));
      rows_of_t<T> g_io(1, n, before);
      loss_scaler s(loss_scaler_options{1024.0, 2.0, 0.5, 2000});
      ASSERT_TRUE(s.unscale({g_io.as_vector()})) << k.name;
      const std::vector<T>& g = g_io.values();
      for (std::int64_t i = 0; i < n; ++i)
        // a power of two: exact, but where the quotient falls among f16's subnormals (one rounding)
        ASSERT_EQ(double(g[std::size_t(i)]), double(T(double(before[std::size_t(i)]) / 1024))) << k.name;
      for (double bad :
           {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), std::nan("")}) {
        auto h = before;
        h[std::size_t(n - 1)] = T(bad);
        rows_of_t<T> h_io(1, n, h);
        loss_scaler s2;
        EXPECT_FALSE(s2.unscale({g_io.as_vector(), h_io.as_vector()})) << k.name << " " << bad;
      }
    }
  });
}

TEST(train_loss_scaler, backs_off_on_overflow_grows_after_the_interval_and_stays_finite) {
  loss_scaler s(loss_scaler_options{65536.0, 2.0, 0.5, 3});
  std::vector<float> ok = {1.0f}, bad = {std::numeric_limits<float>::infinity()};
  EXPECT_FALSE(s.unscale({make_view(bad.data(), 1)}));
  s.update();
  EXPECT_EQ(s.scale(), 32768.0);
  EXPECT_EQ(s.skipped_steps(), 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(s.unscale({make_view(ok.data(), 1)}));
    s.update();
  }
  EXPECT_EQ(s.scale(), 65536.0);
  loss_scaler big(loss_scaler_options{0x1p127, 2.0, 0.5, 1});
  ok = {1.0f};
  EXPECT_TRUE(big.unscale({make_view(ok.data(), 1)}));
  big.update();
  EXPECT_EQ(big.scale(), 0x1p127) << "grew past f32's largest power of two";
  EXPECT_THROW_MSG(big.update(), "no unscale()");
  EXPECT_THROW_MSG(loss_scaler(loss_scaler_options{0.0, 2.0, 0.5, 1}), "initial_scale");
}

// ---- linear layer ----

TEST(train_linear, backward_gives_dx_and_accumulates_dw_and_db_on_the_gemm) {
  const std::int64_t m = 5, n = 7, k = 9;
  for (dtype t : {dtype::f32, dtype::bf16}) {
    with_type(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, bfloat16>) {
        auto x = random_vec<T>(m * k, -1, 1, 1), w = random_vec<T>(n * k, -1, 1, 2),
             dy = random_vec<T>(m * n, -1, 1, 3);
        std::vector<float> dx(std::size_t(m * k)), dw(std::size_t(n * k), 0.5f), db(std::size_t(n), -1.0f);
        linear_backward(rows_view_of(x, m, k), rows_view_of(w, n, k), rows_view_of(dy, m, n), rows_view_of(dx, m, k),
                        rows_view_of(dw, n, k), make_view(db.data(), n));
        const double u = 0x1p-24;
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < k; ++j) {
            ld r = 0, mag = 0;
            for (std::int64_t c = 0; c < n; ++c) {
              const ld p = ld(double(dy[std::size_t(i * n + c)])) * double(w[std::size_t(c * k + j)]);
              r += p, mag += std::fabs(p);
            }
            ASSERT_LE(std::fabs(dx[std::size_t(i * k + j)] - double(r)), double(n) * u * double(mag) + 1e-30);
          }
        for (std::int64_t c = 0; c < n; ++c) {
          ld s = -1, smag = 1;
          for (std::int64_t i = 0; i < m; ++i)
            s += double(dy[std::size_t(i * n + c)]), smag += std::fabs(double(dy[std::size_t(i * n + c)]));
          ASSERT_LE(std::fabs(db[std::size_t(c)] - double(s)), double(m + 1) * u * double(smag));
          for (std::int64_t j = 0; j < k; ++j) {
            ld r = 0.5L, mag = 0.5L;
            for (std::int64_t i = 0; i < m; ++i) {
              const ld p = ld(double(dy[std::size_t(i * n + c)])) * double(x[std::size_t(i * k + j)]);
              r += p, mag += std::fabs(p);
            }
            ASSERT_LE(std::fabs(dw[std::size_t(c * k + j)] - double(r)), double(m + 1) * u * double(mag));
          }
        }
        // A wrong shape is refused before any product is written.
        std::vector<float> small(static_cast<std::size_t>(n));
        const auto dx_before = dx;
        EXPECT_THROW_MSG(linear_backward(rows_view_of(x, m, k), rows_view_of(w, n, k), rows_view_of(dy, m, n),
                                         rows_view_of(dx, m, k), make_view(small.data(), n), view()),
                         "dw must be an f32");
        EXPECT_EQ(dx, dx_before);
      }
    });
  }
}

// ---- attention, unfused with saved probabilities ----

/// Long-double attention forward and backward of one set of operands (row-major, q m x H*hd,
/// k and v L x G*hd), with the magnitudes of each gradient's terms (the same formulas on
/// absolute values) for the bound.
struct attention_ref {
  std::int64_t m, L, H, G, hd;
  ld scale;
  bool causal;
  std::vector<ld> q, k, v, dout;
  std::vector<ld> p, out, dq, dk, dv, mq, mk, mv;
  bool visible(std::int64_t i, std::int64_t j) const { return !causal || j <= L - m + i; }
  void forward() {
    const std::int64_t group = H / G;
    p.assign(static_cast<std::size_t>(H * m * L), 0);
    out.assign(static_cast<std::size_t>(m * H * hd), 0);
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < m; ++i) {
        const std::int64_t g = h / group;
        ld mx = -INFINITY, sum = 0;
        std::vector<ld> sc(static_cast<std::size_t>(L), -INFINITY);
        for (std::int64_t j = 0; j < L; ++j) {
          if (!visible(i, j)) continue;
          ld d = 0;
          for (std::int64_t e = 0; e < hd; ++e)
            d += q[std::size_t(i * H * hd + h * hd + e)] * k[std::size_t(j * G * hd + g * hd + e)];
          sc[std::size_t(j)] = scale * d;
          mx = std::max(mx, sc[std::size_t(j)]);
        }
        for (std::int64_t j = 0; j < L; ++j)
          if (visible(i, j)) sum += std::exp(sc[std::size_t(j)] - mx);
        for (std::int64_t j = 0; j < L; ++j) {
          const ld pj = visible(i, j) ? std::exp(sc[std::size_t(j)] - mx) / sum : 0;
          p[std::size_t((h * m + i) * L + j)] = pj;
          for (std::int64_t e = 0; e < hd; ++e)
            out[std::size_t(i * H * hd + h * hd + e)] += pj * v[std::size_t(j * G * hd + g * hd + e)];
        }
      }
  }
  ld loss() {  // sum of dout * out
    forward();
    ld l = 0;
    for (std::size_t t = 0; t < out.size(); ++t) l += dout[t] * out[t];
    return l;
  }
  void backward() {
    forward();
    const std::int64_t group = H / G;
    dq.assign(q.size(), 0), mq = dq;
    dk.assign(k.size(), 0), mk = dk, dv = dk, mv = dk;
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t g = h / group;
      for (std::int64_t i = 0; i < m; ++i) {
        std::vector<ld> dp(static_cast<std::size_t>(L)), mp(dp.size());
        ld s = 0, ms = 0;
        for (std::int64_t j = 0; j < L; ++j) {
          const ld pj = p[std::size_t((h * m + i) * L + j)];
          for (std::int64_t e = 0; e < hd; ++e) {
            const ld o = dout[std::size_t(i * H * hd + h * hd + e)], vv = v[std::size_t(j * G * hd + g * hd + e)];
            dp[std::size_t(j)] += o * vv, mp[std::size_t(j)] += std::fabs(o * vv);
            dv[std::size_t(j * G * hd + g * hd + e)] += pj * o,
                mv[std::size_t(j * G * hd + g * hd + e)] += pj * std::fabs(o);
          }
          s += pj * dp[std::size_t(j)], ms += pj * mp[std::size_t(j)];
        }
        for (std::int64_t j = 0; j < L; ++j) {
          const ld pj = p[std::size_t((h * m + i) * L + j)];
          const ld ds = pj * (dp[std::size_t(j)] - s), mds = pj * (mp[std::size_t(j)] + ms);
          for (std::int64_t e = 0; e < hd; ++e) {
            const std::size_t qi = std::size_t(i * H * hd + h * hd + e), ki = std::size_t(j * G * hd + g * hd + e);
            dq[qi] += scale * ds * k[ki], mq[qi] += scale * mds * std::fabs(k[ki]);
            dk[ki] += scale * ds * q[qi], mk[ki] += scale * mds * std::fabs(q[qi]);
          }
        }
      }
    }
  }
};

TEST(train_reference, attention_backward_formulas_match_central_differences) {
  attention_ref r{3, 5, 4, 2, 4, 0.5L, true, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  std::mt19937 gen(5);
  std::uniform_real_distribution<double> d(-1, 1);
  for (auto* t : {&r.q, &r.dout}) t->resize(static_cast<std::size_t>(r.m * r.H * r.hd));
  for (auto* t : {&r.k, &r.v}) t->resize(static_cast<std::size_t>(r.L * r.G * r.hd));
  for (auto* t : {&r.q, &r.k, &r.v, &r.dout})
    for (auto& e : *t) e = d(gen);
  r.backward();
  const auto dq = r.dq, dk = r.dk, dv = r.dv;
  for (auto input_and_grad : {std::pair{&r.q, &dq}, std::pair{&r.k, &dk}, std::pair{&r.v, &dv}}) {
    auto* x = input_and_grad.first;  // (named: lambdas cannot capture bindings in C++17)
    auto* grad = input_and_grad.second;
    for (std::size_t t = 0; t < x->size(); ++t) {
      const ld fd = central_difference(
          [&](ld val) {
            const ld keep = (*x)[t];
            (*x)[t] = val;
            const ld l = r.loss();
            (*x)[t] = keep;
            return l;
          },
          (*x)[t]);
      EXPECT_NEAR(double((*grad)[t]), double(fd), 1e-8);
    }
  }
}

TEST(train_attention, unfused_forward_and_backward_match_long_double_within_the_bound) {
  // On the CPU, and on a CUDA device where there is one: the same ops on operands in its memory.
  for (const context& ctx : every_context())
    for (dtype t : {dtype::f32, dtype::bf16})
      for (bool causal : {true, false})
        with_type(t, [&](auto tag) {
          using T = decltype(tag);
          if constexpr (std::is_same_v<T, float> || std::is_same_v<T, bfloat16>) {
            const std::int64_t m = 5, L = 9, H = 4, G = 2, hd = 16;
            auto q = random_vec<T>(m * H * hd, -1, 1, 1), k = random_vec<T>(L * G * hd, -1, 1, 2);
            auto v = random_vec<T>(L * G * hd, -1, 1, 3), dout = random_vec<T>(m * H * hd, -1, 1, 4);
            attention_options o;
            o.causal = causal;
            const array<T> qa(q, ctx), ka(k, ctx), va(v, ctx), douta(dout, ctx);
            array<T> outa(std::vector<T>(q.size()), ctx);
            array<float> probsa(std::vector<float>(std::size_t(H * m * L)), ctx),
                dqa(std::vector<float>(q.size()), ctx), dka(std::vector<float>(k.size()), ctx),
                dva(std::vector<float>(v.size(), 3.0f), ctx);
            const auto rows = [&](auto& a, std::int64_t r, std::int64_t c) {
              return make_view(a.data(), {r, c}, {c, 1}, ctx);
            };
            attention_forward_saved(rows(qa, m, H * hd), rows(ka, L, G * hd), rows(va, L, G * hd),
                                    rows(outa, m, H * hd), make_view(probsa.data(), H * m * L, 1, ctx), hd, o);
            attention_backward(rows(qa, m, H * hd), rows(ka, L, G * hd), rows(va, L, G * hd),
                               make_view(probsa.data(), H * m * L, 1, ctx), rows(douta, m, H * hd),
                               rows(dqa, m, H * hd), rows(dka, L, G * hd), rows(dva, L, G * hd), hd, o);
            const std::vector<T> out = outa.to_vector();
            const std::vector<float> probs = probsa.to_vector(), dq = dqa.to_vector(), dk = dka.to_vector(),
                                     dv = dva.to_vector();
            attention_ref r{m,  L,  H,  G,  hd, 1 / std::sqrt(ld(hd)), causal, {}, {}, {}, {}, {}, {}, {},
                            {}, {}, {}, {}, {}};
            auto widen_all = [](const std::vector<T>& x) {
              std::vector<ld> y(x.size());
              for (std::size_t i = 0; i < x.size(); ++i) y[i] = double(x[i]);
              return y;
            };
            r.q = widen_all(q), r.k = widen_all(k), r.v = widen_all(v), r.dout = widen_all(dout);
            r.backward();
            // Each stage sums at most L, hd or m * H / G terms in f32 and feeds the next: the
            // error of a gradient is within (4 (L + hd + m H / G) + 16) u of its terms' magnitude.
            const double c = double(4 * (L + hd + m * H / G) + 16) * u32, uT = unit_of(t);
            for (std::size_t i = 0; i < probs.size(); ++i)
              ASSERT_NEAR(probs[i], double(r.p[i]), double(L + hd + 16) * u32) << "probs " << i;
            for (std::size_t i = 0; i < out.size(); ++i)
              ASSERT_LE(std::fabs(double(out[i]) - double(r.out[i])), uT * std::fabs(double(r.out[i])) + c)
                  << name_of(t) << " out " << i;
            for (std::size_t i = 0; i < dq.size(); ++i)
              ASSERT_LE(std::fabs(dq[i] - double(r.dq[i])), c * double(r.mq[i]) + 1e-30) << name_of(t) << " dq " << i;
            for (std::size_t i = 0; i < dk.size(); ++i) {
              ASSERT_LE(std::fabs(dk[i] - double(r.dk[i])), c * double(r.mk[i]) + 1e-30) << name_of(t) << " dk " << i;
              ASSERT_LE(std::fabs(dv[i] - double(r.dv[i])), c * double(r.mv[i]) + 1e-30) << name_of(t) << " dv " << i;
            }
          }
        });
  // Shapes: probs of the wrong size, overlapping gradients.
  std::vector<float> q(2 * 8), k(3 * 8), v(3 * 8), out(2 * 8), p(5), g(3 * 8);
  EXPECT_THROW_MSG(attention_forward_saved(rows_view_of(q, 2, 8), rows_view_of(k, 3, 8), rows_view_of(v, 3, 8),
                                           rows_view_of(out, 2, 8), make_view(p.data(), 5), 4),
                   "probs must be 2 x 2 x 3");
  std::vector<float> p12(12), dq(16);
  EXPECT_THROW_MSG(attention_backward(rows_view_of(q, 2, 8), rows_view_of(k, 3, 8), rows_view_of(v, 3, 8),
                                      make_view(p12.data(), 12), rows_view_of(out, 2, 8), rows_view_of(dq, 2, 8),
                                      rows_view_of(g, 3, 8), rows_view_of(g, 3, 8), 4),
                   "must not overlap");
}

// ---- bad input ----

TEST(train_errors, bad_input_is_refused_by_name_and_leaves_outputs_untouched) {
  std::vector<float> a(12, 1.0f), dy(12, 1.0f), out(12, 9.0f), small(8, 9.0f);
  std::vector<bfloat16> b16(12);
  const auto m34 = [](std::vector<float>& v) { return make_view(v.data(), {3, 4}, {4, 1}); };
  EXPECT_THROW_MSG(activate_backward(activation::silu, m34(a), m34(dy), make_view(small.data(), {2, 4}, {4, 1})),
                   "activate_backward");
  EXPECT_THROW_MSG(activate_backward(activation::silu, m34(a), make_view(b16.data(), {3, 4}, {4, 1}), m34(out)),
                   "dtype");
  EXPECT_THROW_MSG(activate_backward(activation::none, m34(a), m34(dy), m34(out)), "activation::none");
  EXPECT_THROW_MSG(softmax_backward(m34(a), m34(dy), make_view(a.data() + 1, {3, 4}, {4, 1})), "overlap");
  std::vector<float> gamma(3);
  EXPECT_THROW_MSG(rms_norm_backward(m34(a), make_view(gamma.data(), 3), m34(dy), m34(out), view()), "gamma");
  std::vector<float> dgamma(4);
  EXPECT_THROW_MSG(layer_norm_backward(m34(a), const_view(), m34(dy), m34(out), make_view(dgamma.data(), 4),
                                       make_view(dgamma.data(), 4)),
                   "dgamma overlaps dbeta");
  for (float v : out) EXPECT_EQ(v, 9.0f);
  // cross-entropy: labels out of range, wrong count, bad smoothing; dlogits untouched.
  std::vector<std::int32_t> labels = {0, 4, 1};
  EXPECT_THROW_MSG(cross_entropy(m34(a), make_view(labels.data(), 3), m34(out)), "labels[1] = 4");
  labels[1] = -1;
  EXPECT_THROW_MSG(cross_entropy(m34(a), make_view(labels.data(), 3), m34(out)), "labels[1] = -1");
  EXPECT_THROW_MSG(cross_entropy(m34(a), make_view(labels.data(), 2), m34(out)), "labels has 2");
  labels[1] = 2;
  cross_entropy_options o;
  o.label_smoothing = 1.5;
  EXPECT_THROW_MSG(cross_entropy(m34(a), make_view(labels.data(), 3), m34(out), o), "label_smoothing");
  for (float v : out) EXPECT_EQ(v, 9.0f);
  // Every row ignored: loss 0, gradient 0.
  labels = {-100, -100, -100};
  EXPECT_EQ(cross_entropy(m34(a), make_view(labels.data(), 3), m34(out)), 0.0);
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(kernels, train_eltwise_kernels, ::testing::ValuesIn(runnable_kernels("eltwise_backward")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, train_softmax_kernels, ::testing::ValuesIn(runnable_kernels("softmax_backward")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, train_norm_kernels, ::testing::ValuesIn(runnable_kernels("norm_backward")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, train_loss_kernels, ::testing::ValuesIn(runnable_kernels("cross_entropy")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, train_unscale_kernels, ::testing::ValuesIn(runnable_kernels("unscale")),
                         kernel_param_name);
INSTANTIATE_TEST_SUITE_P(kernels, train_optimizer_kernels, ::testing::ValuesIn(runnable_kernels("optimizer")),
                         kernel_param_name);

}  // namespace
}  // namespace mixprec::test
