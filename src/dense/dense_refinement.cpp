// gesv_ir and posv_ir (mixprec/dense.hpp): the factorization in low precision on a matrix
// scaled by powers of two, refinement (classical or GMRES-IR) in f64 on the matrix as given,
// LAPACK dsgesv's stopping rule, and the f64 fallback with its reason.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>

#include "dense/dense_gmres.hpp"
#include "dense/dense_matrix.hpp"
#include "internal/error_macros.hpp"
#include "internal/parallel.hpp"
#include "internal/view_spans.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/context.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/error.hpp"
#include "mixprec/float16.hpp"
#include "mixprec/gemm.hpp"

namespace mixprec {
namespace {

using detail::dense_ref;
using detail::for_row_chunks;

enum class factorization { lu, cholesky };

/// What one pass over A's rows finds: each row's largest |a_ij|, the infinity norm (the
/// largest row sum of |a_ij|), and whether every row sum is finite (if not, an entry is Inf
/// or NaN, or a sum overflowed: check_finite tells which). Before, the finiteness check, the
/// norm and the scaling's row maxima were three passes over A, each a chain of dependent
/// scalar adds or maxima running at half the memory bandwidth.
struct row_survey {
  std::vector<double> maxima;
  double norm_inf = 0;
  bool sums_finite = true;
};

row_survey survey_rows(const dense_ref<const double>& a) {
  row_survey r;
  r.maxima.assign(std::size_t(a.rows), 0.0);
  std::mutex merge;
  for_row_chunks(a.threads(), 0, a.rows, 64, [&](std::int64_t r0, std::int64_t r1) {
    double largest_sum = 0;
    bool finite = true;
    for (std::int64_t i = r0; i < r1; ++i) {
      // Eight independent sums and maxima, which the compiler keeps in vector registers.
      constexpr int lanes = 8;
      double sum[lanes] = {}, max[lanes] = {};
      const double* row = a.row(i);
      std::int64_t j = 0;
      for (; j + lanes <= a.cols; j += lanes)
        for (int q = 0; q < lanes; ++q) {
          const double v = std::fabs(row[j + q]);
          sum[q] += v;
          max[q] = max[q] < v ? v : max[q];
        }
      for (; j < a.cols; ++j) {
        const double v = std::fabs(row[j]);
        sum[0] += v;
        max[0] = max[0] < v ? v : max[0];
      }
      for (int q = 1; q < lanes; ++q) sum[0] += sum[q], max[0] = std::max(max[0], max[q]);
      r.maxima[std::size_t(i)] = max[0];
      finite = finite && std::isfinite(sum[0]);
      largest_sum = std::max(largest_sum, sum[0]);
    }
    const std::lock_guard<std::mutex> lock(merge);
    r.norm_inf = std::max(r.norm_inf, largest_sum);
    r.sums_finite = r.sums_finite && finite;
  });
  return r;
}

double vector_norm_inf(const array<double>& v) {
  double m = 0;
  for (std::int64_t i = 0; i < v.size(); ++i) m = std::max(m, std::fabs(v[i]));
  return m;
}

/// The power of two p with p m in [1/2, 1) (1 for m = 0: an empty row stays as it is, and the
/// factorization then reports it).
double inverse_power_of_two(double m) {
  if (!(m > 0)) return 1.0;
  int e = 0;
  (void)std::frexp(m, &e);
  return std::ldexp(1.0, -e);
}

/// Largest finite value of a low-precision dtype.
double largest(dtype t) {
  return t == dtype::f16    ? 65504.0
         : t == dtype::bf16 ? 3.3895313892515355e38
                            : double(std::numeric_limits<float>::max());
}

/// H = mu R A C (R = diag(row), C = diag(col)), every factor a power of two; hmax = max |h_ij|.
struct scaling {
  std::vector<double> row, col;
  double mu = 1, hmax = 0;
};

/// The largest |row_i a_ij| of each column, over a's threads.
std::vector<double> column_maxima(const dense_ref<const double>& a, const std::vector<double>& row) {
  std::vector<double> m(std::size_t(a.cols), 0.0);
  std::mutex merge;
  for_row_chunks(a.threads(), 0, a.rows, 64, [&](std::int64_t r0, std::int64_t r1) {
    std::vector<double> part(std::size_t(a.cols), 0.0);
    for (std::int64_t i = r0; i < r1; ++i)
      for (std::int64_t j = 0; j < a.cols; ++j)
        part[std::size_t(j)] = std::max(part[std::size_t(j)], std::fabs(row[std::size_t(i)] * a.at(i, j)));
    const std::lock_guard<std::mutex> lock(merge);
    for (std::size_t j = 0; j < part.size(); ++j) m[j] = std::max(m[j], part[j]);
  });
  return m;
}

/// Rows, then columns, to largest entries in [1/2, 1) (LU), or symmetrically to a diagonal in
/// [1/4, 1) (Cholesky: then |h_ij| <= sqrt(h_ii h_jj) < 1, the largest on the diagonal); for
/// f16, mu lifts the largest entry to within a factor of two below 0.1 of f16's largest
/// finite value, so that the factorization's growth has room and small entries stay out of
/// the subnormals. Without scaling: R = C = I, mu = 1.
scaling scaling_for(const dense_ref<const double>& a, const std::vector<double>& row_max, dtype m, factorization kind,
                    bool enabled) {
  const std::size_t n = std::size_t(a.rows);
  scaling s;
  s.row.assign(n, 1.0);
  s.col.assign(n, 1.0);
  if (!enabled) {
    for (double v : row_max) s.hmax = std::max(s.hmax, v);
    return s;
  }
  if (kind == factorization::cholesky) {
    for (std::size_t i = 0; i < n; ++i) {
      const double d = a.at(std::int64_t(i), std::int64_t(i));
      s.row[i] = s.col[i] = d > 0 ? inverse_power_of_two(std::sqrt(d)) : 1.0;
      s.hmax = std::max(s.hmax, s.row[i] * s.row[i] * std::fabs(d));
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) s.row[i] = inverse_power_of_two(row_max[i]);
    const std::vector<double> cmax = column_maxima(a, s.row);
    for (std::size_t j = 0; j < n; ++j) {
      s.col[j] = inverse_power_of_two(cmax[j]);
      s.hmax = std::max(s.hmax, cmax[j] * s.col[j]);
    }
  }
  if (m == dtype::f16 && s.hmax > 0) {
    s.mu = inverse_power_of_two(s.hmax / (0.1 * largest(m)));
    s.hmax *= s.mu;
  }
  return s;
}

/// The low-precision factorization of H = mu R A C, stored in f32 and applied in f64.
struct low_factor {
  factorization kind = factorization::lu;
  std::int64_t n = 0;
  const context* ctx = nullptr;  // A's: whose threads apply the factors
  array<float> f;
  std::vector<std::int64_t> pivots;
  scaling s;
  double shift = 0;  // Cholesky: the diagonal was factored times (1 + shift)

