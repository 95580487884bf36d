// gesv_ir (mixprec/dense.hpp): the LU in low precision, refinement (classical or GMRES-IR)
// in f64, LAPACK dsgesv's stopping rule, and the f64 fallback with its reason.
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "dense/dense_matrix.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/array.hpp"
#include "mixprec/blas1.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/error.hpp"
#include "mixprec/gemm.hpp"
#include "mixprec/linear_operator.hpp"

namespace mixprec {
namespace {

using detail::dense_ref;

double norm_inf(const dense_ref<const double>& a) {
  double worst = 0;
  for (std::int64_t i = 0; i < a.rows; ++i) {
    double s = 0;
    for (std::int64_t j = 0; j < a.cols; ++j) s += std::fabs(a.at(i, j));
    worst = std::max(worst, s);
  }
  return worst;
}

double vector_norm_inf(const array<double>& v) {
  double m = 0;
  for (std::int64_t i = 0; i < v.size(); ++i) m = std::max(m, std::fabs(v[i]));
  return m;
}

/// r = b - A x in f64.
void residual(const dense_ref<const double>& a, const array<double>& b, const array<double>& x, array<double>& r) {
  copy(b.as_view(), r.as_view());
  gemm(trans::no, trans::no, -1.0, make_view(a.data, {a.rows, a.cols}, {a.ld, 1}), make_view(x.data(), {a.rows, 1}),
       1.0, make_view(r.data(), {a.rows, 1}));
}

/// The low-precision factorization: A rounded to the policy's matrix dtype, factored in f32.
struct low_lu {
  array<float> lu;
  std::vector<std::int64_t> pivots;
  std::int64_t n = 0;
  array<float> scratch;  // n values: the f32 right-hand side of each solve (applied per GMRES iteration)
  /// out = LU^-1 in (f64 in and out, solved in f32).
  void solve(const_view in, view out) {
    convert(in, scratch.as_view());
    getrs(make_view(lu.data(), {n, n}), pivots, scratch.as_view());
    convert(scratch.as_view(), out);
  }
};

const char* path_name(dtype m) {
  switch (m) {
    case dtype::f32:
      return "f32 LU";
    case dtype::bf16:
      return "bf16-update LU";
    case dtype::f16:
      return "f16-rounded LU";
    default:
      return "f64 LU";
  }
}

/// Largest finite value of a low-precision dtype.
double largest(dtype t) {
  return t == dtype::f16    ? 65504.0
         : t == dtype::bf16 ? 3.3895313892515355e38
                            : double(std::numeric_limits<float>::max());
}

}  // namespace

dense_solve_report gesv_ir(const_view av, const_view bv, view xv, const dense_refinement_options& o) {
  constexpr const char* op = "gesv_ir";
  const auto t0 = std::chrono::steady_clock::now();
  const detail::dense_shape as = detail::dense_operand(op, "a", av, true);
  const detail::dense_shape bs = detail::dense_operand(op, "b", bv, false);
  const detail::dense_shape xs = detail::dense_operand(op, "x", xv, false);
  if (as.type != dtype::f64 || bs.type != dtype::f64 || xs.type != dtype::f64)
    MIXPREC_THROW(unsupported, op,
                  "a, b and x must be f64 (the accuracy asked for); the policy says the "
                  "factorization's precision");
  if (bs.cols != 1 || xs.cols != 1 || bs.rows != as.rows || xs.rows != as.rows)
    MIXPREC_THROW(shape_mismatch, op, "a is ", as.rows, " x ", as.cols, "; b and x must be vectors of ", as.rows);
  const dtype m = o.policy.matrix;
  if (m != dtype::f64 && m != dtype::f32 && m != dtype::bf16 && m != dtype::f16)
    MIXPREC_THROW(unsupported, op, "policy.matrix ", name_of(m), ": the factorization runs in f64, f32, bf16 or f16");
  if (o.max_iterations < 1) MIXPREC_THROW(invalid_argument, op, "max_iterations ", o.max_iterations, " < 1");
  if (o.gmres &&
      (o.gmres_restart < 1 || o.gmres_max_iterations < 1 || !(o.gmres_tolerance > 0 && o.gmres_tolerance < 1)))
    MIXPREC_THROW(invalid_argument, op,
                  "GMRES-IR needs gmres_restart and gmres_max_iterations >= 1 and "
                  "gmres_tolerance in (0, 1)");
  const dense_ref<const double> a{static_cast<const double*>(as.data), as.rows, as.cols, as.ld};
  detail::check_finite(op, a);
  const std::int64_t n = a.rows;
  array<double> b(n), x(n), r(n), d(n);
  for (std::int64_t i = 0; i < n; ++i) {
    b[i] = static_cast<const double*>(bs.data)[i * bs.ld];
    if (!std::isfinite(b[i])) MIXPREC_THROW(invalid_argument, op, "b[", i, "] is ", b[i], "; b must be finite");
  }

  dense_solve_report rep;
  rep.matrix_type = m;
  rep.working_type = dtype::f64;
  rep.krylov_type = dtype::f64;
  rep.preconditioned = o.gmres;
  rep.rhs_norm = std::sqrt(dot(b, b));
  const double anorm = norm_inf(a), eps = std::ldexp(1.0, -53);
  const double stop_factor = anorm * eps * std::sqrt(double(n));
  std::string why_fallback;

  if (m != dtype::f64) {
    rep.method = std::string(path_name(m)) + (o.gmres ? " + GMRES-IR" : " + refinement");
    low_lu f;
    f.n = n;
    f.lu = array<float>(n * n);
    f.scratch = array<float>(n);
    // A rounded to the policy's dtype (f16: the LU then runs in f32 on those values).
    double amax = 0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(a.at(i, j)));
    if (amax > largest(m)) {
      std::ostringstream s;
      s << "max |a_ij| = " << amax << " overflows " << name_of(m);
      why_fallback = s.str();
    } else {
      array<half> h(m == dtype::f16 ? n : 0);
      for (std::int64_t i = 0; i < n; ++i) {
        const const_view row = make_view(a.row(i), n);
        const view out = make_view(f.lu.data() + i * n, n);
        if (m == dtype::f16) {
          convert(row, h.as_view());
          convert(h.as_view(), out);
        } else {
          convert(row, out);
        }
      }
      try {
        lu_options lo;
        lo.update = m == dtype::bf16 ? lu_update::bf16 : lu_update::native;
        lo.pivoting = o.pivoting;
        getrf(make_view(f.lu.data(), {n, n}), f.pivots, lo);
      } catch (const error& e) {
        if (e.code() != status::numerical_breakdown) throw;
        why_fallback = std::string("the ") + name_of(m) + " LU broke down: " + e.message();
      }
    }
    if (why_fallback.empty()) {
      const callback_operator a_op(
          n, n,
          [&](const_view in, view out) {
            gemm(trans::no, trans::no, 1.0, make_view(a.data, {n, n}, {a.ld, 1}),
                 const_view(in.data(), dtype::f64, {n, 1}, {1, 1}, in.ctx()), 0.0,
                 view(out.data(), dtype::f64, {n, 1}, {1, 1}, out.ctx()));
          },
          "dense A");
      const callback_operator lu_op(
          n, n, [&](const_view in, view out) { f.solve(in, out); }, "low-precision LU");
      fill(x.as_view(), 0.0);
      copy(b.as_view(), r.as_view());
      double previous = HUGE_VAL;
      bool converged = false;
      for (int step = 0; step <= o.max_iterations; ++step) {
        // The correction d ~ A^-1 r (step 0: the first solve, x = LU^-1 b).
        if (o.gmres && step > 0) {
          solve_options go;
          go.rel_tol = o.gmres_tolerance;
          go.restart = o.gmres_restart;
          go.max_iterations = o.gmres_max_iterations;
          go.preconditioner = &lu_op;
          go.record_history = false;
          go.stagnation_window = 0;
          fill(d.as_view(), 0.0);
          const solve_report g = gmres(a_op, r.as_view(), d.as_view(), go);
          rep.inner_iterations += g.iterations;
          // A correction that falls short of the tolerance still helps if it halved the
          // residual (the outer loop judges it); one that did not means the LU is useless here.
          if (!g.converged() && !(g.final_residual <= 0.5)) {
            std::ostringstream s;
            s << "GMRES could not halve a correction's residual (" << g.message << "): the " << name_of(m)
              << " LU is too poor a preconditioner for this matrix";
            why_fallback = s.str();
            break;
          }
        } else {
          f.solve(r.as_view(), d.as_view());
        }
        axpy(1.0, d.as_view(), x.as_view());
        residual(a, b, x, r);
        const double rn = vector_norm_inf(r), xn = vector_norm_inf(x);
        rep.history.push_back(rep.rhs_norm > 0 ? std::sqrt(dot(r, r)) / rep.rhs_norm : 0);
        if (step > 0) rep.iterations = step;
        if (!std::isfinite(rn) || !std::isfinite(xn)) {
          why_fallback = "the refinement produced a non-finite residual";
          break;
        }
        if (rn <= xn * stop_factor) {
          converged = true;
          break;
        }
        if (step > 0 && rn > previous) {
          std::ostringstream s;
          s << "the residual grew at step " << step << " (" << previous << " -> " << rn
            << "): the matrix is too ill-conditioned for the " << name_of(m) << " factorization";
          why_fallback = s.str();
          break;
        }
        previous = rn;
      }
      if (!converged && why_fallback.empty()) {
        std::ostringstream s;
        s << o.max_iterations << " refinement steps without reaching ||r|| <= ||x|| ||A|| eps sqrt(n)";
        why_fallback = s.str();
      }
      if (converged) rep.path = rep.method;
    }
  } else {
    rep.method = "f64 LU";
  }

