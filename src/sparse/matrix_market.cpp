// Matrix Market reading and writing. The reader checks every line and throws status::io
// naming the line and the defect; the result is built only once the whole file is read.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>

#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace {

constexpr const char* op = "read_matrix_market";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

enum class field { real, integer, pattern };
enum class symmetry { general, symmetric, skew };

struct line_reader {
  std::istream& in;
  std::int64_t number = 0;
  std::string text;

  /// Next line that is not a comment or blank; false at end of file.
  bool next() {
    while (std::getline(in, text)) {
      ++number;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      const auto first = text.find_first_not_of(" \t");
      if (first == std::string::npos || text[first] == '%') continue;
      return true;
    }
    return false;
  }
};

[[noreturn]] void fail(std::int64_t line, const std::string& what) {
  MIXPREC_THROW(io, op, "line ", line, ": ", what);
}

std::vector<std::string> tokens(const std::string& s) {
  std::istringstream ss(s);
  std::vector<std::string> out;
  for (std::string t; ss >> t;) out.push_back(t);
  return out;
}

std::int64_t parse_int(const std::string& t, std::int64_t line, const char* what) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || *end != '\0' || errno == ERANGE) fail(line, detail::cat(what, " '", t, "' is not an integer"));
  return v;
}

double parse_real(const std::string& t, std::int64_t line) {
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || *end != '\0') fail(line, detail::cat("value '", t, "' is not a number"));
  return v;
}

}  // namespace

coo_matrix read_matrix_market(std::istream& in) {
  line_reader r{in, 0, {}};
  if (!std::getline(in, r.text)) fail(1, "the file is empty");
  r.number = 1;
  const auto head = tokens(lower(r.text));
  if (head.size() != 5 || head[0] != "%%matrixmarket")
    fail(1, "the header must read '%%MatrixMarket matrix <format> <field> <symmetry>'");
  if (head[1] != "matrix") fail(1, detail::cat("object '", head[1], "' is not supported (only 'matrix')"));
  const bool coordinate = head[2] == "coordinate";
  if (!coordinate && head[2] != "array") fail(1, detail::cat("format '", head[2], "' is neither coordinate nor array"));
  field f;
  if (head[3] == "real") f = field::real;
  else if (head[3] == "integer") f = field::integer;
  else if (head[3] == "pattern") f = field::pattern;
  else if (head[3] == "complex") fail(1, "complex matrices are not supported");
  else fail(1, detail::cat("field '", head[3], "' is not real, integer or pattern"));
  symmetry s;
  if (head[4] == "general") s = symmetry::general;
  else if (head[4] == "symmetric") s = symmetry::symmetric;
  else if (head[4] == "skew-symmetric") s = symmetry::skew;
  else if (head[4] == "hermitian") fail(1, "hermitian matrices are not supported");
  else fail(1, detail::cat("symmetry '", head[4], "' is not general, symmetric or skew-symmetric"));
  if (!coordinate && f == field::pattern) fail(1, "an array file cannot have the pattern field");

  if (!r.next()) fail(r.number, "the size line is missing");
  const auto size = tokens(r.text);
  if (size.size() != (coordinate ? 3u : 2u))
    fail(r.number, coordinate ? "the size line must hold rows, columns and entries" : "the size line must hold rows and columns");
  coo_matrix a(parse_int(size[0], r.number, "row count"), parse_int(size[1], r.number, "column count"));
  if (a.rows < 0 || a.cols < 0) fail(r.number, "the size is negative");
  if (s != symmetry::general && a.rows != a.cols) fail(r.number, "a symmetric or skew-symmetric matrix must be square");

  auto add = [&](std::int64_t i, std::int64_t j, double v, std::int64_t line) {
    if (s != symmetry::general && i < j) fail(line, detail::cat("entry (", i + 1, ", ", j + 1, ") lies above the diagonal of a ", head[4], " file"));
    if (s == symmetry::skew && i == j) fail(line, "a skew-symmetric file stores no diagonal entries");
    a.add(i, j, v);
    if (s != symmetry::general && i != j) a.add(j, i, s == symmetry::skew ? -v : v);
  };

  if (coordinate) {
    const std::int64_t entries = parse_int(size[2], r.number, "entry count");
    if (entries < 0) fail(r.number, "the entry count is negative");
    const std::size_t want = f == field::pattern ? 2u : 3u;
    for (std::int64_t k = 0; k < entries; ++k) {
      if (!r.next()) fail(r.number, detail::cat("the file ends after ", k, " of ", entries, " entries"));
      const auto t = tokens(r.text);
      if (t.size() != want) fail(r.number, detail::cat("expected ", want, " fields, found ", t.size()));
      const std::int64_t i = parse_int(t[0], r.number, "row index") - 1, j = parse_int(t[1], r.number, "column index") - 1;
      if (i < 0 || i >= a.rows || j < 0 || j >= a.cols)
        fail(r.number, detail::cat("entry (", i + 1, ", ", j + 1, ") is outside the ", a.rows, " x ", a.cols, " matrix"));
      const double v = f == field::pattern ? 1.0 : f == field::integer ? double(parse_int(t[2], r.number, "value")) : parse_real(t[2], r.number);
      add(i, j, v, r.number);
    }
  } else {
    // Column-major; symmetric files hold the lower triangle, skew ones the strict one.
    for (std::int64_t j = 0; j < a.cols; ++j)
      for (std::int64_t i = s == symmetry::general ? 0 : s == symmetry::symmetric ? j : j + 1; i < a.rows; ++i) {
        if (!r.next()) fail(r.number, detail::cat("the file ends before entry (", i + 1, ", ", j + 1, ")"));
        const auto t = tokens(r.text);
        if (t.size() != 1) fail(r.number, detail::cat("expected 1 value, found ", t.size()));
        const double v = f == field::integer ? double(parse_int(t[0], r.number, "value")) : parse_real(t[0], r.number);
        if (v != 0) add(i, j, v, r.number);  // zeros of a dense file are not entries
      }
  }
  if (r.next()) fail(r.number, "unexpected data after the last entry");
  return a;
}

coo_matrix read_matrix_market(const std::string& path) {
  std::ifstream in(path);
  if (!in) MIXPREC_THROW(io, op, "cannot open '", path, "'");
  return read_matrix_market(in);
}

void write_matrix_market(std::ostream& out, const coo_matrix& a) {
  out << "%%MatrixMarket matrix coordinate real general\n% written by mixprec\n"
      << a.rows << " " << a.cols << " " << a.nnz() << "\n";
  char buf[64];
  for (std::int64_t k = 0; k < a.nnz(); ++k) {
    std::snprintf(buf, sizeof buf, "%.17g", a.value[k]);
    out << a.row[k] + 1 << " " << a.col[k] + 1 << " " << buf << "\n";
  }
  if (!out) MIXPREC_THROW(io, "write_matrix_market", "writing failed");
}

void write_matrix_market(const std::string& path, const coo_matrix& a) {
  std::ofstream out(path);
  if (!out) MIXPREC_THROW(io, "write_matrix_market", "cannot open '", path, "' for writing");
  write_matrix_market(out, a);
}

}  // namespace mixprec
