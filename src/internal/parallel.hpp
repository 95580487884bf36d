// The one parallel-for of the CPU backend. The runtime (OpenMP or oneTBB) is chosen at
// configure time, here and nowhere else; kernels only see `parallel_chunks`.
//
// Work is cut into a number of contiguous chunks that depends only on the problem size and
// the thread count, never on timing, so reductions combine their per-chunk partials in the
// same order every run: results are reproducible for a given thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define MIXPREC_HAVE_MXCSR 1
#endif

namespace mixprec::detail {

/// Upper bound on chunks a reduction keeps partials for.
inline constexpr int max_chunks = 256;

// The two below are out of line, in the core: kernel folders built with wider ISA flags call
// them, and an inline copy compiled in each folder would be one name with several bodies
// (tests/check_isa_objects_share_no_code.cmake).

/// How many chunks to cut n elements into: one per thread, none smaller than min_chunk.
int chunk_count(std::int64_t n, int threads, std::int64_t min_chunk);

/// [begin, end) of chunk c of `chunks` over n elements; boundaries are multiples of `align`
/// (SIMD width or cache line) except the last end.
void chunk_range(std::int64_t n, int chunks, int c, std::int64_t align, std::int64_t* begin, std::int64_t* end);

/// The floating-point mode the numerics contract assumes (round to nearest even, subnormals
/// kept), set for the life of the object on the calling thread and then restored. A program
/// built with -ffast-math turns on flush-to-zero and denormals-are-zero at start-up; the
/// SIMD kernels, whose instructions obey that mode, then flushed f32 subnormals to zero
/// where the portable ones (integer rounding) did not. Costs one MXCSR read per chunk in the
/// usual mode. Out of line (src/threading.cpp), as the chunk helpers above: an inline body
/// left out of line by an unoptimised build would be one more VEX-encoded copy in the ISA
/// folders' objects for the linker to choose from.
class contract_fp_mode {
 public:
#if defined(MIXPREC_HAVE_MXCSR)
  contract_fp_mode();
  ~contract_fp_mode();
  contract_fp_mode(const contract_fp_mode&) = delete;
  contract_fp_mode& operator=(const contract_fp_mode&) = delete;

 private:
  unsigned saved_;
  bool changed_;
#endif
};

#if defined(MIXPREC_THREADING_TBB)
/// oneTBB's side of parallel_chunks: body(context, c) for c in [0, chunks) on up to `chunks`
/// threads. Out of line in the core: oneTBB's inline functions (the arena's, the task
/// group's) compiled into a kernel folder would be one name with several bodies, some of
/// them in instructions the CPU may lack.
void tbb_run_chunks(int chunks, void (*body)(void* context, int c), void* context);
#endif

/// Runs f(c) for c in [0, chunks) on up to `chunks` threads, each under contract_fp_mode;
/// returns when all are done.
template <class F>
void parallel_chunks(int chunks, F&& f) {
  auto run = [&f](int c) {
    const contract_fp_mode mode{};
    f(c);
  };
  if (chunks <= 1) {
    run(0);
    return;
  }
#if defined(MIXPREC_THREADING_TBB)
  tbb_run_chunks(
      chunks, [](void* context, int c) { (*static_cast<decltype(run)*>(context))(c); }, &run);
#else
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
  for (int c = 0; c < chunks; ++c) run(c);
#endif
}

}  // namespace mixprec::detail
