// mixprec-compare: every family's cases run (tiny sizes) within their bounds; a bound that
// is too tight is reported as broken; the JSON report follows its schema and reads back; the
// HTML is well-formed with one trade-off chart per family; diff of a report with itself is
// all ones; --matrix handles every kind of Matrix Market file the reader accepts.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "mixprec/error.hpp"
#include "tools/compare/csv_plot.hpp"
#include "tools/compare/reference.hpp"
#include "tools/compare/report.hpp"
#include "tools/compare/runner.hpp"
#include "tools/compare/user_matrix.hpp"

namespace mixprec::compare {
namespace {

using json = nlohmann::json;

#define EXPECT_THROW_MSG(expr, needle)                                              \
  do {                                                                              \
    try {                                                                           \
      expr;                                                                         \
      ADD_FAILURE() << #expr " did not throw";                                      \
    } catch (const std::exception& e) {                                             \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what(); \
    }                                                                               \
  } while (0)

suite_settings tiny() {
  suite_settings s;
  s.size = suite_size::tiny;
  s.repeat = 1;
  s.min_sample_seconds = 0;
  return s;
}

/// Limits as the report carries them, without spending a second measuring them.
machine_limits fake_limits() { return {50e9, 100e9, 200e9, 400e9, 800e9}; }

const report& tiny_report() {
  static const report r = [] {
    report rep;
    rep.info = describe_this_run();
    rep.info.suite = "tiny";
    rep.info.repeat = 1;
    rep.info.started = "2000-01-01T00:00:00Z";
    rep.info.limits = fake_limits();
    rep.results = run_cases(build_suite(tiny()), tiny(), rep.info.limits, true);
    return rep;
  }();
  return r;
}

TEST(compare_suite, every_family_runs_at_the_tiny_size_within_its_bounds_with_an_accuracy_figure) {
  const std::set<std::string> expected = {"conversions", "blas1", "stencils",     "spmv",      "solvers",
                                          "dense",       "gemm",  "quantization", "ai_layers", "training"};
  std::set<std::string> seen;
  for (const case_result& r : tiny_report().results) {
    seen.insert(r.family);
    EXPECT_FALSE(r.failed) << r.id() << ": " << r.note;
    EXPECT_FALSE(r.accuracy.empty()) << r.id() << " has no accuracy figure";
    bool bounded = false;
    for (const accuracy_figure& f : r.accuracy) {
      bounded |= f.has_bound;
      EXPECT_TRUE(!f.has_bound || f.held) << r.id() << ": " << f.metric << " = " << f.error << " > " << f.bound;
    }
    EXPECT_TRUE(bounded) << r.id() << " checks no bound";
    EXPECT_GT(r.median, 0) << r.id();
    if (r.iterations >= 0 && r.family != "dense") {
      EXPECT_EQ(r.stop_reason, "converged") << r.id();
      EXPECT_FALSE(r.history.residual.empty()) << r.id();
    }
  }
  EXPECT_EQ(seen, expected);
}

TEST(compare_suite, a_bound_that_is_too_tight_is_reported_as_broken) {
  // bf16 conversion checked against f32's unit roundoff: real data, a bound that cannot hold.
  case_def d{"conversions", "too_tight", "bf16", {}};
  d.prepare = [] {
    auto src = std::make_shared<std::vector<double>>(uniform_values(1000, 5));
    auto out = std::make_shared<buffer>(dtype::bf16, 1000);
    prepared_case c;
    c.run = [src, out] { convert(make_view(src->data(), 1000), out->as_view()); };
    c.check = [src, out](case_result& r) {
      const double err = max_relative_error(values_of(out->as_view()), widened(*src));
      r.accuracy.push_back(
          checked_figure("max relative error", "f64 problem", err, unit_roundoff(dtype::f32), "wrong"));
    };
    return c;
  };
  report rep = tiny_report();
  rep.results = run_cases({d}, tiny(), fake_limits(), true);
  ASSERT_EQ(rep.results.size(), 1u);
  EXPECT_FALSE(rep.results[0].bounds_held());
  std::ostringstream summary, html;
  print_summary(summary, rep);
  EXPECT_NE(summary.str().find("VIOLATED"), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("1 case(s) failed or broke a bound"), std::string::npos);
  EXPECT_FALSE(to_json(rep)["cases"][0]["bounds_held"].get<bool>());
  write_html(html, rep);
  EXPECT_NE(html.str().find("BROKEN"), std::string::npos);
}

TEST(compare_suite, a_case_that_throws_is_recorded_as_failed_and_the_run_goes_on) {
  case_def bad{"blas1", "mismatch", "f32", [] {
                 prepared_case c;
                 c.run = [] {
                   array<float> x(3), y(4);
                   axpy(1.0, x, y);
                 };
                 c.check = [](case_result&) {};
                 return c;
               }};
  const std::vector<case_result> r = run_cases({bad, build_suite(tiny()).front()}, tiny(), fake_limits(), true);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].failed);
  EXPECT_NE(r[0].note.find("axpy"), std::string::npos) << r[0].note;
  EXPECT_FALSE(r[1].failed);
}