  /// out[c] = C (LU)^-1 mu R in[c] for k vectors of n at once: A^-1 in[c], approximately. The
  /// substitutions run in f64 on the f32 factors: GMRES-IR's convergence to
  /// kappa ~ u^-1/2 u_f^-1 assumes the preconditioner is applied in the working precision,
  /// and a vector solve is bound by reading the factors, which are read from memory once for
  /// all the vectors. ys: k vectors of work space, the caller's: solves on several threads at
  /// once share the factors and nothing else.
  void solve(const std::vector<const double*>& in, const std::vector<double*>& out,
             const std::vector<double*>& ys) const {
    const int k = int(in.size());
    for (int c = 0; c < k; ++c) scale_in(in[std::size_t(c)], ys[std::size_t(c)]);
    substitute(ys.data(), k);
    for (int c = 0; c < k; ++c) scale_out(ys[std::size_t(c)], out[std::size_t(c)]);
  }

 private:
  /// y = P mu R x (the row scaling, then the LU's row interchanges).
  void scale_in(const double* x, double* y) const {
    for (std::int64_t i = 0; i < n; ++i) y[i] = s.mu * s.row[std::size_t(i)] * x[i];
    if (kind == factorization::lu)
      for (std::size_t i = 0; i < pivots.size(); ++i)
        if (pivots[i] != std::int64_t(i)) std::swap(y[std::int64_t(i)], y[pivots[i]]);
  }
  /// r = C y.
  void scale_out(const double* y, double* r) const {
    for (std::int64_t i = 0; i < n; ++i) r[i] = s.col[std::size_t(i)] * y[i];
  }
  /// ys[c] = (LU)^-1 ys[c] (Cholesky: (L L^T)^-1), c < k.
  void substitute(double* const* ys, int k) const {
    const dense_ref<const float> factor{f.data(), n, n, n, ctx};
    if (kind == factorization::lu) {
      detail::lower_solve_vectors(factor, true, ys, k);
      detail::upper_solve_vectors(factor, false, ys, k);
    } else {
      // L^T y by the upper triangle, which holds L^T (mirror_lower): its rows are read
      // contiguously, as the LU's U.
      detail::lower_solve_vectors(factor, false, ys, k);
      detail::upper_solve_vectors(factor, false, ys, k);
    }
  }
};

/// a's strict upper triangle = its strict lower triangle transposed (n x n, row-major), in
/// 64 x 64 tiles (both tiles in cache), tile rows round-robin over the threads. After a
/// Cholesky factorization the upper triangle then holds L^T, whose rows the back
/// substitution reads contiguously: read from L by columns, it ran in baseline code at a
/// fraction of the bandwidth.
void mirror_lower(float* a, std::int64_t n, int threads) {
  constexpr std::int64_t tile = 64;
  const std::int64_t tiles = (n + tile - 1) / tile;
  const int chunks = detail::chunk_count(tiles, threads, 1);
  detail::parallel_chunks(chunks, [&](int c) {
    for (std::int64_t ti = c; ti < tiles; ti += chunks)  // the tile row of the upper triangle
      for (std::int64_t tj = ti; tj < tiles; ++tj)
        for (std::int64_t i = ti * tile; i < std::min(n, (ti + 1) * tile); ++i)
          for (std::int64_t j = std::max(i + 1, tj * tile); j < std::min(n, (tj + 1) * tile); ++j)
            a[i * n + j] = a[j * n + i];
  });
}

const char* factor_name(factorization kind, dtype m) {
  const bool lu = kind == factorization::lu;
  switch (m) {
    case dtype::f32:
      return lu ? "f32 LU" : "f32 Cholesky";
    case dtype::bf16:
      return lu ? "bf16-update LU" : "bf16-update Cholesky";
    case dtype::f16:
      return lu ? "f16-rounded LU" : "f16-rounded Cholesky";
    default:
      return lu ? "f64 LU" : "f64 Cholesky";
  }
}

/// The largest c of the Cholesky's diagonal shifts c u_f (2, 8, ..., 2048): past that the shifted
/// matrix is too far from A for refinement to pay.
constexpr double max_shift_factor = 2048;

/// Scales A, rounds it to the policy's dtype and factors it in f32 (bf16: with bf16 trailing
/// updates). Returns why the low-precision path cannot go on, or nothing.
std::string factor_low(const dense_ref<const double>& a, const std::vector<double>& row_max, dtype m,
                       const dense_refinement_options& o, low_factor& lf) {
  const std::int64_t n = a.rows;
  lf.n = n;
  lf.ctx = a.ctx;
  lf.s = scaling_for(a, row_max, m, lf.kind, o.scale);
  if (lf.s.hmax > largest(m)) {
    std::ostringstream s;
    s << "max |a_ij| = " << lf.s.hmax << " overflows " << name_of(m) << (o.scale ? " after scaling" : "");
    return s.str();
  }
  // A refactored solver keeps its factors' memory: at n = 8192 a fresh 256 MB would be paged
  // in again (the host block cache keeps blocks of 64 MB or less).
  if (lf.f.size() != n * n || !(lf.f.ctx() == *a.ctx)) lf.f = array<float>(n * n, *a.ctx);
  // H rounded to the policy's dtype, its diagonal times (1 + shift) (Cholesky's retries).
  const auto round_scaled = [&](double shift) {
    float* h = lf.f.data();
    const scaling& sc = lf.s;
    std::atomic<bool> overflow{false};  // posv_ir: an off-diagonal entry past the diagonal's bound
    // h_ij = ((mu r_i) a_ij) c_j, a row at a time in a loop the compiler vectorizes: no branch
    // per entry; the diagonal's shift is applied after its row.
    const auto round_row = [&](std::int64_t i, auto to_low) {
      const double* ai = a.row(i);
      float* hi = h + i * n;
      const double ri = sc.mu * sc.row[std::size_t(i)];
      const double* col = sc.col.data();
      int overflowed = 0;  // Inf: from finite a no NaN arises
      for (std::int64_t j = 0; j < n; ++j) {
        const float hv = to_low(ri * ai[j] * col[j]);
        hi[j] = hv;
        overflowed |= int(std::fabs(hv) > std::numeric_limits<float>::max());
      }
      if (shift != 0) hi[i] = to_low(ri * ai[i] * col[i] * (1 + shift));
      return !overflowed && std::isfinite(hi[i]);
    };
    for_row_chunks(a.threads(), 0, n, 32, [&](std::int64_t r0, std::int64_t r1) {
      bool finite = true;
      for (std::int64_t i = r0; i < r1; ++i)
        finite = m == dtype::f16 ? round_row(i, [](double v) { return float(half(v)); }) && finite
                                 : round_row(i, [](double v) { return float(v); }) && finite;
      if (!finite) overflow = true;
    });
    return !overflow;
  };
  const auto broke_down = [&](const error& e) {
    if (e.code() != status::numerical_breakdown) throw;  // called inside the handler: rethrows e
    return std::string("the ") + factor_name(lf.kind, m) + " broke down: " + e.message();
  };
  if (!round_scaled(0)) return std::string("an entry of a overflows ") + name_of(m) + " after scaling";
  if (lf.kind == factorization::lu) {
    lu_options lo;
    lo.update = m == dtype::bf16 ? lu_update::bf16 : lu_update::native;
    lo.pivoting = o.pivoting;
    try {
      detail::getrf_of_finite(make_view(lf.f.data(), {n, n}, {}, *a.ctx), lf.pivots, lo);  // round_scaled checked it
    } catch (const error& e) {
      return broke_down(e);
    }
    return {};
  }
  // Rounding can make an SPD matrix with kappa u_f >~ 1 indefinite; H + c u_f diag(H) is SPD
  // again for c large enough (Higham and Pranesh 2021), and refinement corrects for the shift.
  cholesky_options co;
  co.update = m == dtype::bf16 ? lu_update::bf16 : lu_update::native;
  const double u_f = unit_roundoff(m);
  std::string why;
  for (double c = 0; c <= max_shift_factor; c = c == 0 ? 2 : 4 * c) {
    if (c > 0 && !round_scaled(c * u_f)) break;
    try {
      detail::potrf_of_finite(make_view(lf.f.data(), {n, n}, {}, *a.ctx), co);
      mirror_lower(lf.f.data(), n, a.threads());
      lf.shift = c * u_f;
      return {};
    } catch (const error& e) {
      why = broke_down(e);
    }
  }
  return why + (max_shift_factor > 0
                    ? " (also with diagonal shifts up to " + std::to_string(int(max_shift_factor)) + " u_f diag(H))"
                    : "");
}

/// What refining one right-hand side gave.
struct column_result {
  bool refined = false;  // then r = b - A x already
  std::string why_fallback;
  dense_solve_report steps;  // iterations, inner_iterations and history of this column
};

/// The right-hand sides of one solve, column by column: b (copied out of the caller's n x nrhs
/// b), x and r = b - A x, and what refining each gave.
struct rhs_columns {
  std::vector<array<double>> b, x, r;
  std::vector<column_result> result;
};

/// out[c] = alpha A in[c] + beta out[c] in f64 (beta = 0: out's values are not read), one
/// GEMM for all the columns so that A is read once, not once per column.
void gemm_columns(const dense_ref<const double>& a, double alpha, const std::vector<const double*>& in, double beta,
                  const std::vector<double*>& out) {
  const std::int64_t n = a.rows, k = std::int64_t(in.size());
  if (k == 0) return;
  if (k == 1) {
    gemm(trans::no, trans::no, alpha, a.block(0, 0, n, n), make_view(in[0], {n, 1}, {}, *a.ctx), beta,
         make_view(out[0], {n, 1}, {}, *a.ctx));
    return;
  }
  array<double> xs(n * k, *a.ctx), ys(n * k, *a.ctx);  // n x k, row-major
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t q = 0; q < k; ++q) {
      xs[i * k + q] = in[std::size_t(q)][i];
      ys[i * k + q] = beta == 0 ? 0.0 : out[std::size_t(q)][i];
    }
  gemm(trans::no, trans::no, alpha, a.block(0, 0, n, n), make_view(xs.data(), {n, k}, {}, *a.ctx), beta,
       make_view(ys.data(), {n, k}, {}, *a.ctx));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t q = 0; q < k; ++q) out[std::size_t(q)][i] = ys[i * k + q];
}

