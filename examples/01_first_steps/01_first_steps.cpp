// 01_first_steps: a context, arrays in four precisions, and what precision costs.
//
// Builds x[i] = sin(i), y[i] = cos(i) in f64, converts them to f32, f16 and bf16 with
// mixprec::convert, then computes dot(x, y) in each storage precision with the standard
// accumulator and with compensated summation, printing time and the error against the f64
// result. Checks its own answer: every error must lie inside the bound the numerics
// contract gives (storage rounding of x and y, plus gamma_n of the accumulator).
//
// Usage: 01_first_steps [cpu|cuda] [n]      (default: cpu 1000000)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <mixprec/mixprec.hpp>

using namespace mixprec;

namespace {

struct row {
  dtype type;
  double unit_roundoff;  // of the storage type
};

}  // namespace

int main(int argc, char** argv) {
  const std::string where = argc > 1 ? argv[1] : "cpu";
  const std::int64_t n = argc > 2 ? std::atoll(argv[2]) : 1000000;
  if (where != "cpu" && where != "cuda") {
    std::fprintf(stderr, "usage: %s [cpu|cuda] [n]\n", argv[0]);
    return 2;
  }
  if (where == "cuda" && !cuda_available()) {
    std::printf("skipped: no CUDA device\n");
    return 0;
  }
  const context ctx = where == "cuda" ? context::cuda(0) : context::cpu();
  std::printf("context: %s\n", ctx.describe().c_str());

  std::vector<double> hx(n), hy(n);
  for (std::int64_t i = 0; i < n; ++i) {
    hx[i] = std::sin(double(i));
    hy[i] = std::cos(double(i));
  }
  array<double> x64(hx, ctx), y64(hy, ctx);
  const double exact = dot(x64, y64, accumulation::compensated);
  double sum_abs = 0;
  for (std::int64_t i = 0; i < n; ++i) sum_abs += std::fabs(hx[i] * hy[i]);

  std::printf("n = %lld, dot(sin, cos) = %.15g\n\n", (long long)n, exact);
  std::printf("%-6s %-12s %12s %12s %12s\n", "dtype", "accumulation", "time [ms]", "|error|", "worst-case");
  const row rows[] = {{dtype::f64, 0x1p-53}, {dtype::f32, 0x1p-24}, {dtype::f16, 0x1p-11}, {dtype::bf16, 0x1p-8}};
  bool ok = true;
  for (const row& r : rows) {
    buffer x(r.type, n, ctx), y(r.type, n, ctx);
    convert(x64, x.as_view());
    convert(y64, y.as_view());
    for (accumulation acc : {accumulation::standard, accumulation::compensated}) {
      const auto t0 = std::chrono::steady_clock::now();
      const double d = dot(x.as_view(), y.as_view(), acc);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      // Storing x and y costs (2u + u^2) sum|x y|; the accumulator adds gamma_n (standard)
      // or about u_acc |dot| + gamma_n^2 sum|x y| (compensated).
      const double u_acc = r.type == dtype::f64 ? 0x1p-53 : 0x1p-24;
      const double g = n * u_acc / (1 - n * u_acc);
      const double bound = (2 * r.unit_roundoff + r.unit_roundoff * r.unit_roundoff) * sum_abs +
                           (acc == accumulation::standard ? g * sum_abs : u_acc * std::fabs(d) + g * g * sum_abs) +
                           0x1p-52 * sum_abs;
      const double err = std::fabs(d - exact);
      ok &= err <= bound;
      std::printf("%-6s %-12s %12.3f %12.3e %12.3e%s\n", name_of(r.type), name_of(acc), ms, err, bound,
                  err <= bound ? "" : "  <-- outside the bound");
    }
  }
  std::printf("\n%s\n", ok ? "all errors within their bounds" : "FAILED: an error is outside its bound");
  return ok ? 0 : 1;
}
