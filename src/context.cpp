// Contexts: CPU (threads, ISA level) and CUDA (device, stream via the plugin), and the run-
// time choice between them.
#include "mixprec/context.hpp"

#include <cstdlib>

#include "internal/context_state.hpp"
#include "internal/cuda_plugin_api.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/kernels.hpp"

namespace mixprec {

namespace detail {
int default_cpu_threads();

context_state::~context_state() {
  if (device_state) {
    if (const cuda_plugin_api* api = cuda_plugin()) api->destroy_state(device_state);
  }
}
}  // namespace detail

const char* name_of(backend b) { return b == backend::cpu ? "cpu" : "cuda"; }

const char* name_of(cpu_isa isa) {
  switch (isa) {
    case cpu_isa::generic:
      return "generic";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx512:
      return "avx512";
    case cpu_isa::avx512_bf16:
      return "avx512_bf16";
    case cpu_isa::avx512_fp16:
      return "avx512_fp16";
    case cpu_isa::amx:
      return "amx";
  }
  return "?";
}

cpu_isa parse_cpu_isa(const std::string& name) {
  for (int i = 0; i <= int(cpu_isa::amx); ++i)
    if (name == name_of(cpu_isa(i))) return cpu_isa(i);
  MIXPREC_THROW(invalid_argument, "parse_cpu_isa", "'", name,
                "' is not an ISA level (generic, avx2, avx512, avx512_bf16, avx512_fp16, amx)");
}

namespace {

std::shared_ptr<detail::context_state> make_cpu(int threads, std::string reason) {
  auto s = std::make_shared<detail::context_state>();
  s->kind = backend::cpu;
  s->threads = threads > 0 ? threads : detail::default_cpu_threads();
  s->reason = std::move(reason);
  return s;
}

}  // namespace

context context::cpu(int threads) {
  if (threads < 0) MIXPREC_THROW(invalid_argument, "context::cpu", "threads = ", threads, " is negative");
  if (threads == 0) {
    // The default CPU context is shared: views of user memory get it without allocation.
    // Its state lives as long as the process, so the handle owns nothing (the aliasing
    // constructor with an empty owner): copying it, as every view and buffer does, then
    // touches no reference count, where two atomic updates per view were a third of a
    // small BLAS-1 call.
    static const std::shared_ptr<detail::context_state> owner = make_cpu(0, "requested");
    static const context shared(std::shared_ptr<detail::context_state>(std::shared_ptr<void>(), owner.get()));
    return shared;
  }
  return context(make_cpu(threads, "requested"));
}

context context::cuda(int device) {
  std::string why;
  const detail::cuda_plugin_api* api = detail::cuda_plugin(&why);
  if (!api) MIXPREC_THROW(backend_unavailable, "context::cuda", why);
  char err[512] = {};
  int count = 0;
  detail::check_cuda(api->device_count(&count, err, sizeof err), "context::cuda", err);
  if (count == 0) MIXPREC_THROW(backend_unavailable, "context::cuda", "the CUDA driver reports no device");
  if (device < 0 || device >= count)
    MIXPREC_THROW(backend_unavailable, "context::cuda", "device ", device, " does not exist; this machine has ", count,
                  " CUDA device(s)");
  auto s = std::make_shared<detail::context_state>();
  s->kind = backend::cuda;
  s->device = device;
  s->threads = 1;
  s->reason = "requested";
  detail::check_cuda(api->create_state(device, &s->device_state, &s->stream, err, sizeof err), "context::cuda", err);
  return context(std::move(s));
}

namespace {

/// The op families best() needs a GPU backend to serve before it chooses it, as a list of
/// those the CUDA plugin lacks ("" when it has them all). With BLAS-1 and conversions alone,
/// SpMV, GEMM, stencils and every solver would throw unsupported on the context best()
/// handed out; a caller who wants the GPU for what it has asks context::cuda().
std::string cuda_plugin_gaps() {
  std::string missing;
  for (const char* op : {"spmv_csr", "gemm", "stencil"})
    if (!detail::backend_serves(backend::cuda, op, dtype::f64, dtype::f64))
      missing += (missing.empty() ? "" : ", ") + std::string(op);
  return missing;
}

}  // namespace

context context::best() {
  const char* env = std::getenv("MIXPREC_BACKEND");
  const std::string forced = env ? env : "";
  if (forced == "cpu") return context(make_cpu(0, "MIXPREC_BACKEND=cpu"));
  if (forced == "cuda") {
    context c = cuda(0);
    c.state_->reason = "MIXPREC_BACKEND=cuda";
    return c;
  }
  if (!forced.empty())
    MIXPREC_THROW(invalid_argument, "context::best", "MIXPREC_BACKEND='", forced, "' is neither cpu nor cuda");
  std::string why;
  if (cuda_available(&why)) {
    const std::string missing = cuda_plugin_gaps();
    if (missing.empty()) {
      context c = cuda(0);
      c.state_->reason = "a CUDA device is available";
      return c;
    }
    return context(make_cpu(0, "a CUDA device is available, but the CUDA plugin has no " + missing +
                                   " kernels (context::cuda() still serves the ops it has)"));
  }
  return context(make_cpu(0, "no CUDA: " + why));
}

backend context::kind() const { return state_->kind; }
int context::device() const { return state_->device; }
int context::threads() const { return state_->threads; }

std::string context::describe() const {
  const detail::context_state& s = *state_;
  std::string out;
  if (s.kind == backend::cpu) {
    const cpu_features& f = cpu_info();
    out = detail::cat("cpu: ", f.model.empty() ? f.vendor : f.model, ", ", s.threads, " thread(s) (",
                      detail::threading_runtime(), "), ISA ", name_of(f.active));
    if (f.active != f.detected) out += detail::cat(" (capped by MIXPREC_CPU_ISA; detected ", name_of(f.detected), ")");
    out += f.amx_permitted ? ", AMX on" : ", AMX off: " + f.amx_note;
  } else {
    char name[256] = {}, err[512] = {};
    const detail::cuda_plugin_api* api = detail::cuda_plugin();
    if (api && api->device_name(s.device, name, sizeof name, err, sizeof err) != 0)
      std::snprintf(name, sizeof name, "(name unknown: %s)", err);
    out = detail::cat("cuda:", s.device, ": ", name);
  }
  return out + "; chosen because: " + s.reason;
}

void context::synchronize() const {
  if (state_->kind != backend::cuda) return;
  char err[512] = {};
  detail::check_cuda(detail::cuda_plugin()->synchronize(state_->stream, err, sizeof err), "context::synchronize", err);
}

bool context::operator==(const context& other) const { return state_ == other.state_; }

bool context::same_memory(const context& other) const {
  if (!state_ || !other.state_) return false;
  if (state_->kind != other.state_->kind) return false;
  return state_->kind == backend::cpu || state_->device == other.state_->device;
}

transfer_counts context::transfers() const {
  if (!state_) return {};
  return {state_->to_device.load(), state_->to_host.load(), state_->transferred_bytes.load()};
}

bool cuda_available(std::string* why) {
  std::string reason;
  const detail::cuda_plugin_api* api = detail::cuda_plugin(&reason);
  if (api) {
    char err[512] = {};
    int count = 0;
    if (api->device_count(&count, err, sizeof err) != 0)
      reason = err;
    else if (count == 0)
      reason = "the CUDA driver reports no device";
    else
      return true;
  }
  if (why) *why = reason;
  return false;
}

int cuda_device_count() {
  const detail::cuda_plugin_api* api = detail::cuda_plugin();
  if (!api) return 0;
  char err[512] = {};
  int count = 0;
  return api->device_count(&count, err, sizeof err) == 0 ? count : 0;
}

}  // namespace mixprec