// ---- the JSON report against its schema ----

/// The part of JSON Schema the report's schema uses: type (one or a list), const, enum,
/// required, properties, additionalProperties: false, items, minimum.
void validate(const json& v, const json& schema, const std::string& where, std::vector<std::string>& problems) {
  const auto type_ok = [&](const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    return false;
  };
  if (schema.contains("type")) {
    bool ok = false;
    if (schema["type"].is_array())
      for (const json& t : schema["type"]) ok |= type_ok(t.get<std::string>());
    else
      ok = type_ok(schema["type"].get<std::string>());
    if (!ok) return problems.push_back(where + ": wrong type (" + v.dump().substr(0, 40) + ")");
  }
  if (schema.contains("const") && v != schema["const"]) problems.push_back(where + ": not " + schema["const"].dump());
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
    problems.push_back(where + ": " + v.dump() + " not in " + schema["enum"].dump());
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
    problems.push_back(where + ": below the minimum");
  if (v.is_object()) {
    for (const json& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) problems.push_back(where + ": missing " + r.get<std::string>());
    const json props = schema.value("properties", json::object());
    for (const auto& [key, value] : v.items()) {
      if (props.contains(key))
        validate(value, props[key], where + "." + key, problems);
      else if (schema.contains("additionalProperties") && !schema["additionalProperties"].get<bool>())
        problems.push_back(where + ": unexpected " + key);
    }
  }
  if (v.is_array() && schema.contains("items"))
    for (std::size_t i = 0; i < v.size(); ++i)
      validate(v[i], schema["items"], where + "[" + std::to_string(i) + "]", problems);
}

json load_schema() {
  std::ifstream in(MIXPREC_COMPARE_SCHEMA);
  EXPECT_TRUE(in.good()) << MIXPREC_COMPARE_SCHEMA;
  return json::parse(in);
}

TEST(compare_report, json_follows_the_schema_and_reads_back_unchanged) {
  const json j = to_json(tiny_report());
  std::vector<std::string> problems;
  validate(j, load_schema(), "report", problems);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  EXPECT_EQ(to_json(report_from_json(j)), j);
  // Solver cases carry their history.
  bool solver = false;
  for (const json& c : j["cases"]) solver |= c.contains("solver");
  EXPECT_TRUE(solver);
}

TEST(compare_report, the_schema_validator_rejects_what_breaks_the_schema) {
  json j = to_json(tiny_report());
  j["cases"][0]["rate"]["limit"] = "warp_speed";
  j["run"].erase("threads");
  j["extra"] = 1;
  std::vector<std::string> problems;
  validate(j, load_schema(), "report", problems);
  EXPECT_EQ(problems.size(), 3u);
}

