// SGD, AdamW and the loss scaler (mixprec/train.hpp): the parameter list checked against the
// one the first step fixed, the state kept per parameter, and one kernel call per
// (gradient dtype, model dtype) group over all of its tensors.
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/train.hpp"
#include "nn/nn_operands.hpp"

namespace mixprec {
namespace detail {

/// What the first step fixed about each parameter, and its state vectors.
struct optimizer_state {
  struct slot {
    std::int64_t n = 0;
    dtype grad = dtype::f32, model = dtype::f32;
    bool master = false, has_model = false;
    buffer m, v;  // f32, in the parameters' memory (empty until the first step needs them)
  };
  std::vector<slot> slots;
  std::int64_t steps = 0;
};

}  // namespace detail

namespace {

constexpr const char* op = "optimizer step";

/// A parameter's dtype as the kernels are keyed: an empty model is keyed f32 (not written).
dtype model_key(const parameter& p) { return p.model.ctx().empty() ? dtype::f32 : p.model.type(); }

void check_parameter(const parameter& p, std::size_t i) {
  const bool master = !p.master.ctx().empty(), model = !p.model.ctx().empty();
  if (!master && !model) MIXPREC_THROW(invalid_argument, op, "parameter ", i, " has neither master nor model");
  if (p.grad.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "parameter ", i, " has no gradient");
  const std::int64_t n = master ? p.master.size() : p.model.size();
  if (master && (p.master.type() != dtype::f32 || !p.master.is_contiguous()))
    MIXPREC_THROW(invalid_argument, op, "parameter ", i, ": master weights must be contiguous f32");
  if (model && (!detail::is_nn_storage(p.model.type()) || !p.model.is_contiguous() || p.model.size() != n))
    MIXPREC_THROW(invalid_argument, op, "parameter ", i, ": the model copy must be ", n,
                  " contiguous f32, bf16 or f16 values");
  if (!detail::is_nn_storage(p.grad.type()) || !p.grad.is_contiguous() || p.grad.size() != n)
    MIXPREC_THROW(invalid_argument, op, "parameter ", i, ": the gradient must be ", n,
                  " contiguous f32, bf16 or f16 values, not ", p.grad.size(), " of ", name_of(p.grad.type()));
  for (const context* c : {&p.master.ctx(), &p.model.ctx()})
    if (!c->empty() && !c->same_memory(p.grad.ctx()))
      MIXPREC_THROW(invalid_argument, op, "parameter ", i, ": its weights and gradient live in different memories");
  const auto bytes = [](const const_view& v) {
    const char* b = static_cast<const char*>(v.data());
    return std::make_pair(b, b + v.size() * std::int64_t(size_of(v.type())));
  };
  if (master && model) {
    const auto a = bytes(p.master), b = bytes(p.model);
    if (a.first < b.second && b.first < a.second)
      MIXPREC_THROW(invalid_argument, op, "parameter ", i, ": master and model overlap");
  }
}

}  // namespace

optimizer::optimizer() : state_(std::make_unique<detail::optimizer_state>()) {}
optimizer::~optimizer() = default;
std::int64_t optimizer::steps() const { return state_->steps; }

void optimizer::step(const std::vector<parameter>& params, double grad_scale, bool skip) {
  if (skip) return;
  if (!std::isfinite(grad_scale)) MIXPREC_THROW(invalid_argument, op, "grad_scale = ", grad_scale, " is not finite");
  for (std::size_t i = 0; i < params.size(); ++i) {
    check_parameter(params[i], i);
    if (!params[i].grad.ctx().same_memory(params[0].grad.ctx()))
      MIXPREC_THROW(invalid_argument, op, "parameter ", i, " lives in another memory than parameter 0");
  }
  detail::optimizer_args args{};
  prepare(args, state_->steps + 1);
  args.grad_scale = float(grad_scale);
  auto& slots = state_->slots;
  const bool first = state_->steps == 0 && slots.empty();
  if (!first) {
    if (params.size() != slots.size())
      MIXPREC_THROW(invalid_argument, op, "the list has ", params.size(), " parameters; the first step had ",
                    slots.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const parameter& p = params[i];
      const auto& s = slots[i];
      const std::int64_t n = p.master.ctx().empty() ? p.model.size() : p.master.size();
      if (n != s.n || p.grad.type() != s.grad || model_key(p) != s.model || s.master == p.master.ctx().empty() ||
          s.has_model == p.model.ctx().empty())
        MIXPREC_THROW(invalid_argument, op, "parameter ", i, " is not the one the first step had (", s.n, " values, ",
                      name_of(s.grad), " gradient, ", name_of(s.model), " model, ", s.master ? "with" : "without",
                      " master weights)");
      if (s.m.size() && !s.m.ctx().same_memory(p.grad.ctx()))
        MIXPREC_THROW(invalid_argument, op, "parameter ", i, " lives in another memory than at the first step");
    }
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    if (args.stochastic_rounding && model_key(params[i]) != dtype::bf16)
      MIXPREC_THROW(unsupported, op, "stochastic rounding is to bf16; parameter ", i, "'s model is ",
                    name_of(model_key(params[i])));
  if (first) {
    slots.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const parameter& p = params[i];
      auto& s = slots[i];
      s.master = !p.master.ctx().empty();
      s.has_model = !p.model.ctx().empty();
      s.n = s.master ? p.master.size() : p.model.size();
      s.grad = p.grad.type();
      s.model = model_key(p);
    }
  }
  const context& ctx = params.empty() ? context::cpu() : params[0].grad.ctx();
  const int vectors = state_vectors();
  auto zeros = [&](std::int64_t n) {
    buffer b(dtype::f32, n, ctx);
    fill(b.as_view(), 0.0);
    return b;
  };
  for (auto& s : slots) {
    if (vectors >= 1 && s.m.size() != s.n) s.m = zeros(s.n);
    if (vectors >= 2 && s.v.size() != s.n) s.v = zeros(s.n);
  }
  args.first_step = state_->steps == 0;
  // One kernel call per (gradient dtype, model dtype) over all of its tensors.
  std::map<std::pair<dtype, dtype>, std::vector<detail::optimizer_tensor>> groups;
  std::uint64_t first_index = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const parameter& p = params[i];
    auto& s = slots[i];
    groups[{s.grad, s.model}].push_back(detail::optimizer_tensor{
        s.n, s.master ? static_cast<float*>(p.master.data()) : nullptr, s.has_model ? p.model.data() : nullptr,
        p.grad.data(), s.m.size() ? static_cast<float*>(s.m.data()) : nullptr,
        s.v.size() ? static_cast<float*>(s.v.data()) : nullptr, first_index});
    first_index += std::uint64_t(s.n);
  }
  // A new noise per step: the kernels hash (seed, index), so the step enters the seed.
  args.seed = args.seed * 0x9E3779B97F4A7C15ull + std::uint64_t(state_->steps + 1);
  for (const auto& group : groups) {
    // (Named, not bound: lambdas cannot capture structured bindings before C++20.)
    const auto& types = group.first;
    const auto& tensors = group.second;
    args.tensors = tensors.data();
    args.count = std::int64_t(tensors.size());
    const detail::nn_problem problem;
    detail::dispatch<detail::op_id::optimizer>(
        *detail::state_of(ctx), types.first, types.second, &problem, accumulation::standard,
        [&](detail::kernel_fn_t<detail::op_id::optimizer> kernel, const detail::exec_args& ex) { kernel(ex, args); },
        [&] {
          return std::make_pair(detail::cat(name_of(types.first), "/", name_of(types.second)),
                                detail::cat(tensors.size(), "_tensors"));
        });
  }
  ++state_->steps;
}

