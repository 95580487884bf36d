// The C API's transformer layers, attention over a KV cache, and training kernels
// (include/mixprec/mixprec.h).
#include <vector>

#include "capi/capi_support.hpp"
#include "mixprec/nn.hpp"

using namespace mixprec;
using namespace mixprec::capi;

namespace {

softmax_options to_softmax_options(const mixprec_softmax_options* o, const char* fn) {
  softmax_options s;
  if (!o) return s;
  check_struct(o, fn, "o", "mixprec_softmax_options_init");
  s.scale = o->scale;
  s.mask = optional_input(o->mask, fn, "o->mask");
  s.causal = o->causal != 0;
  s.causal_offset = o->causal_offset;
  s.log = o->log != 0;
  s.acc = to_accumulation(o->acc, fn);
  return s;
}

norm_options to_norm_options(double eps, mixprec_accumulation acc, const char* fn) {
  norm_options n;
  n.eps = eps;
  n.acc = to_accumulation(acc, fn);
  return n;
}

attention_options to_attention_options(double scale, int causal) {
  attention_options o;
  o.scale = scale;
  o.causal = causal != 0;
  return o;
}

std::unique_ptr<mixprec_optimizer_s> optimizer_handle(std::unique_ptr<optimizer> opt) {
  auto h = std::make_unique<mixprec_optimizer_s>();
  h->opt = std::move(opt);
  return h;
}

}  // namespace

