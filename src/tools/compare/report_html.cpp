// report.html: one self-contained page (no scripts, no external files). Per family, the
// precision trade-off: speed-up over the baseline precision against the error against the
// f64 problem (broken bounds ringed in red); the roofline with every case that has a byte and
// FLOP count; solver convergence, residual against iteration and against time per policy;
// then the tables of report.md.
#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>
#include <sstream>

#include "tools/compare/report.hpp"
#include "tools/compare/svg_chart.hpp"

namespace mixprec::compare {
namespace {

std::string chart_id(const std::string& kind, const std::string& name) {
  std::string id = kind + "-";
  for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '-';
  return id;
}

/// Errors of exactly 0 (bit-exact results) are drawn at this floor on the log axis.
constexpr double error_floor = 1e-18;

std::string tradeoff_chart(const std::string& family, const std::vector<const case_result*>& cases) {
  svg_chart c(family + ": speed-up against error", "error against the f64 problem (0 drawn at 1e-18)",
              "speed-up over the baseline precision", true, true);
  for (const case_result* r : cases) {
    const accuracy_figure* e = headline_error(*r);
    if (!e || r->speedup <= 0) continue;
    c.add_point(std::max(e->error, error_floor), r->speedup, r->problem + " " + r->precision, colour_of(r->precision),
                !r->bounds_held());
  }
  return c.render(chart_id("tradeoff", family));
}

std::string roofline_chart(const report& rep) {
  svg_chart c("roofline: every case with bytes and FLOPs", "arithmetic intensity (FLOP/byte)", "GFLOP/s", true, true);
  double lo = 1e30, hi = 0;
  for (const case_result& r : rep.results) {
    if (r.failed || r.bytes <= 0 || r.flops <= 0 || r.median <= 0) continue;
    const double ai = r.flops / r.bytes;
    lo = std::min(lo, ai);
    hi = std::max(hi, ai);
    c.add_point(ai, r.flops / r.median / 1e9, r.family + "/" + r.problem + " " + r.precision, colour_of(r.precision),
                !r.bounds_held());
  }
  if (hi <= 0) return "";
  lo = std::pow(10.0, std::floor(std::log10(lo)));
  hi = std::pow(10.0, std::ceil(std::log10(hi)));
  const machine_limits& m = rep.info.limits;
  const std::pair<const char*, double> peaks[] = {{"f64 FMA peak", m.fma_f64},
                                                  {"f32 FMA peak", m.fma_f32},
                                                  {"bf16 dot peak", m.dot_bf16},
                                                  {"int8 dot peak", m.dot_int8}};
  const char* colours[] = {"#000000", "#1f77b4", "#2ca02c", "#9467bd"};
  for (int i = 0; i < 4; ++i) {
    if (peaks[i].second <= 0) continue;
    // min(triad * AI, peak) over the plotted intensities.
    const double knee = peaks[i].second / m.triad;
    std::vector<double> x = {lo}, y = {m.triad * lo / 1e9};
    if (knee > lo && knee < hi) x.push_back(knee), y.push_back(peaks[i].second / 1e9);
    x.push_back(hi);
    y.push_back(std::min(m.triad * hi, peaks[i].second) / 1e9);
    c.add_series(x, y, peaks[i].first, colours[i], true);
  }
  return c.render("roofline");
}

std::string convergence_charts(const std::string& problem, const std::vector<const case_result*>& cases) {
  svg_chart by_iteration(problem + ": residual against iteration",
                         "Krylov iterations (refinement: inner ones, at each outer step)", "relative residual", false,
                         true);
  svg_chart by_time(problem + ": residual against time", "seconds", "relative residual", false, true);
  for (const case_result* r : cases) {
    if (r->history.residual.empty()) continue;
    by_iteration.add_series(r->history.iterations, r->history.residual, r->precision, colour_of(r->precision));
    by_time.add_series(r->history.seconds, r->history.residual, r->precision, colour_of(r->precision));
  }
  if (by_iteration.empty()) return "";
  return by_iteration.render(chart_id("convergence-iterations", problem)) +
         by_time.render(chart_id("convergence-time", problem));
}

}  // namespace

void write_html(std::ostream& out, const report& r) {
  std::vector<std::string> families;
  std::map<std::string, std::vector<const case_result*>> by_family, by_solver_problem;
  for (const case_result& c : r.results) {
    if (!by_family.count(c.family)) families.push_back(c.family);
    by_family[c.family].push_back(&c);
    if (c.iterations >= 0) by_solver_problem[c.family + "/" + c.problem].push_back(&c);
  }
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>mixprec-compare "
         "report</title>\n"
      << "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:12px}"
      << "td,th{border:1px solid #ccc;padding:2px 6px}.bad{color:#c00;font-weight:bold}svg{margin:6px}</style>\n"
      << "</head>\n<body>\n<h1>mixprec-compare report</h1>\n<p>"
      << xml_escape(r.info.suite + " suite" + (r.info.matrix.empty() ? "" : ", matrix " + r.info.matrix) + ", " +
                    r.info.cpu + " (" + r.info.isa + "), " + std::to_string(r.info.threads) + " threads, mixprec " +
                    r.info.version + " (" + r.info.commit + "), " + r.info.started)
      << "</p>\n";
  int broken = 0;
  for (const case_result& c : r.results) broken += c.bounds_held() ? 0 : 1;
  out << "<p" << (broken ? " class=\"bad\"" : "") << ">"
      << (broken ? std::to_string(broken) + " case(s) failed or broke their documented bound (ringed in red)"
                 : "Every case is within its documented bound.")
      << "</p>\n<h2>Precision trade-off per family</h2>\n<div>\n";
  for (const std::string& f : families) out << tradeoff_chart(f, by_family[f]);
  out << "</div>\n<h2>Roofline</h2>\n<div>\n" << roofline_chart(r) << "</div>\n";
  if (!by_solver_problem.empty()) {
    out << "<h2>Solver convergence</h2>\n<div>\n";
    for (const auto& [problem, cases] : by_solver_problem) out << convergence_charts(problem, cases);
    out << "</div>\n";
  }
  out << "<h2>Cases</h2>\n";
  for (const std::string& f : families) {
    out << "<h3>" << xml_escape(f) << "</h3>\n<table>\n<tr><th>problem</th><th>precision</th><th>median</th>"
        << "<th>spread</th><th>of limit</th><th>speed-up</th><th>accuracy</th><th>solver</th></tr>\n";
    for (const case_result* c : by_family[f]) {
      std::ostringstream acc;
      for (const accuracy_figure& a : c->accuracy) {
        char b[96];
        std::snprintf(b, sizeof b, "%.3g", a.error);
        acc << "<span" << (a.has_bound && !a.held ? " class=\"bad\"" : "") << ">" << xml_escape(a.metric) << " ("
            << xml_escape(a.against) << "): " << b;
        if (a.has_bound) {
          std::snprintf(b, sizeof b, "%.3g", a.bound);
          acc << (a.higher_is_better ? " &gt;= " : " &lt;= ") << b << (a.held ? "" : " BROKEN");
        }
        acc << "</span><br/>";
      }
      if (c->failed) acc << "<span class=\"bad\">failed: " << xml_escape(c->note) << "</span>";
      char t[160];
      std::snprintf(t, sizeof t, "<td>%.4g s</td><td>%.0f%%</td><td>%.0f%% %s</td><td>%.2fx</td>", c->median,
                    100 * c->spread, 100 * c->fraction_of_limit, name_of(c->limit), c->speedup);
      out << "<tr><td>" << xml_escape(c->problem) << "</td><td>" << xml_escape(c->precision) << "</td>" << t << "<td>"
          << acc.str() << "</td><td>"
          << (c->iterations >= 0
                  ? std::to_string(c->iterations) + " it, " + xml_escape(c->stop_reason) + "; " + xml_escape(c->note)
                  : "")
          << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  out << "</body>\n</html>\n";
}

}  // namespace mixprec::compare
