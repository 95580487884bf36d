// mixprec-compare: what each precision buys, in speed and in error, on this machine.
//
// A suite is a list of cases; a case is one problem in one precision (or precision policy).
// Running a case builds its data, times the operation (warm-up excluded, repeated samples,
// median and spread), then checks its output against a reference computed in f64 or better
// and against the bound the library documents for it. Each family of cases lives in its own
// file (family_*.cpp) and adds its cases through add_<family>_cases().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mixprec::compare {

/// How big the problems of a suite are: tiny (seconds, for tests), quick (the README's main
/// command, <= 3 minutes on 2 cores), full (<= 15 minutes).
enum class suite_size { tiny, quick, full };
const char* name_of(suite_size s);
suite_size parse_suite(const std::string& name);

/// What a case's rate is held against: the triad bandwidth (memory-bound cases) or the peak
/// of the compute unit its arithmetic runs on.
enum class limit_kind { triad, fma_f64, fma_f32, dot_bf16, dot_int8 };
const char* name_of(limit_kind k);

/// One accuracy figure of a case: `error` measured, `bound` what the library documents (or
/// a stated expectation; 0 when there is none), `held` whether error <= bound. `against`
/// says what the reference is: "exact" (the exact result of the stored inputs, what the
/// library's contract bounds) or "f64 problem" (the original f64 data: what the precision
/// costs the user).
struct accuracy_figure {
  std::string metric;   // e.g. "max relative error", "true residual", "top-1 agreement"
  std::string against;  // "exact", "f64 problem", "target"
  double error = 0;
  double bound = 0;
  bool has_bound = false;
  bool held = true;
  bool higher_is_better = false;  // agreement-type figures: held when error >= bound
  std::string reason;             // the bound's derivation, or why it failed
};

/// A solver's convergence history: the relative residual after each iteration (after each
/// outer step for refinement), the Krylov iterations done by then (inner ones summed for
/// refinement) and the seconds since the solve began.
struct convergence_history {
  std::vector<double> residual;
  std::vector<double> iterations;
  std::vector<double> seconds;
};

/// What one case produced.
struct case_result {
  std::string family, problem, precision, backend = "cpu";
  std::string id() const { return family + "/" + problem + "/" + precision; }
  // timing (seconds per run)
  std::vector<double> samples;
  double median = 0, spread = 0;  // spread: (max - min) / median over the samples
  double bytes = 0, flops = 0;    // per run
  limit_kind limit = limit_kind::triad;
  double limit_rate = 0;         // bytes/s or FLOP/s of the limit, measured at start-up
  double fraction_of_limit = 0;  // achieved rate / limit_rate
  // Memory-bound with a working set under the last-level cache: partly cache traffic,
  // so its fraction of the triad overstates memory speed.
  bool cache_served = false;
  std::string baseline;  // the precision speed-ups are taken against (f64, else f32, else the first)
  double speedup = 0;    // the baseline case's median time / this one's (same problem)
  std::vector<accuracy_figure> accuracy;
  // solvers
  int iterations = -1;
  std::string stop_reason, note;
  convergence_history history;
  bool failed = false;  // threw: `note` says what
  bool bounds_held() const;
  double rate() const { return median > 0 ? (limit == limit_kind::triad ? bytes : flops) / median : 0; }
};

/// A case ready to run: `run` is timed, `check` reads its output afterwards.
struct prepared_case {
  double bytes = 0, flops = 0;
  limit_kind limit = limit_kind::triad;
  std::function<void()> run;
  std::function<void(case_result&)> check;
  /// Solvers: one run is long; at most this many samples (0: the runner's repeat count).
  int max_samples = 0;
};

/// A case before its data exists (so that a suite never holds every case's memory at once).
struct case_def {
  std::string family, problem, precision;
  std::function<prepared_case()> prepare;
  std::string id() const { return family + "/" + problem + "/" + precision; }
};

struct suite_settings {
  suite_size size = suite_size::quick;
  int repeat = 5;                    // timed samples per case
  double min_sample_seconds = 0.05;  // each sample repeats the op until it lasts this long
};

using case_list = std::vector<case_def>;

void add_conversion_cases(case_list& cases, const suite_settings& s);
void add_blas1_cases(case_list& cases, const suite_settings& s);
void add_stencil_cases(case_list& cases, const suite_settings& s);
void add_spmv_cases(case_list& cases, const suite_settings& s);
void add_solver_cases(case_list& cases, const suite_settings& s);
void add_dense_cases(case_list& cases, const suite_settings& s);
void add_gemm_cases(case_list& cases, const suite_settings& s);
void add_quantization_cases(case_list& cases, const suite_settings& s);
void add_ai_layer_cases(case_list& cases, const suite_settings& s);
void add_attention_cases(case_list& cases, const suite_settings& s);  // family ai_layers
void add_training_cases(case_list& cases, const suite_settings& s);

/// Every family's cases for the suite size, in report order.
case_list build_suite(const suite_settings& s);

/// Keeps the cases whose id contains one of the comma-separated patterns (all if empty).
case_list select_cases(const case_list& cases, const std::string& only);

}  // namespace mixprec::compare
