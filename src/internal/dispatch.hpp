// The one dispatch point: front ends ask here for the kernel that serves a call.
#pragma once

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

#include "internal/context_state.hpp"
#include "internal/registry.hpp"
#include "mixprec/kernels.hpp"

namespace mixprec::detail {

/// The best runnable kernel for (op, backend of ctx, in, out) that supports `problem`, or
/// the forced one (mixprec::force_kernel). Throws unsupported when none can serve.
kernel_entry select_kernel(op_id op, const context_state& ctx, dtype in, dtype out, const void* problem);

/// After a kernel ran: turns a CUDA launch failure into mixprec::error, and with
/// MIXPREC_VERBOSE waits for the device and prints the call's one line (dtypes and shape
/// already formatted by the front end). Every op front end ends its call here.
void finish_call(op_id op, const context_state& ctx, const kernel_entry& k, std::chrono::steady_clock::time_point start,
                 const std::string& dtypes, const std::string& shape, accumulation acc);

/// The start of a call, for the verbose line's time; read from the clock only when verbose
/// is on (the clock read cost a tenth of a small call).
inline std::chrono::steady_clock::time_point call_start() {
  return mixprec::verbose_enabled() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
}

/// finish_call with the verbose line's text, {dtypes, shape}, built by `describe` only when
/// it is printed: formatting it on every call cost more than a BLAS-1 kernel on a few
/// thousand elements, the size of a small solver's vectors.
template <class Describe>
void finish_call(op_id op, const context_state& ctx, const kernel_entry& k, std::chrono::steady_clock::time_point start,
                 accumulation acc, Describe&& describe) {
  if (ctx.kind == backend::cpu && !mixprec::verbose_enabled()) return;
  const std::pair<std::string, std::string> text = describe();
  finish_call(op, ctx, k, start, text.first, text.second, acc);
}

/// The front door of every op: selects the kernel of op Op for (ctx's backend, in, out,
/// problem), calls call(fn, exec_args) with fn typed as Op's kernel, and finishes the call
/// (CUDA errors; with MIXPREC_VERBOSE, the call's line, its text built by describe() only
/// then). Returns what call returns.
template <op_id Op, class Call, class Describe>
auto dispatch(const context_state& ctx, dtype in, dtype out, const void* problem, accumulation acc, Call&& call,
              Describe&& describe) {
  const kernel_entry k = select_kernel(Op, ctx, in, out, problem);
  const auto start = call_start();
  if constexpr (std::is_void_v<decltype(call(kernel_fn<Op>(k), ctx.exec()))>) {
    call(kernel_fn<Op>(k), ctx.exec());
    finish_call(Op, ctx, k, start, acc, describe);
  } else {
    auto result = call(kernel_fn<Op>(k), ctx.exec());
    finish_call(Op, ctx, k, start, acc, describe);
    return result;
  }
}

/// Whether `where` has a kernel for op (by name) and dtypes that can run in this process
/// (context::supports, and best() before it makes a CUDA context).
bool backend_serves(backend where, const std::string& op, dtype in, dtype out);

/// Whether a kernel can run in this process (ISA level allowed, CUDA device present).
bool runnable(const kernel_entry& k);

}  // namespace mixprec::detail
