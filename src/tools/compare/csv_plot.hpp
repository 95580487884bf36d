// `mixprec-compare plot`: a CSV of curves (first column x, one column per curve, a header
// line naming them) drawn as a standalone SVG by the report's chart code, for the curves
// the examples write (examples/06_mixed_precision_training's training_curves.csv).
#pragma once

#include <iosfwd>
#include <string>

namespace mixprec::compare {

/// Reads the CSV from `in` and returns the SVG; throws std::invalid_argument naming the line
/// of a row that is not all numbers or has the wrong number of fields.
std::string plot_csv(std::istream& in, const std::string& title, bool log_y);

}  // namespace mixprec::compare
