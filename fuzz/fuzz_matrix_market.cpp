// libFuzzer harness: bytes -> read_matrix_market -> CSR (i32 and i64) -> wrap of the CSR's
// own arrays -> SELL and CSR SpMV. Every input must end in a matrix or a mixprec::error; any
// other exception, a crash, a hang or a sanitizer report is a defect. Built and run by
// scripts/fuzz.sh (clang, ASan + UBSan).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/error.hpp"
#include "mixprec/sparse.hpp"

namespace {

// CSR needs rows + 1 row pointers and SpMV an x of cols entries, whatever the file holds:
// a hypersparse 10^9-row matrix is valid and reads fine, but building its CSR is the
// caller's call on memory. Past this size the harness stops at the triplets. No code path
// of the CSR, SELL or SpMV depends on the extent beyond a few slices; at 2^20 the corpus
// drifted to empty million-row matrices whose arrays (cleared under ASan) cut the rate from
// 12,000 to 600 inputs/s.
constexpr std::int64_t max_csr_extent = std::int64_t(1) << 14;

void multiply(const mixprec::csr_matrix& a) {
  using namespace mixprec;
  array<double> x(a.cols()), y(a.rows());
  fill(x.as_view(), 1.0);
  spmv(1.0, a, x.as_view(), 0.0, y.as_view());
  // The same arrays through wrap(), which validates them, as a simulation code would pass them.
  if (a.index_kind() == index_type::i32) {
    const csr_ref w = csr_ref::wrap(a.rows(), a.cols(), static_cast<const std::int32_t*>(a.row_ptr_data()),
                                    static_cast<const std::int32_t*>(a.col_idx_data()),
                                    static_cast<const double*>(a.values().data()));
    spmv(2.0, w, x.as_view(), 1.0, y.as_view());
    const sell_matrix s(a, 8, 8);
    spmv(1.0, s, x.as_view(), 0.5, y.as_view());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const mixprec::coo_matrix coo = mixprec::read_matrix_market(in);
    if (coo.rows > max_csr_extent || coo.cols > max_csr_extent) return 0;
    for (auto indices : {mixprec::index_type::i32, mixprec::index_type::i64}) {
      const mixprec::csr_matrix a = mixprec::csr_matrix::from_coo(coo, mixprec::dtype::f64, indices);
      if (!a.validate().ok) std::abort();  // from_coo must build a valid structure
      multiply(a);
    }
  } catch (const mixprec::error&) {
    // A named rejection: what the reader and constructors must do with bad input.
  }
  return 0;
}
