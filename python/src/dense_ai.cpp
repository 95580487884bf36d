// Python: dense mixed-precision solves, GEMM (plain and on packed weights) and quantization,
// GGUF block formats, transformer layers with a KV cache (training: training.cpp).
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "layer_options.hpp"
#include "mixprec/mixprec.hpp"

namespace mixprec::python {

namespace {

/// The default C dtype of a GEMM: f64 for f64, i32 for integers, f32 otherwise.
dtype gemm_result_type(dtype a) {
  if (a == dtype::f64) return dtype::f64;
  if (a == dtype::i8 || a == dtype::u8) return dtype::i32;
  return dtype::f32;
}

quant_granularity parse_granularity(const std::string& s) {
  if (s == "per_tensor") return quant_granularity::per_tensor;
  if (s == "per_channel") return quant_granularity::per_channel;
  if (s == "per_group") return quant_granularity::per_group;
  throw py::value_error("granularity '" + s + "' (per_tensor, per_channel, per_group)");
}

block_format parse_block_format(const std::string& s) {
  if (s == "q8_0") return block_format::q8_0;
  if (s == "q4_0") return block_format::q4_0;
  throw py::value_error("block format '" + s + "' (q8_0, q4_0)");
}

dense_refinement_options dense_options(const std::string& factorization, bool gmres, bool pivoting, int max_iterations,
                                       bool fallback, bool scale) {
  dense_refinement_options o;
  if (factorization != "f64" && factorization != "f32" && factorization != "bf16" && factorization != "f16")
    throw py::value_error("factorization '" + factorization + "' (f64, f32, bf16, f16)");
  o.policy.matrix = parse_dtype(factorization);
  o.gmres = gmres;
  o.pivoting = pivoting;
  o.max_iterations = max_iterations;
  o.fallback = fallback;
  o.scale = scale;
  return o;
}

}  // namespace

void register_dense_ai(py::module_& m) {
  // ---- dense solves ------------------------------------------------------------------------
  py::class_<dense_solve_report, solve_report>(m, "DenseSolveReport")
      .def_readonly("backward_error", &dense_solve_report::backward_error)
      .def_readonly("path", &dense_solve_report::path)
      .def_readonly("diagonal_shift", &dense_solve_report::diagonal_shift);
  using dense_solver = dense_solve_report (*)(const_view, const_view, view, const dense_refinement_options&);
  const auto bind_dense_solve = [&m](const char* name, dense_solver solver, const char* doc) {
    m.def(
        name,
        [solver](py::object a, py::object b, const std::string& factorization, bool gmres, bool pivoting,
                 int max_iterations, bool fallback, bool scale) {
          const const_view av = as_view(a, false, "a"), bv = as_view(b, false, "b");
          py::object x = new_array(dtype::f64, shape_of(bv));
          const dense_refinement_options o =
              dense_options(factorization, gmres, pivoting, max_iterations, fallback, scale);
          const view xv = view_of_new(x);
          dense_solve_report r;
          {
            py::gil_scoped_release nogil;
            r = solver(av, bv, xv, o);
          }
          return py::make_tuple(x, r);
        },
        py::arg("a"), py::arg("b"), py::arg("factorization") = "f32", py::arg("gmres") = false,
        py::arg("pivoting") = true, py::arg("max_iterations") = 30, py::arg("fallback") = true, py::arg("scale") = true,
        doc);
  };
  bind_dense_solve("gesv_ir", &gesv_ir,
                   "A x = b (a: n x n f64) to f64 accuracy with the LU in f64, f32, bf16 or f16: "
                   "(x, DenseSolveReport).");
  bind_dense_solve("posv_ir", &posv_ir,
                   "A x = b for symmetric positive definite a (n x n f64) to f64 accuracy with the Cholesky "
                   "factorization in f64, f32, bf16 or f16: (x, DenseSolveReport).");
  py::class_<dense_ir_solver>(m, "DenseSolver",
                              "gesv_ir / posv_ir (spd=True) with A factored once, for many solve(b) calls; "
                              "A is referenced (kept alive), not copied, and must not change.",
                              py::dynamic_attr())
      .def(py::init([](py::object a, const std::string& factorization, bool gmres, bool pivoting, int max_iterations,
                       bool fallback, bool scale, bool spd) {
             const const_view av = as_view(a, false, "a");
             const dense_refinement_options o =
                 dense_options(factorization, gmres, pivoting, max_iterations, fallback, scale);
             py::gil_scoped_release nogil;
             return spd ? dense_ir_solver::cholesky(av, o) : dense_ir_solver(av, o);
           }),
           py::keep_alive<1, 2>(), py::arg("a"), py::arg("factorization") = "f32", py::arg("gmres") = false,
           py::arg("pivoting") = true, py::arg("max_iterations") = 30, py::arg("fallback") = true,
           py::arg("scale") = true, py::arg("spd") = false)
      .def(
          "solve",
          [](dense_ir_solver& s, py::object b) {
            const const_view bv = as_view(b, false, "b");
            py::object x = new_array(dtype::f64, shape_of(bv));
            const view xv = view_of_new(x);
            dense_solve_report r;
            {
              py::gil_scoped_release nogil;
              r = s.solve(bv, xv);
            }
            return py::make_tuple(x, r);
          },
          py::arg("b"), "x = A^-1 b (n or n x nrhs) by refinement on the kept factorization: (x, DenseSolveReport).")
      .def(
          "refactor",
          [](py::object self, py::object a) {
            dense_ir_solver& s = self.cast<dense_ir_solver&>();
            const const_view av = as_view(a, false, "a");
            {
              py::gil_scoped_release nogil;
              s.refactor(av);
            }
            self.attr("_refactored_a") = a;  // referenced like the first A, kept alive while it is
          },
          py::arg("a"),
          "Factors a new matrix of the same size in A's place, in the memory of the earlier factors "
          "(a sequence of matrices of one size without an n^2 allocation each).")
      .def_property_readonly("n", &dense_ir_solver::size);

  // ---- GEMM, quantization -----------------------------------------------------------------
  py::class_<packed_matrix>(m, "PackedMatrix", "GEMM weights packed once: PackedMatrix(b, trans=False).")
      .def(py::init([](py::object b, bool t) {
             return packed_matrix::pack(as_view(b, false, "b"), t ? trans::yes : trans::no);
           }),
           py::arg("b"), py::arg("trans") = false)
      .def_property_readonly("shape", [](const packed_matrix& p) { return py::make_tuple(p.rows(), p.cols()); })
      .def_property_readonly("layout", &packed_matrix::layout_name)
      .def_property_readonly("dtype", [](const packed_matrix& p) { return std::string(name_of(p.type())); });

  m.def(
      "gemm",
      [](py::object a, py::object b, py::object c, double alpha, double beta, bool trans_a, bool trans_b,
         py::object out_dtype, int a_zero_point, int b_zero_point, py::object scale, py::object bias,
         const std::string& act, py::object residual) {
        const const_view av = as_view(a, false, "a");
        gemm_options o;
        o.a_zero_point = a_zero_point;
        o.b_zero_point = b_zero_point;
        o.epilogue.scale = as_optional_view(scale, false, "scale");
        o.epilogue.bias = as_optional_view(bias, false, "bias");
        o.epilogue.act = parse_activation(act);
        o.epilogue.residual = as_optional_view(residual, false, "residual");
        const trans ta = trans_a ? trans::yes : trans::no;
        const bool packed = py::isinstance<packed_matrix>(b);
        const std::int64_t m_rows = av.extent(av.rank() - (trans_a ? 1 : 2));
        std::int64_t n_cols = 0;
        const_view bv;
        if (packed) {
          n_cols = b.cast<const packed_matrix&>().cols();
        } else {
          bv = as_view(b, false, "b");
          n_cols = bv.extent(bv.rank() - (trans_b ? 2 : 1));
        }
        py::object out = c;
        if (out.is_none()) {
          const dtype t = out_dtype.is_none() ? (o.epilogue.scale.empty() ? gemm_result_type(av.type()) : dtype::f32)
                                              : parse_dtype(out_dtype.cast<std::string>());
          std::vector<std::int64_t> shape = {m_rows, n_cols};
          if (av.rank() == 3) shape.insert(shape.begin(), av.extent(0));
          out = new_array(t, shape);
          beta = 0;
        }
        const view cv = as_view(out, true, "c");
        py::gil_scoped_release nogil;
        if (packed)
          gemm(ta, alpha, av, b.cast<const packed_matrix&>(), beta, cv, o);
        else
          gemm(ta, trans_b ? trans::yes : trans::no, alpha, av, bv, beta, cv, o);
        return out;
      },
      py::arg("a"), py::arg("b"), py::arg("c") = py::none(), py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
      py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("out_dtype") = py::none(),
      py::arg("a_zero_point") = 0, py::arg("b_zero_point") = 0, py::arg("scale") = py::none(),
      py::arg("bias") = py::none(), py::arg("activation") = "none", py::arg("residual") = py::none(),
      "C = act(alpha op(A) op(B) * scale + bias + beta C) + residual; b may be a PackedMatrix. Integer inputs give "
      "int32 (or f32 with a scale).");

  py::class_<quant_params>(m, "QuantParams", "Scales and zero points of a quantized tensor.")
      .def_property_readonly(
          "scale",
          [](const quant_params& p) { return py::array_t<float>(py::ssize_t(p.scale.size()), p.scale.data()); })
      .def_property_readonly("zero_point",
                             [](const quant_params& p) {
                               return py::array_t<std::int32_t>(py::ssize_t(p.zero_point.size()), p.zero_point.data());
                             })
      .def_property_readonly("grid", [](const quant_params& p) { return py::make_tuple(p.grid_rows, p.grid_cols); });
  m.def(
      "quantize",
      [](py::object x, const std::string& target, bool symmetric, const std::string& granularity, int axis,
         int group_size) {
        const const_view xv = as_view(x, false, "x");
        quant_scheme s;
        s.target = parse_dtype(target);
        s.symmetric = symmetric;
        s.granularity = parse_granularity(granularity);
        s.axis = axis;
        s.group_size = group_size;
        quant_params p = choose_quant_params(xv, s);
        py::object q = new_array(s.target, shape_of(xv));
        quantize(xv, p, view_of_new(q));
        return py::make_tuple(q, p);
      },
      py::arg("x"), py::arg("target") = "i8", py::arg("symmetric") = true, py::arg("granularity") = "per_tensor",
      py::arg("axis") = 1, py::arg("group_size") = 0, "Dynamic quantization: (q, QuantParams).");
  m.def(
      "dequantize",
      [](py::object q, const quant_params& p, const std::string& type) {
        const const_view qv = as_view(q, false, "q");
        py::object x = new_array(parse_dtype(type), shape_of(qv));
        dequantize(qv, p, view_of_new(x));
        return x;
      },
      py::arg("q"), py::arg("params"), py::arg("dtype") = "f32");

  py::class_<block_matrix>(m, "BlockMatrix", "Weights n x k in GGUF's Q8_0 or Q4_0: BlockMatrix(w, 'q4_0').")
      .def(py::init([](py::object w, const std::string& f) {
             row_major_inputs in;
             return block_matrix::quantize(in(w, "w"), parse_block_format(f));
           }),
           py::arg("w"), py::arg("format") = "q8_0")
      .def_static(
          "from_bytes",
          [](py::bytes data, std::int64_t rows, std::int64_t cols, const std::string& f) {
            const std::string s = data;
            return block_matrix::from_bytes(s.data(), s.size(), rows, cols, parse_block_format(f));
          },
          py::arg("data"), py::arg("rows"), py::arg("cols"), py::arg("format"))
      .def("tobytes",
           [](const block_matrix& b) { return py::bytes(reinterpret_cast<const char*>(b.data()), b.bytes()); })
      .def_property_readonly("shape", [](const block_matrix& b) { return py::make_tuple(b.rows(), b.cols()); })
      .def("dequantize",
           [](const block_matrix& b) {
             py::array_t<float> out({b.rows(), b.cols()});
             b.dequantize(make_view(out.mutable_data(), {b.rows(), b.cols()}));
             return out;
           })
      .def(
          "matmul",
          [](const block_matrix& b, py::object x) {
            row_major_inputs in;
            const const_view xv = in(x, "x");
            py::array_t<float> y({xv.extent(0), b.rows()});
            matmul(xv, b, make_view(y.mutable_data(), {xv.extent(0), b.rows()}));
            return y;
          },
          py::arg("x"), "y = x W^T (x: m x k f32).");

  // ---- transformer layers -------------------------------------------------------------------
  m.def(
      "activate",
      [](py::object x, const std::string& act, py::object out) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object y = output_like(out, xv);
        activate(parse_activation(act), xv, as_view(y, true, "out"));
        return y;
      },
      py::arg("x"), py::arg("activation"), py::arg("out") = py::none());
  m.def(
      "swiglu",
      [](py::object gate, py::object up, py::object out) {
        row_major_inputs in;
        const const_view g = in(gate, "gate");
        py::object y = output_like(out, g);
        swiglu(g, in(up, "up"), as_view(y, true, "out"));
        return y;
      },
      py::arg("gate"), py::arg("up"), py::arg("out") = py::none());
  m.def(
      "softmax",
      [](py::object x, py::object out, double scale, bool causal, std::int64_t offset, bool log, py::object mask,
         const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object y = output_like(out, xv);
        softmax(xv, as_view(y, true, "out"), softmax_opts(scale, causal, offset, log, in.optional(mask, "mask"), acc));
        return y;
      },
      py::arg("x"), py::arg("out") = py::none(), py::arg("scale") = 1.0, py::arg("causal") = false,
      py::arg("causal_offset") = 0, py::arg("log") = false, py::arg("mask") = py::none(),
      py::arg("accumulation") = "standard");
  m.def(
      "rms_norm",
      [](py::object x, py::object gamma, double eps, py::object out, const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object y = output_like(out, xv);
        rms_norm(xv, in.optional(gamma, "gamma"), as_view(y, true, "out"), norm_opts(eps, acc));
        return y;
      },
      py::arg("x"), py::arg("gamma") = py::none(), py::arg("eps") = 1e-6, py::arg("out") = py::none(),
      py::arg("accumulation") = "standard");
  m.def(
      "layer_norm",
      [](py::object x, py::object gamma, py::object beta, double eps, py::object out, const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object y = output_like(out, xv);
        layer_norm(xv, in.optional(gamma, "gamma"), in.optional(beta, "beta"), as_view(y, true, "out"),
                   norm_opts(eps, acc));
        return y;
      },
      py::arg("x"), py::arg("gamma") = py::none(), py::arg("beta") = py::none(), py::arg("eps") = 1e-6,
      py::arg("out") = py::none(), py::arg("accumulation") = "standard");
  m.def(
      "add_rms_norm",
      [](py::object x, py::object residual, py::object gamma, double eps, const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object sum = new_array(xv.type(), shape_of(xv)), y = new_array(xv.type(), shape_of(xv));
        add_rms_norm(xv, in(residual, "residual"), in.optional(gamma, "gamma"), view_of_new(sum), view_of_new(y),
                     norm_opts(eps, acc));
        return py::make_tuple(sum, y);
      },
      py::arg("x"), py::arg("residual"), py::arg("gamma") = py::none(), py::arg("eps") = 1e-6,
      py::arg("accumulation") = "standard", "(sum, rms_norm(sum)) with sum = x + residual in x's dtype.");
  m.def(
      "add_layer_norm",
      [](py::object x, py::object residual, py::object gamma, py::object beta, double eps, const std::string& acc) {
        row_major_inputs in;
        const const_view xv = in(x, "x");
        py::object sum = new_array(xv.type(), shape_of(xv)), y = new_array(xv.type(), shape_of(xv));
        add_layer_norm(xv, in(residual, "residual"), in.optional(gamma, "gamma"), in.optional(beta, "beta"),
                       view_of_new(sum), view_of_new(y), norm_opts(eps, acc));
        return py::make_tuple(sum, y);
      },
      py::arg("x"), py::arg("residual"), py::arg("gamma") = py::none(), py::arg("beta") = py::none(),
      py::arg("eps") = 1e-6, py::arg("accumulation") = "standard",
      "(sum, layer_norm(sum)) with sum = x + residual in x's dtype.");
  m.def(
      "rope",
      [](py::object x, std::int64_t head_dim, py::object positions, double theta, const std::string& layout,
         std::int64_t rotary_dims) {
        rope_options o;
        o.theta = theta;
        if (layout != "half_split" && layout != "adjacent")
          throw py::value_error("layout '" + layout + "' (half_split, adjacent)");
        o.layout = layout == "adjacent" ? rope_layout::adjacent : rope_layout::half_split;
        o.rotary_dims = rotary_dims;
        py::object narrowed;
        rope(as_view(x, true, "x"), head_dim, as_index_view(positions, "positions", narrowed), o);
      },
      py::arg("x"), py::arg("head_dim"), py::arg("positions"), py::arg("theta") = 10000.0,
      py::arg("layout") = "half_split", py::arg("rotary_dims") = 0, "Rotary position embedding, in place.");
  m.def(
      "embedding",
      [](py::object table, py::object ids, py::object row_scales, const std::string& type) {
        row_major_inputs in;
        py::object narrowed;
        const const_view tv = in(table, "table"), iv = as_index_view(ids, "ids", narrowed);
        py::object out = new_array(parse_dtype(type), {iv.size(), tv.extent(1)});
        embedding(tv, iv, view_of_new(out), in.optional(row_scales, "row_scales"));
        return out;
      },
      py::arg("table"), py::arg("ids"), py::arg("row_scales") = py::none(), py::arg("dtype") = "f32");

