// The C API's operators, preconditioners, Krylov solvers, mixed-precision refinement,
// dense solves and their reports (include/mixprec/mixprec.h).
#include <algorithm>
#include <vector>

#include "capi/capi_support.hpp"
#include "mixprec/dense.hpp"
#include "mixprec/multigrid.hpp"
#include "mixprec/preconditioner.hpp"
#include "mixprec/refinement.hpp"
#include "mixprec/stencil.hpp"

using namespace mixprec;
using namespace mixprec::capi;

namespace {

std::unique_ptr<mixprec_operator_s> operator_handle(std::shared_ptr<const void> keep,
                                                    std::unique_ptr<linear_operator> op) {
  auto h = std::make_unique<mixprec_operator_s>();
  h->keep = std::move(keep);
  h->op = std::move(op);
  return h;
}

const linear_operator& operator_of(mixprec_operator a, const char* fn) { return *deref(a, fn, "a").op; }

std::unique_ptr<mixprec_report_s> report_handle(solve_report r) {
  auto h = std::make_unique<mixprec_report_s>();
  h->report = std::move(r);
  return h;
}

// A C callback as a linear_operator: x and y are handed over as array handles that live
// for the call (x read-only).
class c_callback {
 public:
  c_callback(mixprec_apply_fn fn, void* user, const char* made_by) : fn_(fn), user_(user), made_by_(made_by) {}
  void operator()(const_view x, view y) const {
    mixprec_array_s xh, yh;
    xh.view = view(const_cast<void*>(x.data()), x.type(), {x.extent(0)}, {x.stride(0)}, x.ctx());
    xh.read_only = true;
    yh.view = y;
    const int rc = fn_(user_, &xh, &yh);
    if (rc != 0) MIXPREC_THROW(invalid_argument, made_by_, "the apply callback returned ", rc);
  }

 private:
  mixprec_apply_fn fn_;
  void* user_;
  const char* made_by_;  // the function that wrapped it, for the error of a failed call
};

solve_options solve_options_or_default(const mixprec_solve_options* o, const char* fn) {
  if (!o) return solve_options{};
  return to_solve_options(*o, fn, "o");
}

}  // namespace

extern "C" {

// ---- operators ----------------------------------------------------------------------------

mixprec_status mixprec_operator_from_csr(mixprec_csr a, mixprec_accumulation acc, mixprec_operator* out) {
  constexpr const char* fn = "mixprec_operator_from_csr";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    const accumulation ac = to_accumulation(acc, fn);
    check_out(out, fn);
    std::shared_ptr<const csr_matrix> m = owned_csr(h);
    auto op = std::make_unique<csr_operator>(*m, ac);  // refers to *m, which the handle keeps
    publish(operator_handle(std::move(m), std::move(op)), out);
  });
}

mixprec_status mixprec_operator_from_dia(mixprec_dia a, mixprec_accumulation acc, mixprec_operator* out) {
  constexpr const char* fn = "mixprec_operator_from_dia";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    const accumulation ac = to_accumulation(acc, fn);
    check_out(out, fn);
    auto op = std::make_unique<dia_operator>(*h.matrix, ac);
    publish(operator_handle(h.matrix, std::move(op)), out);
  });
}

mixprec_status mixprec_operator_laplace(mixprec_context ctx, int dims, int64_t nx, int64_t ny, int64_t nz,
                                        mixprec_operator* out) {
  constexpr const char* fn = "mixprec_operator_laplace";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_out(out, fn);
    if (dims != 2 && dims != 3) MIXPREC_THROW(invalid_argument, fn, "dims = ", dims, " (2 or 3)");
    auto op = dims == 2 ? std::make_unique<stencil_operator>(stencil::laplace_2d5(), grid_extent(nx, ny),
                                                             boundary_conditions{}, c)
                        : std::make_unique<stencil_operator>(stencil::laplace_3d7(), grid_extent(nx, ny, nz),
                                                             boundary_conditions{}, c);
    publish(operator_handle(nullptr, std::move(op)), out);
  });
}

mixprec_status mixprec_operator_from_callback(mixprec_context ctx, int64_t rows, int64_t cols, mixprec_apply_fn apply,
                                              void* user, mixprec_operator* out) {
  constexpr const char* fn = "mixprec_operator_from_callback";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_out(out, fn);
    if (!apply) MIXPREC_THROW(invalid_argument, fn, "apply is NULL");
    auto op = std::make_unique<callback_operator>(rows, cols, c_callback(apply, user, fn), "C callback", c);
    publish(operator_handle(nullptr, std::move(op)), out);
  });
}

