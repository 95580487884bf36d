// CPU feature detection: cpuid for what the silicon has, xgetbv for what the OS saves on a
// context switch, and the Linux arch_prctl request without which the first AMX tile
// instruction faults. Done once per process; MIXPREC_CPU_ISA can only lower the result.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mixprec/context.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define MIXPREC_X86 1
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace mixprec {
namespace {

#if defined(MIXPREC_X86)
struct regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
regs cpuid(unsigned leaf, unsigned sub = 0) {
  regs r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}
bool bit(unsigned v, int i) { return (v >> i) & 1u; }

std::uint64_t xgetbv0() {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t(hi) << 32) | lo;
}

// Asks Linux for permission to use AMX tile data (XFEATURE 18). Kernels before 5.16 do not
// know the request; then AMX cannot be used.
bool request_amx_permission(std::string* note) {
#if defined(__linux__)
  constexpr long arch_req_xcomp_perm = 0x1023;
  constexpr long xfeature_xtiledata = 18;
  if (syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0) return true;
  *note = std::string("arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) refused: ") + std::strerror(errno);
  return false;
#else
  *note = "AMX permission request is implemented for Linux only";
  return false;
#endif
}
#endif

cpu_features detect() {
  cpu_features f;
#if defined(MIXPREC_X86)
  const regs r0 = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &r0.b, 4);
  std::memcpy(vendor + 4, &r0.d, 4);
  std::memcpy(vendor + 8, &r0.c, 4);
  f.vendor = vendor;
  if (cpuid(0x80000000).a >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    f.model = brand;
    while (!f.model.empty() && f.model.back() == ' ') f.model.pop_back();
  }
  const unsigned max_leaf = r0.a;
  const regs r1 = cpuid(1);
  const bool osxsave = bit(r1.c, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // XTILECFG and XTILEDATA
  f.fma = os_avx && bit(r1.c, 12);
  f.f16c = os_avx && bit(r1.c, 29);
  if (max_leaf >= 7) {
    const regs r7 = cpuid(7, 0);
    f.avx2 = os_avx && bit(r7.b, 5);
    f.avx512f = os_avx512 && bit(r7.b, 16);
    f.avx512dq = os_avx512 && bit(r7.b, 17);
    f.avx512bw = os_avx512 && bit(r7.b, 30);
    f.avx512vl = os_avx512 && bit(r7.b, 31);
    f.avx512_vnni = os_avx512 && bit(r7.c, 11);
    f.avx512_fp16 = os_avx512 && bit(r7.d, 23);
    f.amx_bf16 = bit(r7.d, 22);
    f.amx_tile = bit(r7.d, 24);
    f.amx_int8 = bit(r7.d, 25);
    if (r7.a >= 1) f.avx512_bf16 = os_avx512 && bit(cpuid(7, 1).a, 5);
  }
  const bool has_amx = f.amx_tile && f.amx_bf16 && f.amx_int8;
  if (!has_amx) {
    f.amx_note = "not present on this CPU";
  } else if (!os_amx) {
    f.amx_note = "present, but the OS does not enable tile state (XCR0)";
  } else {
    f.amx_permitted = request_amx_permission(&f.amx_note);
  }

  const bool l_avx2 = f.avx2 && f.fma && f.f16c;
  const bool l_avx512 = l_avx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
  const bool l_bf16 = l_avx512 && f.avx512_bf16 && f.avx512_vnni;
  const bool l_fp16 = l_bf16 && f.avx512_fp16;
  const bool l_amx = l_fp16 && has_amx && f.amx_permitted;
  f.detected = l_amx      ? cpu_isa::amx
               : l_fp16   ? cpu_isa::avx512_fp16
               : l_bf16   ? cpu_isa::avx512_bf16
               : l_avx512 ? cpu_isa::avx512
               : l_avx2   ? cpu_isa::avx2
                          : cpu_isa::generic;
#else
  f.vendor = "non-x86";
  f.amx_note = "not an x86 CPU";
#endif
  f.active = f.detected;
  if (const char* cap = std::getenv("MIXPREC_CPU_ISA"); cap && *cap) {
    try {
      const cpu_isa c = parse_cpu_isa(cap);
      if (int(c) < int(f.active)) f.active = c;
    } catch (const std::exception&) {
      std::fprintf(stderr,
                   "mixprec: MIXPREC_CPU_ISA=%s is not one of generic, avx2, avx512, "
                   "avx512_bf16, avx512_fp16, amx; ignored\n",
                   cap);
    }
  }
  return f;
}

}  // namespace

const cpu_features& cpu_info() {
  static const cpu_features features = detect();
  return features;
}

}  // namespace mixprec
