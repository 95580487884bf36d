// row_major_operand (internal/row_major.hpp).
#include "internal/row_major.hpp"

#include "internal/error_macros.hpp"

namespace mixprec::detail {

row_major row_major_operand(const char* op, const char* what, const const_view& v, vector_as rank1) {
  if (v.ctx().empty()) MIXPREC_THROW(invalid_argument, op, what, " has no context (a default-constructed view)");
  row_major r;
  r.data = const_cast<void*>(v.data());
  r.type = v.type();
  r.ctx = v.ctx();
  if (v.rank() == 1) {
    const std::int64_t n = v.extent(0);
    if (rank1 == vector_as::row)
      r.rows = 1, r.cols = n, r.ld = n;
    else
      r.rows = n, r.cols = 1, r.ld = 1;
    if (v.stride(0) != 1 && n > 1)
      MIXPREC_THROW(unsupported, op, what, " has stride ", v.stride(0), "; a vector operand must be contiguous");
  } else if (v.rank() == 2) {
    r.rows = v.extent(0), r.cols = v.extent(1), r.ld = v.stride(0);
    if (v.stride(1) != 1 && r.cols > 1)
      MIXPREC_THROW(unsupported, op, what, " has column stride ", v.stride(1),
                    "; matrices are row-major views with unit column stride");
    if (r.rows > 1 && r.ld < r.cols)
      MIXPREC_THROW(invalid_argument, op, what, " has row stride ", r.ld, " < its ", r.cols,
                    " columns: its rows overlap");
  } else {
    MIXPREC_THROW(shape_mismatch, op, what, " must be rank 1 or 2, not rank ", v.rank());
  }
  return r;
}

}  // namespace mixprec::detail