void mixprec_operator_destroy(mixprec_operator a) { destroy(a, "mixprec_operator_destroy"); }

mixprec_status mixprec_operator_apply(mixprec_operator a, double alpha, mixprec_array x, double beta, mixprec_array y) {
  constexpr const char* fn = "mixprec_operator_apply";
  return guarded([&] { operator_of(a, fn).apply(alpha, input(x, fn, "x"), beta, output(y, fn, "y")); });
}

size_t mixprec_operator_describe(mixprec_operator a, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return operator_of(a, "mixprec_operator_describe").describe(); });
}

// ---- preconditioners --------------------------------------------------------------------

mixprec_status mixprec_preconditioner_create(mixprec_operator a, mixprec_preconditioner_kind kind,
                                             mixprec_dtype storage, mixprec_preconditioner* out) {
  constexpr const char* fn = "mixprec_preconditioner_create";
  return guarded([&] {
    const linear_operator& op = operator_of(a, fn);
    const dtype st = to_dtype(storage, fn, "storage");
    check_out(out, fn);
    auto h = std::make_unique<mixprec_preconditioner_s>();
    switch (kind) {
      case MIXPREC_PRECOND_JACOBI:
        h->op = std::make_unique<jacobi_preconditioner>(op, st);
        break;
      case MIXPREC_PRECOND_BLOCK_JACOBI: {
        block_jacobi_options o;
        o.storage = st;
        h->op = std::make_unique<block_jacobi_preconditioner>(op, o);
        break;
      }
      case MIXPREC_PRECOND_SGS:
        h->op = std::make_unique<sgs_preconditioner>(op, true, st);
        break;
      case MIXPREC_PRECOND_ILU0:
        h->op = std::make_unique<incomplete_factorization>(op, incomplete_factorization::kind::ilu0, st);
        break;
      case MIXPREC_PRECOND_IC0:
        h->op = std::make_unique<incomplete_factorization>(op, incomplete_factorization::kind::ic0, st);
        break;
      case MIXPREC_PRECOND_MULTIGRID: {
        const auto* s = dynamic_cast<const stencil_operator*>(&op);
        if (!s) MIXPREC_THROW(invalid_argument, fn, "multigrid needs the stencil operator of mixprec_operator_laplace");
        multigrid_options o;
        o.storage = st;
        h->op = std::make_unique<multigrid_preconditioner>(*s, o);
        break;
      }
      default:
        MIXPREC_THROW(invalid_argument, fn, "kind = ", int(kind), " is not a mixprec_preconditioner_kind");
    }
    publish(std::move(h), out);
  });
}

mixprec_status mixprec_preconditioner_from_callback(mixprec_context ctx, int64_t n, mixprec_apply_fn apply, void* user,
                                                    mixprec_preconditioner* out) {
  constexpr const char* fn = "mixprec_preconditioner_from_callback";
  return guarded([&] {
    const context& c = context_of(ctx, fn);
    check_out(out, fn);
    if (!apply) MIXPREC_THROW(invalid_argument, fn, "apply is NULL");
    auto h = std::make_unique<mixprec_preconditioner_s>();
    h->op = std::make_unique<callback_operator>(n, n, c_callback(apply, user, fn), "C callback preconditioner", c);
    publish(std::move(h), out);
  });
}

void mixprec_preconditioner_destroy(mixprec_preconditioner p) { destroy(p, "mixprec_preconditioner_destroy"); }

// ---- Krylov solvers and refinement ----------------------------------------------------------

void mixprec_solve_options_init(mixprec_solve_options* o) {
  if (!o) return;
  const solve_options d;
  *o = mixprec_solve_options{};
  o->struct_size = sizeof(*o);
  o->rel_tol = d.rel_tol;
  o->abs_tol = d.abs_tol;
  o->max_iterations = d.max_iterations;
  o->stagnation_window = d.stagnation_window;
  o->stagnation_factor = d.stagnation_factor;
  o->restart = d.restart;
  o->ortho = d.ortho == orthogonalization::mgs    ? MIXPREC_ORTHO_MGS
             : d.ortho == orthogonalization::cgs2 ? MIXPREC_ORTHO_CGS2
                                                  : MIXPREC_ORTHO_DCGS2;
  o->preconditioner = nullptr;
  o->record_history = d.record_history ? 1 : 0;
  o->lambda_min = o->lambda_max = 0;
}

