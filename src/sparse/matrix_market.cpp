// Matrix Market reading and writing. The reader checks every line and throws status::io
// naming the line and the defect; the result is built only once the whole file is read.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <istream>
#include <new>
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

[[noreturn]] void fail(std::int64_t line, const std::string& what) { MIXPREC_THROW(io, op, "line ", line, ": ", what); }

/// A token as it can be shown in a message: control bytes (a NUL inside "1.5") as \xNN.
std::string printable(const std::string& t) {
  std::string out;
  for (unsigned char c : t.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return t.size() > 64 ? out + "..." : out;
}

std::vector<std::string> tokens(const std::string& s) {
  std::istringstream ss(s);
  std::vector<std::string> out;
  for (std::string t; ss >> t;) out.push_back(t);
  return out;
}

/// A token must be a number as a whole: "1.5\0x" or "12abc" is rejected, not read as 1.5 or 12.
std::int64_t parse_int(const std::string& t, std::int64_t line, const char* what) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || end != t.c_str() + t.size() || errno == ERANGE)
    fail(line, detail::cat(what, " '", printable(t), "' is not an integer"));
  return v;
}

double parse_real(const std::string& t, std::int64_t line) {
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || end != t.c_str() + t.size())
    fail(line, detail::cat("value '", printable(t), "' is not a number"));
  return v;
}

/// A 1-based index from the file, checked against [1, extent] before any arithmetic on it
/// (an index of -2^63 must not be decremented), returned 0-based.
std::int64_t parse_index(const std::string& t, std::int64_t extent, std::int64_t line, const char* what) {
  const std::int64_t v = parse_int(t, line, what);
  if (v < 1 || v > extent) fail(line, detail::cat(what, " ", v, " is outside [1, ", extent, "]"));
  return v - 1;
}

/// Bytes left in a seekable stream, or -1 when the stream cannot tell (a pipe).
std::int64_t bytes_left(std::istream& in) {
  const auto here = in.tellg();
  if (here == std::streampos(-1)) return -1;
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(here);
  if (end == std::streampos(-1) || !in) {
    in.clear();
    in.seekg(here);
    return -1;
  }
  return std::int64_t(end - here);
}

/// Entries a header promises: rows x cols for a general array file, the lower triangle
/// (with or without the diagonal) for symmetric ones; -1 when that overflows 64 bits.
std::int64_t array_entries(std::int64_t rows, std::int64_t cols, symmetry s) {
  std::int64_t n = 0;
  if (s == symmetry::general) {
    if (__builtin_mul_overflow(rows, cols, &n)) return -1;
    return n;
  }
  const std::int64_t other = s == symmetry::symmetric ? rows + 1 : rows - 1;  // rows == cols
  if (rows == 0 || __builtin_mul_overflow(rows, other, &n)) return rows == 0 ? 0 : -1;
  return n / 2;
}