  if (rep.path.empty()) {
    if (m != dtype::f64 && !o.fallback) {
      rep.reason = stop_reason::inaccurate;
      rep.path = rep.method + " (failed, no fallback)";
      rep.message = why_fallback;
    } else {
      if (m != dtype::f64) rep.fallback = why_fallback;
      array<double> lu(n * n);
      for (std::int64_t i = 0; i < n; ++i) copy(make_view(a.row(i), n), make_view(lu.data() + i * n, n));
      std::vector<std::int64_t> piv;
      getrf(make_view(lu.data(), {n, n}), piv);  // a singular matrix is reported from here, named
      copy(b.as_view(), x.as_view());
      getrs(make_view(lu.data(), {n, n}), piv, x.as_view());
      residual(a, b, x, r);
      rep.matrix_type = dtype::f64;
      rep.path = m == dtype::f64 ? "f64 LU" : "f64 LU (fallback)";
    }
  }
  residual(a, b, x, r);
  const double rn = vector_norm_inf(r), xn = vector_norm_inf(x), bn = vector_norm_inf(b);
  rep.backward_error = anorm * xn + bn > 0 ? rn / (anorm * xn + bn) : 0;
  rep.true_residual = rep.rhs_norm > 0 ? std::sqrt(dot(r, r)) / rep.rhs_norm : 0;
  rep.final_residual = rep.true_residual;
  if (rep.reason != stop_reason::inaccurate) {
    rep.reason = stop_reason::converged;
    std::ostringstream s;
    s << rep.path << ": backward error " << rep.backward_error << " after " << rep.iterations << " refinement steps"
      << (rep.fallback.empty() ? "" : "; fell back because " + rep.fallback);
    rep.message = s.str();
  }
  for (std::int64_t i = 0; i < n; ++i) static_cast<double*>(xs.data)[i * xs.ld] = x[i];
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace mixprec
