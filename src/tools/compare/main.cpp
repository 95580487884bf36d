// mixprec-compare: what each precision buys, in speed and in error, on this machine and on
// the user's own matrix. See docs/compare.md.
//
//   mixprec-compare --suite quick --out report/          # every family, <= 3 minutes
//   mixprec-compare --only gemm,solvers --repeat 9
//   mixprec-compare --matrix A.mtx [--rhs b.mtx] --tolerance 1e-10
//   mixprec-compare diff before/report.json after/report.json
//   mixprec-compare plot training_curves.csv --out curves.svg --log-y
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "mixprec/context.hpp"
#include "mixprec/error.hpp"
#include "tools/compare/csv_plot.hpp"
#include "tools/compare/report.hpp"
#include "tools/compare/runner.hpp"
#include "tools/compare/user_matrix.hpp"

namespace {

using namespace mixprec::compare;

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mixprec-compare: speed and error of every precision mixprec offers, on this machine"};
  app.require_subcommand(0, 1);
  std::string suite = "quick", only, backend = "cpu", out_dir, matrix, rhs;
  int threads = 0, repeat = 5;
  double tolerance = 1e-10;
  bool list = false, quiet = false;
  app.add_option("--suite", suite, "tiny (seconds), quick (<= 3 minutes on 2 cores) or full (<= 15 minutes)")
      ->check(CLI::IsMember({"tiny", "quick", "full"}));
  app.add_option("--only", only, "comma-separated patterns; a case runs if its family/problem/precision contains one");
  app.add_option("--backend", backend, "cpu, cuda or all")->check(CLI::IsMember({"cpu", "cuda", "all"}));
  app.add_option("--threads", threads, "CPU threads (default: OMP_NUM_THREADS or the core count)")
      ->check(CLI::PositiveNumber);
  app.add_option("--repeat", repeat, "timed samples per case (median and spread)")->check(CLI::Range(1, 1000));
  app.add_option("--out", out_dir, "write report.json, report.md and report.html into this directory");
  app.add_option("--matrix", matrix,
                 "your Matrix Market matrix: SpMV in every format and precision, solvers and "
                 "policies to --tolerance")
      ->check(CLI::ExistingFile);
  app.add_option("--rhs", rhs, "right-hand side for --matrix (Matrix Market, n x 1); default b = A * 1")
      ->check(CLI::ExistingFile);
  app.add_option("--tolerance", tolerance, "FP64 relative residual the --matrix solves must reach")
      ->check(CLI::Range(1e-16, 0.5));
  app.add_flag("--list", list, "list the selected cases and exit");
  app.add_flag("--quiet", quiet, "no progress output");
  CLI::App* diff = app.add_subcommand("diff", "ratio table of two reports (B against A)");
  std::string report_a, report_b;
  diff->add_option("A", report_a, "report.json")->required()->check(CLI::ExistingFile);
  diff->add_option("B", report_b, "report.json")->required()->check(CLI::ExistingFile);
  CLI::App* plot = app.add_subcommand("plot", "draw a CSV of curves (x first, one column per curve) as SVG");
  std::string csv_path, svg_path, title;
  bool log_y = false;
  plot->add_option("CSV", csv_path, "the curves")->required()->check(CLI::ExistingFile);
  plot->add_option("--out", svg_path, "the SVG to write")->required();
  plot->add_option("--title", title, "the chart's title (default: the CSV's name)");
  plot->add_flag("--log-y", log_y, "logarithmic y axis");
  CLI11_PARSE(app, argc, argv);

  try {
    if (diff->parsed()) {
      print_diff(std::cout, read_report(report_a), read_report(report_b));
      return 0;
    }
    if (plot->parsed()) {
      std::ifstream in(csv_path);
      const std::string svg = plot_csv(in, title.empty() ? csv_path : title, log_y);
      std::ofstream out(svg_path);
      if (!(out << svg)) throw std::runtime_error("cannot write " + svg_path);
      std::cout << "wrote " << svg_path << "\n";
      return 0;
    }
    if (!rhs.empty() && matrix.empty()) throw std::invalid_argument("--rhs needs --matrix");
    // Before the threading runtime starts: it reads the thread count once.
    if (threads > 0) setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
    if (backend != "cpu") {
      std::string why;
      if (!mixprec::cuda_available(&why))
        throw std::invalid_argument("--backend " + backend + ": no CUDA backend here (" + why + ")");
      // The CUDA plugin serves BLAS-1 and conversions only; no case of this tool runs there yet.
      throw std::invalid_argument("--backend " + backend + ": no case of mixprec-compare runs on CUDA yet");
    }
    suite_settings settings;
    settings.size = parse_suite(suite);
    settings.repeat = repeat;
    if (settings.size == suite_size::tiny) settings.min_sample_seconds = 0;
    report rep;
    std::string description;
    case_list cases;
    if (!matrix.empty()) {
      user_problem p{matrix, rhs, tolerance};
      cases = user_matrix_cases(p, description);
      rep.info.matrix = matrix;
    } else {
      cases = build_suite(settings);
    }
    cases = select_cases(cases, only);
    if (list) {
      for (const case_def& c : cases) std::cout << c.id() << "\n";
      return 0;
    }
    if (cases.empty()) throw std::invalid_argument("no case matches --only '" + only + "'");
    if (!description.empty()) std::cout << description << "\n";
    const auto t0 = std::chrono::steady_clock::now();
    rep.info = [&] {
      run_info i = describe_this_run();
      i.matrix = rep.info.matrix;
      return i;
    }();
    rep.info.suite = matrix.empty() ? suite : "matrix";
    rep.info.repeat = repeat;
    rep.info.started = now_utc();
    if (!quiet) std::cerr << "measuring this machine's limits (triad, unit peaks)...\n";
    rep.info.limits = machine_limits::measure();
    rep.results = run_cases(cases, settings, rep.info.limits, quiet);
    rep.info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!matrix.empty()) rep.info.recommendation = recommend_policy(rep.results);
    print_summary(std::cout, rep);
    if (!rep.info.recommendation.empty()) std::cout << rep.info.recommendation << "\n";
    if (!out_dir.empty()) {
      write_reports(out_dir, rep);
      std::cout << "report: " << out_dir << "/report.html (and report.json, report.md)\n";
    }
    for (const case_result& r : rep.results)
      if (!r.bounds_held()) return 3;  // a broken bound or a failed case is a failure of the run
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mixprec-compare: " << e.what() << "\n";
    return 1;
  }
}