coo_matrix read_entries(std::istream& in) {
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
  if (head[3] == "real")
    f = field::real;
  else if (head[3] == "integer")
    f = field::integer;
  else if (head[3] == "pattern")
    f = field::pattern;
  else if (head[3] == "complex")
    fail(1, "complex matrices are not supported");
  else
    fail(1, detail::cat("field '", head[3], "' is not real, integer or pattern"));
  symmetry s;
  if (head[4] == "general")
    s = symmetry::general;
  else if (head[4] == "symmetric")
    s = symmetry::symmetric;
  else if (head[4] == "skew-symmetric")
    s = symmetry::skew;
  else if (head[4] == "hermitian")
    fail(1, "hermitian matrices are not supported");
  else
    fail(1, detail::cat("symmetry '", head[4], "' is not general, symmetric or skew-symmetric"));
  if (!coordinate && f == field::pattern) fail(1, "an array file cannot have the pattern field");

  if (!r.next()) fail(r.number, "the size line is missing");
  const auto size = tokens(r.text);
  if (size.size() != (coordinate ? 3u : 2u))
    fail(r.number,
         coordinate ? "the size line must hold rows, columns and entries" : "the size line must hold rows and columns");
  coo_matrix a(parse_int(size[0], r.number, "row count"), parse_int(size[1], r.number, "column count"));
  if (a.rows < 0 || a.cols < 0) fail(r.number, "the size is negative");
  if (s != symmetry::general && a.rows != a.cols) fail(r.number, "a symmetric or skew-symmetric matrix must be square");

  // Every entry the header promises must be backed by bytes of the file: a coordinate entry
  // takes at least "i j\n" (4 bytes), an array entry "v\n" (2), the last one without its
  // newline. Checked before any loop, so a header that declares 10^18 entries over a few
  // bytes is refused at once; a stream that cannot tell its length (a pipe) is still
  // bounded, by failing at its end.
  const std::int64_t entries =
      coordinate ? parse_int(size[2], r.number, "entry count") : array_entries(a.rows, a.cols, s);
  if (coordinate && entries < 0) fail(r.number, "the entry count is negative");
  const std::int64_t min_bytes = coordinate ? 4 : 2;
  if (entries < 0)
    fail(r.number, detail::cat("the size line declares more than 2^63 values (", size[0], " x ", size[1], ")"));
  if (const std::int64_t left = bytes_left(in); left >= 0 && entries > (left + 1) / min_bytes)
    fail(r.number, detail::cat("the size line declares ", coordinate ? size[2] : detail::cat(size[0], " x ", size[1]),
                               coordinate ? " entries" : " values", " but only ", left, " bytes follow"));

  auto add = [&](std::int64_t i, std::int64_t j, double v, std::int64_t line) {
    if (s != symmetry::general && i < j)
      fail(line, detail::cat("entry (", i + 1, ", ", j + 1, ") lies above the diagonal of a ", head[4], " file"));
    if (s == symmetry::skew && i == j) fail(line, "a skew-symmetric file stores no diagonal entries");
    a.add(i, j, v);
    if (s != symmetry::general && i != j) a.add(j, i, s == symmetry::skew ? -v : v);
  };

  if (coordinate) {
    const std::size_t want = f == field::pattern ? 2u : 3u;
    for (std::int64_t k = 0; k < entries; ++k) {
      if (!r.next()) fail(r.number, detail::cat("the file ends after ", k, " of ", entries, " entries"));
      const auto t = tokens(r.text);
      if (t.size() != want) fail(r.number, detail::cat("expected ", want, " fields, found ", t.size()));
      const std::int64_t i = parse_index(t[0], a.rows, r.number, "row index");
      const std::int64_t j = parse_index(t[1], a.cols, r.number, "column index");
      const double v = f == field::pattern   ? 1.0
                       : f == field::integer ? double(parse_int(t[2], r.number, "value"))
                                             : parse_real(t[2], r.number);
      add(i, j, v, r.number);
    }
  } else {
    // Column-major; symmetric files hold the lower triangle, skew ones the strict one. One
    // step per value read, so the work is bounded by the file, not by the declared shape
    // (a 0 x 2^63 file has no values and takes no steps).
    const std::int64_t first_row_of_column = s == symmetry::general ? 0 : s == symmetry::symmetric ? 0 : 1;
    std::int64_t i = first_row_of_column, j = 0;
    for (std::int64_t k = 0; k < entries; ++k) {
      if (!r.next()) fail(r.number, detail::cat("the file ends before entry (", i + 1, ", ", j + 1, ")"));
      const auto t = tokens(r.text);
      if (t.size() != 1) fail(r.number, detail::cat("expected 1 value, found ", t.size()));
      const double v = f == field::integer ? double(parse_int(t[0], r.number, "value")) : parse_real(t[0], r.number);
      if (v != 0) add(i, j, v, r.number);  // zeros of a dense file are not entries
      if (++i == a.rows) {
        ++j;
        i = s == symmetry::general ? 0 : j + first_row_of_column;
      }
    }
  }
  if (r.next()) fail(r.number, "unexpected data after the last entry");
  return a;
}

}  // namespace

coo_matrix read_matrix_market(std::istream& in) {
  try {
    return read_entries(in);
  } catch (const std::bad_alloc&) {
    // The entries the file holds did not fit in memory (the header alone never allocates).
    MIXPREC_THROW(out_of_memory, op, "the matrix's entries do not fit in host memory");
  }
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
