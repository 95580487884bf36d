// Decode attention: one token's 32 query heads over a KV cache of 8 heads x 128 dimensions
// (grouped-query, as llama-style models) stored in f32, bf16, f16 or i8. Checked against the
// f64 attention of the query and the cache's stored values with mixprec/attention.hpp's
// bound, and against the attention of the unrounded keys and values (the f64 problem).
#include <algorithm>
#include <cmath>

#include "mixprec/attention.hpp"
#include "tools/compare/reference.hpp"

namespace mixprec::compare {
namespace {

constexpr std::int64_t kv_heads = 8, heads = 32, head_dim = 128;

std::int64_t cache_tokens(suite_size s) { return s == suite_size::tiny ? 64 : s == suite_size::quick ? 4096 : 16384; }

/// One query head's attention over L keys and values (rows of head_dim) in long double, and
/// sum_j p_j |v_j| / sum_j p_j per output entry (the bound's weight).
void attend(const float* q, const std::vector<double>& k, const std::vector<double>& v, std::int64_t L, double scale,
            std::vector<long double>& out, std::vector<long double>& weight, double* delta_max) {
  std::vector<long double> s(static_cast<std::size_t>(L));
  long double mx = -INFINITY, sum = 0;
  double delta = 0;
  const double u = unit_roundoff(dtype::f32);
  for (std::int64_t j = 0; j < L; ++j) {
    long double d = 0, a = 0;
    for (std::int64_t e = 0; e < head_dim; ++e) {
      d += (long double)q[e] * k[std::size_t(j * head_dim + e)];
      a += std::fabs((long double)q[e] * k[std::size_t(j * head_dim + e)]);
    }
    s[std::size_t(j)] = scale * d;
    mx = std::max(mx, s[std::size_t(j)]);
    delta = std::max(delta, double((head_dim + 4) * u * scale * a + 8 * u));
  }
  for (auto& x : s) sum += x = std::exp(x - mx);
  out.assign(static_cast<std::size_t>(head_dim), 0.0L);
  weight.assign(static_cast<std::size_t>(head_dim), 0.0L);
  for (std::int64_t j = 0; j < L; ++j)
    for (std::int64_t e = 0; e < head_dim; ++e) {
      out[std::size_t(e)] += s[std::size_t(j)] * v[std::size_t(j * head_dim + e)] / sum;
      weight[std::size_t(e)] += s[std::size_t(j)] * std::fabs(v[std::size_t(j * head_dim + e)]) / sum;
    }
  if (delta_max) *delta_max = delta;
}

void add_decode(case_list& cases, std::int64_t L, dtype storage) {
  case_def d{"ai_layers", "attention_decode/" + std::to_string(L) + "_tokens", name_of(storage), {}};
  d.prepare = [L, storage] {
    const std::int64_t width = kv_heads * head_dim;
    auto k32 = std::make_shared<buffer>(stored_as(dtype::f32, uniform_values(L * width, 91)));
    auto v32 = std::make_shared<buffer>(stored_as(dtype::f32, uniform_values(L * width, 92)));
    auto q = std::make_shared<buffer>(stored_as(dtype::f32, uniform_values(heads * head_dim, 93)));
    auto out = std::make_shared<buffer>(dtype::f32, heads * head_dim);
    auto cache = std::make_shared<kv_cache>(L, kv_heads, head_dim, storage);
    cache->append(matrix_view(*k32, L, width), matrix_view(*v32, L, width));
    prepared_case c;
    c.bytes = double(cache->bytes());
    c.flops = 4.0 * double(heads * L * head_dim);
    c.run = [q, cache, out] {
      attention(matrix_view(*q, 1, heads * head_dim), *cache, matrix_view(*out, 1, heads * head_dim));
    };
    c.check = [q, cache, out, k32, v32, L](case_result& r) {
      const std::vector<double> got = values_of(out->as_view());
      const std::vector<double> k_all = values_of(k32->as_view()), v_all = values_of(v32->as_view());
      const double scale = 1 / std::sqrt(double(head_dim)), u = unit_roundoff(dtype::f32);
      std::vector<float> ks(static_cast<std::size_t>(L * head_dim)), vs(ks.size());
      const auto* qs = static_cast<const float*>(q->data());
      double worst = 0, worst_problem = 0;
      for (std::int64_t g = 0; g < kv_heads; ++g) {
        cache->read(g, make_view(ks.data(), {L, head_dim}), make_view(vs.data(), {L, head_dim}));
        const std::vector<double> kd(ks.begin(), ks.end()), vd(vs.begin(), vs.end());
        std::vector<double> kp(ks.size()), vp(vs.size());  // this head's unrounded keys and values
        for (std::int64_t j = 0; j < L; ++j)
          for (std::int64_t e = 0; e < head_dim; ++e) {
            kp[std::size_t(j * head_dim + e)] = k_all[std::size_t(j * kv_heads * head_dim + g * head_dim + e)];
            vp[std::size_t(j * head_dim + e)] = v_all[std::size_t(j * kv_heads * head_dim + g * head_dim + e)];
          }
        for (std::int64_t h = g * (heads / kv_heads); h < (g + 1) * (heads / kv_heads); ++h) {
          std::vector<long double> exact, weight, problem, unused;
          double delta = 0;
          attend(qs + h * head_dim, kd, vd, L, scale, exact, weight, &delta);
          attend(qs + h * head_dim, kp, vp, L, scale, problem, unused, nullptr);
          for (std::int64_t e = 0; e < head_dim; ++e) {
            const double o = got[std::size_t(h * head_dim + e)];
            const long double bound =
                u * std::fabs(exact[std::size_t(e)]) + (2 * delta + double(L + 8) * u) * weight[std::size_t(e)];
            worst = std::max(worst, double(std::fabs(o - exact[std::size_t(e)]) / bound));
            worst_problem = std::max(worst_problem, double(std::fabs(o - problem[std::size_t(e)])));
          }
        }
      }
      r.accuracy.push_back(checked_figure("max |error| / documented bound", "exact", worst, 1.0,
                                          "u_T |exact| + (2 delta + (L + 8) u) sum p |v| / sum p, against the values "
                                          "as stored"));
      r.accuracy.push_back(plain_figure("max |error|", "f64 problem", worst_problem));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

void add_attention_cases(case_list& cases, const suite_settings& s) {
  for (dtype t : {dtype::f32, dtype::bf16, dtype::f16, dtype::i8}) add_decode(cases, cache_tokens(s.size), t);
}

}  // namespace mixprec::compare
