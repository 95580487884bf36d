// Symmetric Gauss-Seidel and incomplete factorizations: set up on the host in f64, applied
// by the csr_rows_solve op over parallel groups of rows (colors or triangular levels), with
// the factors, inverse diagonals and groups in the operator's memory.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "internal/error_macros.hpp"
#include "internal/scratch_pool.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/preconditioner.hpp"
#include "solver/preconditioner_support.hpp"
#include "solver/row_schedule.hpp"

namespace mixprec {
namespace {

void check_storage(dtype t, const char* op) {
  if (t != dtype::f64 && t != dtype::f32) MIXPREC_THROW(unsupported, op, "storage ", name_of(t), " (f64 or f32)");
}

/// The rounding error a pivot computed as a_ii - sum_k l_ik u_ki (or a_ii - sum_k l_ik^2) in
/// f64 may carry: gamma_(k+1) times the sum of the magnitudes of its k+1 terms. A pivot no
/// larger is indistinguishable from 0: an exactly singular leading block often leaves 1e-16
/// instead of 0 (0.9 - (0.3/0.1)*0.3), and dividing by it makes the factor noise times 1e16,
/// a preconditioner that no Krylov method gets past.
double pivot_rounding(double magnitude_sum, std::int64_t terms) {
  const double u = 0x1p-53;
  return double(terms) * u / (1 - double(terms) * u) * magnitude_sum;
}

/// One row's entries of a sorted COO matrix: [first[i], first[i+1]).
std::vector<std::int64_t> row_starts(const coo_matrix& c) {
  std::vector<std::int64_t> first(static_cast<std::size_t>(c.rows) + 1, 0);
  for (std::int64_t k = 0; k < c.nnz(); ++k) ++first[std::size_t(c.row[std::size_t(k)]) + 1];
  for (std::size_t i = 1; i < first.size(); ++i) first[i] += first[i - 1];
  return first;
}

}  // namespace

// ---- symmetric Gauss-Seidel -----------------------------------------------------------------

sgs_preconditioner::sgs_preconditioner(const linear_operator& a, bool multicolor, dtype storage)
    : linear_operator(a.rows(), a.cols(), a.ctx()),
      multicolor_(multicolor),
      work_(std::make_unique<detail::scratch_pool<buffer>>()) {
  constexpr const char* op = "sgs_preconditioner";
  const csr_matrix& m = detail::assembled_matrix(a, op);
  check_storage(storage, op);
  a_ = m.with_values(storage);
  const std::vector<double> d = m.diagonal();
  std::vector<double> inv_diag(d.size());
  const coo_matrix c = m.to_coo();
  // A diagonal below u times its row's largest entry is zero at working precision: the
  // sweep would divide the row's residual by it and amplify it by 1/u or more.
  std::vector<double> row_max(d.size(), 0.0);
  for (std::int64_t k = 0; k < c.nnz(); ++k)
    row_max[std::size_t(c.row[std::size_t(k)])] =
        std::max(row_max[std::size_t(c.row[std::size_t(k)])], std::abs(c.value[std::size_t(k)]));
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!(std::abs(d[i]) > 0x1p-53 * row_max[i]) || !std::isfinite(d[i]))
      MIXPREC_THROW(numerical_breakdown, op, "diagonal entry of row ", i, " is ", d[i], " (the row's largest is ",
                    row_max[i], "): Gauss-Seidel divides by it");
    inv_diag[i] = 1.0 / d[i];
  }
  // The kernels read the inverse diagonal and the row groups where the matrix lives.
  inv_diag_ = detail::f64_buffer_in(ctx(), inv_diag);
  using detail::row_schedule;
  if (multicolor) {
    row_schedule colors = row_schedule::coloring(c);
    backward_ = std::make_unique<row_schedule>(colors.reversed().placed_in(ctx()));
    forward_ = std::make_unique<row_schedule>(std::move(colors).placed_in(ctx()));
  } else {
    forward_ = std::make_unique<row_schedule>(row_schedule::triangular_levels(c, true).placed_in(ctx()));
    backward_ = std::make_unique<row_schedule>(row_schedule::triangular_levels(c, false).placed_in(ctx()));
  }
}

sgs_preconditioner::~sgs_preconditioner() = default;

int sgs_preconditioner::groups() const { return forward_->groups(); }