namespace {
void check_rate(const char* name, double v) {
  if (!(v >= 0) || !std::isfinite(v))
    MIXPREC_THROW(invalid_argument, op, name, " = ", v, "; it must be finite and >= 0");
}
}  // namespace

void sgd::prepare(detail::optimizer_args& a, std::int64_t) const {
  check_rate("lr", o_.lr);
  check_rate("momentum", o_.momentum);
  check_rate("weight_decay", o_.weight_decay);
  if (!(o_.dampening >= 0 && o_.dampening <= 1))
    MIXPREC_THROW(invalid_argument, op, "dampening = ", o_.dampening, "; it must be in [0, 1]");
  if (o_.nesterov && (o_.momentum == 0 || o_.dampening != 0))
    MIXPREC_THROW(invalid_argument, op, "nesterov needs a momentum and zero dampening");
  a.kind = detail::optimizer_kind::sgd;
  a.lr = float(o_.lr);
  a.momentum = float(o_.momentum);
  a.dampening = float(o_.dampening);
  a.one_minus_dampening = float(1.0 - o_.dampening);
  a.weight_decay = float(o_.weight_decay);
  a.nesterov = o_.nesterov;
  a.stochastic_rounding = o_.stochastic_rounding;
  a.seed = o_.seed;
}

void adamw::prepare(detail::optimizer_args& a, std::int64_t t) const {
  check_rate("lr", o_.lr);
  check_rate("weight_decay", o_.weight_decay);
  if (!(o_.beta1 >= 0 && o_.beta1 < 1))
    MIXPREC_THROW(invalid_argument, op, "beta1 = ", o_.beta1, "; it must be in [0, 1)");
  if (!(o_.beta2 >= 0 && o_.beta2 < 1))
    MIXPREC_THROW(invalid_argument, op, "beta2 = ", o_.beta2, "; it must be in [0, 1)");
  if (!(o_.eps > 0) || !std::isfinite(o_.eps))
    MIXPREC_THROW(invalid_argument, op, "eps = ", o_.eps, "; it must be > 0");
  a.kind = detail::optimizer_kind::adamw;
  a.lr = float(o_.lr);
  a.weight_decay = float(o_.weight_decay);
  a.beta1 = float(o_.beta1);
  a.beta2 = float(o_.beta2);
  a.one_minus_beta1 = float(1.0 - o_.beta1);
  a.one_minus_beta2 = float(1.0 - o_.beta2);
  a.decay = float(1.0 - o_.lr * o_.weight_decay);
  a.eps = float(o_.eps);
  // 1 - beta^t in f64: in f32, 1 - 0.999^t loses digits for small t.
  a.bias_correction1 = float(1.0 - std::pow(o_.beta1, double(t)));
  a.bias_correction2 = float(1.0 - std::pow(o_.beta2, double(t)));
  a.stochastic_rounding = o_.stochastic_rounding;
  a.seed = o_.seed;
}