/// r[j] = b[j] - A x[j] in f64 for the columns j in `which`, by one GEMM.
void residuals(const dense_ref<const double>& a, rhs_columns& c, const std::vector<std::size_t>& which) {
  std::vector<const double*> x;
  std::vector<double*> r;
  for (std::size_t j : which) {
    copy(c.b[j].as_view(), c.r[j].as_view());
    x.push_back(c.x[j].data());
    r.push_back(c.r[j].data());
  }
  gemm_columns(a, -1.0, x, 1.0, r);
}

/// Refines every column's x (starting from LU^-1 b) until dsgesv's rule holds for it. The
/// columns go in step: each step's corrections are one solve with the factors for all the
/// columns still refining (GMRES-IR: FGMRES iterations in step, each one product with A and
/// one solve with the factors for all of them) and their residuals one GEMM, so that the
/// factors and A are read once a step or iteration, not once per column. A column leaves
/// when it has converged (refined, with r = b - A x of its x) or cannot (why_fallback says
/// why).
void refine(const dense_ref<const double>& a, rhs_columns& c, const low_factor& lf, dtype m,
            const dense_refinement_options& o, double stop_factor) {
  const std::int64_t n = a.rows;
  const std::size_t k = c.b.size();
  std::vector<array<double>> d(k);
  std::vector<array<double>> work;  // the substitutions' vectors, one per column being solved
  const detail::apply_to_columns apply_factors = [&](const std::vector<const double*>& in,
                                                     const std::vector<double*>& out) {
    while (work.size() < in.size()) work.emplace_back(n, *a.ctx);
    std::vector<double*> ys;
    for (std::size_t q = 0; q < in.size(); ++q) ys.push_back(work[q].data());
    lf.solve(in, out, ys);
  };
  const detail::apply_to_columns apply_a = [&](const std::vector<const double*>& in, const std::vector<double*>& out) {
    gemm_columns(a, 1.0, in, 0.0, out);
  };
  std::vector<std::size_t> active;
  std::vector<double> previous(k, HUGE_VAL);
  for (std::size_t j = 0; j < k; ++j) {
    d[j] = array<double>(n, *a.ctx);
    fill(c.x[j].as_view(), 0.0);
    copy(c.b[j].as_view(), c.r[j].as_view());
    active.push_back(j);
  }
  const auto fail = [&](std::size_t j, std::string why) { c.result[j].why_fallback = std::move(why); };
  for (int step = 0; step <= o.max_iterations && !active.empty(); ++step) {
    // The corrections d ~ A^-1 r (step 0: the first solve, x = LU^-1 b).
    std::vector<std::size_t> stepping;  // the columns whose correction is made
    std::vector<const double*> in;
    std::vector<double*> out;
    for (std::size_t j : active) {
      in.push_back(c.r[j].data());
      out.push_back(d[j].data());
    }
    if (o.gmres && step > 0) {
      // FGMRES keeps z_j = (LU)^-1 v_j, so the correction is Z y: with this fixed
      // preconditioner the same iterates as GMRES's (LU)^-1 (V y), without the extra solve
      // with the factors at the end of every cycle (a pass over the n^2 factors), for
      // restart x n more values, far fewer than A's n^2. Every gmres_halving_window
      // iterations the residual must have halved: where it has not, GMRES is stagnating on a
      // poor preconditioner, and the rest of the budget (each iteration a product with A and
      // a solve with the factors, about 1 % of an f64 LU at n = 8192) would be spent for
      // nothing; the outer loop takes the correction as it stands.
      detail::correction_options co;
      co.tolerance = o.gmres_tolerance;
      co.restart = o.gmres_restart;
      co.max_iterations = o.gmres_max_iterations;
      co.halving_window = o.gmres_halving_window;
      const std::vector<detail::correction_result> g =
          detail::solve_corrections(n, in, out, apply_a, apply_factors, co, *a.ctx);
      for (std::size_t q = 0; q < active.size(); ++q) {
        const std::size_t j = active[q];
        c.result[j].steps.inner_iterations += g[q].iterations;
        // A correction that falls short of the tolerance still helps if it halved the
        // residual (the outer loop judges it).
        if (!g[q].converged && !(g[q].relative_residual <= 0.5)) {
          std::ostringstream s;
          s << "GMRES could not halve a correction's residual (" << g[q].why << "): the " << factor_name(lf.kind, m)
            << " is too poor a preconditioner for this matrix";
          fail(j, s.str());
          continue;
        }
        stepping.push_back(j);
      }
    } else {
      apply_factors(in, out);
      stepping = active;
    }
    for (std::size_t j : stepping) axpy(1.0, d[j].as_view(), c.x[j].as_view());
    residuals(a, c, stepping);
    active.clear();
    for (std::size_t j : stepping) {
      dense_solve_report& rep = c.result[j].steps;
      const double rn = vector_norm_inf(c.r[j]), xn = vector_norm_inf(c.x[j]);
      rep.history.push_back(rep.rhs_norm > 0 ? std::sqrt(dot(c.r[j], c.r[j])) / rep.rhs_norm : 0);
      if (step > 0) rep.iterations = step;
      if (!std::isfinite(rn) || !std::isfinite(xn)) {
        fail(j, "the refinement produced a non-finite residual");
      } else if (rn <= xn * stop_factor) {
        c.result[j].refined = true;
      } else if (step > 0 && rn > previous[j]) {
        std::ostringstream s;
        s << "the residual grew at step " << step << " (" << previous[j] << " -> " << rn
          << "): the matrix is too ill-conditioned for the " << name_of(m) << " factorization";
        fail(j, s.str());
      } else {
        previous[j] = rn;
        active.push_back(j);
      }
    }
  }
  for (std::size_t j : active) {
    std::ostringstream s;
    s << o.max_iterations << " refinement steps without reaching ||r|| <= ||x|| ||A|| eps sqrt(n)";
    fail(j, s.str());
  }
}

