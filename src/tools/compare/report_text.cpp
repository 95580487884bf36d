// The text forms of a report: the console summary, report.md and the diff of two reports.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>

#include "tools/compare/report.hpp"

namespace mixprec::compare {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string time_text(double s) {
  if (!(s > 0)) return "-";
  if (s < 1e-3) return fmt("%.1f us", s * 1e6);
  if (s < 1) return fmt("%.2f ms", s * 1e3);
  return fmt("%.2f s", s);
}

std::string rate_text(const case_result& c) {
  const double r = c.rate();
  if (!(r > 0)) return "-";
  return c.limit == limit_kind::triad ? fmt("%.1f GB/s", r / 1e9) : fmt("%.1f GFLOP/s", r / 1e9);
}

std::string status_text(const case_result& c) {
  if (c.failed) return "FAILED";
  for (const accuracy_figure& f : c.accuracy)
    if (f.has_bound && !f.held) return "VIOLATED";
  return "ok";
}

std::string error_text(const case_result& c) {
  const accuracy_figure* f = headline_error(c);
  return f ? fmt("%.2e", f->error) : "-";
}

}  // namespace

const accuracy_figure* headline_error(const case_result& r) {
  for (const accuracy_figure& f : r.accuracy)
    if (f.against == "f64 problem") return &f;
  return r.accuracy.empty() ? nullptr : &r.accuracy.front();
}

void print_summary(std::ostream& out, const report& r) {
  out << "mixprec-compare " << r.info.suite << " suite: " << r.results.size() << " cases, " << r.info.threads
      << " threads, " << r.info.cpu << " (" << r.info.isa << ")\n"
      << fmt("triad %.1f GB/s", r.info.limits.triad / 1e9) << fmt(", f64 FMA %.0f", r.info.limits.fma_f64 / 1e9)
      << fmt(", f32 FMA %.0f", r.info.limits.fma_f32 / 1e9) << fmt(", bf16 dot %.0f", r.info.limits.dot_bf16 / 1e9)
      << fmt(", int8 dot %.0f GFLOP/s (measured)\n", r.info.limits.dot_int8 / 1e9);
  char line[512];
  std::snprintf(line, sizeof line, "%-48s %-16s %10s %14s %7s %8s %10s  %s\n", "case", "precision", "time", "rate",
                "limit", "speedup", "error", "bounds");
  out << line;
  int violated = 0;
  for (const case_result& c : r.results) {
    const std::string id = c.family + "/" + c.problem;
    std::snprintf(line, sizeof line, "%-48s %-16s %10s %14s %7s %8s %10s  %s\n", id.c_str(), c.precision.c_str(),
                  time_text(c.median).c_str(), rate_text(c).c_str(),
                  c.fraction_of_limit > 0
                      ? (fmt("%.0f%%", 100 * c.fraction_of_limit) + (c.cache_served ? "*" : "")).c_str()
                      : "-",
                  c.speedup > 0 ? fmt("%.2fx", c.speedup).c_str() : "-", error_text(c).c_str(), status_text(c).c_str());
    out << line;
    if (status_text(c) != "ok") {
      ++violated;
      if (!c.note.empty() && c.failed) out << "    " << c.note << "\n";
      for (const accuracy_figure& f : c.accuracy)
        if (f.has_bound && !f.held)
          out << "    " << f.metric << " against " << f.against << " = " << fmt("%.3e", f.error) << " exceeds "
              << fmt("%.3e", f.bound) << " (" << f.reason << ")\n";
    }
  }
  bool cached = false;
  for (const case_result& c : r.results) cached |= c.cache_served;
  if (cached) out << "*: working set under the last-level cache the OS reports, partly cache-served\n";
  out << (violated ? std::to_string(violated) + " case(s) failed or broke a bound\n"
                   : "every case within its documented bound\n");
}

