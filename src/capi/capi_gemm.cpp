// The C API's GEMM (plain and on packed weights), quantization and GGUF block formats
// (include/mixprec/mixprec.h).
#include "capi/capi_support.hpp"
#include "mixprec/gemm.hpp"

using namespace mixprec;
using namespace mixprec::capi;

namespace {

gemm_options to_gemm_options(const mixprec_gemm_options* o, const char* fn) {
  gemm_options g;
  if (!o) return g;
  check_struct(o, fn, "o", "mixprec_gemm_options_init");
  g.epilogue.scale = optional_input(o->scale, fn, "o->scale");
  g.epilogue.bias = optional_input(o->bias, fn, "o->bias");
  g.epilogue.act = to_activation(o->act, fn);
  g.epilogue.residual = optional_input(o->residual, fn, "o->residual");
  g.epilogue.out_scale = o->out_scale;
  g.epilogue.out_zero_point = o->out_zero_point;
  g.a_zero_point = o->a_zero_point;
  g.b_zero_point = o->b_zero_point;
  g.f16 = o->f16_allow_bf16_inputs ? f16_mode::allow_bf16_inputs : f16_mode::exact_f32;
  g.f32 = o->f32_allow_tf32 ? f32_mode::allow_tf32 : f32_mode::exact;
  return g;
}

quant_scheme to_scheme(const mixprec_quant_scheme* s, const char* fn) {
  check_result(s, fn, "scheme");
  quant_scheme q;
  q.target = to_dtype(s->target, fn, "scheme->target");
  q.symmetric = s->symmetric != 0;
  switch (s->granularity) {
    case MIXPREC_PER_TENSOR:
      q.granularity = quant_granularity::per_tensor;
      break;
    case MIXPREC_PER_CHANNEL:
      q.granularity = quant_granularity::per_channel;
      break;
    case MIXPREC_PER_GROUP:
      q.granularity = quant_granularity::per_group;
      break;
    default:
      MIXPREC_THROW(invalid_argument, fn, "scheme->granularity = ", int(s->granularity),
                    " is not a mixprec_quant_granularity");
  }
  q.axis = s->axis;
  q.group_size = s->group_size;
  return q;
}

block_format to_block_format(mixprec_block_format f, const char* fn) {
  if (f == MIXPREC_Q8_0) return block_format::q8_0;
  if (f == MIXPREC_Q4_0) return block_format::q4_0;
  MIXPREC_THROW(invalid_argument, fn, "format = ", int(f), " is not a mixprec_block_format");
}

std::unique_ptr<mixprec_quant_params_s> params_handle(quant_params p) {
  auto h = std::make_unique<mixprec_quant_params_s>();
  h->params = std::move(p);
  return h;
}

std::unique_ptr<mixprec_block_matrix_s> block_handle(block_matrix m) {
  auto h = std::make_unique<mixprec_block_matrix_s>();
  h->matrix = std::move(m);
  return h;
}

std::size_t checked_param_index(const quant_params& p, int64_t index, const char* fn) {
  if (index < 0 || index >= std::int64_t(p.scale.size()))
    MIXPREC_THROW(invalid_argument, fn, "index ", index, " outside [0, ", p.scale.size(), ")");
  return std::size_t(index);
}

}  // namespace

extern "C" {

// ---- GEMM -------------------------------------------------------------------------------------

void mixprec_gemm_options_init(mixprec_gemm_options* o) {
  if (!o) return;
  const gemm_options d;
  *o = mixprec_gemm_options{};
  o->struct_size = sizeof(*o);
  o->act = MIXPREC_ACT_NONE;
  o->out_scale = d.epilogue.out_scale;
  o->out_zero_point = d.epilogue.out_zero_point;
  o->a_zero_point = d.a_zero_point;
  o->b_zero_point = d.b_zero_point;
  o->f16_allow_bf16_inputs = 0;
  o->f32_allow_tf32 = 0;
}

mixprec_status mixprec_gemm(mixprec_trans ta, mixprec_trans tb, double alpha, mixprec_array a, mixprec_array b,
                            double beta, mixprec_array c, const mixprec_gemm_options* o) {
  constexpr const char* fn = "mixprec_gemm";
  return guarded([&] {
    gemm(to_trans(ta, fn, "ta"), to_trans(tb, fn, "tb"), alpha, input(a, fn, "a"), input(b, fn, "b"), beta,
         output(c, fn, "c"), to_gemm_options(o, fn));
  });
}

mixprec_status mixprec_packed_matrix_create(mixprec_array b, mixprec_trans tb, mixprec_packed_matrix* out) {
  constexpr const char* fn = "mixprec_packed_matrix_create";
  return guarded([&] {
    const const_view bv = input(b, fn, "b");
    const trans t = to_trans(tb, fn, "tb");
    check_out(out, fn);
    auto h = std::make_unique<mixprec_packed_matrix_s>();
    h->packed = packed_matrix::pack(bv, t);
    publish(std::move(h), out);
  });
}

void mixprec_packed_matrix_destroy(mixprec_packed_matrix p) { destroy(p, "mixprec_packed_matrix_destroy"); }

size_t mixprec_packed_matrix_layout(mixprec_packed_matrix p, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return deref(p, "mixprec_packed_matrix_layout", "p").packed.layout_name(); });
}

mixprec_status mixprec_gemm_packed(mixprec_trans ta, double alpha, mixprec_array a, mixprec_packed_matrix b,
                                   double beta, mixprec_array c, const mixprec_gemm_options* o) {
  constexpr const char* fn = "mixprec_gemm_packed";
  return guarded([&] {
    gemm(to_trans(ta, fn, "ta"), alpha, input(a, fn, "a"), deref(b, fn, "b").packed, beta, output(c, fn, "c"),
         to_gemm_options(o, fn));
  });
}

