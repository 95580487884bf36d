// mixprec/kernels.hpp — list the registered kernels and force one by name.
//
//   for (const auto& k : mixprec::list_kernels("dot"))
//     std::cout << k.name << " isa=" << mixprec::name_of(k.min_isa)
//               << (k.runnable ? "" : " (not on this machine)") << "\n";
//
//   {
//     mixprec::force_kernel pin("dot_f32_ref");   // this thread, until `pin` is destroyed
//     double d = mixprec::dot(x, y);              // runs dot_f32_ref or throws if it cannot
//   }
//
// Every (op, dtype) has a scalar `_ref` kernel, always registered: the fallback and the test
// oracle. Kernel names are `<op>_<dtypes>_<variant>`, e.g. `convert_f32bf16_avx512_bf16`.
// Dispatch takes, for the context's backend, the first kernel in its op's implementation
// order (implementation_order(op), one list per op, each entry with its reason) whose ISA
// level the CPU allows (see MIXPREC_CPU_ISA) and whose `supports()` accepts the problem.
// MIXPREC_VERBOSE=1 prints one line per op call: op, dtypes, shape, backend, kernel, time.
#pragma once

#include <string>
#include <vector>

#include "mixprec/context.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

struct kernel_info {
  std::string name;
  std::string op;
  std::string variant;  // the name's last part: technique and ISA level, as "avx512", "i32_loops_avx2"
  int rank = -1;        // the variant's place in implementation_order(op), 0 = best; -1: not listed
  backend where = backend::cpu;
  dtype in = dtype::f64;
  dtype out = dtype::f64;
  cpu_isa min_isa = cpu_isa::generic;  // CPU kernels only
  bool runnable = false;               // this process can run it (ISA level, device present)
  bool unit_stride_only = false;       // rejects non-unit strides (dispatch then picks another)
};

/// Kernels registered for `op` ("" for all), ordered by op and then rank: within one
/// (op, backend, dtypes), the order dispatch tries them in.
std::vector<kernel_info> list_kernels(const std::string& op = "");

/// One entry of an op's implementation list: a variant and why it sits where it does.
struct implementation_info {
  std::string variant;
  std::string why;
};
/// The op's implementations, best first and the reference last: the order dispatch tries
/// kernels in, whatever their dtypes. Throws invalid_argument for an unknown op.
std::vector<implementation_info> implementation_order(const std::string& op);
/// The names of every op the library dispatches.
std::vector<std::string> op_names();

/// While alive, ops on this thread use the named kernel for its (op, dtypes); a call whose
/// kernel cannot serve it (wrong backend, ISA not available, problem not supported) throws
/// mixprec::error(unsupported) rather than silently running another.
class force_kernel {
 public:
  explicit force_kernel(std::string name);
  ~force_kernel();
  force_kernel(const force_kernel&) = delete;
  force_kernel& operator=(const force_kernel&) = delete;

 private:
  std::string previous_;
};

/// MIXPREC_VERBOSE, read once: 0 (unset or "0"), 1 (one line per call: op, dtypes, shape,
/// kernel, time) or 2 (also, before each call, every kernel registered for its op, backend
/// and dtypes, best first, each with why dispatch chose it, skipped it or did not try it).
/// Any other non-empty text means 1. Verbose lines go to stderr.
int verbose_level();
/// verbose_level() > 0.
bool verbose_enabled();

}  // namespace mixprec

MIXPREC_PUBLIC_END