void sgs_preconditioner::apply(double alpha, const_view r, double beta, view z) const {
  check_vectors("sgs_preconditioner::apply", r, z);
  const auto lease = work_->take();
  buffer& work = *lease;
  if (work.size() != rows() || work.type() != z.type()) work = buffer(z.type(), rows(), ctx());
  const view w = work.as_view();
  fill(w, 0.0);
  detail::sweep(a_, *forward_, inv_diag_, r, w);
  detail::sweep(a_, *backward_, inv_diag_, r, w);
  axpby(alpha, w, beta, z);
}

std::string sgs_preconditioner::describe() const {
  return detail::cat("sgs ", name_of(a_.value_type()), " n ", rows(), ", ", forward_->groups(),
                     multicolor_ ? " colors" : " levels");
}

// ---- ILU(0) and IC(0) ------------------------------------------------------------------------

incomplete_factorization::incomplete_factorization(const linear_operator& a, kind k, dtype storage)
    : linear_operator(a.rows(), a.cols(), a.ctx()), kind_(k), work_(std::make_unique<detail::scratch_pool<buffer>>()) {
  const char* op = k == kind::ilu0 ? "ilu0_preconditioner" : "ic0_preconditioner";
  const csr_matrix& m = detail::assembled_matrix(a, op);
  check_storage(storage, op);
  const coo_matrix c = m.to_coo();  // sorted by row, then column
  const std::int64_t n = c.rows;
  const std::vector<std::int64_t> first = row_starts(c);
  std::vector<double> f = c.value;  // the factor, in A's pattern
  std::vector<std::int64_t> diag(static_cast<std::size_t>(n), -1);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t q = first[std::size_t(i)]; q < first[std::size_t(i) + 1]; ++q)
      if (c.col[std::size_t(q)] == i) diag[std::size_t(i)] = q;
  for (std::int64_t i = 0; i < n; ++i)
    if (diag[std::size_t(i)] < 0) MIXPREC_THROW(numerical_breakdown, op, "row ", i, " has no diagonal entry");

  coo_matrix lower(n, n), upper(n, n);
  std::vector<double> lower_inv_diag(static_cast<std::size_t>(n), 1.0), upper_inv_diag(lower_inv_diag);
  std::vector<std::int64_t> pos(static_cast<std::size_t>(n), -1);  // entry of row i at column j
  if (k == kind::ilu0) {
    // IKJ: row i eliminated by the rows k < i in its pattern, fill-in outside it dropped.
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t b = first[std::size_t(i)], e = first[std::size_t(i) + 1];
      for (std::int64_t q = b; q < e; ++q) pos[std::size_t(c.col[std::size_t(q)])] = q;
      const std::int64_t d_at = diag[std::size_t(i)];
      double pivot_terms = std::abs(f[std::size_t(d_at)]);  // sum of |terms| of the pivot
      std::int64_t pivot_updates = 0;
      for (std::int64_t q = b; q < e && c.col[std::size_t(q)] < i; ++q) {
        const std::int64_t kr = c.col[std::size_t(q)];
        const double pivot = f[std::size_t(diag[std::size_t(kr)])];
        f[std::size_t(q)] /= pivot;
        for (std::int64_t t = diag[std::size_t(kr)] + 1; t < first[std::size_t(kr) + 1]; ++t) {
          const std::int64_t at = pos[std::size_t(c.col[std::size_t(t)])];
          if (at < 0) continue;
          const double update = f[std::size_t(q)] * f[std::size_t(t)];
          f[std::size_t(at)] -= update;
          if (at == d_at) {
            pivot_terms += std::abs(update);
            ++pivot_updates;
          }
        }
      }
      for (std::int64_t q = b; q < e; ++q) pos[std::size_t(c.col[std::size_t(q)])] = -1;
      const double piv = f[std::size_t(d_at)];
      if (!(std::abs(piv) > pivot_rounding(pivot_terms, pivot_updates + 1)) || !std::isfinite(piv))
        MIXPREC_THROW(numerical_breakdown, op, "pivot of row ", i, " is ", piv, ", within its rounding error (",
                      pivot_rounding(pivot_terms, pivot_updates + 1), " from ", pivot_updates + 1,
                      " terms): zero to working precision, so ILU(0) does not exist for this matrix in this row order");
      for (std::int64_t q = b; q < e; ++q) {
        const std::int64_t j = c.col[std::size_t(q)];
        if (j < i)
          lower.add(i, j, f[std::size_t(q)]);
        else
          upper.add(i, j, f[std::size_t(q)]);
      }
      upper_inv_diag[std::size_t(i)] = 1.0 / piv;
    }
  } else {
    // IC(0), row by row: l_ij = (a_ij - sum_{k<j} l_ik l_jk) / l_jj, l_ii = sqrt(a_ii - sum l_ik^2),
    // over the lower pattern of A (A must be symmetric: its lower triangle is used).
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t b = first[std::size_t(i)];
      for (std::int64_t q = b; q <= diag[std::size_t(i)]; ++q) {
        const std::int64_t j = c.col[std::size_t(q)];
        double s = c.value[std::size_t(q)];
        double s_terms = std::abs(s);  // sum of |terms|, for the pivot's rounding error
        std::int64_t s_count = 1;
        // sum over k < j in both row i and row j (sorted merge of the two lower patterns)
        std::int64_t p1 = b, p2 = first[std::size_t(j)];
        while (p1 < q && p2 < diag[std::size_t(j)]) {
          const std::int64_t c1 = c.col[std::size_t(p1)], c2 = c.col[std::size_t(p2)];
          if (c1 == c2) {
            const double term = f[std::size_t(p1++)] * f[std::size_t(p2++)];
            s -= term;
            s_terms += std::abs(term);
            ++s_count;
          } else if (c1 < c2) {
            ++p1;
          } else {
            ++p2;
          }
        }
        if (j < i) {
          f[std::size_t(q)] = s / f[std::size_t(diag[std::size_t(j)])];
        } else {
          if (!(s > pivot_rounding(s_terms, s_count)) || !std::isfinite(s))
            MIXPREC_THROW(numerical_breakdown, op, "pivot of row ", i, " is ", s,
                          s > 0 ? ", within its rounding error" : " <= 0",
                          ": the matrix is not positive definite, or IC(0) breaks down on it");
          f[std::size_t(q)] = std::sqrt(s);
        }
        lower.add(i, j, f[std::size_t(q)]);
        upper.add(j, i, f[std::size_t(q)]);  // L^T
      }
      lower_inv_diag[std::size_t(i)] = upper_inv_diag[std::size_t(i)] = 1.0 / f[std::size_t(diag[std::size_t(i)])];
    }
  }
  // The factors, their inverse diagonals and their levels where A lives: the solves run
  // there (on a device, as CUDA kernels, with no copy per application).
  lower_ = csr_matrix::from_coo(lower, storage, index_type::i32, ctx());
  upper_ = csr_matrix::from_coo(upper, storage, index_type::i32, ctx());
  lower_inv_diag_ = detail::f64_buffer_in(ctx(), lower_inv_diag);
  upper_inv_diag_ = detail::f64_buffer_in(ctx(), upper_inv_diag);
  using detail::row_schedule;
  lower_levels_ = std::make_unique<row_schedule>(row_schedule::triangular_levels(lower, true).placed_in(ctx()));
  upper_levels_ = std::make_unique<row_schedule>(row_schedule::triangular_levels(upper, false).placed_in(ctx()));
}

