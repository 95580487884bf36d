// Row-major operands (unit column stride, any row stride), as the dense solves and the NN
// ops take them: the shape checks they share, with the error each names (row_major.cpp).
#pragma once

#include <cstdint>

#include "mixprec/context.hpp"
#include "mixprec/view.hpp"

namespace mixprec::detail {

/// A rank-1 or rank-2 view as rows x cols with row stride ld.
struct row_major {
  void* data = nullptr;
  std::int64_t rows = 0, cols = 0, ld = 0;
  dtype type = dtype::f64;
  context ctx;  // a copy: the view it came from may be a temporary (a view converted to const_view)
};

/// What a rank-1 view is: one row (an activation vector) or one column (a right-hand side).
enum class vector_as { row, column };

/// v as a row-major operand: rank 2 with unit column stride and rows that do not overlap, or
/// rank 1 and contiguous. Throws invalid_argument, unsupported or shape_mismatch naming op
/// and what otherwise (and for a view without a context).
row_major row_major_operand(const char* op, const char* what, const const_view& v, vector_as rank1);

}  // namespace mixprec::detail