extern "C" {

// ---- element-wise, softmax, norms -----------------------------------------------------------

mixprec_status mixprec_activate(mixprec_activation act, mixprec_array x, mixprec_array y) {
  constexpr const char* fn = "mixprec_activate";
  return guarded([&] { activate(to_activation(act, fn), input(x, fn, "x"), output(y, fn, "y")); });
}

mixprec_status mixprec_swiglu(mixprec_array gate, mixprec_array up, mixprec_array y) {
  constexpr const char* fn = "mixprec_swiglu";
  return guarded([&] { swiglu(input(gate, fn, "gate"), input(up, fn, "up"), output(y, fn, "y")); });
}

mixprec_status mixprec_add(mixprec_array a, mixprec_array b, mixprec_array y) {
  constexpr const char* fn = "mixprec_add";
  return guarded([&] { add(input(a, fn, "a"), input(b, fn, "b"), output(y, fn, "y")); });
}

mixprec_status mixprec_mul(mixprec_array a, mixprec_array b, mixprec_array y) {
  constexpr const char* fn = "mixprec_mul";
  return guarded([&] { mul(input(a, fn, "a"), input(b, fn, "b"), output(y, fn, "y")); });
}

mixprec_status mixprec_scale(double alpha, mixprec_array x, mixprec_array y) {
  constexpr const char* fn = "mixprec_scale";
  return guarded([&] { scale(alpha, input(x, fn, "x"), output(y, fn, "y")); });
}

void mixprec_softmax_options_init(mixprec_softmax_options* o) {
  if (!o) return;
  const softmax_options d;
  *o = mixprec_softmax_options{};
  o->struct_size = sizeof(*o);
  o->scale = d.scale;
  o->mask = nullptr;
  o->causal = d.causal ? 1 : 0;
  o->causal_offset = d.causal_offset;
  o->log = d.log ? 1 : 0;
  o->acc = MIXPREC_ACC_STANDARD;
}

mixprec_status mixprec_softmax(mixprec_array x, mixprec_array y, const mixprec_softmax_options* o) {
  constexpr const char* fn = "mixprec_softmax";
  return guarded([&] { softmax(input(x, fn, "x"), output(y, fn, "y"), to_softmax_options(o, fn)); });
}

mixprec_status mixprec_rms_norm(mixprec_array x, mixprec_array gamma, mixprec_array y, double eps,
                                mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_rms_norm";
  return guarded([&] {
    rms_norm(input(x, fn, "x"), optional_input(gamma, fn, "gamma"), output(y, fn, "y"), to_norm_options(eps, acc, fn));
  });
}

mixprec_status mixprec_layer_norm(mixprec_array x, mixprec_array gamma, mixprec_array beta, mixprec_array y, double eps,
                                  mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_layer_norm";
  return guarded([&] {
    layer_norm(input(x, fn, "x"), optional_input(gamma, fn, "gamma"), optional_input(beta, fn, "beta"),
               output(y, fn, "y"), to_norm_options(eps, acc, fn));
  });
}

mixprec_status mixprec_add_rms_norm(mixprec_array x, mixprec_array residual, mixprec_array gamma, mixprec_array sum,
                                    mixprec_array y, double eps, mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_add_rms_norm";
  return guarded([&] {
    add_rms_norm(input(x, fn, "x"), input(residual, fn, "residual"), optional_input(gamma, fn, "gamma"),
                 output(sum, fn, "sum"), output(y, fn, "y"), to_norm_options(eps, acc, fn));
  });
}

mixprec_status mixprec_add_layer_norm(mixprec_array x, mixprec_array residual, mixprec_array gamma, mixprec_array beta,
                                      mixprec_array sum, mixprec_array y, double eps, mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_add_layer_norm";
  return guarded([&] {
    add_layer_norm(input(x, fn, "x"), input(residual, fn, "residual"), optional_input(gamma, fn, "gamma"),
                   optional_input(beta, fn, "beta"), output(sum, fn, "sum"), output(y, fn, "y"),
                   to_norm_options(eps, acc, fn));
  });
}

mixprec_status mixprec_rope(mixprec_array x, int64_t head_dim, mixprec_array positions, double theta,
                            mixprec_rope_layout layout, int64_t rotary_dims) {
  constexpr const char* fn = "mixprec_rope";
  return guarded([&] {
    rope_options o;
    o.theta = theta;
    if (layout != MIXPREC_ROPE_HALF_SPLIT && layout != MIXPREC_ROPE_ADJACENT)
      MIXPREC_THROW(invalid_argument, fn, "layout = ", int(layout), " is not a mixprec_rope_layout");
    o.layout = layout == MIXPREC_ROPE_ADJACENT ? rope_layout::adjacent : rope_layout::half_split;
    o.rotary_dims = rotary_dims;
    rope(output(x, fn, "x"), head_dim, input(positions, fn, "positions"), o);
  });
}

mixprec_status mixprec_embedding(mixprec_array table, mixprec_array ids, mixprec_array out, mixprec_array row_scales) {
  constexpr const char* fn = "mixprec_embedding";
  return guarded([&] {
    embedding(input(table, fn, "table"), input(ids, fn, "ids"), output(out, fn, "out"),
              optional_input(row_scales, fn, "row_scales"));
  });
}

// ---- attention ----------------------------------------------------------------------------------

mixprec_status mixprec_kv_cache_create(mixprec_context ctx, int64_t capacity, int64_t kv_heads, int64_t head_dim,
                                       mixprec_dtype storage, mixprec_kv_cache* out) {
  constexpr const char* fn = "mixprec_kv_cache_create";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    const dtype st = to_dtype(storage, fn, "storage");
    check_out(out, fn);
    auto h = std::make_unique<mixprec_kv_cache_s>();
    h->cache = kv_cache(capacity, kv_heads, head_dim, st, c);
    publish(std::move(h), out);
  });
}

void mixprec_kv_cache_destroy(mixprec_kv_cache c) { destroy(c, "mixprec_kv_cache_destroy"); }

mixprec_status mixprec_kv_cache_append(mixprec_kv_cache c, mixprec_array k, mixprec_array v) {
  constexpr const char* fn = "mixprec_kv_cache_append";
  return guarded([&] { deref(c, fn, "c").cache.append(input(k, fn, "k"), input(v, fn, "v")); });
}

mixprec_status mixprec_kv_cache_truncate(mixprec_kv_cache c, int64_t tokens) {
  return guarded([&] { deref(c, "mixprec_kv_cache_truncate", "c").cache.truncate(tokens); });
}

mixprec_status mixprec_kv_cache_size(mixprec_kv_cache c, int64_t* out) {
  constexpr const char* fn = "mixprec_kv_cache_size";
  return guarded([&] {
    const kv_cache& kc = deref(c, fn, "c").cache;
    check_result(out, fn, "out");
    *out = kc.size();
  });
}