void write_markdown(std::ostream& out, const report& r) {
  const run_info& i = r.info;
  out << "# mixprec-compare report\n\n"
      << "| | |\n|---|---|\n"
      << "| suite | " << i.suite << (i.matrix.empty() ? "" : " (matrix " + i.matrix + ")") << " |\n"
      << "| machine | " << i.cpu << " |\n| ISA | " << i.isa << " |\n| features |";
  for (const std::string& f : i.features) out << " " << f;
  out << " |\n| threads | " << i.threads << " |\n| mixprec | " << i.version << " (" << i.commit << ") |\n"
      << "| started | " << i.started << " |\n| run time | " << fmt("%.0f s", i.seconds) << " |\n"
      << "| triad | " << fmt("%.1f GB/s", i.limits.triad / 1e9) << " |\n"
      << "| peaks (GFLOP/s) | f64 FMA " << fmt("%.0f", i.limits.fma_f64 / 1e9) << ", f32 FMA "
      << fmt("%.0f", i.limits.fma_f32 / 1e9) << ", bf16 dot " << fmt("%.0f", i.limits.dot_bf16 / 1e9) << ", int8 dot "
      << fmt("%.0f", i.limits.dot_int8 / 1e9) << " |\n";
  std::string family;
  for (const case_result& c : r.results) {
    if (c.family != family) {
      family = c.family;
      out << "\n## " << family << "\n\n"
          << "| problem | precision | median | spread | rate | of limit | speed-up | error (against) | bound | held |\n"
          << "|---|---|---|---|---|---|---|---|---|---|\n";
    }
    const accuracy_figure* h = headline_error(c);
    std::string bound = "-", held = c.failed ? "**failed**: " + c.note : "yes";
    for (const accuracy_figure& f : c.accuracy)
      if (f.has_bound) {
        bound = fmt("%.2e", f.bound) + " (" + f.metric + ")";
        if (!f.held) held = "**no**: " + fmt("%.2e", f.error) + " > bound";
        if (!f.held) break;
      }
    out << "| " << c.problem << " | " << c.precision << " | " << time_text(c.median) << " | "
        << fmt("%.0f%%", 100 * c.spread) << " | " << rate_text(c) << " | " << fmt("%.0f%%", 100 * c.fraction_of_limit)
        << " (" << name_of(c.limit) << (c.cache_served ? ", partly in cache" : "") << ") | " << fmt("%.2f", c.speedup)
        << "x | " << (h ? fmt("%.2e", h->error) + " (" + h->against + ")" : "-") << " | " << bound << " | " << held;
    if (c.iterations >= 0) out << "; " << c.iterations << " iterations, " << c.stop_reason;
    out << " |\n";
  }
}

void write_reports(const std::string& dir, const report& r) {
  std::filesystem::create_directories(dir);
  const auto open = [&](const char* name) {
    std::ofstream f(std::filesystem::path(dir) / name);
    if (!f) throw std::runtime_error("cannot write " + (std::filesystem::path(dir) / name).string());
    return f;
  };
  {
    std::ofstream f = open("report.json");
    f << to_json(r).dump(1) << "\n";
  }
  {
    std::ofstream f = open("report.md");
    write_markdown(f, r);
  }
  std::ofstream f = open("report.html");
  write_html(f, r);
}

void print_diff(std::ostream& out, const report& a, const report& b) {
  std::map<std::string, const case_result*> in_a, in_b;
  for (const case_result& c : a.results) in_a[c.id()] = &c;
  for (const case_result& c : b.results) in_b[c.id()] = &c;
  out << "B against A: time ratio < 1 means B is faster; error ratio < 1 means B is more accurate\n"
      << "A: " << a.info.cpu << ", " << a.info.threads << " threads, " << a.info.commit << ", " << a.info.started
      << "\n"
      << "B: " << b.info.cpu << ", " << b.info.threads << " threads, " << b.info.commit << ", " << b.info.started
      << "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-64s %-16s %11s %11s %10s %10s\n", "case", "precision", "time A", "time B",
                "time B/A", "error B/A");
  out << line;
  for (const case_result& c : a.results) {
    const auto it = in_b.find(c.id());
    if (it == in_b.end()) continue;
    const case_result& d = *it->second;
    const accuracy_figure *ea = headline_error(c), *eb = headline_error(d);
    const double tr = c.median > 0 ? d.median / c.median : 0;
    const double er = ea && eb && ea->error > 0 ? eb->error / ea->error : (ea && eb && eb->error == ea->error ? 1 : 0);
    std::snprintf(line, sizeof line, "%-64s %-16s %11s %11s %10.3f %10.3f\n", (c.family + "/" + c.problem).c_str(),
                  c.precision.c_str(), time_text(c.median).c_str(), time_text(d.median).c_str(), tr, er);
    out << line;
  }
  for (const auto& [id, c] : in_a)
    if (!in_b.count(id)) out << "only in A: " << id << "\n";
  for (const auto& [id, c] : in_b)
    if (!in_a.count(id)) out << "only in B: " << id << "\n";
}

}  // namespace mixprec::compare
