// Row-wise NN kernels one element at a time: the reference (one thread, the lane bodies the
// CUDA kernels run: kernels/common/nn_lanes.hpp) and the portable kernels (rows, or flat
// element ranges, split among threads), in f32 or, for accumulation::f64, with f64
// statistics and arithmetic; and the embedding lookup's, by the same element body.
#include <functional>
#include <limits>

#include "kernels/common/nn_lanes.hpp"
#include "kernels/common/nn_rows.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::kern {
namespace {

/// The portable kernels: nn_rows.hpp on one lane, rows split among the threads.
template <class T>
struct nn_portable {
  static void eltwise(const detail::exec_args& ex, const detail::eltwise_args& a) {
    nn_rows<lane1<float>>::eltwise<T, true>(ex, a);
  }
  static void softmax(const detail::exec_args& ex, const detail::softmax_args& a) {
    if (a.acc == accumulation::f64)
      nn_rows<lane1<double>>::softmax<T, true>(ex, a);
    else
      nn_rows<lane1<float>>::softmax<T, true>(ex, a);
  }
  static void norm(const detail::exec_args& ex, const detail::norm_args& a) {
    if (a.acc == accumulation::f64)
      nn_rows<lane1<double>>::norm<T, true>(ex, a);
    else
      nn_rows<lane1<float>>::norm<T, true>(ex, a);
  }
  static void rope(const detail::exec_args& ex, const detail::rope_args& a) {
    nn_rope<lane1<float>>::rope<T, true>(ex, a);
  }
};

/// The reference: every row by nn_lanes' steps on one thread, reference_lanes lanes in turn,
/// so that the CPU tests check the bodies the CUDA kernels run.
template <class T>
struct nn_lanes_serial {
  using idx = std::int64_t;
  static constexpr idx lanes = reference_lanes;