mixprec_status mixprec_attention(mixprec_array q, mixprec_kv_cache cache, mixprec_array out, double scale, int causal) {
  constexpr const char* fn = "mixprec_attention";
  return guarded([&] {
    attention(input(q, fn, "q"), deref(cache, fn, "cache").cache, output(out, fn, "out"),
              to_attention_options(scale, causal));
  });
}

// ---- training -----------------------------------------------------------------------------------

mixprec_status mixprec_activate_backward(mixprec_activation act, mixprec_array a, mixprec_array dy, mixprec_array da) {
  constexpr const char* fn = "mixprec_activate_backward";
  return guarded(
      [&] { activate_backward(to_activation(act, fn), input(a, fn, "a"), input(dy, fn, "dy"), output(da, fn, "da")); });
}

mixprec_status mixprec_softmax_backward(mixprec_array y, mixprec_array dy, mixprec_array dx,
                                        const mixprec_softmax_options* o) {
  constexpr const char* fn = "mixprec_softmax_backward";
  return guarded([&] {
    softmax_backward(input(y, fn, "y"), input(dy, fn, "dy"), output(dx, fn, "dx"), to_softmax_options(o, fn));
  });
}

mixprec_status mixprec_rms_norm_backward(mixprec_array x, mixprec_array gamma, mixprec_array dy, mixprec_array dx,
                                         mixprec_array dgamma, double eps) {
  constexpr const char* fn = "mixprec_rms_norm_backward";
  return guarded([&] {
    rms_norm_backward(input(x, fn, "x"), optional_input(gamma, fn, "gamma"), input(dy, fn, "dy"), output(dx, fn, "dx"),
                      optional_output(dgamma, fn, "dgamma"), to_norm_options(eps, MIXPREC_ACC_STANDARD, fn));
  });
}

mixprec_status mixprec_swiglu_backward(mixprec_array gate, mixprec_array up, mixprec_array dy, mixprec_array d_gate,
                                       mixprec_array d_up) {
  constexpr const char* fn = "mixprec_swiglu_backward";
  return guarded([&] {
    swiglu_backward(input(gate, fn, "gate"), input(up, fn, "up"), input(dy, fn, "dy"), output(d_gate, fn, "d_gate"),
                    output(d_up, fn, "d_up"));
  });
}

mixprec_status mixprec_layer_norm_backward(mixprec_array x, mixprec_array gamma, mixprec_array dy, mixprec_array dx,
                                           mixprec_array dgamma, mixprec_array dbeta, double eps) {
  constexpr const char* fn = "mixprec_layer_norm_backward";
  return guarded([&] {
    layer_norm_backward(input(x, fn, "x"), optional_input(gamma, fn, "gamma"), input(dy, fn, "dy"),
                        output(dx, fn, "dx"), optional_output(dgamma, fn, "dgamma"),
                        optional_output(dbeta, fn, "dbeta"), to_norm_options(eps, MIXPREC_ACC_STANDARD, fn));
  });
}

mixprec_status mixprec_linear_backward(mixprec_array x, mixprec_array w, mixprec_array dy, mixprec_array dx,
                                       mixprec_array dw, mixprec_array db) {
  constexpr const char* fn = "mixprec_linear_backward";
  return guarded([&] {
    linear_backward(input(x, fn, "x"), input(w, fn, "w"), input(dy, fn, "dy"), optional_output(dx, fn, "dx"),
                    optional_output(dw, fn, "dw"), optional_output(db, fn, "db"));
  });
}

mixprec_status mixprec_attention_forward_saved(mixprec_array q, mixprec_array k, mixprec_array v, mixprec_array out,
                                               mixprec_array probs, int64_t head_dim, double scale, int causal) {
  constexpr const char* fn = "mixprec_attention_forward_saved";
  return guarded([&] {
    attention_forward_saved(input(q, fn, "q"), input(k, fn, "k"), input(v, fn, "v"), output(out, fn, "out"),
                            output(probs, fn, "probs"), head_dim, to_attention_options(scale, causal));
  });
}

