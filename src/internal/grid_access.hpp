// Element access to a CPU grid of run-time dtype, widened to / rounded from f64: for the
// front ends that set up or check coefficients on the host (not for kernels).
#pragma once

#include <cstdint>

#include "mixprec/float16.hpp"
#include "mixprec/grid.hpp"

namespace mixprec::detail {

inline double load_f64(const grid& g, std::int64_t i, std::int64_t j, std::int64_t k) {
  switch (g.type()) {
    case dtype::f64:
      return g.at<double>(i, j, k);
    case dtype::f32:
      return g.at<float>(i, j, k);
    case dtype::f16:
      return double(float(g.at<half>(i, j, k)));
    case dtype::bf16:
      return double(float(g.at<bfloat16>(i, j, k)));
    default:
      break;
  }
  return 0.0;
}

/// Rounds v once to the grid's dtype (nearest even).
inline void store_f64(grid& g, std::int64_t i, std::int64_t j, std::int64_t k, double v) {
  switch (g.type()) {
    case dtype::f64:
      g.at<double>(i, j, k) = v;
      break;
    case dtype::f32:
      g.at<float>(i, j, k) = float(v);
      break;
    case dtype::f16:
      g.at<half>(i, j, k) = half(v);
      break;
    case dtype::bf16:
      g.at<bfloat16>(i, j, k) = bfloat16(v);
      break;
    default:
      break;
  }
}

}  // namespace mixprec::detail
