#include <fstream>
#include <stdexcept>

#include "mixprec/context.hpp"
#include "mixprec/version.hpp"
#include "tools/compare/report.hpp"

#ifndef MIXPREC_GIT_COMMIT
#define MIXPREC_GIT_COMMIT "unknown"
#endif

namespace mixprec::compare {
namespace {

using json = nlohmann::json;

/// JSON has no infinity or NaN: they are written as strings, read back as numbers.
json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
double number_of(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "inf") return HUGE_VAL;
  if (s == "-inf") return -HUGE_VAL;
  return std::nan("");
}
json numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}
std::vector<double> numbers_of(const json& j) {
  std::vector<double> v;
  for (const json& x : j) v.push_back(number_of(x));
  return v;
}

limit_kind parse_limit(const std::string& s) {
  for (limit_kind k :
       {limit_kind::triad, limit_kind::fma_f64, limit_kind::fma_f32, limit_kind::dot_bf16, limit_kind::dot_int8})
    if (s == name_of(k)) return k;
  throw std::invalid_argument("unknown limit '" + s + "' in report");
}

}  // namespace

run_info describe_this_run() {
  run_info i;
  i.version = version_string();
  i.commit = MIXPREC_GIT_COMMIT;
  const cpu_features& f = cpu_info();
  i.cpu = f.model.empty() ? f.vendor : f.model;
  i.isa = name_of(f.active);
  const std::pair<const char*, bool> flags[] = {{"avx2", f.avx2},
                                                {"fma", f.fma},
                                                {"f16c", f.f16c},
                                                {"avx512f", f.avx512f},
                                                {"avx512bw", f.avx512bw},
                                                {"avx512_bf16", f.avx512_bf16},
                                                {"avx512_vnni", f.avx512_vnni},
                                                {"avx512_fp16", f.avx512_fp16},
                                                {"amx", f.amx_permitted}};
  for (const auto& [name, on] : flags)
    if (on) i.features.push_back(name);
  i.threads = context::cpu().threads();
  return i;
}

json to_json(const report& r) {
  const run_info& i = r.info;
  json j;
  j["schema"] = report_schema;
  j["run"] = {{"version", i.version},
              {"commit", i.commit},
              {"cpu", i.cpu},
              {"isa", i.isa},
              {"features", i.features},
              {"threads", i.threads},
              {"started", i.started},
              {"seconds", i.seconds},
              {"suite", i.suite},
              {"repeat", i.repeat},
              {"backend", i.backend},
              {"matrix", i.matrix},
              {"recommendation", i.recommendation}};
  j["limits"] = {{"triad_bytes_per_second", i.limits.triad},
                 {"fma_f64_flops", i.limits.fma_f64},
                 {"fma_f32_flops", i.limits.fma_f32},
                 {"dot_bf16_flops", i.limits.dot_bf16},
                 {"dot_int8_ops", i.limits.dot_int8}};
  json cases = json::array();
  for (const case_result& c : r.results) {
    json cj = {
        {"id", c.id()},
        {"family", c.family},
        {"problem", c.problem},
        {"precision", c.precision},
        {"backend", c.backend},
        {"failed", c.failed},
        {"note", c.note},
        {"bounds_held", c.bounds_held()},
        {"time", {{"median_seconds", number(c.median)}, {"spread", number(c.spread)}, {"samples", numbers(c.samples)}}},
        {"work", {{"bytes", c.bytes}, {"flops", c.flops}}},
        {"rate",
         {{"value", number(c.rate())},
          {"unit", c.limit == limit_kind::triad ? "bytes/s" : "flop/s"},
          {"limit", name_of(c.limit)},
          {"limit_value", number(c.limit_rate)},
          {"fraction_of_limit", number(c.fraction_of_limit)},
          {"cache_served", c.cache_served}}},
        {"speedup", {{"baseline", c.baseline}, {"value", number(c.speedup)}}}};
    json acc = json::array();
    for (const accuracy_figure& f : c.accuracy)
      acc.push_back({{"metric", f.metric},
                     {"against", f.against},
                     {"error", number(f.error)},
                     {"has_bound", f.has_bound},
                     {"bound", number(f.bound)},
                     {"held", f.held},
                     {"higher_is_better", f.higher_is_better},
                     {"reason", f.reason}});
    cj["accuracy"] = acc;
    if (c.iterations >= 0)
      cj["solver"] = {{"iterations", c.iterations},
                      {"stop_reason", c.stop_reason},
                      {"history",
                       {{"relative_residual", numbers(c.history.residual)},
                        {"iterations", numbers(c.history.iterations)},
                        {"seconds", numbers(c.history.seconds)}}}};
    cases.push_back(cj);
  }
  j["cases"] = cases;
  return j;
}

