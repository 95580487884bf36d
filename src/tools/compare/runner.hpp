// Runs a list of cases: builds each one's data, times it, checks it, and drops it before the
// next; reports progress on stderr (a bar with the case and the time left on a terminal,
// one plain line per case otherwise).
#pragma once

#include <string>
#include <vector>

#include "tools/compare/compare.hpp"

namespace mixprec::compare {

/// The machine's limits as measured at start-up (mixprec::limits), by limit_kind.
struct machine_limits {
  double triad = 0, fma_f64 = 0, fma_f32 = 0, dot_bf16 = 0, dot_int8 = 0;
  double of(limit_kind k) const;
  static machine_limits measure();
};

/// Times `c` as mixprec_bench does (one untimed warm-up call, then wall-clock samples,
/// each repeating the call until it lasts at least min_sample_seconds) and fills the
/// timing fields of `r`.
void time_case(const prepared_case& c, const suite_settings& s, case_result& r);

/// Runs every case; a case that throws is recorded as failed, with the error, and the run
/// goes on. Sets each result's speed-up against its problem's baseline case.
std::vector<case_result> run_cases(const case_list& cases, const suite_settings& s, const machine_limits& limits,
                                   bool quiet = false);

/// Fills baseline and speedup of every result: against the problem's f64 case, or its f32
/// case where there is no f64 one (the AI families store no f64), or its first case.
void set_speedups(std::vector<case_result>& results);

}  // namespace mixprec::compare
