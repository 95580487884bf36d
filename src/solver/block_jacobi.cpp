// Adaptive block-Jacobi: diagonal blocks inverted in f64 on the host, each stored in the
// lowest precision its conditioning allows, grouped into one CSR matrix per precision.
#include <cmath>
#include <sstream>

#include "internal/error_macros.hpp"
#include "mixprec/preconditioner.hpp"
#include "solver/preconditioner_support.hpp"

namespace mixprec {
namespace {

constexpr const char* op_name = "block_jacobi_preconditioner";

double norm1(const std::vector<double>& a, int n) {
  double m = 0;
  for (int j = 0; j < n; ++j) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += std::abs(a[std::size_t(i * n + j)]);
    m = std::max(m, s);
  }
  return m;
}

/// Inverts the n x n row-major block in place (Gauss-Jordan, partial pivoting); false when
/// a pivot is not finite or no larger than n u ||A||_1, the rounding its elimination may
/// have left: such a block is singular to working precision (an exactly singular block
/// often ends with a pivot of 1e-17 rather than 0, and its "inverse" is noise times 1e16).
bool invert(std::vector<double>& a, int n) {
  const double negligible = n * 0x1p-53 * norm1(a, n);
  std::vector<int> perm(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) perm[std::size_t(i)] = i;
  auto at = [&](int i, int j) -> double& { return a[std::size_t(i * n + j)]; };
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int i = c + 1; i < n; ++i)
      if (std::abs(at(i, c)) > std::abs(at(p, c))) p = i;
    if (!(std::abs(at(p, c)) > negligible) || !std::isfinite(at(p, c))) return false;
    if (p != c) {
      for (int j = 0; j < n; ++j) std::swap(at(p, j), at(c, j));
      std::swap(perm[std::size_t(p)], perm[std::size_t(c)]);
    }
    const double d = 1.0 / at(c, c);
    at(c, c) = 1.0;
    for (int j = 0; j < n; ++j) at(c, j) *= d;
    for (int i = 0; i < n; ++i) {
      if (i == c) continue;
      const double f = at(i, c);
      if (f == 0.0) continue;
      at(i, c) = 0.0;
      for (int j = 0; j < n; ++j) at(i, j) -= f * at(c, j);
    }
  }
  // Gauss-Jordan on the row-permuted matrix P A gives (P A)^-1 = A^-1 P^T: undo on columns.
  std::vector<double> out(a.size());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) out[std::size_t(i * n + perm[std::size_t(j)])] = at(i, j);
  a.swap(out);
  return true;
}

/// Every entry survives rounding to t: finite, and nonzero where nonzero.
bool representable(const std::vector<double>& a, dtype t) {
  return detail::first_lost_in(a.data(), std::int64_t(a.size()), t) < 0;
}

}  // namespace

