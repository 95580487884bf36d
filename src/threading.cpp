// The CPU threading runtime's defaults, in the one place that knows which runtime is built.
#include "internal/context_state.hpp"
#include "internal/parallel.hpp"

#if defined(MIXPREC_THREADING_TBB)
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <memory>
#include <vector>
#else
#include <omp.h>
#endif

namespace mixprec::detail {

int chunk_count(std::int64_t n, int threads, std::int64_t min_chunk) {
  const std::int64_t by_size = std::max<std::int64_t>(1, n / std::max<std::int64_t>(1, min_chunk));
  return int(std::min<std::int64_t>({by_size, std::int64_t(std::max(1, threads)), std::int64_t(max_chunks)}));
}

void chunk_range(std::int64_t n, int chunks, int c, std::int64_t align, std::int64_t* begin, std::int64_t* end) {
  const std::int64_t blocks = (n + align - 1) / align;
  const std::int64_t per = blocks / chunks, extra = blocks % chunks;
  const std::int64_t b = c * per + std::min<std::int64_t>(c, extra);
  const std::int64_t e = b + per + (c < extra ? 1 : 0);
  *begin = std::min(n, b * align);
  *end = std::min(n, e * align);
}

#if defined(MIXPREC_THREADING_TBB)
void tbb_run_chunks(int chunks, void (*body)(void* context, int c), void* context) {
  // An arena of `chunks` slots, so that a call uses the threads its chunk count asks for
  // (as OpenMP's num_threads) and every chunk is one task (simple_partitioner, grain 1).
  // Each calling thread keeps its arenas: making one per call costs as much as a small
  // kernel's whole work (a Krylov iteration calls a dozen). Threads calling at once still
  // get arenas of their own.
  thread_local std::vector<std::unique_ptr<tbb::task_arena>> arenas;
  if (arenas.size() <= std::size_t(chunks)) arenas.resize(std::size_t(chunks) + 1);
  std::unique_ptr<tbb::task_arena>& arena = arenas[std::size_t(chunks)];
  if (!arena) arena = std::make_unique<tbb::task_arena>(chunks);
  arena->execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, chunks, 1),
        [&](const tbb::blocked_range<int>& r) {
          for (int c = r.begin(); c != r.end(); ++c) body(context, c);
        },
        tbb::simple_partitioner());
  });
}
#endif

#if defined(MIXPREC_HAVE_MXCSR)
contract_fp_mode::contract_fp_mode() : saved_(_mm_getcsr()) {
  constexpr unsigned flush_to_zero = 0x8000, denormals_are_zero = 0x0040, rounding = 0x6000;
  const unsigned want = saved_ & ~(flush_to_zero | denormals_are_zero | rounding);
  changed_ = want != saved_;
  if (changed_) _mm_setcsr(want);
}

contract_fp_mode::~contract_fp_mode() {
  if (changed_) _mm_setcsr(saved_);
}
#endif

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
