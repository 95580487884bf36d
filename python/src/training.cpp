// Python: the training kernels (mixprec/train.hpp): the layers' backward passes, attention
// for training, the fused cross-entropy, the optimizers and dynamic loss scaling.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "layer_options.hpp"
#include "mixprec/mixprec.hpp"

namespace mixprec::python {

namespace {

std::vector<parameter> parameters_of(const py::list& params) {
  std::vector<parameter> out;
  for (py::handle item : params) {
    const auto t = item.cast<py::tuple>();
    if (t.size() != 3) throw py::value_error("each parameter is a (master, model, grad) tuple; None where absent");
    out.push_back(
        {as_optional_view(t[0], true, "master"), as_optional_view(t[1], true, "model"), as_view(t[2], false, "grad")});
  }
  return out;
}

}  // namespace

void register_training(py::module_& m) {
  // ---- backward of the layers ---------------------------------------------------------------
  m.def(
      "activate_backward",
      [](py::object a, py::object dy, const std::string& act, py::object out) {
        row_major_inputs in;
        const const_view av = in(a, "a");
        py::object da = output_like(out, av);
        activate_backward(parse_activation(act), av, in(dy, "dy"), as_view(da, true, "out"));
        return da;
      },
      py::arg("a"), py::arg("dy"), py::arg("activation"), py::arg("out") = py::none(),
      "da = dy * act'(a), a the forward's input.");
  m.def(
      "swiglu_backward",
      [](py::object gate, py::object up, py::object dy) {
        row_major_inputs in;
        const const_view g = in(gate, "gate");
        py::object d_gate = new_array(g.type(), shape_of(g)), d_up = new_array(g.type(), shape_of(g));
        swiglu_backward(g, in(up, "up"), in(dy, "dy"), view_of_new(d_gate), view_of_new(d_up));
        return py::make_tuple(d_gate, d_up);
      },
      py::arg("gate"), py::arg("up"), py::arg("dy"), "Backward of silu(gate) * up: (d_gate, d_up).");
  m.def(
      "softmax_backward",
      [](py::object y, py::object dy, py::object out, double scale, bool log) {
        row_major_inputs in;
        const const_view yv = in(y, "y");
        py::object dx = output_like(out, yv);
        softmax_options o;
        o.scale = scale;
        o.log = log;
        softmax_backward(yv, in(dy, "dy"), as_view(dx, true, "out"), o);
        return dx;
      },
      py::arg("y"), py::arg("dy"), py::arg("out") = py::none(), py::arg("scale") = 1.0, py::arg("log") = false,
      "dx from the forward's output y (log-softmax: log=True).");
  m.def(
      "rms_norm_backward",
      [](py::object x, py::object dy, py::object gamma, double eps, py::object dgamma) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object dx = new_array(xv.type(), shape_of(xv));
        rms_norm_backward(xv, in.optional(gamma, "gamma"), in(dy, "dy"), view_of_new(dx),
                          as_optional_view(dgamma, true, "dgamma"), norm_opts(eps, "standard"));
        return dx;
      },
      py::arg("x"), py::arg("dy"), py::arg("gamma") = py::none(), py::arg("eps") = 1e-6, py::arg("dgamma") = py::none(),
      "dx; the row sums of dy * xhat added into dgamma (f32) when given.");
  m.def(
      "layer_norm_backward",
      [](py::object x, py::object dy, py::object gamma, double eps, py::object dgamma, py::object dbeta) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object dx = new_array(xv.type(), shape_of(xv));
        layer_norm_backward(xv, in.optional(gamma, "gamma"), in(dy, "dy"), view_of_new(dx),
                            as_optional_view(dgamma, true, "dgamma"), as_optional_view(dbeta, true, "dbeta"),
                            norm_opts(eps, "standard"));
        return dx;
      },
      py::arg("x"), py::arg("dy"), py::arg("gamma") = py::none(), py::arg("eps") = 1e-6, py::arg("dgamma") = py::none(),
      py::arg("dbeta") = py::none(), "dx; the row sums of dy * xhat (dy) added into dgamma (dbeta), f32, when given.");
  m.def(
      "linear_backward",
      [](py::object x, py::object w, py::object dy, bool want_dx, py::object dw, py::object db) {
        row_major_inputs in;
        const const_view xv = in(x, "x"), wv = in(w, "w");
        py::object dx = want_dx ? new_array(xv.type(), shape_of(xv)) : py::none();
        linear_backward(xv, wv, in(dy, "dy"), want_dx ? view_of_new(dx) : view{}, as_optional_view(dw, true, "dw"),
                        as_optional_view(db, true, "db"));
        return dx;
      },
      py::arg("x"), py::arg("w"), py::arg("dy"), py::arg("dx") = true, py::arg("dw") = py::none(),
      py::arg("db") = py::none(),
      "Backward of y = x W^T + b: returns dx = dy W (or None); dW += dy^T x and db += column sums of dy "
      "into the f32 arrays given.");
  m.def(
      "attention_forward_saved",
      [](py::object q, py::object k, py::object v, std::int64_t head_dim, double scale, bool causal) {
        row_major_inputs in;
        const const_view qv = in(q, "q"), kv = in(k, "k");
        if (qv.rank() != 2 || kv.rank() != 2 || head_dim <= 0)
          throw py::value_error("q and k must be matrices (tokens x heads * head_dim) and head_dim positive");
        const std::int64_t heads = qv.extent(1) / head_dim;
        py::object out = new_array(qv.type(), shape_of(qv));
        py::object probs = new_array(dtype::f32, {heads, qv.extent(0), kv.extent(0)});
        attention_forward_saved(qv, kv, in(v, "v"), view_of_new(out), view_of_new(probs), head_dim,
                                attention_opts(scale, causal));
        return py::make_tuple(out, probs);
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("head_dim"), py::arg("scale") = 0.0, py::arg("causal") = true,
      "Attention for training: (out, probs), probs (heads x m x L, f32) kept for attention_backward.");
  m.def(
      "attention_backward",
      [](py::object q, py::object k, py::object v, py::object probs, py::object d_out, std::int64_t head_dim,
         double scale, bool causal) {
        row_major_inputs in;
        const const_view qv = in(q, "q"), kv = in(k, "k");
        py::object dq = new_array(dtype::f32, shape_of(qv)), dk = new_array(dtype::f32, shape_of(kv));
        py::object dv = new_array(dtype::f32, shape_of(kv));
        attention_backward(qv, kv, in(v, "v"), in(probs, "probs"), in(d_out, "d_out"), view_of_new(dq), view_of_new(dk),
                           view_of_new(dv), head_dim, attention_opts(scale, causal));
        return py::make_tuple(dq, dk, dv);
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("probs"), py::arg("d_out"), py::arg("head_dim"),
      py::arg("scale") = 0.0, py::arg("causal") = true, "(dq, dk, dv), f32.");

  // ---- loss, optimizers, loss scaling ---------------------------------------------------------
  m.def(
      "cross_entropy",
      [](py::object logits, py::object labels, bool grad, int ignore_index, double smoothing,
         const std::string& reduction, double grad_scale) {
        row_major_inputs in;
        const const_view lv = in(logits, "logits");
        cross_entropy_options o;
        o.ignore_index = ignore_index;
        o.label_smoothing = smoothing;
        if (reduction != "mean" && reduction != "sum")
          throw py::value_error("reduction '" + reduction + "' (mean, sum)");
        o.reduction = reduction == "sum" ? loss_reduction::sum : loss_reduction::mean;
        o.grad_scale = grad_scale;
        py::object d = grad ? new_array(lv.type(), shape_of(lv)) : py::none();
        py::object narrowed;
        const double loss =
            cross_entropy(lv, as_index_view(labels, "labels", narrowed), grad ? view_of_new(d) : view{}, o);
        return py::make_tuple(loss, d);
      },
      py::arg("logits"), py::arg("labels"), py::arg("grad") = true, py::arg("ignore_index") = -100,
      py::arg("label_smoothing") = 0.0, py::arg("reduction") = "mean", py::arg("grad_scale") = 1.0,
      "Fused softmax cross-entropy: (loss, dlogits or None).");

  py::class_<optimizer>(m, "Optimizer")
      .def(
          "step",
          [](optimizer& o, const py::list& params, double grad_scale, bool skip) {
            o.step(parameters_of(params), grad_scale, skip);
          },
          py::arg("params"), py::arg("grad_scale") = 1.0, py::arg("skip") = false,
          "One step over [(master, model, grad), ...] (None where a copy is absent).")
      .def_property_readonly("steps", &optimizer::steps);
  py::class_<adamw, optimizer>(m, "AdamW")
      .def(py::init([](double lr, std::pair<double, double> betas, double eps, double wd, bool sr, std::uint64_t seed) {
             adamw_options o;
             o.lr = lr;
             o.beta1 = betas.first;
             o.beta2 = betas.second;
             o.eps = eps;
             o.weight_decay = wd;
             o.stochastic_rounding = sr;
             o.seed = seed;
             return std::make_unique<adamw>(o);
           }),
           py::arg("lr") = 1e-3, py::arg("betas") = std::make_pair(0.9, 0.999), py::arg("eps") = 1e-8,
           py::arg("weight_decay") = 0.01, py::arg("stochastic_rounding") = false, py::arg("seed") = 0);
  py::class_<sgd, optimizer>(m, "SGD").def(
      py::init([](double lr, double momentum, double dampening, double wd, bool nesterov, bool sr, std::uint64_t seed) {
        sgd_options o;
        o.lr = lr;
        o.momentum = momentum;
        o.dampening = dampening;
        o.weight_decay = wd;
        o.nesterov = nesterov;
        o.stochastic_rounding = sr;
        o.seed = seed;
        return std::make_unique<sgd>(o);
      }),
      py::arg("lr") = 1e-3, py::arg("momentum") = 0.0, py::arg("dampening") = 0.0, py::arg("weight_decay") = 0.0,
      py::arg("nesterov") = false, py::arg("stochastic_rounding") = false, py::arg("seed") = 0);
  py::class_<loss_scaler>(m, "LossScaler",
                          "Dynamic loss scaling (initial 2^16, x2 after 2000 clean steps, /2 on overflow).")
      .def(
          py::init([](double initial_scale, double growth_factor, double backoff_factor, std::int64_t growth_interval) {
            loss_scaler_options o;
            o.initial_scale = initial_scale;
            o.growth_factor = growth_factor;
            o.backoff_factor = backoff_factor;
            o.growth_interval = growth_interval;
            return loss_scaler(o);
          }),
          py::arg("initial_scale") = 65536.0, py::arg("growth_factor") = 2.0, py::arg("backoff_factor") = 0.5,
          py::arg("growth_interval") = 2000)
      .def_property_readonly("scale", &loss_scaler::scale)
      .def(
          "unscale",
          [](loss_scaler& s, const py::list& grads) {
            std::vector<view> views;
            for (py::handle g : grads) views.push_back(as_view(g, true, "grad"));
            return s.unscale(views);
          },
          py::arg("grads"), "Divides the gradients by the scale in place; False when one is not finite.")
      .def("update", &loss_scaler::update)
      .def_property_readonly("skipped_steps", &loss_scaler::skipped_steps);
}

}  // namespace mixprec::python
