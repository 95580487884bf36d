// mixprec/version.hpp — the library's version, at compile time and at run time.
//
//   std::cout << mixprec::version_string();   // "0.1.0"; may differ from MIXPREC_VERSION_*
//                                              // when the headers and the library disagree
#pragma once
#include "mixprec/visibility.hpp"

MIXPREC_PUBLIC_BEGIN

#define MIXPREC_VERSION_MAJOR 0
#define MIXPREC_VERSION_MINOR 1
#define MIXPREC_VERSION_PATCH 0

namespace mixprec {
/// Version of the linked library (not of the headers).
const char* version_string();
}  // namespace mixprec

MIXPREC_PUBLIC_END
