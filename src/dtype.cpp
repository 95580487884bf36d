// Run-time dtype names, and the checks behind typed access to views.
#include "mixprec/dtype.hpp"

#include "internal/error_macros.hpp"
#include "mixprec/view.hpp"

namespace mixprec {

dtype parse_dtype(const std::string& name) {
  for (int i = 0; i < dtype_count; ++i)
    if (name == name_of(dtype(i))) return dtype(i);
  MIXPREC_THROW(invalid_argument, "parse_dtype", "'", name, "' is not a dtype (f64, f32, f16, bf16, i8, u8, i32)");
}

namespace detail {

void check_typed_access(dtype have, dtype want) {
  if (have != want)
    MIXPREC_THROW(invalid_argument, "view::typed", "the view holds ", name_of(have), " but was read as ",
                  name_of(want));
}

void check_view_args(const void* data, int rank, const std::int64_t* shape, const std::int64_t* strides,
                     std::size_t n_strides) {
  if (rank < 1 || rank > max_rank)
    MIXPREC_THROW(invalid_argument, "make_view", "rank ", rank, " is outside 1..", max_rank);
  if (strides && int(n_strides) != rank)
    MIXPREC_THROW(invalid_argument, "make_view", n_strides, " strides given for rank ", rank);
  std::int64_t size = 1;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0) MIXPREC_THROW(invalid_argument, "make_view", "extent ", d, " is ", shape[d], ", a negative size");
    size *= shape[d];
  }
  if (size > 0 && data == nullptr)
    MIXPREC_THROW(invalid_argument, "make_view", "data is null for a view of ", size, " elements");
}

}  // namespace detail
}  // namespace mixprec