mixprec_status mixprec_solve(mixprec_method method, mixprec_operator a, mixprec_array b, mixprec_array x,
                             const mixprec_solve_options* o, mixprec_report* report) {
  constexpr const char* fn = "mixprec_solve";
  return guarded([&] {
    const linear_operator& op = operator_of(a, fn);
    const const_view bv = input(b, fn, "b");
    const view xv = output(x, fn, "x");
    const solve_options so = solve_options_or_default(o, fn);
    check_out(report, fn);
    solve_report r;
    switch (method) {
      case MIXPREC_CG:
        r = cg(op, bv, xv, so);
        break;
      case MIXPREC_BICGSTAB:
        r = bicgstab(op, bv, xv, so);
        break;
      case MIXPREC_GMRES:
        r = gmres(op, bv, xv, so);
        break;
      case MIXPREC_FGMRES:
        r = fgmres(op, bv, xv, so);
        break;
      case MIXPREC_CG_PIPELINED:
        r = cg_pipelined(op, bv, xv, so);
        break;
      case MIXPREC_CHEBYSHEV: {
        double lo = o ? o->lambda_min : 0, hi = o ? o->lambda_max : 0;
        if (lo == 0 && hi == 0) {
          const spectrum_estimate e = estimate_spectrum(op, 30, so.preconditioner);
          lo = e.lambda_min;
          hi = e.lambda_max;
        }
        r = chebyshev(op, bv, xv, lo, hi, so);
        break;
      }
      default:
        MIXPREC_THROW(invalid_argument, fn, "method = ", int(method), " is not a mixprec_method");
    }
    publish(report_handle(std::move(r)), report);
  });
}

void mixprec_refine_options_init(mixprec_refine_options* o) {
  if (!o) return;
  const refinement_options d;
  *o = mixprec_refine_options{};
  o->struct_size = sizeof(*o);
  o->policy_matrix = static_cast<mixprec_dtype>(d.policy.matrix);
  o->policy_krylov = static_cast<mixprec_dtype>(d.policy.krylov);
  o->inner_method = MIXPREC_INNER_CG;
  mixprec_solve_options_init(&o->outer);
  mixprec_solve_options_init(&o->inner);
  o->inner.rel_tol = d.inner.rel_tol;
  o->inner.max_iterations = d.inner.max_iterations;
  o->inner.record_history = d.inner.record_history ? 1 : 0;
  o->min_reduction = d.min_reduction;
  o->fallback = d.fallback ? 1 : 0;
}

mixprec_status mixprec_policy_parse(const char* name, mixprec_dtype* matrix, mixprec_dtype* krylov) {
  constexpr const char* fn = "mixprec_policy_parse";
  return guarded([&] {
    check_result(name, fn, "name");
    const precision_policy p = precision_policy::parse(name);
    if (p.halo != dtype::f64)
      MIXPREC_THROW(unsupported, fn, "'", name,
                    "' names a halo precision: halos belong to distributed operators, which the C API does not have");
    if (matrix) *matrix = static_cast<mixprec_dtype>(p.matrix);
    if (krylov) *krylov = static_cast<mixprec_dtype>(p.krylov);
  });
}

mixprec_status mixprec_refine(mixprec_operator a, mixprec_array b, mixprec_array x, const mixprec_refine_options* o,
                              mixprec_report* report) {
  constexpr const char* fn = "mixprec_refine";
  return guarded([&] {
    const linear_operator& op = operator_of(a, fn);
    const const_view bv = input(b, fn, "b");
    const view xv = output(x, fn, "x");
    check_out(report, fn);
    refinement_options ro;
    if (o) {
      check_struct(o, fn, "o", "mixprec_refine_options_init");
      ro.policy.matrix = to_dtype(o->policy_matrix, fn, "o->policy_matrix");
      ro.policy.krylov = to_dtype(o->policy_krylov, fn, "o->policy_krylov");
      switch (o->inner_method) {
        case MIXPREC_INNER_CG:
          ro.inner_method = inner_solver::cg;
          break;
        case MIXPREC_INNER_BICGSTAB:
          ro.inner_method = inner_solver::bicgstab;
          break;
        case MIXPREC_INNER_GMRES:
          ro.inner_method = inner_solver::gmres;
          break;
        case MIXPREC_INNER_FGMRES:
          ro.inner_method = inner_solver::fgmres;
          break;
        case MIXPREC_INNER_CG_RELIABLE:
          ro.inner_method = inner_solver::cg_reliable;
          break;
        default:
          MIXPREC_THROW(invalid_argument, fn, "o->inner_method = ", int(o->inner_method),
                        " is not a mixprec_inner_solver");
      }
      ro.outer = to_solve_options(o->outer, fn, "o->outer");
      ro.inner = to_solve_options(o->inner, fn, "o->inner");
      ro.min_reduction = o->min_reduction;
      ro.fallback = o->fallback != 0;
    }
    publish(report_handle(refine(op, bv, xv, ro)), report);
  });
}

