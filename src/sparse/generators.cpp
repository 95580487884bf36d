// Test and benchmark matrices from structured grids, built row by row straight into CSR
// (columns emitted in increasing order, so no sort is needed even at 100^3 and beyond).
#include <cmath>
#include <limits>
#include <vector>

#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace {

/// Builds an f64/i32 CSR matrix of `rows` rows; row_fn(i, emit) calls emit(col, value) for
/// the row's entries in increasing column order.
template <class RowFn>
csr_matrix build_rows(const char* op, std::int64_t rows, std::int64_t max_per_row, RowFn&& row_fn) {
  if (rows * max_per_row > std::numeric_limits<std::int32_t>::max())
    MIXPREC_THROW(invalid_argument, op, rows, " rows is too large for i32 indices");
  std::vector<std::int32_t> row_ptr(static_cast<std::size_t>(rows + 1), 0), col;
  std::vector<double> val;
  col.reserve(static_cast<std::size_t>(rows * max_per_row));
  val.reserve(col.capacity());
  for (std::int64_t i = 0; i < rows; ++i) {
    row_fn(i, [&](std::int64_t c, double v) {
      col.push_back(std::int32_t(c));
      val.push_back(v);
    });
    row_ptr[static_cast<std::size_t>(i + 1)] = std::int32_t(col.size());
  }
  const std::int64_t nnz = std::int64_t(val.size());
  csr_matrix a(rows, rows, nnz, dtype::f64, index_type::i32);
  std::copy(row_ptr.begin(), row_ptr.end(), static_cast<std::int32_t*>(a.row_ptr_data()));
  std::copy(col.begin(), col.end(), static_cast<std::int32_t*>(a.col_idx_data()));
  std::copy(val.begin(), val.end(), a.values().typed<double>());
  return a;
}

void check_n(const char* op, std::int64_t n) {
  if (n < 1) MIXPREC_THROW(invalid_argument, op, "grid size n = ", n, " must be at least 1");
}

}  // namespace

csr_matrix poisson_2d(std::int64_t n) {
  check_n("poisson_2d", n);
  return build_rows("poisson_2d", n * n, 5, [&](std::int64_t i, auto emit) {
    const std::int64_t x = i % n, y = i / n;
    if (y > 0) emit(i - n, -1.0);
    if (x > 0) emit(i - 1, -1.0);
    emit(i, 4.0);
    if (x < n - 1) emit(i + 1, -1.0);
    if (y < n - 1) emit(i + n, -1.0);
  });
}

csr_matrix anisotropic_2d(std::int64_t n, double eps) {
  check_n("anisotropic_2d", n);
  if (!(eps > 0)) MIXPREC_THROW(invalid_argument, "anisotropic_2d", "eps = ", eps, " must be positive");
  return build_rows("anisotropic_2d", n * n, 5, [&](std::int64_t i, auto emit) {
    const std::int64_t x = i % n, y = i / n;
    if (y > 0) emit(i - n, -1.0);
    if (x > 0) emit(i - 1, -eps);
    emit(i, 2.0 + 2.0 * eps);
    if (x < n - 1) emit(i + 1, -eps);
    if (y < n - 1) emit(i + n, -1.0);
  });
}

csr_matrix poisson_3d(std::int64_t n) {
  check_n("poisson_3d", n);
  const std::int64_t nn = n * n;
  return build_rows("poisson_3d", nn * n, 7, [&](std::int64_t i, auto emit) {
    const std::int64_t x = i % n, y = (i / n) % n, z = i / nn;
    if (z > 0) emit(i - nn, -1.0);
    if (y > 0) emit(i - n, -1.0);
    if (x > 0) emit(i - 1, -1.0);
    emit(i, 6.0);
    if (x < n - 1) emit(i + 1, -1.0);
    if (y < n - 1) emit(i + n, -1.0);
    if (z < n - 1) emit(i + nn, -1.0);
  });
}

csr_matrix hpcg_27pt(std::int64_t n) {
  check_n("hpcg_27pt", n);
  const std::int64_t nn = n * n;
  return build_rows("hpcg_27pt", nn * n, 27, [&](std::int64_t i, auto emit) {
    const std::int64_t x = i % n, y = (i / n) % n, z = i / nn;
    for (std::int64_t dz = -1; dz <= 1; ++dz)
      for (std::int64_t dy = -1; dy <= 1; ++dy)
        for (std::int64_t dx = -1; dx <= 1; ++dx) {
          const std::int64_t X = x + dx, Y = y + dy, Z = z + dz;
          if (X < 0 || Y < 0 || Z < 0 || X >= n || Y >= n || Z >= n) continue;
          const std::int64_t j = Z * nn + Y * n + X;
          emit(j, j == i ? 26.0 : -1.0);
        }
  });
}

csr_matrix convection_diffusion_3d(std::int64_t n, double peclet) {
  check_n("convection_diffusion_3d", n);
  const std::int64_t nn = n * n;
  const double h = 1.0 / double(n + 1), b = peclet / std::sqrt(3.0);
  // Diffusion stencil scaled by h^2; upwind convection b*(u_i - u_{i-1})/h per direction,
  // also scaled by h^2: adds b*h to the diagonal and -b*h to each upstream neighbour.
  const double c = b * h;
  return build_rows("convection_diffusion_3d", nn * n, 7, [&](std::int64_t i, auto emit) {
    const std::int64_t x = i % n, y = (i / n) % n, z = i / nn;
    if (z > 0) emit(i - nn, -1.0 - c);
    if (y > 0) emit(i - n, -1.0 - c);
    if (x > 0) emit(i - 1, -1.0 - c);
    emit(i, 6.0 + 3.0 * c);
    if (x < n - 1) emit(i + 1, -1.0);
    if (y < n - 1) emit(i + n, -1.0);
    if (z < n - 1) emit(i + nn, -1.0);
  });
}

}  // namespace mixprec
