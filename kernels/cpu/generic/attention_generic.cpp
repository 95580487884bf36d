// Attention and the KV cache's kernels on one lane at a time: the reference (one thread, the
// CUDA kernels' lane bodies with four lanes in turn, so the tests check those bodies on every
// machine) and the portable attention (the tiles of attention_tiles.hpp on the context's
// threads).
#include <vector>

#include "kernels/common/attention_lanes.hpp"
#include "kernels/common/attention_tiles.hpp"
#include "kernels/common/nn_lanes.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::detail {
namespace {

using kern::reference_lanes;
using idx = std::int64_t;
using B = kern::attention_lanes;

float max_of(float x, float y) { return B::max_of(x, y); }
float plus(float x, float y) { return x + y; }

/// Rows with more visible keys are split in two and merged, as the CUDA kernel merges the
/// splits of a decode step, so the merge is checked on every machine too.
constexpr idx reference_split_above = 8;

/// Keys [t0, t1) of KV head g into run and acc, in tiles of the reference's lanes.
template <class K>
B::running reference_keys(const attention_args& a, idx g, idx t0, idx t1, const float* q, float* acc) {
  float p[reference_lanes];
  B::running run = B::start();
  for (idx t = t0; t < t1; t += reference_lanes) {
    const float tile_max =
        kern::merge_reference_lanes([&](idx l) { return B::score_lane<K>(a, g, t, t1, q, p, l); }, max_of);
    const float c = B::take_tile_max(run, tile_max);
    B::take_tile_sum(run, c, kern::merge_reference_lanes([&](idx l) { return B::probability_lane(p, run, l); }, plus));
    const idx n = std::min(reference_lanes, t1 - t);
    for (idx l = 0; l < reference_lanes; ++l) B::accumulate_lane<K>(a, g, t, n, p, c, acc, l, reference_lanes);
  }
  return run;
}

template <class T, class K>
void attention_reference(const exec_args&, const attention_args& a) {
  std::vector<float> q(std::size_t(a.head_dim)), acc(2 * q.size());
  for (idx r = 0; r < a.m * a.heads; ++r) {
    const idx i = r / a.heads, h = r % a.heads, g = B::kv_head_of(a, h), end = B::visible_keys(a, i);
    for (idx l = 0; l < reference_lanes; ++l) B::load_query<T>(a, i, h, q.data(), l, reference_lanes);
    std::fill(acc.begin(), acc.end(), 0.0f);
    const idx splits = end > reference_split_above ? 2 : 1, span = (end + splits - 1) / splits;
    B::running parts[2];
    for (idx s = 0; s < splits; ++s) {
      idx t0, t1;
      B::split_keys(end, span, s, &t0, &t1);
      parts[s] = reference_keys<K>(a, g, t0, t1, q.data(), acc.data() + s * a.head_dim);
    }
    for (idx l = 0; l < reference_lanes; ++l)
      if (splits == 1)
        B::store_lane<T>(a, i, h, acc.data(), parts[0], l, reference_lanes);
      else
        B::merge_splits_lane<T>(a, i, h, parts, acc.data(), splits, l, reference_lanes);
  }
}

template <class S, class T>
void kv_append_reference(const exec_args&, const kv_append_args& a) {
  for (idx t = 0; t < a.m; ++t)
    for (idx g = 0; g < a.kv_heads; ++g) {
      const float amax = kern::merge_reference_lanes(
          [&](idx l) { return B::append_lane_amax<T>(a, t, g, l, reference_lanes); }, max_of);
      for (idx l = 0; l < reference_lanes; ++l) B::append_lane_store<S, T>(a, t, g, amax, l, reference_lanes);
    }
}

template <class T>
void find_non_finite_reference(const exec_args&, const find_non_finite_args& a) {
  *a.at = -1;
  for (idx i = 0; i < a.rows; ++i)
    for (idx j = 0; j < a.cols; ++j)
      if (!B::finite_at<T>(a, i, j)) {
        *a.at = i * a.cols + j;
        *a.value = double(B::entry<T>(a.x, i * a.ld + j));
        return;
      }
}

attention_kernel_table reference_attention_table() {
  attention_kernel_table t{};
  auto row = [&](auto tag, int i) {
    using T = decltype(tag);
    t.fn[i][0] = &attention_reference<T, float>;
    t.fn[i][1] = &attention_reference<T, bfloat16>;
    t.fn[i][2] = &attention_reference<T, half>;
    t.fn[i][3] = &attention_reference<T, std::int8_t>;
  };
  row(float{}, 0);
  row(bfloat16{}, 1);
  row(half{}, 2);
  return t;
}

}  // namespace

void register_cpu_attention_kernels(const kernel_sink& sink) {
  const kern::variant_desc ref{"ref", backend::cpu, cpu_isa::generic, nullptr};
  kern::add_attention_table(sink, ref, reference_attention_table());
  kern::add_attention_table(sink, kern::variant_desc{"generic", backend::cpu, cpu_isa::generic, nullptr},
                            kern::attention_table_of<kern::lane1<float>, true>());
  auto add = [&](auto tag) {
    using T = decltype(tag);
    const dtype t = dtype_of<T>;
    kern::add_kernel<op_id::find_non_finite>(sink, ref, t, t, &find_non_finite_reference<T>);
    kern::add_kernel<op_id::kv_append>(sink, ref, dtype::f32, t, &kv_append_reference<float, T>);
    kern::add_kernel<op_id::kv_append>(sink, ref, dtype::bf16, t, &kv_append_reference<bfloat16, T>);
    kern::add_kernel<op_id::kv_append>(sink, ref, dtype::f16, t, &kv_append_reference<half, T>);
    kern::add_kernel<op_id::kv_append>(sink, ref, dtype::i8, t, &kv_append_reference<std::int8_t, T>);
  };
  add(float{});
  add(bfloat16{});
  add(half{});
}

}  // namespace mixprec::detail