report report_from_json(const json& j) {
  if (j.value("schema", "") != report_schema)
    throw std::invalid_argument("not a " + std::string(report_schema) + " report (schema '" + j.value("schema", "") +
                                "')");
  report r;
  const json& run = j.at("run");
  r.info.version = run.at("version");
  r.info.commit = run.at("commit");
  r.info.cpu = run.at("cpu");
  r.info.isa = run.at("isa");
  r.info.features = run.at("features").get<std::vector<std::string>>();
  r.info.threads = run.at("threads");
  r.info.started = run.at("started");
  r.info.seconds = run.at("seconds");
  r.info.suite = run.at("suite");
  r.info.repeat = run.at("repeat");
  r.info.backend = run.at("backend");
  r.info.matrix = run.at("matrix");
  r.info.recommendation = run.at("recommendation");
  const json& l = j.at("limits");
  r.info.limits = {l.at("triad_bytes_per_second"), l.at("fma_f64_flops"), l.at("fma_f32_flops"), l.at("dot_bf16_flops"),
                   l.at("dot_int8_ops")};
  for (const json& cj : j.at("cases")) {
    case_result c;
    c.family = cj.at("family");
    c.problem = cj.at("problem");
    c.precision = cj.at("precision");
    c.backend = cj.at("backend");
    c.failed = cj.at("failed");
    c.note = cj.at("note");
    c.median = number_of(cj.at("time").at("median_seconds"));
    c.spread = number_of(cj.at("time").at("spread"));
    c.samples = numbers_of(cj.at("time").at("samples"));
    c.bytes = cj.at("work").at("bytes");
    c.flops = cj.at("work").at("flops");
    c.limit = parse_limit(cj.at("rate").at("limit"));
    c.limit_rate = number_of(cj.at("rate").at("limit_value"));
    c.fraction_of_limit = number_of(cj.at("rate").at("fraction_of_limit"));
    c.cache_served = cj.at("rate").at("cache_served");
    c.baseline = cj.at("speedup").at("baseline");
    c.speedup = number_of(cj.at("speedup").at("value"));
    for (const json& f : cj.at("accuracy")) {
      accuracy_figure a;
      a.metric = f.at("metric");
      a.against = f.at("against");
      a.error = number_of(f.at("error"));
      a.has_bound = f.at("has_bound");
      a.bound = number_of(f.at("bound"));
      a.held = f.at("held");
      a.higher_is_better = f.at("higher_is_better");
      a.reason = f.at("reason");
      c.accuracy.push_back(a);
    }
    if (cj.contains("solver")) {
      const json& s = cj.at("solver");
      c.iterations = s.at("iterations");
      c.stop_reason = s.at("stop_reason");
      c.history.residual = numbers_of(s.at("history").at("relative_residual"));
      c.history.iterations = numbers_of(s.at("history").at("iterations"));
      c.history.seconds = numbers_of(s.at("history").at("seconds"));
    }
    r.results.push_back(std::move(c));
  }
  return r;
}

report read_report(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open report '" + path + "'");
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw std::runtime_error("report '" + path + "' is not JSON: " + e.what());
  }
  try {
    return report_from_json(j);
  } catch (const json::exception& e) {
    throw std::runtime_error("report '" + path + "' does not follow " + report_schema + ": " + e.what());
  }
}

}  // namespace mixprec::compare
