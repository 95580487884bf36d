// The input rows a constant stencil reads and how the row engines prefetch them: shared by
// the general row engine (stencil_rows.hpp) and the box one (stencil_box_rows.hpp).
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <cstdint>

#include "internal/registry.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

/// The distinct (dy, dz) input rows of a stencil, and for each point its row and x shift.
/// Row 0 is always the center row (0, 0). `lead` is the row furthest ahead in a sweep that
/// walks y fastest, then z: the one row of each output row that is new from memory.
struct row_plan {
  local_vector<int> dy, dz;
  local_vector<int> row_of_point, dx_of_point;
  int lead = 0, trail = 0;

  explicit row_plan(const detail::stencil_args& a) : dy{0}, dz{0} {
    for (int p = 0; p < a.npoints; ++p) {
      const detail::stencil_offset o = a.offsets[p];
      int r = 0;
      while (r < int(dy.size()) && (dy[r] != o.dy || dz[r] != o.dz)) ++r;
      if (r == int(dy.size())) {
        dy.push_back(o.dy);
        dz.push_back(o.dz);
      }
      row_of_point.push_back(r);
      dx_of_point.push_back(o.dx);
    }
    for (int r = 1; r < rows(); ++r)
      if (dz[r] > dz[lead] || (dz[r] == dz[lead] && dy[r] > dy[lead])) lead = r;
    for (int r = 1; r < rows(); ++r)
      if (dz[r] < dz[trail] || (dz[r] == dz[trail] && dy[r] < dy[trail])) trail = r;
  }
  int rows() const { return int(dy.size()); }
};

/// A row that will be read soon, fetched into cache a line per line of work while the
/// current row is computed: interleaved so, the hardware prefetchers' short per-row streams
/// no longer leave each row's first lines to wait on memory (a burst of prefetches up front
/// measured slower). `step` is the bytes of that row per cache line of compute values.
struct row_prefetch {
  const char* p = nullptr;
  std::int64_t step = 64;
};

/// Prefetches the `n` elements `ahead` elements after `row` (the same row of a plane the
/// caller reaches next: measured 1.12x for Jacobi with f, whose rows come in short runs per
/// plane). Integer arithmetic: the row ahead may lie past the grid.
template <class T>
inline void prefetch_row(const T* row, std::int64_t ahead, std::int64_t n) {
  const auto p = reinterpret_cast<std::uintptr_t>(row) + std::uintptr_t(ahead * std::int64_t(sizeof(T)));
  for (std::int64_t b = 0; b < n * std::int64_t(sizeof(T)); b += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(p + b));
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