  py::class_<kv_cache>(m, "KVCache", "Keys and values of one sequence: KVCache(capacity, kv_heads, head_dim, dtype).")
      .def(py::init([](std::int64_t capacity, std::int64_t kv_heads, std::int64_t head_dim, const std::string& t) {
             return kv_cache(capacity, kv_heads, head_dim, parse_dtype(t));
           }),
           py::arg("capacity"), py::arg("kv_heads"), py::arg("head_dim"), py::arg("dtype") = "f32")
      .def(
          "append",
          [](kv_cache& c, py::object k, py::object v) {
            row_major_inputs in;
            c.append(in(k, "k"), in(v, "v"));
          },
          py::arg("k"), py::arg("v"))
      .def("truncate", &kv_cache::truncate, py::arg("tokens"))
      .def_property_readonly("size", &kv_cache::size)
      .def_property_readonly("capacity", &kv_cache::capacity);
  m.def(
      "attention",
      [](py::object q, const kv_cache& cache, double scale, bool causal, py::object out, bool f32_probabilities) {
        row_major_inputs in;
        const const_view qv = in(q, "q");
        py::object y = output_like(out, qv);
        attention_options o = attention_opts(scale, causal);
        o.f32_probabilities = f32_probabilities;
        attention(qv, cache, as_view(y, true, "out"), o);
        return y;
      },
      py::arg("q"), py::arg("cache"), py::arg("scale") = 0.0, py::arg("causal") = true, py::arg("out") = py::none(),
      py::arg("f32_probabilities") = false);
}

}  // namespace mixprec::python