// ---- quantization ------------------------------------------------------------------------------

void mixprec_quant_scheme_init(mixprec_quant_scheme* s) {
  if (!s) return;
  const quant_scheme d;
  s->target = static_cast<mixprec_dtype>(d.target);
  s->symmetric = d.symmetric ? 1 : 0;
  s->granularity = MIXPREC_PER_TENSOR;
  s->axis = d.axis;
  s->group_size = d.group_size;
}

mixprec_status mixprec_quant_params_choose(mixprec_array x, const mixprec_quant_scheme* s, mixprec_quant_params* out) {
  constexpr const char* fn = "mixprec_quant_params_choose";
  return guarded([&] {
    const const_view xv = input(x, fn, "x");
    const quant_scheme q = to_scheme(s, fn);
    check_out(out, fn);
    publish(params_handle(choose_quant_params(xv, q)), out);
  });
}

mixprec_status mixprec_quant_params_create(int64_t rows, int64_t cols, const mixprec_quant_scheme* s,
                                           mixprec_quant_params* out) {
  constexpr const char* fn = "mixprec_quant_params_create";
  return guarded([&] {
    const quant_scheme q = to_scheme(s, fn);
    check_out(out, fn);
    publish(params_handle(make_quant_params(rows, cols, q)), out);
  });
}

void mixprec_quant_params_destroy(mixprec_quant_params p) { destroy(p, "mixprec_quant_params_destroy"); }

mixprec_status mixprec_quant_params_count(mixprec_quant_params p, int64_t* out) {
  constexpr const char* fn = "mixprec_quant_params_count";
  return guarded([&] {
    const quant_params& q = deref(p, fn, "p").params;
    check_result(out, fn, "out");
    *out = std::int64_t(q.scale.size());
  });
}

mixprec_status mixprec_quant_params_get(mixprec_quant_params p, int64_t index, float* scale, int32_t* zero_point) {
  constexpr const char* fn = "mixprec_quant_params_get";
  return guarded([&] {
    const quant_params& q = deref(p, fn, "p").params;
    const std::size_t i = checked_param_index(q, index, fn);
    if (scale) *scale = q.scale[i];
    if (zero_point) *zero_point = q.zero_point[i];
  });
}

mixprec_status mixprec_quant_params_set(mixprec_quant_params p, int64_t index, float scale, int32_t zero_point) {
  constexpr const char* fn = "mixprec_quant_params_set";
  return guarded([&] {
    quant_params& q = deref(p, fn, "p").params;
    const std::size_t i = checked_param_index(q, index, fn);
    q.scale[i] = scale;
    q.zero_point[i] = zero_point;
  });
}

mixprec_status mixprec_quantize(mixprec_array x, mixprec_quant_params p, mixprec_array q) {
  constexpr const char* fn = "mixprec_quantize";
  return guarded([&] { quantize(input(x, fn, "x"), deref(p, fn, "p").params, output(q, fn, "q")); });
}

mixprec_status mixprec_dequantize(mixprec_array q, mixprec_quant_params p, mixprec_array x) {
  constexpr const char* fn = "mixprec_dequantize";
  return guarded([&] { dequantize(input(q, fn, "q"), deref(p, fn, "p").params, output(x, fn, "x")); });
}

// ---- GGUF block formats --------------------------------------------------------------------------

mixprec_status mixprec_block_matrix_quantize(mixprec_array w, mixprec_block_format f, mixprec_block_matrix* out) {
  constexpr const char* fn = "mixprec_block_matrix_quantize";
  return guarded([&] {
    const const_view wv = input(w, fn, "w");
    const block_format bf = to_block_format(f, fn);
    check_out(out, fn);
    publish(block_handle(block_matrix::quantize(wv, bf)), out);
  });
}

mixprec_status mixprec_block_matrix_from_bytes(const void* data, size_t bytes, int64_t rows, int64_t cols,
                                               mixprec_block_format f, mixprec_block_matrix* out) {
  constexpr const char* fn = "mixprec_block_matrix_from_bytes";
  return guarded([&] {
    const block_format bf = to_block_format(f, fn);
    check_out(out, fn);
    publish(block_handle(block_matrix::from_bytes(data, bytes, rows, cols, bf)), out);
  });
}

void mixprec_block_matrix_destroy(mixprec_block_matrix w) { destroy(w, "mixprec_block_matrix_destroy"); }

mixprec_status mixprec_block_matrix_bytes(mixprec_block_matrix w, const void** data, size_t* bytes) {
  return guarded([&] {
    const block_matrix& m = deref(w, "mixprec_block_matrix_bytes", "w").matrix;
    if (data) *data = m.data();
    if (bytes) *bytes = m.bytes();
  });
}

mixprec_status mixprec_block_matrix_dequantize(mixprec_block_matrix w, mixprec_array out) {
  constexpr const char* fn = "mixprec_block_matrix_dequantize";
  return guarded([&] { deref(w, fn, "w").matrix.dequantize(output(out, fn, "out")); });
}

mixprec_status mixprec_block_matmul(mixprec_array x, mixprec_block_matrix w, mixprec_array y) {
  constexpr const char* fn = "mixprec_block_matmul";
  return guarded([&] { matmul(input(x, fn, "x"), deref(w, fn, "w").matrix, output(y, fn, "y")); });
}

mixprec_status mixprec_block_embedding(mixprec_block_matrix table, mixprec_array ids, mixprec_array out) {
  constexpr const char* fn = "mixprec_block_embedding";
  return guarded([&] { embedding(deref(table, fn, "table").matrix, input(ids, fn, "ids"), output(out, fn, "out")); });
}

}  // extern "C"
