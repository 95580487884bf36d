// The one dispatch point: front ends ask here for the kernel that serves a call.
#pragma once

#include <chrono>
#include <string>

#include "internal/context_state.hpp"
#include "internal/registry.hpp"

namespace mixprec::detail {

/// The best runnable kernel for (op, backend of ctx, in, out) that supports `problem`, or
/// the forced one (mixprec::force_kernel). Throws unsupported when none can serve.
kernel_entry select_kernel(op_id op, const context_state& ctx, dtype in, dtype out,
                           const void* problem);

/// After a kernel ran: turns a CUDA launch failure into mixprec::error, and with
/// MIXPREC_VERBOSE waits for the device and prints the call's one line (dtypes and shape
/// already formatted by the front end). Every op front end ends its call here.
void finish_call(op_id op, const context_state& ctx, const kernel_entry& k,
                 std::chrono::steady_clock::time_point start, const std::string& dtypes,
                 const std::string& shape, accumulation acc);

/// Whether a kernel can run in this process (ISA level allowed, CUDA device present).
bool runnable(const kernel_entry& k);

}  // namespace mixprec::detail
