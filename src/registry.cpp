// The kernel registry: filled once, in a fixed order (reference kernels first, then each
// CPU ISA folder this build has, then the CUDA plugin's when it loads), kept sorted best
// first, and asked by every op front end through select_kernel. Each thread keeps, per
// (op, backend, dtypes), the runnable candidates in order; a call walks only those, without
// the lock, until a kernel is added (the CUDA plugin loading).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "internal/cuda_plugin_api.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/kernels.hpp"

namespace mixprec::detail {

bool supports_unit_stride(const void* problem, const char** why) {
  const auto* p = static_cast<const blas1_problem*>(problem);
  if (p->incx == 1 && p->incy == 1) return true;
  *why = "needs unit strides";
  return false;
}

bool supports_unit_columns(const void* problem, const char** why) {
  if (static_cast<const quant_problem*>(problem)->unit_cols) return true;
  *why = "needs unit column strides";
  return false;
}

namespace {

class registry {
 public:
  static registry& get() {
    static registry r;
    return r;
  }

  void add(const kernel_entry& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
    names_.emplace_back(e.name);
    kernel_entry copy = e;
    copy.name = names_.back().c_str();
    // A variant its op's list lacks ranks after the whole list (and a test names it).
    const int rank = implementation_rank(e.op, e.variant);
    if (rank >= 0) {
      copy.variant = implementations_of(e.op).items[rank].variant;
      copy.rank = rank;
    } else {
      names_.emplace_back(e.variant);
      copy.variant = names_.back().c_str();
      copy.rank = implementations_of(e.op).count;
    }
    // Ordered by (op, rank): stable insertion keeps registration order among equal ranks,
    // which only kernels of different backends or dtypes share.
    auto at = std::upper_bound(
        entries_.begin(), entries_.end(), copy,
        [](const kernel_entry& a, const kernel_entry& b) { return a.op != b.op ? a.op < b.op : a.rank < b.rank; });
    entries_.insert(at, copy);
  }

  std::vector<kernel_entry> snapshot() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

  // Looks up under the lock; entries are copied out, so callers never hold the lock.
  template <class Pred>
  std::vector<kernel_entry> matching(Pred&& pred) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<kernel_entry> out;
    for (const auto& e : entries_)
      if (pred(e)) out.push_back(e);
    return out;
  }

  /// The best runnable kernel that supports `problem`, copied out (a plugin may add kernels,
  /// and move entries, at any time). Without one: why the forced kernel cannot serve
  /// (forced_error), or why each runnable kernel declined (declined).
  bool find(op_id op, backend where, dtype in, dtype out, const std::string& forced, const void* problem,
            kernel_entry* found, std::string* forced_error, std::string* declined) {
    if (!forced.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& e : entries_) {
        if (forced != e.name || e.op != op || e.in != in || e.out != out) continue;
        const char* why = "";
        if (e.where != where)
          *forced_error = cat("it is a ", mixprec::name_of(e.where), " kernel and the operands live in ",
                              mixprec::name_of(where), " memory");
        else if (!runnable(e))
          *forced_error = "it cannot run on this machine (ISA level or device)";
        else if (e.supports && !e.supports(problem, &why))
          *forced_error = why;
        else
          *found = e;
        return forced_error->empty();
      }
      // The forced kernel is for another op or dtype: dispatch as usual.
    }
    const std::vector<kernel_entry>& list = candidates(op, where, in, out);
    for (const kernel_entry& e : list) {
      const char* why = "";
      if (e.supports && !e.supports(problem, &why)) continue;
      *found = e;
      return true;
    }
    for (const kernel_entry& e : list) {  // the error's path only: dispatch builds no strings
      const char* why = "";
      if (e.supports && !e.supports(problem, &why)) *declined += cat(declined->empty() ? "" : "; ", e.name, ": ", why);
    }
    return false;
  }

