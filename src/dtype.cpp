// Run-time dtype names, and the checks behind typed access to views.
#include "mixprec/dtype.hpp"

#include <cstdint>
#include <utility>

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
  bool empty = false;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 0) MIXPREC_THROW(invalid_argument, "make_view", "extent ", d, " is ", shape[d], ", a negative size");
    empty = empty || shape[d] == 0;
  }
  // The element count and the farthest element's offset must fit in 64 bits: kernels
  // compute both, and no memory is that large (a caller's sizes from a file or a header can
  // be). The product of the nonzero extents is bounded too, so that size() cannot overflow
  // on its way to a zero extent.
  // Checked with the overflow builtins, not divisions: every view an op makes passes here.
  constexpr std::int64_t limit = std::int64_t(1) << 62;
  std::int64_t product = 1, reach = 0;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] == 0) continue;
    if (__builtin_mul_overflow(product, shape[d], &product) || product > limit)
      MIXPREC_THROW(invalid_argument, "make_view", "the extents' product passes 2^62 elements at extent ", d, " (",
                    shape[d], ")");
    if (empty) continue;
    const std::int64_t s = strides ? strides[d] : 0;
    const std::int64_t step = s == INT64_MIN ? limit : (s < 0 ? -s : s);
    std::int64_t span = 0;
    if (step > 0 && (step > limit || __builtin_mul_overflow(step, shape[d] - 1, &span) ||
                     __builtin_add_overflow(reach, span, &reach) || reach > limit))
      MIXPREC_THROW(invalid_argument, "make_view", "stride ", s, " over extent ", shape[d], " at dimension ", d,
                    " reaches past 2^62 elements");
  }
  const std::int64_t size = empty ? 0 : product;
  if (size > 0 && data == nullptr)
    MIXPREC_THROW(invalid_argument, "make_view", "data is null for a view of ", size, " elements");
}

}  // namespace detail

view make_view(void* data, dtype type, int rank, const std::int64_t* shape, const std::int64_t* strides, context ctx) {
  if (rank < 1 || rank > max_rank)
    MIXPREC_THROW(invalid_argument, "make_view", "rank ", rank, " is outside 1..", max_rank);
  if (!shape) MIXPREC_THROW(invalid_argument, "make_view", "shape is null");
  const std::int64_t* e = shape;
  const std::int64_t* s = strides;
  switch (rank) {
    case 1:
      return s ? view(data, type, {e[0]}, {s[0]}, std::move(ctx)) : view(data, type, {e[0]}, {}, std::move(ctx));
    case 2:
      return s ? view(data, type, {e[0], e[1]}, {s[0], s[1]}, std::move(ctx))
               : view(data, type, {e[0], e[1]}, {}, std::move(ctx));
    case 3:
      return s ? view(data, type, {e[0], e[1], e[2]}, {s[0], s[1], s[2]}, std::move(ctx))
               : view(data, type, {e[0], e[1], e[2]}, {}, std::move(ctx));
    default:
      return s ? view(data, type, {e[0], e[1], e[2], e[3]}, {s[0], s[1], s[2], s[3]}, std::move(ctx))
               : view(data, type, {e[0], e[1], e[2], e[3]}, {}, std::move(ctx));
  }
}

}  // namespace mixprec