  static void eltwise(const detail::exec_args&, const detail::eltwise_args& g) {
    for (idx i = 0; i < g.rows; ++i)
      for (idx j = 0; j < g.cols; ++j) nn_lanes<float>::eltwise_element<T>(g, i, j);
  }
  template <class A>
  static void softmax_rows(const detail::softmax_args& g) {
    using B = nn_lanes<A>;
    for (idx i = 0; i < g.rows; ++i) {
      const idx len = B::softmax_length(g, i);
      const A max =
          merge_reference_lanes([&](idx l) { return B::template softmax_lane_max<T>(g, i, len, l, lanes); }, B::max_of);
      A sum = 0;
      if (max != -std::numeric_limits<A>::infinity())
        sum = merge_reference_lanes([&](idx l) { return B::template softmax_lane_sum<T>(g, i, len, max, l, lanes); },
                                    std::plus<A>());
      for (idx l = 0; l < lanes; ++l) B::template softmax_lane_store<T>(g, i, len, max, sum, l, lanes);
    }
  }
  static void softmax(const detail::exec_args&, const detail::softmax_args& g) {
    if (g.acc == accumulation::f64)
      softmax_rows<double>(g);
    else
      softmax_rows<float>(g);
  }
  template <class A>
  static void norm_rows(const detail::norm_args& g) {
    using B = nn_lanes<A>;
    for (idx i = 0; i < g.rows; ++i) {
      const A first =
          merge_reference_lanes([&](idx l) { return B::template norm_lane_first<T>(g, i, l, lanes); }, std::plus<A>());
      A mean = 0, inv;
      if (g.kind == detail::norm_kind::rms) {
        inv = B::norm_inverse(g, first);
      } else {
        mean = B::norm_mean(g, first);
        inv = B::norm_inverse(
            g, merge_reference_lanes([&](idx l) { return B::template norm_lane_centered<T>(g, i, mean, l, lanes); },
                                     std::plus<A>()));
      }
      for (idx l = 0; l < lanes; ++l) B::template norm_lane_store<T>(g, i, mean, inv, l, lanes);
    }
  }
  static void norm(const detail::exec_args&, const detail::norm_args& g) {
    if (g.acc == accumulation::f64)
      norm_rows<double>(g);
    else
      norm_rows<float>(g);
  }
  static void rope(const detail::exec_args&, const detail::rope_args& g) {
    for (idx i = 0; i < g.rows; ++i)
      for (idx h = 0; h < g.heads; ++h)
        for (idx k = 0; k < g.rot_dims / 2; ++k) nn_lanes<float>::rope_pair<T>(g, i, h, k);
  }
};

/// Embedding lookup by embedding_lanes' bodies: ids checked in order first, then the rows
/// gathered on one thread (Parallel false: the reference) or split among the context's.
template <class S, class T, bool Parallel>
void embedding(const detail::exec_args& ex, const detail::embedding_args& g) {
  using idx = std::int64_t;
  *g.bad_at = -1;
  for (idx t = 0; t < g.n; ++t)
    if (!embedding_lanes::id_in_range(g, t)) {
      *g.bad_at = t;
      *g.bad_id = g.ids[t];
      return;
    }
  nn_rows<lane1<float>>::split_rows<Parallel>(ex, g.n, g.d, [&](idx b, idx e) {
    for (idx t = b; t < e; ++t)
      for (idx j = 0; j < g.d; ++j) embedding_lanes::element<S, T>(g, t, j);
  });
}

/// Registers embedding<S, T> for every table dtype S and output dtype T.
template <bool Parallel>
void add_embedding(const detail::kernel_sink& sink, const variant_desc& v) {
  auto for_out = [&](auto out_tag) {
    using T = decltype(out_tag);
    const dtype t = dtype_of<T>;
    add_kernel<detail::op_id::embedding>(sink, v, dtype::f32, t, &embedding<float, T, Parallel>);
    add_kernel<detail::op_id::embedding>(sink, v, dtype::bf16, t, &embedding<bfloat16, T, Parallel>);
    add_kernel<detail::op_id::embedding>(sink, v, dtype::f16, t, &embedding<half, T, Parallel>);
    add_kernel<detail::op_id::embedding>(sink, v, dtype::i8, t, &embedding<std::int8_t, T, Parallel>);
    add_kernel<detail::op_id::embedding>(sink, v, dtype::u8, t, &embedding<std::uint8_t, T, Parallel>);
  };
  for_out(float{});
  for_out(bfloat16{});
  for_out(half{});
}

template <class Kernels>
void add_nn_ops(const detail::kernel_sink& sink, const variant_desc& v, dtype t) {
  add_kernel<detail::op_id::eltwise>(sink, v, t, t, &Kernels::eltwise);
  add_kernel<detail::op_id::softmax>(sink, v, t, t, &Kernels::softmax);
  add_kernel<detail::op_id::norm>(sink, v, t, t, &Kernels::norm);
  add_kernel<detail::op_id::rope>(sink, v, t, t, &Kernels::rope);
}

/// Registers Kernels<T> for f32, bf16 and f16 storage.
template <template <class> class Kernels>
void add_nn(const detail::kernel_sink& sink, const variant_desc& v) {
  add_nn_ops<Kernels<float>>(sink, v, dtype::f32);
  add_nn_ops<Kernels<bfloat16>>(sink, v, dtype::bf16);
  add_nn_ops<Kernels<half>>(sink, v, dtype::f16);
}

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_nn_kernels(const kernel_sink& sink) {
  const kern::variant_desc ref{"ref", backend::cpu, cpu_isa::generic, nullptr};
  const kern::variant_desc generic{"generic", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_nn<kern::nn_lanes_serial>(sink, ref);
  kern::add_nn<kern::nn_portable>(sink, generic);
  kern::add_embedding<false>(sink, ref);
  kern::add_embedding<true>(sink, generic);
}
}  // namespace mixprec::detail