TEST(compare_report, a_file_that_is_not_a_report_is_refused_by_name) {
  const std::string path = (std::filesystem::temp_directory_path() / "mixprec_not_a_report.json").string();
  std::ofstream(path) << R"({"schema": "something else"})";
  try {
    read_report(path);
    FAIL() << "accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("mixprec-compare/1"), std::string::npos) << e.what();
  }
}

/// Checks that every element is closed in order (void elements self-closed, as written).
bool well_formed(const std::string& html, std::string& problem) {
  std::vector<std::string> open;
  for (std::size_t p = html.find('<'); p != std::string::npos; p = html.find('<', p + 1)) {
    const std::size_t end = html.find('>', p);
    if (end == std::string::npos) return problem = "unterminated tag", false;
    const std::string tag = html.substr(p + 1, end - p - 1);
    if (tag.empty() || tag[0] == '!') continue;
    if (tag.back() == '/') continue;
    const std::string name = tag.substr(tag[0] == '/' ? 1 : 0, tag.find_first_of(" \n", 0) - (tag[0] == '/' ? 1 : 0));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name)
        return problem = "</" + name + "> closes " + (open.empty() ? "nothing" : open.back()), false;
      open.pop_back();
    } else if (name != "meta") {
      open.push_back(name);
    }
  }
  if (!open.empty()) return problem = "<" + open.back() + "> never closed", false;
  return true;
}

TEST(compare_report, html_is_well_formed_with_one_tradeoff_chart_per_family_a_roofline_and_convergence) {
  std::ostringstream html;
  write_html(html, tiny_report());
  std::string problem;
  EXPECT_TRUE(well_formed(html.str(), problem)) << problem;
  std::set<std::string> families;
  for (const case_result& r : tiny_report().results) families.insert(r.family);
  for (const std::string& f : families) {
    const std::string id = "id=\"tradeoff-" + f + "\"";
    const std::size_t at = html.str().find(id);
    EXPECT_NE(at, std::string::npos) << f;
    EXPECT_EQ(html.str().find(id, at + 1), std::string::npos) << f << " twice";
  }
  EXPECT_NE(html.str().find("id=\"roofline\""), std::string::npos);
  EXPECT_NE(html.str().find("id=\"convergence-iterations-solvers-cg-poisson7"), std::string::npos);
  EXPECT_NE(html.str().find("<circle"), std::string::npos);
}

TEST(compare_report, diff_of_a_report_with_itself_gives_ratios_of_one) {
  std::ostringstream out;
  print_diff(out, tiny_report(), tiny_report());
  std::istringstream lines(out.str());
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.find("/") == std::string::npos || line.rfind("A:", 0) == 0 || line.rfind("B:", 0) == 0 ||
        line.rfind("case", 0) == 0)
      continue;
    double t = 0, e = 0;
    std::istringstream fields(line.substr(line.size() - 21));
    fields >> t >> e;
    EXPECT_EQ(t, 1.0) << line;
    EXPECT_EQ(e, 1.0) << line;
    ++rows;
  }
  EXPECT_EQ(rows, int(tiny_report().results.size()));
  EXPECT_EQ(out.str().find("only in"), std::string::npos);
}

TEST(compare_plot, a_csv_of_curves_becomes_one_line_per_column_and_bad_rows_are_named) {
  std::istringstream good("step,f32,bf16\n0,3.4,3.4\n1,2.0,2.1\n2,1.0,1.2\n");
  const std::string svg = plot_csv(good, "loss", true);
  std::string problem;
  EXPECT_TRUE(well_formed(svg, problem)) << problem;
  std::size_t lines = 0;
  for (std::size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find(">bf16<"), std::string::npos);
  std::istringstream short_row("step,f32\n0,1\n1\n"), not_number("step,f32\n0,1\n1,x2\n");
  EXPECT_THROW_MSG(plot_csv(short_row, "t", false), "line 3 has 1 fields");
  EXPECT_THROW_MSG(plot_csv(not_number, "t", false), "line 3: 'x2' is not a number");
}

// ---- --matrix ----

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

