// The C API's shared plumbing: the per-thread status and message, text copies, and the
// checked conversions from C arguments to the C++ API's types.
#include "capi/capi_support.hpp"

#include <algorithm>

namespace mixprec::capi {

namespace {
thread_local std::string last_message;
thread_local mixprec_status last_code = MIXPREC_SUCCESS;
}  // namespace

static_assert(int(status::success) == MIXPREC_SUCCESS && int(status::invalid_argument) == MIXPREC_INVALID_ARGUMENT &&
                  int(status::shape_mismatch) == MIXPREC_SHAPE_MISMATCH &&
                  int(status::unsupported) == MIXPREC_UNSUPPORTED &&
                  int(status::backend_unavailable) == MIXPREC_BACKEND_UNAVAILABLE &&
                  int(status::out_of_memory) == MIXPREC_OUT_OF_MEMORY &&
                  int(status::numerical_breakdown) == MIXPREC_NUMERICAL_BREAKDOWN && int(status::io) == MIXPREC_IO &&
                  int(status::internal) == MIXPREC_INTERNAL,
              "mixprec_status mirrors mixprec::status");
static_assert(int(dtype::f64) == MIXPREC_F64 && int(dtype::f32) == MIXPREC_F32 && int(dtype::f16) == MIXPREC_F16 &&
                  int(dtype::bf16) == MIXPREC_BF16 && int(dtype::i8) == MIXPREC_I8 && int(dtype::u8) == MIXPREC_U8 &&
                  int(dtype::i32) == MIXPREC_I32,
              "mixprec_dtype mirrors mixprec::dtype");

void record_success() {
  last_code = MIXPREC_SUCCESS;
  last_message.clear();
}

mixprec_status record_failure(mixprec_status s, const char* message) {
  last_code = s;
  try {
    last_message = message;
  } catch (...) {
    last_message.clear();  // no memory even for the message: the status still says why
  }
  return s;
}

const char* last_error() { return last_message.c_str(); }
mixprec_status last_status() { return last_code; }

size_t copy_text(const std::string& text, char* buf, size_t len) {
  if (buf && len > 0) {
    const size_t n = std::min(len - 1, text.size());
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
  }
  return text.size() + 1;
}

// ---- arrays -------------------------------------------------------------------------------

const_view input(mixprec_array a, const char* fn, const char* what) { return deref(a, fn, what).view; }

view output(mixprec_array a, const char* fn, const char* what) {
  auto& h = deref(a, fn, what);
  if (h.read_only)
    MIXPREC_THROW(invalid_argument, fn, what, " is read-only (wrapped with mixprec_array_wrap_const) but is written");
  return h.view;
}

const_view optional_input(mixprec_array a, const char* fn, const char* what) {
  return a ? input(a, fn, what) : const_view{};
}

view optional_output(mixprec_array a, const char* fn, const char* what) { return a ? output(a, fn, what) : view{}; }

std::unique_ptr<mixprec_array_s> array_over(view v, bool read_only) {
  auto h = std::make_unique<mixprec_array_s>();
  h->view = std::move(v);
  h->read_only = read_only;
  return h;
}

// ---- enums and options ----------------------------------------------------------------------

dtype to_dtype(mixprec_dtype t, const char* fn, const char* what) {
  const int v = int(t);
  if (v < 0 || v >= dtype_count) MIXPREC_THROW(invalid_argument, fn, what, " = ", v, " is not a mixprec_dtype");
  return static_cast<dtype>(v);
}

accumulation to_accumulation(mixprec_accumulation a, const char* fn) {
  switch (a) {
    case MIXPREC_ACC_STANDARD:
      return accumulation::standard;
    case MIXPREC_ACC_F64:
      return accumulation::f64;
    case MIXPREC_ACC_COMPENSATED:
      return accumulation::compensated;
    default:
      break;
  }
  MIXPREC_THROW(invalid_argument, fn, "accumulation = ", int(a), " is not a mixprec_accumulation");
}

activation to_activation(mixprec_activation a, const char* fn) {
  switch (a) {
    case MIXPREC_ACT_NONE:
      return activation::none;
    case MIXPREC_ACT_RELU:
      return activation::relu;
    case MIXPREC_ACT_GELU_ERF:
      return activation::gelu_erf;
    case MIXPREC_ACT_GELU_TANH:
      return activation::gelu_tanh;
    case MIXPREC_ACT_SILU:
      return activation::silu;
    default:
      break;
  }
  MIXPREC_THROW(invalid_argument, fn, "activation = ", int(a), " is not a mixprec_activation");
}

trans to_trans(mixprec_trans t, const char* fn, const char* what) {
  if (t == MIXPREC_NO_TRANS) return trans::no;
  if (t == MIXPREC_TRANS) return trans::yes;
  MIXPREC_THROW(invalid_argument, fn, what, " = ", int(t), " is not a mixprec_trans");
}

const context& context_of(mixprec_context c, const char* fn) { return deref(c, fn, "ctx").ctx; }

solve_options to_solve_options(const mixprec_solve_options& o, const char* fn, const char* what) {
  check_struct(&o, fn, what, "mixprec_solve_options_init");
  solve_options s;
  s.rel_tol = o.rel_tol;
  s.abs_tol = o.abs_tol;
  s.max_iterations = o.max_iterations;
  s.stagnation_window = o.stagnation_window;
  s.stagnation_factor = o.stagnation_factor;
  s.restart = o.restart;
  switch (o.ortho) {
    case MIXPREC_ORTHO_MGS:
      s.ortho = orthogonalization::mgs;
      break;
    case MIXPREC_ORTHO_CGS2:
      s.ortho = orthogonalization::cgs2;
      break;
    case MIXPREC_ORTHO_DCGS2:
      s.ortho = orthogonalization::dcgs2;
      break;
    default:
      MIXPREC_THROW(invalid_argument, fn, what, ".ortho = ", int(o.ortho), " is not a mixprec_orthogonalization");
  }
  s.preconditioner = o.preconditioner ? deref(o.preconditioner, fn, "preconditioner").op.get() : nullptr;
  s.record_history = o.record_history != 0;
  return s;
}

}  // namespace mixprec::capi
