// The one dispatch point: front ends ask here for the kernel that serves a call.
#pragma once

#include "internal/context_state.hpp"
#include "internal/registry.hpp"

namespace mixprec::detail {

/// The best runnable kernel for (op, backend of ctx, in, out) that supports `problem`, or
/// the forced one (mixprec::force_kernel). Throws unsupported when none can serve.
kernel_entry select_kernel(op_id op, const context_state& ctx, dtype in, dtype out,
                           const void* problem);

/// Whether a kernel can run in this process (ISA level allowed, CUDA device present).
bool runnable(const kernel_entry& k);

}  // namespace mixprec::detail
