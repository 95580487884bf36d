// The CPU threading runtime's defaults, in the one place that knows which runtime is built.
#include "internal/context_state.hpp"

#if defined(MIXPREC_THREADING_TBB)
#include <tbb/task_arena.h>
#else
#include <omp.h>
#endif

namespace mixprec::detail {

int default_cpu_threads() {
#if defined(MIXPREC_THREADING_TBB)
  return tbb::this_task_arena::max_concurrency();
#else
  return omp_get_max_threads();
#endif
}

const char* threading_runtime() {
#if defined(MIXPREC_THREADING_TBB)
  return "oneTBB";
#else
  return "OpenMP";
#endif
}

}  // namespace mixprec::detail