  /// The runnable kernels of (op, where, in, out), best first: from this thread's cache
  /// while no kernel has been added since it was filled.
  const std::vector<kernel_entry>& candidates(op_id op, backend where, dtype in, dtype out) {
    struct cached {
      unsigned generation;
      std::vector<kernel_entry> entries;
    };
    thread_local std::unordered_map<std::uint32_t, cached> cache;
    const std::uint32_t key =
        std::uint32_t(op) | std::uint32_t(where) << 8 | std::uint32_t(in) << 16 | std::uint32_t(out) << 24;
    const unsigned now = generation_.load(std::memory_order_acquire);
    auto it = cache.find(key);
    if (it != cache.end() && it->second.generation == now) return it->second.entries;
    std::vector<kernel_entry> list;
    unsigned filled_at;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      filled_at = generation_.load(std::memory_order_relaxed);
      for (const auto& e : entries_)
        if (e.op == op && e.where == where && e.in == in && e.out == out && runnable(e)) list.push_back(e);
    }
    cached& slot = cache[key];
    slot.generation = filled_at;
    slot.entries = std::move(list);
    return slot.entries;
  }

  bool has_name(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(), [&](const kernel_entry& e) { return name == e.name; });
  }

 private:
  registry() {
    // Kernel folders register directly: the lock is taken per add.
    const kernel_sink sink{[](void* self, const kernel_entry& e) { static_cast<registry*>(self)->add(e); }, this};
    register_cpu_ref_kernels(sink);
    register_cpu_ref_spmv_kernels(sink);
    register_cpu_generic_kernels(sink);
    register_cpu_generic_spmv_kernels(sink);
    register_cpu_ref_stencil_kernels(sink);
    register_cpu_generic_stencil_kernels(sink);
    register_cpu_ref_multigrid_kernels(sink);
    register_cpu_generic_multigrid_kernels(sink);
    register_cpu_generic_sparse_solve_kernels(sink);
    register_cpu_ref_gemm_kernels(sink);
    register_cpu_generic_gemm_kernels(sink);
    register_cpu_quantize_kernels(sink);
    register_cpu_nn_kernels(sink);
    register_cpu_block_matmul_kernels(sink);
    register_cpu_attention_kernels(sink);
    register_cpu_train_kernels(sink);
#if defined(MIXPREC_HAVE_KERNELS_AVX2)
    register_cpu_avx2_kernels(sink);
#endif
#if defined(MIXPREC_HAVE_KERNELS_AVX512)
    register_cpu_avx512_kernels(sink);
#endif
#if defined(MIXPREC_HAVE_KERNELS_AVX512_BF16)
    register_cpu_avx512_bf16_kernels(sink);
#endif
  }

  std::mutex mutex_;
  std::atomic<unsigned> generation_{0};  // kernels added so far
  std::vector<kernel_entry> entries_;
  std::deque<std::string> names_;  // owns the names; deque keeps c_str() pointers stable
};

thread_local std::string forced_kernel;

}  // namespace

void add_plugin_kernels(void (*register_kernels)(const kernel_sink&)) {
  registry& r = registry::get();
  register_kernels(kernel_sink{[](void* self, const kernel_entry& e) { static_cast<registry*>(self)->add(e); }, &r});
}

void finish_call(op_id op, const context_state& ctx, const kernel_entry& k, std::chrono::steady_clock::time_point start,
                 const std::string& dtypes, const std::string& shape, accumulation acc) {
  if (ctx.kind == backend::cuda) {
    char err[512] = {};
    if (cuda_plugin()->take_kernel_error(err, sizeof err) != 0)
      MIXPREC_THROW(internal, name_of(op), "CUDA kernel ", k.name, " failed: ", err);
  }
  if (!verbose_enabled()) return;
  if (ctx.kind == backend::cuda) {
    char err[512] = {};
    cuda_plugin()->synchronize(ctx.stream, err, sizeof err);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "mixprec_verbose,op=%s,dtypes=%s,shape=%s,acc=%s,backend=%s,kernel=%s,isa=%s,time_ms=%.4f\n",
               name_of(op), dtypes.c_str(), shape.c_str(), mixprec::name_of(acc), mixprec::name_of(ctx.kind), k.name,
               ctx.kind == backend::cpu ? mixprec::name_of(k.min_isa) : "cuda", ms);
}

bool runnable(const kernel_entry& k) {
  if (k.where == backend::cpu) return int(k.min_isa) <= int(cpu_info().active);
  return cuda_device_count() > 0;
}

namespace {

/// MIXPREC_VERBOSE=2: one line per kernel registered for (op, backend, dtypes), best first,
/// with what dispatch made of it.
void print_candidates(op_id op, backend where, dtype in, dtype out, const void* problem, const char* chosen) {
  bool passed_choice = false;
  for (const kernel_entry& e : registry::get().matching(
           [&](const kernel_entry& k) { return k.op == op && k.where == where && k.in == in && k.out == out; })) {
    std::string verdict;
    const char* why = "";
    if (chosen && std::string(chosen) == e.name) {
      verdict = forced_kernel.empty() ? "chosen" : "chosen (forced)";
      passed_choice = true;
    } else if (passed_choice) {
      verdict = "not tried: a better kernel was chosen";
    } else if (!runnable(e)) {
      verdict = e.where == backend::cpu ? cat("skipped: needs ", mixprec::name_of(e.min_isa),
                                              ", the active ISA level is ", mixprec::name_of(cpu_info().active))
                                        : std::string("skipped: no CUDA device");
    } else if (e.supports && !e.supports(problem, &why)) {
      verdict = cat("skipped: ", why);
    } else {
      verdict = forced_kernel.empty() ? "skipped" : "skipped: another kernel is forced";
    }
    std::fprintf(stderr, "mixprec_verbose_candidate,op=%s,backend=%s,dtypes=%s:%s,kernel=%s,rank=%d,%s\n", name_of(op),
                 mixprec::name_of(where), mixprec::name_of(in), mixprec::name_of(out), e.name, e.rank, verdict.c_str());
  }
}

}  // namespace

