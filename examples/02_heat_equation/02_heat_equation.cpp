// 02_heat_equation: the 3D heat equation u_t = kappa * Laplacian(u) on the unit cube with
// zero boundary values, stepped explicitly in FP64 storage and in FP32 storage.
//
// The start is the slowest mode, u0 = sin(pi x) sin(pi y) sin(pi z) on the interior grid
// points x_i = (i+1) h, h = 1/(n+1). It is an eigenvector of the 7-point Laplacian, so the
// discrete answer after s steps is known exactly: u0 * (1 - r * 6 (1 - cos(pi h)))^s with
// r = kappa dt / h^2. The program prints the time per step of each precision and how far
// each answer is from that exact one and from the other, and checks its own answer: the
// f64 error must stay at rounding level, the f32 error within its rounding budget
// (steps * 8 * u_f32 relative to the peak).
//
// Usage: 02_heat_equation [n] [steps]      (default: 128 100)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

constexpr double pi = 3.14159265358979323846;

struct run_result {
  grid answer;  // f64 copy of the final state
  double seconds_per_step;
};

run_result run(dtype storage, std::int64_t n, int steps, double r) {
  grid u(storage, grid_extent(n, n, n), 1), scratch = u.like();
  grid u0(dtype::f64, grid_extent(n, n, n), 0);
  const double h = 1.0 / double(n + 1);
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < n; ++i)
        u0.at<double>(i, j, k) =
            std::sin(pi * h * double(i + 1)) * std::sin(pi * h * double(j + 1)) * std::sin(pi * h * double(k + 1));
  copy_interior(u0, u);
  const auto bc = boundary_conditions::all(boundary::dirichlet, 0.0);
  const auto t0 = std::chrono::steady_clock::now();
  const grid& result = heat_steps(u, scratch, r, bc, steps);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  grid answer(dtype::f64, u.extent(), 0);
  copy_interior(result, answer);
  return {std::move(answer), seconds / steps};
}

double max_difference(const grid& a, const grid& b) {
  double m = 0;
  for (std::int64_t k = 0; k < a.nz(); ++k)
    for (std::int64_t j = 0; j < a.ny(); ++j)
      for (std::int64_t i = 0; i < a.nx(); ++i)
        m = std::fmax(m, std::fabs(a.at<double>(i, j, k) - b.at<double>(i, j, k)));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 128;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 100;
  if (n < 2 || steps < 1) {
    std::fprintf(stderr, "usage: %s [n >= 2] [steps >= 1]\n", argv[0]);
    return 2;
  }
  const double r = 1.0 / 8.0;  // below the 1/6 stability limit of explicit Euler in 3D
  const double h = 1.0 / double(n + 1);
  const double decay = std::pow(1.0 - r * 6.0 * (1.0 - std::cos(pi * h)), steps);

  try {
    std::printf("%s\n", context::cpu().describe().c_str());
    std::printf("heat equation on %lld^3 points, %d explicit steps, r = kappa dt/h^2 = %.3f\n", (long long)n, steps, r);
    const run_result f64 = run(dtype::f64, n, steps, r);
    const run_result f32 = run(dtype::f32, n, steps, r);

    grid exact(dtype::f64, grid_extent(n, n, n), 0);
    for (std::int64_t k = 0; k < n; ++k)
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < n; ++i)
          exact.at<double>(i, j, k) = decay * std::sin(pi * h * double(i + 1)) * std::sin(pi * h * double(j + 1)) *
                                      std::sin(pi * h * double(k + 1));
    const double peak = exact.at<double>(n / 2, n / 2, n / 2);
    const double e64 = max_difference(f64.answer, exact), e32 = max_difference(f32.answer, exact);
    const double between = max_difference(f64.answer, f32.answer);
    std::printf("%-8s %14s %18s\n", "storage", "ms per step", "max |u - exact|");
    std::printf("%-8s %14.3f %18.3e\n", "f64", 1e3 * f64.seconds_per_step, e64);
    std::printf("%-8s %14.3f %18.3e\n", "f32", 1e3 * f32.seconds_per_step, e32);
    std::printf("max |u_f64 - u_f32| = %.3e (peak value %.4f); f32 step is %.2fx faster\n", between, peak,
                f64.seconds_per_step / f32.seconds_per_step);

    // Each step adds at most a few roundings (8 terms) relative to the peak.
    const double budget64 = steps * 8 * std::ldexp(1.0, -53) * std::fabs(peak) + 1e-15;
    const double budget32 = steps * 8 * std::ldexp(1.0, -24) * 1.0;
    if (!(e64 <= budget64 * 16) || !(e32 <= budget32)) {
      std::fprintf(stderr, "FAILED: errors %.3e (f64, budget %.3e) %.3e (f32, budget %.3e)\n", e64, budget64 * 16, e32,
                   budget32);
      return 1;
    }
    std::printf("both answers within their rounding budgets\n");
  } catch (const error& e) {
    std::fprintf(stderr, "mixprec error: %s\n", e.what());
    return 1;
  }
  return 0;
}