// ---- loss scaler ----

namespace {
constexpr double min_scale = 0x1p-126, max_scale = 0x1p127;
}

loss_scaler::loss_scaler(const loss_scaler_options& o) : o_(o), scale_(o.initial_scale) {
  constexpr const char* who = "loss_scaler";
  if (!(o.initial_scale >= min_scale && o.initial_scale <= max_scale))
    MIXPREC_THROW(invalid_argument, who, "initial_scale = ", o.initial_scale, "; it must be in [2^-126, 2^127]");
  if (!(o.growth_factor >= 1) || !std::isfinite(o.growth_factor))
    MIXPREC_THROW(invalid_argument, who, "growth_factor = ", o.growth_factor, "; it must be finite and >= 1");
  if (!(o.backoff_factor > 0 && o.backoff_factor < 1))
    MIXPREC_THROW(invalid_argument, who, "backoff_factor = ", o.backoff_factor, "; it must be in (0, 1)");
  if (o.growth_interval < 1) MIXPREC_THROW(invalid_argument, who, "growth_interval = ", o.growth_interval, " (>= 1)");
}

bool loss_scaler::unscale(const std::vector<view>& grads) {
  constexpr const char* who = "loss_scaler::unscale";
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const view& g = grads[i];
    if (g.ctx().empty() || !detail::is_nn_storage(g.type()) || !g.is_contiguous())
      MIXPREC_THROW(invalid_argument, who, "gradient ", i, " must be a contiguous f32, bf16 or f16 view");
  }
  bool found = false;
  for (const view& g : grads) {
    if (g.size() == 0) continue;
    const detail::unscale_args a{g.size(), g.data(), float(1.0 / scale_), &found};
    const detail::nn_problem problem;
    detail::dispatch<detail::op_id::unscale>(
        *detail::state_of(g.ctx()), g.type(), g.type(), &problem, accumulation::standard,
        [&](detail::kernel_fn_t<detail::op_id::unscale> kernel, const detail::exec_args& ex) { kernel(ex, a); },
        [&] { return std::make_pair(std::string(name_of(g.type())), detail::cat("n", g.size())); });
  }
  found_ = found;
  unscaled_ = true;
  return !found;
}

void loss_scaler::update() {
  if (!unscaled_) MIXPREC_THROW(invalid_argument, "loss_scaler::update", "no unscale() since the last update");
  unscaled_ = false;
  if (found_) {
    scale_ = std::max(min_scale, scale_ * o_.backoff_factor);
    clean_ = 0;
    ++skipped_;
    return;
  }
  if (++clean_ >= o_.growth_interval) {
    scale_ = std::min(max_scale, scale_ * o_.growth_factor);
    clean_ = 0;
  }
}

}  // namespace mixprec