/// Throws invalid_argument naming a pair a_ij != a_ji (read in tiles, so that the
/// transposed reads stay in cache). Tile rows go round-robin to the threads (row i0 holds
/// i0 / tile + 1 tiles: contiguous ranges would leave the last thread most of the work); the
/// pair named is the first in the serial scan's order.
void check_symmetric(const char* op, const dense_ref<const double>& a) {
  constexpr std::int64_t tile = 64;
  const std::int64_t tiles = (a.rows + tile - 1) / tile;
  constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();
  std::atomic<std::int64_t> first{none};  // (tile row, tile column, row in tile, column in tile)
  const int chunks = detail::chunk_count(tiles, a.threads(), 1);
  detail::parallel_chunks(chunks, [&](int c) {
    for (std::int64_t ti = c; ti < tiles; ti += chunks)
      for (std::int64_t tj = 0; tj <= ti; ++tj)
        for (std::int64_t i = ti * tile; i < std::min(a.rows, (ti + 1) * tile); ++i)
          for (std::int64_t j = tj * tile; j < std::min(i, (tj + 1) * tile); ++j)
            if (a.at(i, j) != a.at(j, i)) {
              detail::keep_smallest(first, ((ti * tiles + tj) * tile + i - ti * tile) * tile + j - tj * tile);
              return;  // later tile rows of this thread come later in the serial order
            }
  });
  const std::int64_t key = first.load();
  if (key == none) return;
  const std::int64_t ti = key / (tiles * tile * tile), tj = key / (tile * tile) % tiles;
  const std::int64_t i = ti * tile + key / tile % tile, j = tj * tile + key % tile;
  MIXPREC_THROW(invalid_argument, op, "a(", i, ", ", j, ") = ", a.at(i, j), " but a(", j, ", ", i, ") = ", a.at(j, i),
                ": a must be exactly symmetric");
}

