// Training kernels on one lane at a time: the reference (one thread) and the portable
// kernels (rows, or flat element ranges, split among threads). The reference runs the lane
// bodies the CUDA kernels run (kernels/common/train_lanes.hpp), reference_lanes lanes in
// turn, so that the CPU tests check those bodies.
#include <functional>

#include "kernels/common/register_helpers.hpp"
#include "kernels/common/train_lanes.hpp"
#include "kernels/common/train_rows.hpp"

namespace mixprec::kern {
namespace {

template <class T>
struct train_lanes_serial {
  using idx = std::int64_t;
  using B = train_lanes;
  static constexpr idx lanes = reference_lanes;

  static void eltwise_backward(const detail::exec_args&, const detail::eltwise_backward_args& g) {
    for (idx i = 0; i < g.rows; ++i)
      for (idx j = 0; j < g.cols; ++j) B::eltwise_backward_element<T>(g, i, j);
  }

  static void softmax_backward(const detail::exec_args&, const detail::softmax_backward_args& g) {
    for (idx i = 0; i < g.rows; ++i) {
      const float sum = merge_reference_lanes([&](idx l) { return B::softmax_backward_lane_sum<T>(g, i, l, lanes); },
                                              std::plus<float>());
      for (idx l = 0; l < lanes; ++l) B::softmax_backward_lane_store<T>(g, i, sum, l, lanes);
    }
  }

  static void norm_backward(const detail::exec_args&, const detail::norm_backward_args& g) {
    if (g.rows == 0 || g.cols == 0) return;
    local_vector<norm_backward_row> rows(static_cast<std::size_t>(g.rows));
    for (idx i = 0; i < g.rows; ++i) {
      const norm_backward_sums s =
          merge_reference_lanes([&](idx l) { return B::norm_backward_lane_sums<T>(g, i, l, lanes); },
                                [](const norm_backward_sums& a, const norm_backward_sums& b) { return a.merged(b); });
      float centered = 0;
      if (g.kind == detail::norm_kind::layer) {
        const float mean = B::norm_backward_mean(g, s);
        centered = merge_reference_lanes([&](idx l) { return B::norm_backward_lane_centered<T>(g, i, mean, l, lanes); },
                                         std::plus<float>());
      }
      rows[std::size_t(i)] = B::norm_backward_coefficients(g, s, centered);
    }
    if (g.dgamma || g.dbeta)
      for (idx j = 0; j < g.cols; ++j) B::norm_backward_weight_column<T>(g, j, rows.data());
    for (idx i = 0; i < g.rows; ++i)
      for (idx j = 0; j < g.cols; ++j) B::norm_backward_dx_element<T>(g, i, j, rows[std::size_t(i)]);
  }

  static void cross_entropy(const detail::exec_args&, const detail::cross_entropy_args& g) {
    for (idx i = 0; i < g.rows; ++i) {
      const B::ce_sums row =
          merge_reference_lanes([&](idx l) { return B::ce_lane_max_sum<T>(g, i, l, lanes); }, B::ce_merged);
      const float sumexp = merge_reference_lanes([&](idx l) { return B::ce_lane_sumexp<T>(g, i, row.max, l, lanes); },
                                                 std::plus<float>());
      for (idx l = 0; l < lanes; ++l) B::ce_lane_finish<T>(g, i, row, sumexp, l, lanes);
    }
  }

  template <class M>
  static void optimizer(const detail::exec_args&, const detail::optimizer_args& g) {
    for (idx t = 0; t < g.count; ++t)
      for (idx j = 0; j < g.tensors[t].n; ++j) B::optimizer_element<T, M>(g, g.tensors[t], j);
  }

  static void unscale(const detail::exec_args&, const detail::unscale_args& g) {
    bool found = false;
    for (idx j = 0; j < g.n; ++j) found = B::unscale_element<T>(g, j) || found;
    if (found) *g.found = true;
  }
};

template <class T>
void use_lane_bodies(detail::train_kernel_table& t, int i) {
  t.eltwise_backward[i] = &train_lanes_serial<T>::eltwise_backward;
  t.softmax_backward[i] = &train_lanes_serial<T>::softmax_backward;
  t.norm_backward[i] = &train_lanes_serial<T>::norm_backward;
  t.unscale[i] = &train_lanes_serial<T>::unscale;
  t.cross_entropy[i] = &train_lanes_serial<T>::cross_entropy;
  t.optimizer[i][0] = &train_lanes_serial<T>::template optimizer<float>;
  t.optimizer[i][1] = &train_lanes_serial<T>::template optimizer<bfloat16>;
  t.optimizer[i][2] = &train_lanes_serial<T>::template optimizer<half>;
}

/// The reference table: every entry by the lane bodies.
detail::train_kernel_table reference_table() {
  detail::train_kernel_table t{};
  use_lane_bodies<float>(t, 0);
  use_lane_bodies<bfloat16>(t, 1);
  use_lane_bodies<half>(t, 2);
  return t;
}

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_train_kernels(const kernel_sink& sink) {
  kern::add_train_table(sink, kern::variant_desc{"ref", backend::cpu, cpu_isa::generic, nullptr},
                        kern::reference_table());
  kern::add_train_table(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr},
                        kern::train_table_of<kern::lane1<float>, true>());
}
}  // namespace mixprec::detail
