// mixprec/visibility.hpp — what the shared library exports.
//
// The library is compiled with -fvisibility=hidden, so kernels and internal helpers stay
// private to it; each public header puts its declarations between MIXPREC_PUBLIC_BEGIN and
// MIXPREC_PUBLIC_END, which gives them (and the classes' vtables and type information, so
// that mixprec::error can be caught across the library boundary) default visibility. The
// linker's version script (src/mixprec.map) then exports those names and nothing else.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define MIXPREC_PUBLIC_BEGIN _Pragma("GCC visibility push(default)")
#define MIXPREC_PUBLIC_END _Pragma("GCC visibility pop")
#else
#define MIXPREC_PUBLIC_BEGIN
#define MIXPREC_PUBLIC_END
#endif