/// A 1D Laplacian of order n (SPD) in the given Matrix Market flavour; as a pattern, the
/// unit lower bidiagonal (nonsingular, nonsymmetric).
std::string laplacian_1d(int n, const std::string& field, const std::string& symmetry) {
  std::ostringstream o;
  o << "%%MatrixMarket matrix coordinate " << field << " " << symmetry << "\n";
  std::ostringstream entries;
  int count = 0;
  for (int i = 1; i <= n; ++i) {
    entries << i << " " << i << (field == "pattern" ? "" : " 2") << "\n";
    ++count;
    if (i > 1) {
      entries << i << " " << i - 1 << (field == "pattern" ? "" : " -1") << "\n";
      ++count;
      if (symmetry == "general" && field != "pattern") {
        entries << i - 1 << " " << i << (field == "pattern" ? "" : " -1") << "\n";
        ++count;
      }
    }
  }
  o << n << " " << n << " " << count << "\n" << entries.str();
  return o.str();
}

TEST(compare_matrix, every_matrix_market_flavour_runs_and_gets_a_recommendation) {
  const struct {
    const char* field;
    const char* symmetry;
    bool spd;
  } flavours[] = {{"real", "general", true},
                  {"real", "symmetric", true},
                  {"integer", "symmetric", true},
                  {"pattern", "general", false}};
  for (const auto& f : flavours) {
    const std::string path = write_file(std::string("mixprec_compare_") + f.field + "_" + f.symmetry + ".mtx",
                                        laplacian_1d(40, f.field, f.symmetry));
    std::string description;
    const case_list cases = user_matrix_cases({path, "", 1e-10}, description);
    EXPECT_NE(description.find(f.spd ? "CG family" : "GMRES family"), std::string::npos) << description;
    const std::vector<case_result> results = run_cases(cases, tiny(), fake_limits(), true);
    int spmv = 0, solves = 0;
    for (const case_result& r : results) {
      (r.family == "user_spmv" ? spmv : solves) += 1;
      if (r.family == "user_spmv") EXPECT_TRUE(r.bounds_held()) << r.id() << " " << r.note;
    }
    EXPECT_EQ(spmv, 12) << description;  // CSR, SELL and DIA (a band) x four precisions
    EXPECT_GE(solves, 4);
    const std::string advice = recommend_policy(results);
    EXPECT_NE(advice.find("fastest to the FP64 tolerance"), std::string::npos) << advice;
  }
}

TEST(compare_matrix, rhs_from_a_file_and_a_rectangular_matrix) {
  std::ostringstream b;
  b << "%%MatrixMarket matrix array real general\n40 1\n";
  for (int i = 0; i < 40; ++i) b << (i % 3) - 1 << "\n";
  const std::string a = write_file("mixprec_compare_rhs_a.mtx", laplacian_1d(40, "real", "symmetric"));
  const std::string rhs = write_file("mixprec_compare_rhs_b.mtx", b.str());
  std::string description;
  const std::vector<case_result> r =
      run_cases(user_matrix_cases({a, rhs, 1e-10}, description), tiny(), fake_limits(), true);
  for (const case_result& c : r) EXPECT_TRUE(c.bounds_held()) << c.id() << " " << c.note;
  const std::string rect =
      write_file("mixprec_compare_rect.mtx", "%%MatrixMarket matrix coordinate real general\n3 5 2\n1 1 1.5\n3 5 -2\n");
  const case_list only_spmv = user_matrix_cases({rect, "", 1e-10}, description);
  EXPECT_NE(description.find("not square"), std::string::npos) << description;
  for (const case_def& c : only_spmv) EXPECT_EQ(c.family, "user_spmv");
  EXPECT_THROW(user_matrix_cases({a, rect, 1e-10}, description), std::invalid_argument);
}

TEST(compare_matrix, a_bad_file_gets_the_readers_named_error) {
  const std::string path =
      write_file("mixprec_compare_bad.mtx", "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n");
  std::string description;
  try {
    user_matrix_cases({path, "", 1e-10}, description);
    FAIL() << "accepted";
  } catch (const mixprec::error& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mixprec::compare
