// libFuzzer harness: the C API's entry points that parse caller data, with every argument
// taken from the input: array shapes and strides, CSR arrays (i32 or i64 indices, f32 or
// f64 values, with and without the structure check's opt-out withheld), coordinate
// triplets, GGUF block bytes, quantization schemes, dtype and policy names, enum values,
// options structs of the wrong size, small dense systems with their kept solvers, the loss
// scaler, and the training ops on operands of any small shape and dtype. Each
// call must succeed or fail with a status and a message; a crash, a leak or a sanitizer
// report is a defect.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "mixprec/mixprec.h"

namespace {

void must_explain(mixprec_status s) {
  if (s != MIXPREC_SUCCESS && mixprec_last_error()[0] == '\0') std::abort();  // a failure names its cause
}

void arrays(fuzz::input& in, mixprec_context ctx) {
  static double memory[256];
  const int rank = int(in.below(6));
  std::int64_t shape[4], strides[4];
  for (int d = 0; d < 4; ++d) shape[d] = in.take<std::int64_t>(), strides[d] = in.take<std::int64_t>();
  mixprec_array a = nullptr;
  const bool with_strides = in.take<std::uint8_t>() & 1;
  must_explain(
      mixprec_array_wrap(ctx, memory, mixprec_dtype(in.below(9)), rank, shape, with_strides ? strides : nullptr, &a));
  if (a) {
    std::int64_t n = 0;
    must_explain(mixprec_array_size(a, &n));
  }
  mixprec_array_destroy(a);
}

void csr(fuzz::input& in, mixprec_context ctx) {
  const std::int64_t rows = in.take<std::int8_t>(), cols = in.take<std::int8_t>();
  const bool wide = in.take<std::uint8_t>() & 1, f32 = in.take<std::uint8_t>() & 1;
  const std::size_t n_idx = std::size_t(in.below(128));
  if (rows < 0) return;  // row_ptr must hold rows + 1 entries: the caller's promise, kept below
  std::vector<std::int64_t> rp64(std::size_t(rows) + 1), ci64(n_idx);
  for (auto& r : rp64) r = in.take<std::int16_t>();
  for (auto& c : ci64) c = in.take<std::int16_t>();
  // The caller's promise: row_ptr[rows] column indices and values (padded with zeros here).
  const std::size_t promised = std::size_t(std::max<std::int64_t>(rp64.back(), 0));
  if (promised > ci64.size()) ci64.resize(promised, 0);
  std::vector<std::int32_t> rp32(rp64.begin(), rp64.end()), ci32(ci64.begin(), ci64.end());
  std::vector<double> v64(ci64.size(), 0.25);
  std::vector<float> v32(ci64.size(), 0.25f);
  mixprec_csr a = nullptr;
  must_explain(mixprec_csr_wrap(ctx, rows, cols, wide ? MIXPREC_INDEX_I64 : MIXPREC_INDEX_I32,
                                wide ? static_cast<const void*>(rp64.data()) : rp32.data(),
                                wide ? static_cast<const void*>(ci64.data()) : ci32.data(),
                                f32 ? MIXPREC_F32 : MIXPREC_F64,
                                f32 ? static_cast<const void*>(v32.data()) : v64.data(), 0, &a));
  if (!a) return;
  std::int64_t nnz = 0;
  must_explain(mixprec_csr_info(a, nullptr, nullptr, &nnz, nullptr));
  if (std::size_t(nnz) > ci64.size()) std::abort();  // a wrapped matrix must lie inside its arrays
  std::vector<float> x(std::size_t(cols > 0 ? cols : 0), 1.0f), y(std::size_t(rows), 0.0f);
  mixprec_array ax = nullptr, ay = nullptr;
  std::int64_t nx = cols, ny = rows;
  if (mixprec_array_wrap(ctx, x.data(), MIXPREC_F32, 1, &nx, nullptr, &ax) == MIXPREC_SUCCESS &&
      mixprec_array_wrap(ctx, y.data(), MIXPREC_F32, 1, &ny, nullptr, &ay) == MIXPREC_SUCCESS)
    must_explain(mixprec_csr_spmv(1.0, a, ax, 0.0, ay, mixprec_accumulation(in.below(4))));
  mixprec_operator op = nullptr;
  if (mixprec_operator_from_csr(a, MIXPREC_ACC_STANDARD, &op) == MIXPREC_SUCCESS) {
    mixprec_preconditioner pc = nullptr;
    must_explain(mixprec_preconditioner_create(op, mixprec_preconditioner_kind(in.below(7)), MIXPREC_F64, &pc));
    mixprec_preconditioner_destroy(pc);
  }
  mixprec_operator_destroy(op);
  mixprec_array_destroy(ax);
  mixprec_array_destroy(ay);
  mixprec_csr_destroy(a);
}

void coo(fuzz::input& in, mixprec_context ctx) {
  // Extents up to 32767 one run in eight; up to 127 otherwise. The wide ones exercise the
  // size checks, but each run then spends its time walking rows (row pointers, the DIA
  // offsets), and they cut the executions per second by a few times.
  const bool wide = in.take<std::uint8_t>() % 8 == 0;
  const std::int64_t rows = wide ? in.take<std::int16_t>() : in.take<std::int8_t>();
  const std::int64_t cols = wide ? in.take<std::int16_t>() : in.take<std::int8_t>();
  const std::int64_t nnz = in.below(64);
  std::vector<std::int64_t> r(static_cast<std::size_t>(nnz)), c(static_cast<std::size_t>(nnz));
  std::vector<double> v(static_cast<std::size_t>(nnz));
  for (std::int64_t k = 0; k < nnz; ++k)
    r[std::size_t(k)] = in.take<std::int64_t>() % (wide ? 300 : 140),
    c[std::size_t(k)] = in.take<std::int64_t>() % (wide ? 300 : 140), v[std::size_t(k)] = in.take<double>();
  const auto value_type = mixprec_dtype(in.below(8));
  const auto index = mixprec_index_type(in.below(3));
  mixprec_csr a = nullptr;
  must_explain(mixprec_csr_from_coo(ctx, rows, cols, nnz, r.data(), c.data(), v.data(), value_type, index, &a));
  if (a) {
    mixprec_dia d = nullptr;
    must_explain(mixprec_dia_from_csr(a, double(in.below(5)), &d));
    mixprec_dia_destroy(d);
  }
  mixprec_csr_destroy(a);
}

void blocks_and_quantization(fuzz::input& in) {
  const std::int64_t rows = in.take<std::int64_t>(), cols = in.take<std::int64_t>();
  const std::vector<std::uint8_t> bytes = in.bytes(std::size_t(in.below(200)));
  mixprec_block_matrix w = nullptr;
  const auto format = mixprec_block_format(in.below(3));
  must_explain(mixprec_block_matrix_from_bytes(bytes.data(), bytes.size(), rows, cols, format, &w));
  mixprec_block_matrix_destroy(w);
  mixprec_quant_scheme s;
  mixprec_quant_scheme_init(&s);
  s.target = mixprec_dtype(in.below(8));
  s.symmetric = in.take<std::uint8_t>() & 1;
  s.granularity = mixprec_quant_granularity(in.below(4));
  s.axis = int(in.take<std::int8_t>());
  s.group_size = int(in.take<std::int16_t>());
  mixprec_quant_params p = nullptr;
  const std::int64_t q_rows = in.take<std::int8_t>(), q_cols = in.take<std::int8_t>();  // (in this order)
  must_explain(mixprec_quant_params_create(q_rows, q_cols, &s, &p));
  mixprec_quant_params_destroy(p);
}

void names_and_options(fuzz::input& in, mixprec_context ctx) {
  const std::vector<std::uint8_t> raw = in.bytes(std::size_t(in.below(24)));
  const std::string name(raw.begin(), raw.end());
  mixprec_dtype t = MIXPREC_F64, k = MIXPREC_F64;
  must_explain(mixprec_dtype_parse(name.c_str(), &t));
  must_explain(mixprec_policy_parse(name.c_str(), &t, &k));
  // An options struct whose size field is whatever the input says.
  mixprec_solve_options o;
  mixprec_solve_options_init(&o);
  if (in.take<std::uint8_t>() & 1) o.struct_size = in.take<std::uint16_t>();
  o.ortho = mixprec_orthogonalization(in.below(3));
  mixprec_csr a = nullptr;
  mixprec_operator op = nullptr;
  mixprec_report rep = nullptr;
  if (mixprec_csr_poisson_2d(3, &a) == MIXPREC_SUCCESS &&
      mixprec_operator_from_csr(a, MIXPREC_ACC_STANDARD, &op) == MIXPREC_SUCCESS) {
    double b[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, x[9] = {};
    std::int64_t n = 9;
    mixprec_array ab = nullptr, ax = nullptr;
    mixprec_array_wrap(ctx, b, MIXPREC_F64, 1, &n, nullptr, &ab);
    mixprec_array_wrap(ctx, x, MIXPREC_F64, 1, &n, nullptr, &ax);
    must_explain(mixprec_solve(mixprec_method(in.below(7)), op, ab, ax, &o, &rep));
    mixprec_array_destroy(ab);
    mixprec_array_destroy(ax);
  }
  mixprec_report_destroy(rep);
  mixprec_operator_destroy(op);
  mixprec_csr_destroy(a);
  // The loss scaler: options from the input (any doubles, any interval, any struct size), then
  // gradients with whatever floats the input holds, unscaled and judged twice.
  mixprec_loss_scaler_options so;
  mixprec_loss_scaler_options_init(&so);
  if (in.take<std::uint8_t>() & 1) so.struct_size = in.take<std::uint16_t>();
  if (in.take<std::uint8_t>() & 1) {
    so.initial_scale = in.take<double>();
    so.growth_factor = in.take<double>();
    so.backoff_factor = in.take<double>();
    so.growth_interval = in.take<std::int64_t>();
  }
  mixprec_loss_scaler ls = nullptr;
  if (mixprec_loss_scaler_create(&so, &ls) != MIXPREC_SUCCESS) return;
  float g[8];
  for (float& v : g) v = in.take<float>();
  std::int64_t n = 1 + in.below(8);
  mixprec_array ag = nullptr;
  if (mixprec_array_wrap(ctx, g, MIXPREC_F32, 1, &n, nullptr, &ag) == MIXPREC_SUCCESS)
    for (int step = 0; step < 2; ++step) {
      int finite = -1;
      must_explain(mixprec_loss_scaler_unscale(ls, &ag, 1, &finite));
      must_explain(mixprec_loss_scaler_update(ls));
      double scale = 0;
      must_explain(mixprec_loss_scaler_scale(ls, &scale));
      if (!(scale >= 0x1p-126 && scale <= 0x1p127)) std::abort();  // the scale's documented range
    }
  mixprec_array_destroy(ag);
  mixprec_loss_scaler_destroy(ls);
}

/// The dense solvers: a small matrix (any doubles from the input, NaN and Inf included, or a
/// diagonally dominant one they can factor), every option field from the input, gesv_ir or
/// posv_ir once, then a kept solver refactored with a second matrix (maybe of another size or
/// shape) and asked to solve.
void dense(fuzz::input& in, mixprec_context ctx) {
  const std::int64_t n = 1 + in.below(12);
  const auto matrix = [&](std::int64_t rows, std::int64_t cols) {
    std::vector<double> a(std::size_t(rows * cols));
    const bool raw = in.take<std::uint8_t>() & 1;
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t j = 0; j < cols; ++j)
        a[std::size_t(i * cols + j)] = raw      ? in.take<double>()
                                       : i == j ? double(cols + 1)
                                                : double(in.take<std::int8_t>()) / 128;
    return a;
  };
  std::vector<double> a = matrix(n, n), b(std::size_t(n), 1.0), x(std::size_t(n), 0.0);
  mixprec_dense_options o;
  mixprec_dense_options_init(&o);
  if (in.take<std::uint8_t>() & 1) o.struct_size = in.take<std::uint16_t>();
  o.factorization = mixprec_dtype(in.below(9));
  o.gmres = in.take<std::uint8_t>() & 1;
  o.pivoting = in.take<std::uint8_t>() & 1;
  o.max_iterations = in.take<std::int8_t>();
  o.fallback = in.take<std::uint8_t>() & 1;
  o.gmres_tolerance = in.take<double>();
  // Budgets past 127 take longer, not other paths (a restart past n is cut to n): int8 keeps
  // each input quick.
  o.gmres_restart = in.take<std::int8_t>();
  o.gmres_max_iterations = in.take<std::int8_t>();
  o.scale = in.take<std::uint8_t>() & 1;
  o.gmres_halving_window = in.take<std::int8_t>();
  const bool spd = in.take<std::uint8_t>() & 1;
  const std::int64_t shape[2] = {n, n};
  mixprec_array aa = nullptr, ab = nullptr, ax = nullptr;
  mixprec_report rep = nullptr;
  if (mixprec_array_wrap(ctx, a.data(), MIXPREC_F64, 2, shape, nullptr, &aa) != MIXPREC_SUCCESS ||
      mixprec_array_wrap(ctx, b.data(), MIXPREC_F64, 1, &n, nullptr, &ab) != MIXPREC_SUCCESS ||
      mixprec_array_wrap(ctx, x.data(), MIXPREC_F64, 1, &n, nullptr, &ax) != MIXPREC_SUCCESS)
    std::abort();  // valid arrays
  must_explain((spd ? mixprec_posv_ir : mixprec_gesv_ir)(aa, ab, ax, &o, &rep));
  mixprec_report_destroy(rep);
  mixprec_dense_solver solver = nullptr;
  must_explain(mixprec_dense_solver_create(aa, spd, &o, &solver));
  if (solver) {
    const std::int64_t rows = in.take<std::uint8_t>() & 1 ? n : 1 + in.below(12);
    const std::int64_t cols = in.take<std::uint8_t>() & 1 ? rows : 1 + in.below(12);
    std::vector<double> other = matrix(rows, cols);
    const std::int64_t other_shape[2] = {rows, cols};
    mixprec_array ao = nullptr;
    if (mixprec_array_wrap(ctx, other.data(), MIXPREC_F64, 2, other_shape, nullptr, &ao) != MIXPREC_SUCCESS)
      std::abort();
    must_explain(mixprec_dense_solver_refactor(solver, ao));
    rep = nullptr;
    must_explain(mixprec_dense_solver_solve(solver, ab, ax, &rep));
    mixprec_report_destroy(rep);
    mixprec_dense_solver_destroy(solver);  // before the matrices it references
    mixprec_array_destroy(ao);
  }
  mixprec_array_destroy(aa);
  mixprec_array_destroy(ab);
  mixprec_array_destroy(ax);
}

/// An array the harness owns, of exactly the bytes its shape takes at 8 bytes an element (so
/// that whatever a kernel reads lies inside it), its values from the input.
struct owned_array {
  std::vector<std::uint8_t> bytes;
  mixprec_array a = nullptr;
  owned_array() = default;
  owned_array(const owned_array&) = delete;
  owned_array& operator=(const owned_array&) = delete;
  ~owned_array() { mixprec_array_destroy(a); }
};

/// The training ops on small operands whose shapes, dtypes and values the input picks: norm
/// and SwiGLU backward, attention with its probabilities saved and its backward. Mostly one
/// dtype for all, so that the calls get past the checks; now and then another.
void training(fuzz::input& in, mixprec_context ctx) {
  constexpr mixprec_dtype types[] = {MIXPREC_F32, MIXPREC_BF16, MIXPREC_F16, MIXPREC_F64, MIXPREC_I32};
  const mixprec_dtype common = types[in.below(3)];
  auto pick = [&] { return (in.take<std::uint8_t>() & 15) == 0 ? types[in.below(5)] : common; };
  auto make = [&](owned_array& f, int rank, std::int64_t rows, std::int64_t cols, mixprec_dtype t) {
    const std::size_t bytes = std::size_t(rows * cols) * 8;
    f.bytes = in.bytes(bytes);
    f.bytes.resize(bytes);
    const std::int64_t shape[2] = {rank == 1 ? rows * cols : rows, cols};
    must_explain(mixprec_array_wrap(ctx, f.bytes.data(), t, rank, shape, nullptr, &f.a));
  };
  const std::int64_t rows = in.below(6), cols = in.below(40);
  owned_array x, dy, dx, up, d_up, gamma, dgamma, dbeta;
  make(x, 2, rows, cols, pick());
  make(dy, 2, rows, cols, pick());
  make(dx, 2, rows, cols, pick());
  make(gamma, 1, 1, cols, in.take<std::uint8_t>() & 1 ? pick() : MIXPREC_F32);
  make(dgamma, 1, 1, cols, MIXPREC_F32);
  make(dbeta, 1, 1, cols, MIXPREC_F32);
  const double eps = in.take<double>();
  const bool with_gamma = in.take<std::uint8_t>() & 1;
  must_explain(mixprec_layer_norm_backward(x.a, with_gamma ? gamma.a : nullptr, dy.a, dx.a, dgamma.a, dbeta.a, eps));
  must_explain(mixprec_rms_norm_backward(x.a, with_gamma ? gamma.a : nullptr, dy.a, dx.a, dgamma.a, eps));
  make(up, 2, rows, cols, pick());
  make(d_up, 2, rows, cols, pick());
  must_explain(mixprec_swiglu_backward(x.a, up.a, dy.a, dx.a, d_up.a));

  const std::int64_t m = 1 + in.below(4), L = 1 + in.below(6), head_dim = in.below(9);
  const std::int64_t heads = 1 + in.below(4), kv_heads = 1 + in.below(2);
  owned_array q, k, v, out, probs, d_out, dq, dk, dv;
  make(q, 2, m, heads * head_dim, pick());
  make(k, 2, L, kv_heads * head_dim, pick());
  make(v, 2, L, kv_heads * head_dim, pick());
  make(out, 2, m, heads * head_dim, pick());
  make(probs, 1, heads * m, L + (in.take<std::uint8_t>() & 15 ? 0 : 1), MIXPREC_F32);
  make(d_out, 2, m, heads * head_dim, pick());
  make(dq, 2, m, heads * head_dim, MIXPREC_F32);
  make(dk, 2, L, kv_heads * head_dim, MIXPREC_F32);
  make(dv, 2, L, kv_heads * head_dim, MIXPREC_F32);
  const double scale = in.take<std::uint8_t>() & 1 ? in.take<double>() : 0.0;
  const int causal = in.take<std::uint8_t>() & 1;
  must_explain(mixprec_attention_forward_saved(q.a, k.a, v.a, out.a, probs.a, head_dim, scale, causal));
  must_explain(mixprec_attention_backward(q.a, k.a, v.a, probs.a, d_out.a, dq.a, dk.a, dv.a, head_dim, scale, causal));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mixprec_context ctx = [] {
    mixprec_context c = nullptr;
    if (mixprec_context_create_cpu(1, &c) != MIXPREC_SUCCESS) std::abort();
    return c;
  }();
  fuzz::input in(data, size);
  switch (in.below(6)) {
    case 0:
      arrays(in, ctx);
      break;
    case 1:
      csr(in, ctx);
      break;
    case 2:
      coo(in, ctx);
      break;
    case 3:
      blocks_and_quantization(in);
      break;
    case 4:
      dense(in, ctx);
      break;
    default:  // (one more byte: the inputs checked in for the other cases keep their paths)
      if (in.take<std::uint8_t>() & 1)
        training(in, ctx);
      else
        names_and_options(in, ctx);
  }
  return 0;
}
