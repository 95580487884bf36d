// Fused vector ops for the solvers: one pass over memory where the plain ops would take
// several. Front ends in src/blas1.cpp, kernels registered like the BLAS-1 ones.
#pragma once

#include "mixprec/view.hpp"

namespace mixprec::detail {

/// CG's update: x += alpha*p, r -= alpha*q; returns the new r'r accumulated in f64. Dense
/// vectors of one dtype (f64 or f32).
double cg_update(double alpha, const_view p, const_view q, view x, view r);

}  // namespace mixprec::detail