mixprec_status mixprec_attention_backward(mixprec_array q, mixprec_array k, mixprec_array v, mixprec_array probs,
                                          mixprec_array d_out, mixprec_array dq, mixprec_array dk, mixprec_array dv,
                                          int64_t head_dim, double scale, int causal) {
  constexpr const char* fn = "mixprec_attention_backward";
  return guarded([&] {
    attention_backward(input(q, fn, "q"), input(k, fn, "k"), input(v, fn, "v"), input(probs, fn, "probs"),
                       input(d_out, fn, "d_out"), output(dq, fn, "dq"), output(dk, fn, "dk"), output(dv, fn, "dv"),
                       head_dim, to_attention_options(scale, causal));
  });
}

void mixprec_cross_entropy_options_init(mixprec_cross_entropy_options* o) {
  if (!o) return;
  const cross_entropy_options d;
  *o = mixprec_cross_entropy_options{};
  o->struct_size = sizeof(*o);
  o->ignore_index = d.ignore_index;
  o->label_smoothing = d.label_smoothing;
  o->sum_reduction = d.reduction == loss_reduction::sum ? 1 : 0;
  o->grad_scale = d.grad_scale;
}

mixprec_status mixprec_cross_entropy(mixprec_array logits, mixprec_array labels, mixprec_array dlogits,
                                     const mixprec_cross_entropy_options* o, double* loss) {
  constexpr const char* fn = "mixprec_cross_entropy";
  return guarded([&] {
    cross_entropy_options c;
    if (o) {
      check_struct(o, fn, "o", "mixprec_cross_entropy_options_init");
      c.ignore_index = o->ignore_index;
      c.label_smoothing = o->label_smoothing;
      c.reduction = o->sum_reduction ? loss_reduction::sum : loss_reduction::mean;
      c.grad_scale = o->grad_scale;
    }
    const const_view lv = input(logits, fn, "logits"), yv = input(labels, fn, "labels");
    const view dv = optional_output(dlogits, fn, "dlogits");
    check_result(loss, fn, "loss");
    *loss = cross_entropy(lv, yv, dv, c);
  });
}

void mixprec_adamw_options_init(mixprec_adamw_options* o) {
  if (!o) return;
  const adamw_options d;
  *o = mixprec_adamw_options{};
  o->struct_size = sizeof(*o);
  o->lr = d.lr;
  o->beta1 = d.beta1;
  o->beta2 = d.beta2;
  o->eps = d.eps;
  o->weight_decay = d.weight_decay;
  o->stochastic_rounding = d.stochastic_rounding ? 1 : 0;
  o->seed = d.seed;
}

void mixprec_sgd_options_init(mixprec_sgd_options* o) {
  if (!o) return;
  const sgd_options d;
  *o = mixprec_sgd_options{};
  o->struct_size = sizeof(*o);
  o->lr = d.lr;
  o->momentum = d.momentum;
  o->dampening = d.dampening;
  o->weight_decay = d.weight_decay;
  o->nesterov = d.nesterov ? 1 : 0;
  o->stochastic_rounding = d.stochastic_rounding ? 1 : 0;
  o->seed = d.seed;
}

mixprec_status mixprec_optimizer_create_adamw(const mixprec_adamw_options* o, mixprec_optimizer* out) {
  constexpr const char* fn = "mixprec_optimizer_create_adamw";
  return guarded([&] {
    check_out(out, fn);
    adamw_options a;
    if (o) {
      check_struct(o, fn, "o", "mixprec_adamw_options_init");
      a.lr = o->lr;
      a.beta1 = o->beta1;
      a.beta2 = o->beta2;
      a.eps = o->eps;
      a.weight_decay = o->weight_decay;
      a.stochastic_rounding = o->stochastic_rounding != 0;
      a.seed = o->seed;
    }
    publish(optimizer_handle(std::make_unique<adamw>(a)), out);
  });
}

mixprec_status mixprec_optimizer_create_sgd(const mixprec_sgd_options* o, mixprec_optimizer* out) {
  constexpr const char* fn = "mixprec_optimizer_create_sgd";
  return guarded([&] {
    check_out(out, fn);
    sgd_options s;
    if (o) {
      check_struct(o, fn, "o", "mixprec_sgd_options_init");
      s.lr = o->lr;
      s.momentum = o->momentum;
      s.dampening = o->dampening;
      s.weight_decay = o->weight_decay;
      s.nesterov = o->nesterov != 0;
      s.stochastic_rounding = o->stochastic_rounding != 0;
      s.seed = o->seed;
    }
    publish(optimizer_handle(std::make_unique<sgd>(s)), out);
  });
}

