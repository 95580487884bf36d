// mixprec-info: what this build of mixprec can do on this machine — version, backends,
// CPU ISA level and AMX state, threads, CUDA device (or why there is none) — and, with
// --kernels, every registered kernel and whether it can run here; with --order, each op's
// implementation list (the order dispatch tries its kernels in) with the reason for each place;
// with --cuda-check, one line naming CUDA device 0 (exit 0) or why none is usable (exit 2),
// for scripts.
#include <cstring>
#include <iostream>

#include "mixprec/mixprec.hpp"

namespace {

const char* yes(bool b) { return b ? "yes" : "no"; }

/// The highest ISA level any CPU kernel that can run here is built for.
mixprec::cpu_isa highest_kernel_level() {
  mixprec::cpu_isa top = mixprec::cpu_isa::generic;
  for (const mixprec::kernel_info& k : mixprec::list_kernels())
    if (k.where == mixprec::backend::cpu && k.runnable && int(k.min_isa) > int(top)) top = k.min_isa;
  return top;
}

void print_cpu() {
  const mixprec::cpu_features& f = mixprec::cpu_info();
  std::cout << "cpu:          " << (f.model.empty() ? f.vendor : f.model) << "\n"
            << "isa detected: " << mixprec::name_of(f.detected) << "\n"
            << "isa active:   " << mixprec::name_of(f.active)
            << (f.active != f.detected ? "  (capped by MIXPREC_CPU_ISA)" : "") << "\n"
            << "isa used:     " << mixprec::name_of(highest_kernel_level())
            << "  (the highest level a runnable CPU kernel needs; levels above it are detected only)\n"
            << "features:     avx2 " << yes(f.avx2) << ", fma " << yes(f.fma) << ", f16c " << yes(f.f16c)
            << ", avx512f " << yes(f.avx512f) << ", avx512bw " << yes(f.avx512bw) << ", avx512_bf16 "
            << yes(f.avx512_bf16) << ", avx512_vnni " << yes(f.avx512_vnni) << ", avx512_fp16 " << yes(f.avx512_fp16)
            << "\n"
            << "amx:          " << (f.amx_permitted ? "amx (tiles on: bf16, int8)" : "off")
            << (f.amx_note.empty() ? "" : " — " + f.amx_note) << "\n";
}

void print_order() {
  std::cout << "\nimplementation order per op (best first; dispatch takes the first that can run and accepts the "
               "problem):\n";
  for (const std::string& op : mixprec::op_names()) {
    std::cout << "  " << op << "\n";
    int place = 0;
    for (const mixprec::implementation_info& i : mixprec::implementation_order(op))
      std::cout << "    " << place++ << ". " << i.variant << ": " << i.why << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool list = argc > 1 && std::strcmp(argv[1], "--kernels") == 0;
  const bool order = argc > 1 && std::strcmp(argv[1], "--order") == 0;
  const bool cuda_check = argc > 1 && std::strcmp(argv[1], "--cuda-check") == 0;
  if (argc > 2 || (argc > 1 && !list && !order && !cuda_check)) {
    std::cerr << "usage: mixprec-info [--kernels | --order | --cuda-check]\n";
    return 64;
  }
  try {
    if (cuda_check) {
      std::string why;
      if (!mixprec::cuda_available(&why)) {
        std::cout << "unavailable: " << why << "\n";
        return 2;
      }
      std::cout << mixprec::context::cuda(0).describe() << "\n";
      return 0;
    }
    std::cout << "mixprec " << mixprec::version_string() << "\n";
    print_cpu();
    const mixprec::context cpu = mixprec::context::cpu();
    std::cout << "threads:      " << cpu.threads() << "\n";
    std::string why;
    const bool cuda = mixprec::cuda_available(&why);
    std::cout << "backends:     cpu" << (cuda ? ", cuda" : "") << "\n";
    if (cuda) {
      for (int d = 0; d < mixprec::cuda_device_count(); ++d)
        std::cout << "cuda device:  " << mixprec::context::cuda(d).describe() << "\n";
    } else {
      std::cout << "cuda:         unavailable: " << why << "\n";
    }
    std::cout << "best context: " << mixprec::context::best().describe() << "\n";
    if (list) {
      std::cout << "\nkernels (dispatch order within each op and dtype):\n";
      for (const auto& k : mixprec::list_kernels())
        std::cout << "  " << k.name << "  [" << mixprec::name_of(k.where) << ", isa " << mixprec::name_of(k.min_isa)
                  << "]" << (k.runnable ? "" : "  not runnable here")
                  << (k.rank < 0 ? "  NOT IN ITS OP'S IMPLEMENTATION LIST" : "") << "\n";
    }
    if (order) print_order();
  } catch (const mixprec::error& e) {
    std::cerr << "mixprec-info: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
