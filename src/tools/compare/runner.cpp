#include "tools/compare/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "mixprec/error.hpp"
#include "tools/limits/machine_limits.hpp"

namespace mixprec::compare {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string clock_text(double seconds) {
  const int s = int(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

/// The progress line: a bar on a terminal (rewritten in place), plain lines otherwise.
class progress {
 public:
  progress(std::size_t total, bool quiet) : total_(total), quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}
  void start(std::size_t index, const std::string& id) {
    if (quiet_) return;
    const double elapsed = seconds_since(t0_);
    std::string eta = index == 0 ? "?" : clock_text(elapsed / double(index) * double(total_ - index));
    if (tty_) {
      constexpr int width = 24;
      const int filled = int(double(width) * double(index) / double(std::max<std::size_t>(total_, 1)));
      std::fprintf(stderr, "\r\033[K[%s%s] %zu/%zu  %s  (left ~%s)", std::string(std::size_t(filled), '#').c_str(),
                   std::string(std::size_t(width - filled), '.').c_str(), index + 1, total_, id.c_str(), eta.c_str());
    } else {
      std::fprintf(stderr, "[%zu/%zu] %s (elapsed %s, left ~%s)\n", index + 1, total_, id.c_str(),
                   clock_text(elapsed).c_str(), eta.c_str());
    }
    std::fflush(stderr);
  }
  void finish() {
    if (quiet_) return;
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%zu cases in %s\n", total_, clock_text(seconds_since(t0_)).c_str());
  }

 private:
  std::size_t total_;
  bool quiet_, tty_;
  clock_type::time_point t0_ = clock_type::now();
};

/// The last-level cache's size as the C library reports it (0 when it does not).
long last_level_cache_bytes() {
  static const long bytes = [] {
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 > 0 ? l3 : std::max(0L, sysconf(_SC_LEVEL2_CACHE_SIZE));
  }();
  return bytes;
}

}  // namespace

double machine_limits::of(limit_kind k) const {
  switch (k) {
    case limit_kind::triad:
      return triad;
    case limit_kind::fma_f64:
      return fma_f64;
    case limit_kind::fma_f32:
      return fma_f32;
    case limit_kind::dot_bf16:
      return dot_bf16;
    case limit_kind::dot_int8:
      return dot_int8;
  }
  return 0;
}

machine_limits machine_limits::measure() {
  machine_limits m;
  m.triad = limits::triad_bytes_per_second();
  m.fma_f64 = limits::measured_peak(limits::compute_unit::fma_f64);
  m.fma_f32 = limits::measured_peak(limits::compute_unit::fma_f32);
  m.dot_bf16 = limits::measured_peak(limits::compute_unit::dot_bf16);
  m.dot_int8 = limits::measured_peak(limits::compute_unit::dot_int8);
  return m;
}

void time_case(const prepared_case& c, const suite_settings& s, case_result& r) {
  c.run();  // warm-up: first touch, packing caches, thread start-up
  const int samples = c.max_samples > 0 ? std::min(c.max_samples, s.repeat) : s.repeat;
  r.samples.clear();
  for (int k = 0; k < std::max(samples, 1); ++k) {
    const auto t0 = clock_type::now();
    std::int64_t calls = 0;
    double elapsed = 0;
    do {
      c.run();
      ++calls;
      elapsed = seconds_since(t0);
    } while (elapsed < s.min_sample_seconds && c.max_samples == 0);
    r.samples.push_back(elapsed / double(calls));
  }
  std::vector<double> sorted = r.samples;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  r.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  r.spread = r.median > 0 ? (sorted.back() - sorted.front()) / r.median : 0;
}

void set_speedups(std::vector<case_result>& results) {
  // The problem's first successful case whose precision starts with "f64", else "f32", else
  // its first successful case (families with no float storage, such as quantization).
  std::map<std::string, const case_result*> baseline;
  for (const char* prefix : {"f64", "f32", ""})
    for (const case_result& r : results) {
      const std::string key = r.family + "/" + r.problem;
      if (r.precision.rfind(prefix, 0) == 0 && !r.failed && r.median > 0 && !baseline.count(key)) baseline[key] = &r;
    }
  std::map<std::string, std::pair<std::string, double>> base;
  for (const auto& [key, r] : baseline) base[key] = {r->precision, r->median};
  for (case_result& r : results) {
    const auto it = base.find(r.family + "/" + r.problem);
    if (it == base.end() || r.failed || r.median <= 0) continue;
    r.baseline = it->second.first;
    r.speedup = it->second.second / r.median;
  }
}

std::vector<case_result> run_cases(const case_list& cases, const suite_settings& s, const machine_limits& limits,
                                   bool quiet) {
  std::vector<case_result> results;
  progress bar(cases.size(), quiet);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const case_def& d = cases[i];
    bar.start(i, d.id());
    case_result r;
    r.family = d.family;
    r.problem = d.problem;
    r.precision = d.precision;
    try {
      const prepared_case c = d.prepare();
      r.bytes = c.bytes;
      r.flops = c.flops;
      r.limit = c.limit;
      r.limit_rate = limits.of(c.limit);
      time_case(c, s, r);
      c.check(r);
      r.fraction_of_limit = r.limit_rate > 0 ? r.rate() / r.limit_rate : 0;
      r.cache_served = r.limit == limit_kind::triad && r.bytes > 0 && r.bytes < double(last_level_cache_bytes());
    } catch (const std::exception& e) {
      r.failed = true;
      r.note = e.what();
    }
    results.push_back(std::move(r));
  }
  bar.finish();
  set_speedups(results);
  return results;
}

