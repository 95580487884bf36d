#include "mixprec/version.hpp"

namespace mixprec {
const char* version_string() { return MIXPREC_VERSION_STRING; }
}  // namespace mixprec
