// Row-wise NN kernels on one lane at a time: the reference (one thread) and the portable
// kernels (rows, or flat element ranges, split among threads), in f32 or, for
// accumulation::f64, with f64 statistics and arithmetic.
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::kern {
namespace {

template <class T, bool Parallel>
struct nn_scalar {
  static void eltwise(const detail::exec_args& ex, const detail::eltwise_args& a) {
    nn_rows<lane1<float>>::eltwise<T, Parallel>(ex, a);
  }
  static void softmax(const detail::exec_args& ex, const detail::softmax_args& a) {
    if (a.acc == accumulation::f64)
      nn_rows<lane1<double>>::softmax<T, Parallel>(ex, a);
    else
      nn_rows<lane1<float>>::softmax<T, Parallel>(ex, a);
  }
  static void norm(const detail::exec_args& ex, const detail::norm_args& a) {
    if (a.acc == accumulation::f64)
      nn_rows<lane1<double>>::norm<T, Parallel>(ex, a);
    else
      nn_rows<lane1<float>>::norm<T, Parallel>(ex, a);
  }
};

template <bool Parallel>
void add_nn(const detail::kernel_sink& sink, const variant_desc& v) {
  auto one = [&](auto tag) {
    using T = decltype(tag);
    const dtype t = dtype_of<T>;
    add_kernel<detail::op_id::eltwise>(sink, v, t, t, &nn_scalar<T, Parallel>::eltwise);
    add_kernel<detail::op_id::softmax>(sink, v, t, t, &nn_scalar<T, Parallel>::softmax);
    add_kernel<detail::op_id::norm>(sink, v, t, t, &nn_scalar<T, Parallel>::norm);
    add_kernel<detail::op_id::rope>(sink, v, t, t, &nn_rope<lane1<float>>::rope<T, Parallel>);
  };
  one(float{});
  one(bfloat16{});
  one(half{});
}

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_nn_kernels(const kernel_sink& sink) {
  kern::add_nn<false>(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr});
  kern::add_nn<true>(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr});
}
}  // namespace mixprec::detail