/// Folds the per-column results into one report (mixprec/dense.hpp says how).
void merge_columns(const std::vector<column_result>& cols, dense_solve_report& rep) {
  if (cols.empty()) return;  // nrhs = 0
  std::size_t most = 0;
  for (std::size_t j = 0; j < cols.size(); ++j) {
    rep.inner_iterations += cols[j].steps.inner_iterations;
    if (cols[j].steps.iterations > cols[most].steps.iterations) most = j;
  }
  rep.iterations = cols[most].steps.iterations;
  rep.history = cols[most].steps.history;
}

/// The path and fallback of a solve whose `failed` of `total` columns did not refine (the
/// first of them, `first`, giving the reason).
void describe_fallback(dense_solve_report& rep, const column_result& first, std::int64_t first_column,
                       std::int64_t failed, std::int64_t total, bool fell_back, factorization kind) {
  const std::string f64 = factor_name(kind, dtype::f64);
  std::string why = first.why_fallback;
  if (total > 1) why = "column " + std::to_string(first_column) + ": " + why;
  if (!fell_back) {
    rep.reason = stop_reason::inaccurate;
    rep.path = rep.method + " (failed, no fallback)";
    rep.message = total > 1 ? std::to_string(failed) + " of " + std::to_string(total) + " columns failed; " + why : why;
    return;
  }
  rep.fallback = why;
  if (failed == total) {
    rep.matrix_type = dtype::f64;
    rep.path = f64 + " (fallback)";
  } else {
    rep.path = rep.method + "; " + f64 + " (fallback) for " + std::to_string(failed) + " of " + std::to_string(total) +
               " columns";
  }
}

