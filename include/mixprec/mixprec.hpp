// mixprec/mixprec.hpp — everything a user needs, in one include.
//
//   #include <mixprec/mixprec.hpp>
//
//   int main() {
//     auto ctx = mixprec::context::best();              // CUDA when usable, else CPU
//     mixprec::array<float> x(1000, ctx), y(1000, ctx);
//     mixprec::fill(x, 1.0);
//     mixprec::fill(y, 2.0);
//     mixprec::axpy(3.0, x, y);                         // y = 3x + y = 5
//     return mixprec::dot(x, y) == 5000.0 ? 0 : 1;
//   }
#pragma once

#include "mixprec/array.hpp"
#include "mixprec/attention.hpp"
#include "mixprec/train.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/block_quant.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/dtype.hpp"
#include "mixprec/error.hpp"
#include "mixprec/float16.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/grid.hpp"
#include "mixprec/kernels.hpp"
#include "mixprec/linear_operator.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/nn.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/quantize.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"
#include "mixprec/stencil.hpp"
#include "mixprec/version.hpp"
#include "mixprec/view.hpp"
