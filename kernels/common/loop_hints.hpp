// Loop hints the kernels give the compiler, spelled for each compiler: GCC's ivdep and
// clang's assume_safety both say that a loop's iterations carry no memory dependence (no
// store feeds a later iteration's load), so that it vectorizes without run-time overlap
// checks. Other compilers get no hint.
#pragma once

#if defined(__clang__)
#define MIXPREC_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define MIXPREC_IVDEP _Pragma("GCC ivdep")
#else
#define MIXPREC_IVDEP
#endif