/// The checks of the right-hand sides against a's rows: b and x f64, vectors or n x nrhs
/// matrices of one shape.
void check_rhs(const char* op, std::int64_t n, const const_view& bv, const const_view& xv, detail::dense_shape& bs,
               detail::dense_shape& xs) {
  bs = detail::dense_operand(op, "b", bv, false);
  xs = detail::dense_operand(op, "x", xv, false);
  if (bs.type != dtype::f64 || xs.type != dtype::f64)
    MIXPREC_THROW(unsupported, op,
                  "a, b and x must be f64 (the accuracy asked for); the policy says the "
                  "factorization's precision");
  if (bs.rows != n || xs.rows != n || xs.cols != bs.cols || bv.rank() != xv.rank())
    MIXPREC_THROW(shape_mismatch, op, "a is ", n, " x ", n, "; b and x must be vectors of ", n, " or ", n,
                  " x nrhs matrices, of one shape (b is ", bs.rows, " x ", bs.cols, ", x ", xs.rows, " x ", xs.cols,
                  ")");
}

/// x must not overlap A (`a_bytes`), which every residual reads and a kept solver goes on
/// referencing. (x may be b: each column of b is copied out before x is written.)
void check_x_apart_from_a(const char* op, const detail::byte_span& a_bytes, const const_view& xv) {
  if (detail::overlap(a_bytes, detail::span_of(xv)))
    MIXPREC_THROW(invalid_argument, op, "x overlaps a: refinement reads a while it writes x; pass separate arrays");
}

}  // namespace

/// Everything a solve needs from the constructor: A (referenced), its norm, the options, and
/// the factorizations.
struct dense_ir_solver::state {
  const char* op = "";
  factorization kind = factorization::lu;
  detail::dense_shape as;     // A's operand (holding its context)
  dense_ref<const double> a;  // A, pointing into as
  detail::byte_span a_bytes;  // A's memory, which a solve's x must not overlap
  dense_refinement_options o;
  double anorm = 0, stop_factor = 0;
  low_factor lf;
  std::string why_low;  // why the low-precision factorization cannot be used, or empty
  std::mutex f64_made;  // guards the next three: solves may run on several threads at once
  array<double> f64;    // the f64 factorization, made when a solve first needs it
  std::vector<std::int64_t> pivots;
  bool have_f64 = false;
  bool factored = false;  // false while (and after) a factorization that threw

  /// A checked, surveyed and factored (the constructor's work, and refactor's): the memory of
  /// earlier factors is used again where its size fits. Errors name `caller`.
  void factor(const char* caller, const_view av);

  /// The f64 factorization of a copy of A (a singular or indefinite matrix is reported from
  /// here, named by `caller`).
  void factor_f64(const char* caller) {
    const std::int64_t n = a.rows;
    if (f64.size() != n * n || !(f64.ctx() == as.ctx)) f64 = array<double>(n * n, as.ctx);
    for_row_chunks(a.threads(), 0, n, 64, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t i = r0; i < r1; ++i) std::copy(a.row(i), a.row(i) + n, f64.data() + i * n);
    });
    const view f = make_view(f64.data(), {n, n}, {}, as.ctx);
    if (kind == factorization::lu) {
      getrf(f, pivots);
    } else {
      try {
        potrf(f);
      } catch (const error& e) {
        if (e.code() != status::numerical_breakdown) throw;
        MIXPREC_THROW(numerical_breakdown, caller, "the f64 Cholesky failed (", e.message(),
                      "): a is not symmetric positive definite; gesv_ir solves general systems");
      }
    }
    have_f64 = true;
  }

  /// X = A^-1 B by the f64 factorization (B: n x k, row-major; overwritten by X).
  void solve_f64(std::vector<double>& b, std::int64_t k) {
    {
      const std::lock_guard<std::mutex> lock(f64_made);
      if (!have_f64) factor_f64(op);
    }
    const std::int64_t n = a.rows;
    const view bv = k == 1 ? make_view(b.data(), n, 1, as.ctx) : make_view(b.data(), {n, k}, {}, as.ctx);
    const const_view f = make_view(static_cast<const double*>(f64.data()), {n, n}, {}, as.ctx);
    if (kind == factorization::lu)
      getrs(f, pivots, bv);
    else
      potrs(f, bv);
  }
};

