// libFuzzer harness: caller-built CSR arrays (row pointers, column indices and values taken
// from the input, sizes and all) -> csr_ref::wrap, whose validation must refuse every
// structure SpMV could read out of bounds with -> SpMV -> an owned copy -> DIA (refused, or
// built) -> DIA SpMV, which must agree with CSR's sums. Anything but a matrix or a
// mixprec::error (a crash, a sanitizer report, a disagreement) is a defect.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "fuzz_input.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/error.hpp"
#include "mixprec/sparse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mixprec;
  fuzz::input in(data, size);
  // Declared sizes may lie about the arrays: the arrays hold what the input has.
  const std::int64_t rows = in.take<std::int8_t>(), cols = in.take<std::int8_t>();
  const std::size_t n_ptr = std::size_t(in.below(64)), n_idx = std::size_t(in.below(256));
  std::vector<std::int32_t> row_ptr(n_ptr), col_idx(n_idx);
  for (auto& r : row_ptr) r = in.take<std::int16_t>();
  for (auto& c : col_idx) c = in.take<std::int16_t>();
  std::vector<double> values(n_idx);
  for (auto& v : values) v = double(in.take<std::int16_t>()) / 8;
  // The caller promises rows + 1 row pointers and row_ptr[rows] column indices and values;
  // shorter arrays are a caller bug the library cannot see, so the harness keeps that
  // promise (padding with zeros) and fuzzes everything else.
  if (rows < 0 || std::size_t(rows) + 1 > row_ptr.size()) return 0;
  const std::int64_t promised = row_ptr[std::size_t(rows)];
  if (promised > std::int64_t(col_idx.size())) {
    col_idx.resize(std::size_t(promised), 0);
    values.resize(std::size_t(promised), 0.0);
  }
  try {
    const csr_ref a = csr_ref::wrap(rows, cols, row_ptr.data(), col_idx.empty() ? nullptr : col_idx.data(),
                                    values.empty() ? nullptr : values.data());
    std::vector<double> x(std::size_t(std::max<std::int64_t>(cols, 0)), 1.0), y(std::size_t(rows), 0.0),
        z(std::size_t(rows), 0.0);
    for (std::size_t j = 0; j < x.size(); ++j) x[j] = double(j % 7) - 3;
    spmv(1.0, a, make_view(x.data(), cols), 0.0, make_view(y.data(), rows));
    const csr_matrix owned = csr_matrix::copy_of(a);
    if (!owned.validate().ok) std::abort();
    try {
      const dia_matrix d(owned, 1.0 + double(in.below(8)));
      spmv(1.0, d, make_view(x.data(), cols), 0.0, make_view(z.data(), rows));
      // Both sum exact multiples of 1/8 below 2^20: exact in f64, so equal whatever the order.
      for (std::int64_t i = 0; i < rows; ++i)
        if (y[std::size_t(i)] != z[std::size_t(i)]) std::abort();
    } catch (const error&) {
      // DIA refused (too many diagonals): a named error.
    }
  } catch (const error&) {
    // A named rejection of the structure.
  }
  return 0;
}