kernel_entry select_kernel(op_id op, const context_state& ctx, dtype in, dtype out, const void* problem) {
  // Loading the plugin adds kernels: do it before the registry lock is taken.
  if (ctx.kind == backend::cuda) (void)cuda_device_count();
  kernel_entry found{};
  std::string forced_error, declined;
  const bool ok = registry::get().find(op, ctx.kind, in, out, forced_kernel, problem, &found, &forced_error, &declined);
  if (mixprec::verbose_level() >= 2) print_candidates(op, ctx.kind, in, out, problem, ok ? found.name : nullptr);
  if (ok) return found;
  const std::string dtypes =
      op == op_id::convert ? cat(mixprec::name_of(in), "->", mixprec::name_of(out)) : std::string(mixprec::name_of(in));
  if (!forced_error.empty())
    MIXPREC_THROW(unsupported, name_of(op), "forced kernel ", forced_kernel, " cannot serve this ", dtypes,
                  " call: ", forced_error);
  if (!declined.empty())
    MIXPREC_THROW(unsupported, name_of(op), "no ", mixprec::name_of(ctx.kind), " kernel for ", dtypes,
                  " serves this call (", declined, ")");
  MIXPREC_THROW(unsupported, name_of(op), "no ", mixprec::name_of(ctx.kind), " kernel for ", dtypes);
}

}  // namespace mixprec::detail

namespace mixprec {

std::vector<kernel_info> list_kernels(const std::string& op) {
  (void)cuda_device_count();  // loads the plugin (and its kernels) if there is one
  std::vector<kernel_info> out;
  for (const auto& e : detail::registry::get().matching(
           [&](const detail::kernel_entry& k) { return op.empty() || op == detail::name_of(k.op); })) {
    const detail::blas1_problem strided{1, 3, 3, accumulation::standard};
    const char* why = "";
    const bool unit_only = detail::is_blas1(e.op) && e.supports && !e.supports(&strided, &why);
    const int listed = detail::implementations_of(e.op).count;
    out.push_back(kernel_info{e.name, detail::name_of(e.op), e.variant, e.rank < listed ? e.rank : -1, e.where, e.in,
                              e.out, e.min_isa, detail::runnable(e), unit_only});
  }
  return out;
}

std::vector<implementation_info> implementation_order(const std::string& op) {
  for (int i = 0; i < int(detail::op_id::count_); ++i) {
    if (op != detail::name_of(detail::op_id(i))) continue;
    const detail::implementation_list list = detail::implementations_of(detail::op_id(i));
    std::vector<implementation_info> out;
    for (int k = 0; k < list.count; ++k) out.push_back({list.items[k].variant, list.items[k].why});
    return out;
  }
  MIXPREC_THROW(invalid_argument, "implementation_order", "no op is named '", op, "'");
}

std::vector<std::string> op_names() {
  std::vector<std::string> out;
  for (int i = 0; i < int(detail::op_id::count_); ++i) out.emplace_back(detail::name_of(detail::op_id(i)));
  return out;
}

namespace detail {

bool backend_serves(backend where, const std::string& op, dtype in, dtype out) {
  if (where == backend::cuda) (void)cuda_device_count();  // the plugin's kernels
  return !registry::get()
              .matching([&](const kernel_entry& k) {
                return k.where == where && k.in == in && k.out == out && op == name_of(k.op) && runnable(k);
              })
              .empty();
}

}  // namespace detail

bool context::supports(const std::string& op, dtype in, dtype out) const {
  return detail::backend_serves(kind(), op, in, out);
}

force_kernel::force_kernel(std::string name) : previous_(detail::forced_kernel) {
  (void)cuda_device_count();
  if (!detail::registry::get().has_name(name))
    MIXPREC_THROW(invalid_argument, "force_kernel", "no kernel is named '", name, "'");
  detail::forced_kernel = std::move(name);
}

force_kernel::~force_kernel() { detail::forced_kernel = previous_; }

int verbose_level() {
  static const int level = [] {
    const char* v = std::getenv("MIXPREC_VERBOSE");
    if (!v || !*v) return 0;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0') return 1;  // any other text turns it on
    return int(std::clamp(n, 0L, 2L));
  }();
  return level;
}

bool verbose_enabled() { return verbose_level() > 0; }

}  // namespace mixprec
