// Code in kernels/common is compiled once per kernel folder, each with its own ISA flags
// (baseline, AVX2, AVX-512, ...). Its templates and inline functions would otherwise have
// one mangled name in every folder, and the linker would keep a single copy for all: the
// AVX-512 kernels could end up calling the baseline copy (slow), or the baseline kernels
// the AVX-512 copy (an illegal instruction on a CPU without it). So every folder's copy
// lives in its own inline namespace, named by the build (kernels/CMakeLists.txt).
#pragma once

#if !defined(MIXPREC_KERNEL_ISA)
#error "MIXPREC_KERNEL_ISA must name the kernel folder being compiled (set by kernels/CMakeLists.txt)"
#endif