bool case_result::bounds_held() const {
  if (failed) return false;
  for (const accuracy_figure& f : accuracy)
    if (f.has_bound && !f.held) return false;
  return true;
}

const char* name_of(suite_size s) {
  switch (s) {
    case suite_size::tiny:
      return "tiny";
    case suite_size::quick:
      return "quick";
    case suite_size::full:
      return "full";
  }
  return "?";
}

suite_size parse_suite(const std::string& name) {
  if (name == "tiny") return suite_size::tiny;
  if (name == "quick") return suite_size::quick;
  if (name == "full") return suite_size::full;
  throw std::invalid_argument("unknown suite '" + name + "' (tiny, quick or full)");
}

const char* name_of(limit_kind k) {
  switch (k) {
    case limit_kind::triad:
      return "triad";
    case limit_kind::fma_f64:
      return "fma_f64";
    case limit_kind::fma_f32:
      return "fma_f32";
    case limit_kind::dot_bf16:
      return "dot_bf16";
    case limit_kind::dot_int8:
      return "dot_int8";
  }
  return "?";
}

case_list build_suite(const suite_settings& s) {
  case_list cases;
  add_conversion_cases(cases, s);
  add_blas1_cases(cases, s);
  add_stencil_cases(cases, s);
  add_spmv_cases(cases, s);
  add_solver_cases(cases, s);
  add_dense_cases(cases, s);
  add_gemm_cases(cases, s);
  add_quantization_cases(cases, s);
  add_ai_layer_cases(cases, s);
  add_attention_cases(cases, s);
  add_training_cases(cases, s);
  return cases;
}

case_list select_cases(const case_list& cases, const std::string& only) {
  if (only.empty()) return cases;
  std::vector<std::string> patterns;
  std::size_t start = 0;
  while (start <= only.size()) {
    const std::size_t comma = only.find(',', start);
    const std::string p = only.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!p.empty()) patterns.push_back(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  case_list kept;
  for (const case_def& c : cases)
    for (const std::string& p : patterns)
      if (c.id().find(p) != std::string::npos) {
        kept.push_back(c);
        break;
      }
  return kept;
}

}  // namespace mixprec::compare
