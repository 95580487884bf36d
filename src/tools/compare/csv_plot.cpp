#include "tools/compare/csv_plot.hpp"

#include <istream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tools/compare/svg_chart.hpp"

namespace mixprec::compare {
namespace {

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream s(line);
  std::string field;
  while (std::getline(s, field, ',')) f.push_back(field);
  return f;
}

}  // namespace

std::string plot_csv(std::istream& in, const std::string& title, bool log_y) {
  std::string line;
  if (!std::getline(in, line)) throw std::invalid_argument("the CSV is empty: a header line is needed");
  const std::vector<std::string> names = fields_of(line);
  if (names.size() < 2)
    throw std::invalid_argument("the CSV header names " + std::to_string(names.size()) +
                                " column(s); x and at least one curve are needed");
  std::vector<std::vector<double>> columns(names.size());
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> f = fields_of(line);
    if (f.size() != names.size())
      throw std::invalid_argument("line " + std::to_string(number) + " has " + std::to_string(f.size()) +
                                  " fields, the header " + std::to_string(names.size()));
    for (std::size_t c = 0; c < f.size(); ++c) {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(f[c], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != f[c].size())
        throw std::invalid_argument("line " + std::to_string(number) + ": '" + f[c] + "' is not a number");
      columns[c].push_back(v);
    }
  }
  svg_chart chart(title, names[0], log_y ? "value (log scale)" : "value", false, log_y);
  for (std::size_t c = 1; c < names.size(); ++c)
    chart.add_series(columns[0], columns[c], names[c], colour_of(names[c]));
  return chart.render("plot", 720, 420);
}

}  // namespace mixprec::compare