void mixprec_optimizer_destroy(mixprec_optimizer opt) { destroy(opt, "mixprec_optimizer_destroy"); }

mixprec_status mixprec_optimizer_step(mixprec_optimizer opt, const mixprec_parameter* params, size_t count,
                                      double grad_scale, int skip) {
  constexpr const char* fn = "mixprec_optimizer_step";
  return guarded([&] {
    optimizer& o = *deref(opt, fn, "opt").opt;
    if (count > 0 && !params) MIXPREC_THROW(invalid_argument, fn, "params is NULL with count ", count);
    std::vector<parameter> list(count);
    for (size_t i = 0; i < count; ++i) {
      list[i].master = optional_output(params[i].master, fn, "params[i].master");
      list[i].model = optional_output(params[i].model, fn, "params[i].model");
      list[i].grad = input(params[i].grad, fn, "params[i].grad");
    }
    o.step(list, grad_scale, skip != 0);
  });
}

void mixprec_loss_scaler_options_init(mixprec_loss_scaler_options* o) {
  if (!o) return;
  const loss_scaler_options d;
  *o = mixprec_loss_scaler_options{};
  o->struct_size = sizeof(*o);
  o->initial_scale = d.initial_scale;
  o->growth_factor = d.growth_factor;
  o->backoff_factor = d.backoff_factor;
  o->growth_interval = d.growth_interval;
}

mixprec_status mixprec_loss_scaler_create(const mixprec_loss_scaler_options* o, mixprec_loss_scaler* out) {
  constexpr const char* fn = "mixprec_loss_scaler_create";
  return guarded([&] {
    check_out(out, fn);
    loss_scaler_options l;
    if (o) {
      check_struct(o, fn, "o", "mixprec_loss_scaler_options_init");
      l.initial_scale = o->initial_scale;
      l.growth_factor = o->growth_factor;
      l.backoff_factor = o->backoff_factor;
      l.growth_interval = o->growth_interval;
    }
    auto h = std::make_unique<mixprec_loss_scaler_s>();
    h->scaler = loss_scaler(l);
    publish(std::move(h), out);
  });
}

void mixprec_loss_scaler_destroy(mixprec_loss_scaler s) { destroy(s, "mixprec_loss_scaler_destroy"); }

mixprec_status mixprec_loss_scaler_scale(mixprec_loss_scaler s, double* out) {
  constexpr const char* fn = "mixprec_loss_scaler_scale";
  return guarded([&] {
    const loss_scaler& l = deref(s, fn, "s").scaler;
    check_result(out, fn, "out");
    *out = l.scale();
  });
}

mixprec_status mixprec_loss_scaler_unscale(mixprec_loss_scaler s, const mixprec_array* grads, size_t count,
                                           int* finite) {
  constexpr const char* fn = "mixprec_loss_scaler_unscale";
  return guarded([&] {
    loss_scaler& l = deref(s, fn, "s").scaler;
    if (count > 0 && !grads) MIXPREC_THROW(invalid_argument, fn, "grads is NULL with count ", count);
    check_result(finite, fn, "finite");
    std::vector<view> list(count);
    for (size_t i = 0; i < count; ++i) list[i] = output(grads[i], fn, "grads[i]");
    *finite = l.unscale(list) ? 1 : 0;
  });
}

mixprec_status mixprec_loss_scaler_update(mixprec_loss_scaler s) {
  return guarded([&] { deref(s, "mixprec_loss_scaler_update", "s").scaler.update(); });
}

mixprec_status mixprec_loss_scaler_skipped_steps(mixprec_loss_scaler s, int64_t* out) {
  constexpr const char* fn = "mixprec_loss_scaler_skipped_steps";
  return guarded([&] {
    const loss_scaler& l = deref(s, fn, "s").scaler;
    check_result(out, fn, "out");
    *out = l.skipped_steps();
  });
}

}  // extern "C"