// ---- reports ----------------------------------------------------------------------------------

void mixprec_report_destroy(mixprec_report r) { destroy(r, "mixprec_report_destroy"); }

mixprec_status mixprec_report_reason(mixprec_report r, mixprec_stop_reason* out) {
  constexpr const char* fn = "mixprec_report_reason";
  return guarded([&] {
    const solve_report& rep = deref(r, fn, "r").report;
    check_result(out, fn, "out");
    *out = static_cast<mixprec_stop_reason>(rep.reason);
  });
}

const char* mixprec_stop_reason_name(mixprec_stop_reason reason) {
  const int v = int(reason);
  return v >= 0 && v <= int(MIXPREC_STOP_INACCURATE) ? name_of(static_cast<stop_reason>(v)) : "?";
}

mixprec_status mixprec_report_iterations(mixprec_report r, int* iterations, int* inner_iterations) {
  return guarded([&] {
    const solve_report& rep = deref(r, "mixprec_report_iterations", "r").report;
    if (iterations) *iterations = rep.iterations;
    if (inner_iterations) *inner_iterations = rep.inner_iterations;
  });
}

mixprec_status mixprec_report_residuals(mixprec_report r, double* final_residual, double* true_residual) {
  return guarded([&] {
    const solve_report& rep = deref(r, "mixprec_report_residuals", "r").report;
    if (final_residual) *final_residual = rep.final_residual;
    if (true_residual) *true_residual = rep.true_residual;
  });
}

mixprec_status mixprec_report_seconds(mixprec_report r, double* out) {
  return guarded([&] {
    const solve_report& rep = deref(r, "mixprec_report_seconds", "r").report;
    if (out) *out = rep.seconds;
  });
}

mixprec_status mixprec_report_backward_error(mixprec_report r, double* out) {
  return guarded([&] {
    const auto& h = deref(r, "mixprec_report_backward_error", "r");
    if (out) *out = h.backward_error;
  });
}

mixprec_status mixprec_report_history(mixprec_report r, double* out, size_t capacity, size_t* count) {
  constexpr const char* fn = "mixprec_report_history";
  return guarded([&] {
    const std::vector<double>& hist = deref(r, fn, "r").report.history;
    if (capacity > 0 && !out) MIXPREC_THROW(invalid_argument, fn, "out is NULL with capacity ", capacity);
    std::copy_n(hist.begin(), std::min(capacity, hist.size()), out);
    if (count) *count = hist.size();
  });
}

size_t mixprec_report_summary(mixprec_report r, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return deref(r, "mixprec_report_summary", "r").report.summary(); });
}

size_t mixprec_report_message(mixprec_report r, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return deref(r, "mixprec_report_message", "r").report.message; });
}

size_t mixprec_report_path(mixprec_report r, char* buf, size_t len) {
  return guarded_text(buf, len, [&] { return deref(r, "mixprec_report_path", "r").path; });
}

// ---- dense solves -------------------------------------------------------------------------

void mixprec_dense_options_init(mixprec_dense_options* o) {
  if (!o) return;
  const dense_refinement_options d;
  *o = mixprec_dense_options{};
  o->struct_size = sizeof(*o);
  o->factorization = static_cast<mixprec_dtype>(d.policy.matrix);
  o->gmres = d.gmres ? 1 : 0;
  o->pivoting = d.pivoting ? 1 : 0;
  o->max_iterations = d.max_iterations;
  o->fallback = d.fallback ? 1 : 0;
  o->gmres_tolerance = d.gmres_tolerance;
  o->gmres_restart = d.gmres_restart;
  o->gmres_max_iterations = d.gmres_max_iterations;
  o->scale = d.scale ? 1 : 0;
  o->gmres_halving_window = d.gmres_halving_window;
}

}  // extern "C"

