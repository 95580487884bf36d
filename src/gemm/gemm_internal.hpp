// What the GEMM front end and the packed_matrix implementation share.
#pragma once

#include <vector>

#include "internal/registry.hpp"
#include "mixprec/array.hpp"
#include "mixprec/gemm.hpp"

namespace mixprec {

struct packed_matrix::impl {
  buffer panels;  // in the context the matrix was packed in
  std::int64_t k = 0, n = 0, k_padded = 0;
  int nr = 0, kgroup = 0;
  dtype type = dtype::f32;
  std::vector<std::int32_t> col_sums;  // integer B: per-column sums over k
};

namespace detail {

struct packed_matrix_access {
  static const packed_matrix::impl& of(const packed_matrix& p) { return *p.impl_; }
};

/// The kernels' view of a packed B.
gemm_packed packed_args_of(const packed_matrix& p);

/// Both public gemm overloads: exactly one of b and pb is set.
void gemm_call(trans ta, trans tb, double alpha, const const_view& a, const const_view* b, const packed_matrix* pb,
               double beta, const view& c, const gemm_options& o);

}  // namespace detail
}  // namespace mixprec
