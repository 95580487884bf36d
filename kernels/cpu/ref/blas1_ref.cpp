// The scalar reference kernels: every (op, dtype) and every convert pair (vectors, and
// grids of floating dtypes), one thread, always registered. They are the fallback when nothing faster applies and the
// second oracle of the tests.
#include "kernels/common/blas1_chunked.hpp"
#include "kernels/common/convert_grid_point.hpp"
#include "kernels/common/dtype_list.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {

void register_cpu_ref_kernels(const kernel_sink& sink) {
  using serial = kern::chunked<false>;
  const kern::variant_desc v{"ref", backend::cpu, cpu_isa::generic, nullptr};
#define MIXPREC_ADD(T, N) kern::add_blas1_set<serial::blas1, T>(sink, v);
  MIXPREC_FOR_EACH_DTYPE(MIXPREC_ADD)
#undef MIXPREC_ADD
  kern::add_cg_update<serial::blas1>(sink, v);
  kern::add_diagonal_ops<serial::blas1>(sink, v);
  kern::add_multi_vector_ops<serial::blas1>(sink, v);
  kern::add_row_dots<serial::blas1>(sink, v);
  kern::add_dcgs2_ops<serial::blas1>(sink, v);
#define MIXPREC_ADD(S, SN, D, DN) kern::add_convert<serial::convert, S, D>(sink, v);
  MIXPREC_FOR_EACH_DTYPE_PAIR(MIXPREC_ADD)
#undef MIXPREC_ADD
#define MIXPREC_ADD(S, SN, D, DN) \
  kern::add_kernel<op_id::convert_grid>(sink, v, dtype_of<S>, dtype_of<D>, &kern::convert_grid_serial<S, D>);
  MIXPREC_FOR_EACH_FLOAT_PAIR(MIXPREC_ADD)
#undef MIXPREC_ADD
}

}  // namespace mixprec::detail