dense_ir_solver::dense_ir_solver(const char* op, bool cholesky, const_view av, const dense_refinement_options& o)
    : s_(std::make_unique<state>()) {
  state& st = *s_;
  st.op = op;
  st.kind = cholesky ? factorization::cholesky : factorization::lu;
  st.o = o;
  // The options first, then A (state::factor).
  const dtype m = o.policy.matrix;
  if (m != dtype::f64 && m != dtype::f32 && m != dtype::bf16 && m != dtype::f16)
    MIXPREC_THROW(unsupported, op, "policy.matrix ", name_of(m), ": the factorization runs in f64, f32, bf16 or f16");
  if (o.max_iterations < 1) MIXPREC_THROW(invalid_argument, op, "max_iterations ", o.max_iterations, " < 1");
  if (o.gmres && (o.gmres_restart < 1 || o.gmres_max_iterations < 1 || o.gmres_halving_window < 0 ||
                  !(o.gmres_tolerance > 0 && o.gmres_tolerance < 1)))
    MIXPREC_THROW(invalid_argument, op,
                  "GMRES-IR needs gmres_restart and gmres_max_iterations >= 1, gmres_halving_window >= 0 and "
                  "gmres_tolerance in (0, 1)");
  st.factor(op, av);
}

void dense_ir_solver::state::factor(const char* caller, const_view av) {
  factored = false;
  have_f64 = false;
  as = detail::dense_operand(caller, "a", av, true);
  if (as.type != dtype::f64)
    MIXPREC_THROW(unsupported, caller,
                  "a, b and x must be f64 (the accuracy asked for); the policy says the "
                  "factorization's precision");
  a = {static_cast<const double*>(as.data), as.rows, as.cols, as.ld, &as.ctx};
  a_bytes = detail::span_of(av);
  const row_survey rows = survey_rows(a);
  if (!rows.sums_finite) {
    detail::check_finite(caller, a);  // names a non-finite entry; else a row's sum overflowed:
    // with ||A||inf = Inf the stopping rule holds for any x and the backward error reads 0.
    MIXPREC_THROW(invalid_argument, caller,
                  "||a||inf overflows f64 (a row's |a_ij| sum past 1.8e308): the stopping rule and the "
                  "backward error cannot be evaluated; scale a (and b) down by a power of two");
  }
  if (kind == factorization::cholesky) check_symmetric(caller, a);
  anorm = rows.norm_inf;
  stop_factor = anorm * std::ldexp(1.0, -53) * std::sqrt(double(a.rows));
  const dtype m = o.policy.matrix;
  if (m == dtype::f64) {
    factor_f64(caller);
  } else {
    lf.kind = kind;
    lf.shift = 0;
    why_low = factor_low(a, rows.maxima, m, o, lf);
  }
  factored = true;
}

void dense_ir_solver::refactor(const_view av) {
  state& st = *s_;
  const char* op = "dense_ir_solver::refactor";
  const detail::dense_shape as = detail::dense_operand(op, "a", av, true);
  if (as.rows != st.a.rows)
    MIXPREC_THROW(shape_mismatch, op, "a is ", as.rows, " x ", as.cols, "; this solver factors ", st.a.rows, " x ",
                  st.a.rows, " matrices (a new solver takes another size)");
  st.factor(op, av);
}

dense_ir_solver::dense_ir_solver(const_view a, const dense_refinement_options& o)
    : dense_ir_solver("dense_ir_solver", false, a, o) {}

dense_ir_solver dense_ir_solver::cholesky(const_view a, const dense_refinement_options& o) {
  return dense_ir_solver("dense_ir_solver", true, a, o);
}

dense_ir_solver::dense_ir_solver(dense_ir_solver&&) noexcept = default;
dense_ir_solver& dense_ir_solver::operator=(dense_ir_solver&&) noexcept = default;
dense_ir_solver::~dense_ir_solver() = default;

std::int64_t dense_ir_solver::size() const { return s_->a.rows; }

