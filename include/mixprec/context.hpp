// mixprec/context.hpp — where work runs: backend, device, stream, threads, allocator.
//
//   auto ctx = mixprec::context::best();      // CUDA if a GPU and a plugin serving it are usable
//   std::cout << ctx.describe() << "\n";       // what was chosen and why
//   auto cpu = mixprec::context::cpu(2);       // CPU with 2 threads
//   auto gpu = mixprec::context::cuda(0);      // throws status::backend_unavailable without one
//
// MIXPREC_BACKEND=cpu|cuda overrides the choice of best(). MIXPREC_CPU_ISA=generic|avx2|
// avx512|avx512_bf16|avx512_fp16|amx caps the CPU kernels to that level (read once, at first
// use, as the detected level is). A context is a cheap handle: copies share one state.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "mixprec/dtype.hpp"
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

namespace mixprec {

enum class backend { cpu, cuda };
const char* name_of(backend b);

/// CPU instruction-set levels, each including all below it.
enum class cpu_isa {
  generic = 0,  // any x86-64 (or another architecture): portable C++ only
  avx2,         // AVX2 + FMA + F16C
  avx512,       // AVX-512 F/BW/DQ/VL
  avx512_bf16,  // + AVX512-BF16 and AVX512-VNNI
  avx512_fp16,  // + AVX512-FP16 (detected and reported only: no kernel needs it yet)
  amx,          // + AMX tiles (BF16, INT8), with the OS permission granted (detected only, as avx512_fp16)
};
const char* name_of(cpu_isa isa);
/// Parses the names above; throws mixprec::error(invalid_argument) on anything else.
cpu_isa parse_cpu_isa(const std::string& name);

/// What the CPU offers, detected once per process.
struct cpu_features {
  std::string vendor, model;
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_bf16 = false, avx512_vnni = false, avx512_fp16 = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  bool amx_permitted = false;           // the Linux arch_prctl request for tile data succeeded
  std::string amx_note;                 // why AMX is off, when it is
  cpu_isa detected = cpu_isa::generic;  // the best level the hardware and OS allow
  cpu_isa active = cpu_isa::generic;    // detected, capped by MIXPREC_CPU_ISA
};
const cpu_features& cpu_info();

namespace detail {
struct context_state;
struct context_access;
}  // namespace detail

/// Copies between host memory and a CUDA context's device, counted per context (copies
/// within the device and the scalar results of reductions are not counted). A solve whose
/// operands live on the device should add nothing here: what it moves is a vector crossing
/// the bus, which a test or a user can check around any call.
struct transfer_counts {
  long long host_to_device = 0, device_to_host = 0;
  long long bytes = 0;
};

class context {
 public:
  /// An empty context: what default-constructed views, buffers and matrices hold. Ops
  /// refuse operands in it (invalid_argument).
  context() = default;
  bool empty() const { return !state_; }

  /// The CPU; threads == 0 means the runtime's default (OMP_NUM_THREADS or the core count).
  static context cpu(int threads = 0);
  /// CUDA device `device`; throws status::backend_unavailable when it cannot be used.
  static context cuda(int device = 0);
  /// CUDA when a device is usable and the plugin has SpMV, GEMM and stencil kernels (or
  /// MIXPREC_BACKEND=cuda says so), else CPU; describe() says which and why.
  static context best();

  backend kind() const;
  int device() const;   // CUDA device ordinal; 0 on CPU
  int threads() const;  // CPU threads used by kernels
  /// One line: backend, device or ISA level, and why it was chosen.
  std::string describe() const;
  /// Waits for all work queued in this context.
  void synchronize() const;

  bool operator==(const context& other) const;
  bool operator!=(const context& other) const { return !(*this == other); }

  /// Same memory space (CPU, or the same CUDA device): views can be mixed in one op.
  bool same_memory(const context& other) const;

  /// Whether this backend has a kernel for `op` with dtypes (in, out) that can run in this
  /// process; op and dtypes are named as list_kernels() names them (for one-dtype ops
  /// in == out; SpMV: values, vectors). Ops on operands in this context's memory run here
  /// or throw unsupported: ask first to choose where to put data.
  ///   if (!ctx.supports("gemm", dtype::bf16, dtype::f32)) ctx = context::cpu();
  bool supports(const std::string& op, dtype in, dtype out) const;
  /// Host <-> device copies made through this context so far (zero on the CPU).
  transfer_counts transfers() const;

 private:
  friend struct detail::context_access;
  explicit context(std::shared_ptr<detail::context_state> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::context_state> state_;
};

/// Whether the CUDA plugin could be loaded and sees a device; `why` says why not.
bool cuda_available(std::string* why = nullptr);
/// Number of CUDA devices the plugin sees (0 without plugin or driver).
int cuda_device_count();

}  // namespace mixprec

MIXPREC_PUBLIC_END