block_jacobi_preconditioner::block_jacobi_preconditioner(const linear_operator& a, block_jacobi_options o)
    : linear_operator(a.rows(), a.cols(), a.ctx()), options_(std::move(o)) {
  const csr_matrix& matrix = detail::assembled_matrix(a, op_name);
  const int bs = options_.block_size;
  if (bs < 1 || bs > 32) MIXPREC_THROW(invalid_argument, op_name, "block_size = ", bs, " (1 to 32)");
  std::vector<dtype> candidates = options_.adaptive ? options_.precisions : std::vector<dtype>{options_.storage};
  if (candidates.empty()) MIXPREC_THROW(invalid_argument, op_name, "no precisions to choose from");
  for (dtype t : candidates)
    if (t != dtype::f64 && t != dtype::f32 && t != dtype::f16 && t != dtype::bf16)
      MIXPREC_THROW(unsupported, op_name, "precision ", name_of(t), " (f64, f32, f16 or bf16)");
  if (!(options_.accuracy > 0)) MIXPREC_THROW(invalid_argument, op_name, "accuracy = ", options_.accuracy);
  // Lowest precision first.
  std::sort(candidates.begin(), candidates.end(), [](dtype x, dtype y) { return unit_roundoff(x) > unit_roundoff(y); });

  const coo_matrix c = matrix.to_coo();  // sorted by row, then column
  const std::int64_t n = a.rows();
  std::vector<coo_matrix> parts(candidates.size(), coo_matrix(n, n));
  std::vector<std::int64_t> counts(candidates.size(), 0);
  std::int64_t k = 0;
  for (std::int64_t b0 = 0; b0 < n; b0 += bs) {
    const int m = int(std::min<std::int64_t>(bs, n - b0));
    std::vector<double> d(std::size_t(m) * std::size_t(m), 0.0);
    for (; k < c.nnz() && c.row[std::size_t(k)] < b0 + m; ++k) {
      const std::int64_t col = c.col[std::size_t(k)];
      if (col >= b0 && col < b0 + m)
        d[std::size_t((c.row[std::size_t(k)] - b0) * m + (col - b0))] = c.value[std::size_t(k)];
    }
    const double norm = norm1(d, m);
    if (!invert(d, m))
      MIXPREC_THROW(numerical_breakdown, op_name, "the diagonal block of rows ", b0, " to ", b0 + m - 1,
                    " is singular (to working precision): no block-Jacobi inverse");
    const double cond = norm * norm1(d, m);
    std::size_t chosen = candidates.size() - 1;
    if (options_.adaptive)
      for (std::size_t t = 0; t < candidates.size(); ++t)
        if (unit_roundoff(candidates[t]) * cond <= options_.accuracy && representable(d, candidates[t])) {
          chosen = t;
          break;
        }
    if (!representable(d, candidates[chosen]))
      MIXPREC_THROW(numerical_breakdown, op_name, "the inverse of the block of rows ", b0, " to ", b0 + m - 1,
                    " does not fit ", name_of(candidates[chosen]), ": use a wider precision");
    ++counts[chosen];
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j)
        if (d[std::size_t(i * m + j)] != 0.0) parts[chosen].add(b0 + i, b0 + j, d[std::size_t(i * m + j)]);
  }
  for (std::size_t t = 0; t < candidates.size(); ++t)
    if (counts[t] > 0)
      groups_.push_back(group{candidates[t], counts[t], csr_matrix::from_coo(parts[t], candidates[t]).to(a.ctx())});
}

void block_jacobi_preconditioner::apply(double alpha, const_view r, double beta, view z) const {
  check_vectors("block_jacobi_preconditioner::apply", r, z);
  // Rows outside a group's blocks are empty there: the first SpMV applies beta to all of z,
  // the others add their blocks' rows.
  bool first = true;
  for (const group& g : groups_) {
    spmv(alpha, g.inverse.ref(), r, first ? beta : 1.0, z);
    first = false;
  }
  if (groups_.empty()) {  // n == 0
    if (beta == 0.0)
      fill(z, 0.0);
    else
      scal(beta, z);
  }
}

dtype block_jacobi_preconditioner::storage_type() const {
  dtype widest = dtype::bf16;
  for (const group& g : groups_)
    if (unit_roundoff(g.type) < unit_roundoff(widest)) widest = g.type;
  return groups_.empty() ? dtype::f64 : widest;
}

std::int64_t block_jacobi_preconditioner::blocks_in(dtype t) const {
  for (const group& g : groups_)
    if (g.type == t) return g.blocks;
  return 0;
}

std::int64_t block_jacobi_preconditioner::value_bytes() const {
  std::int64_t bytes = 0;
  for (const group& g : groups_) bytes += g.inverse.nnz() * std::int64_t(size_of(g.type));
  return bytes;
}

std::string block_jacobi_preconditioner::describe() const {
  std::ostringstream s;
  s << "block-jacobi " << options_.block_size << " n " << rows() << ":";
  for (const group& g : groups_) s << " " << g.blocks << " blocks " << name_of(g.type);
  return s.str();
}

}  // namespace mixprec