namespace {

using dense_solver = dense_solve_report (*)(const_view, const_view, view, const dense_refinement_options&);

/// The C options as dense_refinement_options (the defaults for null).
dense_refinement_options dense_options_of(const mixprec_dense_options* o, const char* fn) {
  dense_refinement_options d;
  if (o) {
    check_struct(o, fn, "o", "mixprec_dense_options_init");
    d.policy.matrix = to_dtype(o->factorization, fn, "o->factorization");
    d.gmres = o->gmres != 0;
    d.pivoting = o->pivoting != 0;
    d.max_iterations = o->max_iterations;
    d.fallback = o->fallback != 0;
    d.gmres_tolerance = o->gmres_tolerance;
    d.gmres_restart = o->gmres_restart;
    d.gmres_max_iterations = o->gmres_max_iterations;
    d.scale = o->scale != 0;
    d.gmres_halving_window = o->gmres_halving_window;
  }
  return d;
}

void publish_dense_report(dense_solve_report&& dr, mixprec_report* report) {
  auto h = std::make_unique<mixprec_report_s>();
  h->backward_error = dr.backward_error;
  h->path = dr.path;
  h->report = std::move(static_cast<solve_report&>(dr));
  publish(std::move(h), report);
}

mixprec_status dense_solve(const char* fn, dense_solver solver, mixprec_array a, mixprec_array b, mixprec_array x,
                           const mixprec_dense_options* o, mixprec_report* report) {
  return guarded([&] {
    const const_view av = input(a, fn, "a"), bv = input(b, fn, "b");
    const view xv = output(x, fn, "x");
    check_out(report, fn);
    publish_dense_report(solver(av, bv, xv, dense_options_of(o, fn)), report);
  });
}

}  // namespace

extern "C" {

mixprec_status mixprec_gesv_ir(mixprec_array a, mixprec_array b, mixprec_array x, const mixprec_dense_options* o,
                               mixprec_report* report) {
  return dense_solve("mixprec_gesv_ir", &gesv_ir, a, b, x, o, report);
}

mixprec_status mixprec_posv_ir(mixprec_array a, mixprec_array b, mixprec_array x, const mixprec_dense_options* o,
                               mixprec_report* report) {
  return dense_solve("mixprec_posv_ir", &posv_ir, a, b, x, o, report);
}

mixprec_status mixprec_dense_solver_create(mixprec_array a, int spd, const mixprec_dense_options* o,
                                           mixprec_dense_solver* out) {
  constexpr const char* fn = "mixprec_dense_solver_create";
  return guarded([&] {
    const const_view av = input(a, fn, "a");
    check_out(out, fn);
    const dense_refinement_options d = dense_options_of(o, fn);
    auto h = std::make_unique<mixprec_dense_solver_s>();
    if (spd)
      h->solver.emplace(dense_ir_solver::cholesky(av, d));
    else
      h->solver.emplace(av, d);
    publish(std::move(h), out);
  });
}

mixprec_status mixprec_dense_solver_solve(mixprec_dense_solver s, mixprec_array b, mixprec_array x,
                                          mixprec_report* report) {
  constexpr const char* fn = "mixprec_dense_solver_solve";
  return guarded([&] {
    dense_ir_solver& solver = *deref(s, fn, "s").solver;
    const const_view bv = input(b, fn, "b");
    const view xv = output(x, fn, "x");
    check_out(report, fn);
    publish_dense_report(solver.solve(bv, xv), report);
  });
}

mixprec_status mixprec_dense_solver_refactor(mixprec_dense_solver s, mixprec_array a) {
  constexpr const char* fn = "mixprec_dense_solver_refactor";
  return guarded([&] {
    dense_ir_solver& solver = *deref(s, fn, "s").solver;
    solver.refactor(input(a, fn, "a"));
  });
}

void mixprec_dense_solver_destroy(mixprec_dense_solver s) { destroy(s, "mixprec_dense_solver_destroy"); }

mixprec_status mixprec_getrf(mixprec_array a, int64_t* pivots, int pivoting) {
  constexpr const char* fn = "mixprec_getrf";
  return guarded([&] {
    const view av = output(a, fn, "a");
    check_result(pivots, fn, "pivots");
    lu_options lo;
    lo.pivoting = pivoting != 0;
    std::vector<std::int64_t> piv;
    getrf(av, piv, lo);
    std::copy(piv.begin(), piv.end(), pivots);
  });
}

mixprec_status mixprec_getrs(mixprec_array lu, const int64_t* pivots, mixprec_array b) {
  constexpr const char* fn = "mixprec_getrs";
  return guarded([&] {
    const const_view lv = input(lu, fn, "lu");
    const view bv = output(b, fn, "b");
    check_result(pivots, fn, "pivots");
    if (lv.rank() != 2) MIXPREC_THROW(invalid_argument, fn, "lu has rank ", lv.rank(), " (2)");
    const std::vector<std::int64_t> piv(pivots, pivots + std::min(lv.extent(0), lv.extent(1)));
    getrs(lv, piv, bv);
  });
}

mixprec_status mixprec_potrf(mixprec_array a) {
  return guarded([&] { potrf(output(a, "mixprec_potrf", "a")); });
}

mixprec_status mixprec_potrs(mixprec_array l, mixprec_array b) {
  constexpr const char* fn = "mixprec_potrs";
  return guarded([&] { potrs(input(l, fn, "l"), output(b, fn, "b")); });
}

}  // extern "C"