incomplete_factorization::~incomplete_factorization() = default;

int incomplete_factorization::lower_levels() const { return lower_levels_->groups(); }
int incomplete_factorization::upper_levels() const { return upper_levels_->groups(); }

void incomplete_factorization::apply(double alpha, const_view r, double beta, view z) const {
  check_vectors(kind_ == kind::ilu0 ? "ilu0_preconditioner::apply" : "ic0_preconditioner::apply", r, z);
  const auto lease = work_->take();
  buffer& work = *lease;
  if (work.size() != 2 * rows() || work.type() != z.type()) work = buffer(z.type(), 2 * rows(), ctx());
  const std::int64_t n = rows();
  const std::size_t es = size_of(z.type());
  const view y(work.data(), z.type(), {n}, {1}, ctx());
  const view w(static_cast<char*>(work.data()) + n * std::int64_t(es), z.type(), {n}, {1}, ctx());
  // L y = r (ILU: unit diagonal, not stored; IC: the stored diagonal is skipped and divided
  // by), then U w = y.
  detail::sweep(lower_, *lower_levels_, lower_inv_diag_, r, y);
  detail::sweep(upper_, *upper_levels_, upper_inv_diag_, y, w);
  axpby(alpha, w, beta, z);
}

std::string incomplete_factorization::describe() const {
  return detail::cat(kind_ == kind::ilu0 ? "ilu0 " : "ic0 ", name_of(lower_.value_type()), " n ", rows(), ", levels ",
                     lower_levels_->groups(), "/", upper_levels_->groups());
}

}  // namespace mixprec
