// The report of a run: what ran where (machine, CPU features, library version and commit,
// threads, limits) and every case's measurements. Written as report.json (schema
// docs/compare-report.schema.json, versioned by `schema`), report.md and a self-contained
// report.html whose charts are inline SVG.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/compare/compare.hpp"
#include "tools/compare/runner.hpp"

namespace mixprec::compare {

inline constexpr const char* report_schema = "mixprec-compare/1";

struct run_info {
  std::string version, commit, cpu, isa, started, suite, backend = "cpu", matrix, recommendation;
  std::vector<std::string> features;
  int threads = 0, repeat = 0;
  double seconds = 0;
  machine_limits limits;
};

struct report {
  run_info info;
  std::vector<case_result> results;
};

/// The machine and build this process runs on (version, commit, CPU, ISA, threads).
run_info describe_this_run();

nlohmann::json to_json(const report& r);
report report_from_json(const nlohmann::json& j);
report read_report(const std::string& path);

void write_markdown(std::ostream& out, const report& r);
void write_html(std::ostream& out, const report& r);
/// Writes report.json, report.md and report.html into dir (created if missing).
void write_reports(const std::string& dir, const report& r);

/// The console summary: one line per case (speed-up, fraction of limit, error, bound held).
void print_summary(std::ostream& out, const report& r);
/// The ratio table of two reports: for each case in both, b's median time over a's and b's
/// main error over a's; cases in one report only are listed as such.
void print_diff(std::ostream& out, const report& a, const report& b);

/// The figure a trade-off chart plots for a case: its first against the f64 problem, else
/// its first (nullptr when it has none).
const accuracy_figure* headline_error(const case_result& r);

}  // namespace mixprec::compare