dense_solve_report dense_ir_solver::solve(const_view bv, view xv) const {
  const auto t0 = std::chrono::steady_clock::now();
  state& st = *s_;
  const char* op = st.op;
  if (!st.factored)
    MIXPREC_THROW(invalid_argument, op,
                  "the solver holds no factorization: its last refactor failed; refactor it with a valid matrix");
  detail::dense_shape bs, xs;
  check_rhs(op, st.a.rows, bv, xv, bs, xs);
  check_x_apart_from_a(op, st.a_bytes, xv);
  const dense_ref<const double>& a = st.a;
  const dtype m = st.o.policy.matrix;
  const dense_refinement_options& o = st.o;
  const std::int64_t n = a.rows, nrhs = bs.cols;
  const auto b_at = [&](std::int64_t i, std::int64_t j) { return static_cast<const double*>(bs.data)[i * bs.ld + j]; };
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < nrhs; ++j)
      if (!std::isfinite(b_at(i, j))) {
        if (bv.rank() == 1) MIXPREC_THROW(invalid_argument, op, "b[", i, "] is ", b_at(i, j), "; b must be finite");
        MIXPREC_THROW(invalid_argument, op, "b(", i, ", ", j, ") is ", b_at(i, j), "; b must be finite");
      }

  dense_solve_report rep;
  rep.matrix_type = m;
  rep.working_type = dtype::f64;
  rep.krylov_type = dtype::f64;
  rep.preconditioned = o.gmres;
  rep.diagonal_shift = st.lf.shift;
  rep.method = std::string(factor_name(st.kind, m)) + (m == dtype::f64 ? ""
                                                       : o.gmres       ? " + GMRES-IR"
                                                                       : " + refinement");

  // The one factorization for every column; the columns refined in step, each by its own rule.
  const auto columns = static_cast<std::size_t>(nrhs);
  rhs_columns c;
  c.b.resize(columns);
  c.x.resize(columns);
  c.r.resize(columns);
  c.result.resize(columns);
  for (std::size_t j = 0; j < columns; ++j) {  // each column of b copied out once, with its norm
    c.b[j] = array<double>(n, st.as.ctx);
    for (std::int64_t i = 0; i < n; ++i) c.b[j][i] = b_at(i, std::int64_t(j));
    c.result[j].steps.rhs_norm = std::sqrt(dot(c.b[j], c.b[j]));
    c.x[j] = array<double>(n, st.as.ctx);
    c.r[j] = array<double>(n, st.as.ctx);
    fill(c.x[j].as_view(), 0.0);  // what a failed factorization without fallback returns
    c.result[j].why_fallback = st.why_low;
  }
  if (m != dtype::f64) {
    if (st.why_low.empty()) refine(a, c, st.lf, m, o, st.stop_factor);
    merge_columns(c.result, rep);
  }

  // The columns refinement did not solve (all of them under the f64 policy): by the f64
  // factorization, all at once.
  std::vector<std::size_t> unsolved;
  for (std::size_t j = 0; j < columns; ++j)
    if (!c.result[j].refined) unsolved.push_back(j);
  const std::int64_t k = std::int64_t(unsolved.size());
  if (m == dtype::f64 || k == 0)
    rep.path = rep.method;
  else
    describe_fallback(rep, c.result[unsolved[0]], std::int64_t(unsolved[0]), k, nrhs, o.fallback, st.kind);
  if (k > 0 && (m == dtype::f64 || o.fallback)) {
    std::vector<double> block(std::size_t(n * k));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t q = 0; q < k; ++q) block[std::size_t(i * k + q)] = c.b[unsolved[std::size_t(q)]][i];
    st.solve_f64(block, k);
    for (std::int64_t q = 0; q < k; ++q)
      for (std::int64_t i = 0; i < n; ++i) c.x[unsolved[std::size_t(q)]][i] = block[std::size_t(i * k + q)];
  }

  // The backward error and residual of every column (r = b - A x where refinement did not
  // leave it), the worst reported.
  residuals(a, c, unsolved);
  for (std::size_t j = 0; j < columns; ++j) {
    const double rn = vector_norm_inf(c.r[j]), xn = vector_norm_inf(c.x[j]), bn = vector_norm_inf(c.b[j]);
    const double rhs_norm = c.result[j].steps.rhs_norm;
    rep.backward_error = std::max(rep.backward_error, st.anorm * xn + bn > 0 ? rn / (st.anorm * xn + bn) : 0);
    rep.true_residual = std::max(rep.true_residual, rhs_norm > 0 ? std::sqrt(dot(c.r[j], c.r[j])) / rhs_norm : 0);
    rep.rhs_norm = std::max(rep.rhs_norm, rhs_norm);
  }
  rep.final_residual = rep.true_residual;
  if (rep.reason != stop_reason::inaccurate) {
    rep.reason = stop_reason::converged;
    std::ostringstream s;
    s << rep.path << ": backward error " << rep.backward_error << " after " << rep.iterations << " refinement steps"
      << (nrhs > 1 ? " (the most of " + std::to_string(nrhs) + " columns)" : "")
      << (rep.diagonal_shift > 0 ? "; the Cholesky factored H + " + std::to_string(rep.diagonal_shift) + " diag(H)"
                                 : "")
      << (rep.fallback.empty() ? "" : "; fell back because " + rep.fallback);
    rep.message = s.str();
  }
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < nrhs; ++j) static_cast<double*>(xs.data)[i * xs.ld + j] = c.x[std::size_t(j)][i];
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

namespace {

/// gesv_ir and posv_ir: the right-hand sides checked first (before any work on A), then the
/// solver made (by `make`) and used once; seconds counts both.
template <class Make>
dense_solve_report solve_once(const char* op, const_view a, const_view b, view x, Make&& make) {
  const auto t0 = std::chrono::steady_clock::now();
  const detail::dense_shape as = detail::dense_operand(op, "a", a, true);
  detail::dense_shape bs, xs;
  check_rhs(op, as.rows, b, x, bs, xs);
  check_x_apart_from_a(op, detail::span_of(a), x);
  dense_ir_solver solver = make();
  dense_solve_report rep = solver.solve(b, x);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace

dense_solve_report gesv_ir(const_view a, const_view b, view x, const dense_refinement_options& o) {
  return solve_once("gesv_ir", a, b, x, [&] { return dense_ir_solver("gesv_ir", false, a, o); });
}

dense_solve_report posv_ir(const_view a, const_view b, view x, const dense_refinement_options& o) {
  return solve_once("posv_ir", a, b, x, [&] { return dense_ir_solver("posv_ir", true, a, o); });
}

}  // namespace mixprec
