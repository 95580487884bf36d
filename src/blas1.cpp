// Front ends of the BLAS-1 ops: check every argument, then hand the call to the kernel the
// registry picks. Nothing is written before all checks have passed.
#include "mixprec/blas1.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>

#include "internal/cuda_plugin_api.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/fused_ops.hpp"
#include "internal/view_spans.hpp"
#include "mixprec/array.hpp"
#include "mixprec/kernels.hpp"

namespace mixprec {

const char* name_of(accumulation a) {
  switch (a) {
    case accumulation::standard:
      return "standard";
    case accumulation::f64:
      return "f64";
    case accumulation::compensated:
      return "compensated";
  }
  return "?";
}

namespace {

using detail::op_id;

/// A checked rank-1 operand.
struct vec {
  const void* data;
  std::int64_t n, inc;
  dtype type;
  const detail::context_state* ctx;
};

vec as_vector(const char* op, const char* arg, const const_view& v) {
  if (v.ctx().empty()) MIXPREC_THROW(invalid_argument, op, arg, " has no context (a default-constructed view)");
  if (v.rank() == 1) return vec{v.data(), v.extent(0), v.stride(0), v.type(), detail::state_of(v.ctx()).get()};
  if (v.is_contiguous()) return vec{v.data(), v.size(), 1, v.type(), detail::state_of(v.ctx()).get()};
  MIXPREC_THROW(unsupported, op, arg, " is a rank-", v.rank(),
                " view with gaps between its rows; vector ops take rank-1 or dense views");
}

void check_output(const char* op, const char* arg, const vec& v) {
  if (v.inc == 0 && v.n > 1)
    MIXPREC_THROW(invalid_argument, op, arg, " has stride 0: ", v.n, " results would be written to one element");
}

void check_pair(const char* op, const vec& x, const vec& y, bool same_dtype) {
  if (x.n != y.n) MIXPREC_THROW(shape_mismatch, op, "x has ", x.n, " elements, y has ", y.n);
  if (same_dtype && x.type != y.type)
    MIXPREC_THROW(invalid_argument, op, "x is ", name_of(x.type), " but y is ", name_of(y.type), "; ", op,
                  " takes one dtype (convert first)");
  const bool same_memory =
      x.ctx->kind == y.ctx->kind && (x.ctx->kind == backend::cpu || x.ctx->device == y.ctx->device);
  if (!same_memory)
    MIXPREC_THROW(invalid_argument, op, "x lives in ", name_of(x.ctx->kind), ":", x.ctx->device, " memory but y in ",
                  name_of(y.ctx->kind), ":", y.ctx->device, " memory; copy one of them first");
}

/// Runs op Op's kernel for x's dtype (and `out`) through the dispatch front door.
template <op_id Op, class Call>
void run(const vec& x, dtype out, const detail::blas1_problem& p, Call&& call) {
  detail::dispatch<Op>(*x.ctx, x.type, out, &p, p.acc, call, [&] {
    return std::make_pair(
        Op == op_id::convert ? detail::cat(name_of(x.type), ":", name_of(out)) : std::string(name_of(x.type)),
        detail::cat("n", p.n, ":inc", p.incx, ":", p.incy));
  });
}

void* writable(const vec& v) { return const_cast<void*>(v.data); }

/// The accumulator's smallest normal and largest finite value, for nrm2's range checks.
void accumulator_range(dtype t, accumulation acc, double* tiny, double* huge) {
  const bool f32_acc = (t == dtype::f32 || t == dtype::f16 || t == dtype::bf16) && acc != accumulation::f64;
  if (f32_acc) {
    *tiny = double(std::numeric_limits<float>::min()) / double(std::numeric_limits<float>::epsilon());
    *huge = double(std::numeric_limits<float>::max());
  } else {
    *tiny = std::numeric_limits<double>::min() / std::numeric_limits<double>::epsilon();
    *huge = std::numeric_limits<double>::max();
  }
}

double sumsq(const vec& x, double scale, accumulation acc) {
  const detail::blas1_problem p{x.n, x.inc, 1, acc};
  double r = 0;
  run<op_id::sumsq>(x, x.type, p,
                    [&](auto kernel, const detail::exec_args& ex) { kernel(ex, x.n, x.data, x.inc, scale, acc, &r); });
  return r;
}

std::int64_t amax_of(const vec& x) {
  const detail::blas1_problem p{x.n, x.inc, 1, accumulation::standard};
  std::int64_t r = -1;
  run<op_id::amax>(x, x.type, p, [&](auto kernel, const detail::exec_args& ex) { kernel(ex, x.n, x.data, x.inc, &r); });
  return r;
}

/// |x[i]| as a double, from any memory space.
double magnitude_at(const vec& x, std::int64_t i) {
  double v = 0;
  const detail::context_state& host = *detail::state_of(context::cpu());
  const detail::blas1_problem p{1, 1, 1, accumulation::standard};
  // Copy the one element to the host, then widen it with the host's convert kernel.
  alignas(8) unsigned char raw[8] = {};
  detail::copy_bytes(*x.ctx, static_cast<const char*>(x.data) + i * x.inc * std::int64_t(size_of(x.type)), host, raw,
                     size_of(x.type));
  const vec one{raw, 1, 1, x.type, &host};
  run<op_id::convert>(one, dtype::f64, p,
                      [&](auto kernel, const detail::exec_args& ex) { kernel(ex, 1, raw, 1, &v, 1); });
  return std::fabs(v);
}

}  // namespace

void convert(const_view xv, view yv) {
  const vec x = as_vector("convert", "x", xv), y = as_vector("convert", "y", yv);
  check_pair("convert", x, y, false);
  check_output("convert", "y", y);
  const detail::blas1_problem p{x.n, x.inc, y.inc, accumulation::standard};
  run<op_id::convert>(x, y.type, p, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, x.data, x.inc, writable(y), y.inc);
  });
}

void fill(view xv, double value) {
  const vec x = as_vector("fill", "x", xv);
  check_output("fill", "x", x);
  const detail::blas1_problem p{x.n, x.inc, 1, accumulation::standard};
  run<op_id::fill>(x, x.type, p,
                   [&](auto kernel, const detail::exec_args& ex) { kernel(ex, x.n, value, writable(x), x.inc); });
}

void axpy(double alpha, const_view xv, view yv) {
  const vec x = as_vector("axpy", "x", xv), y = as_vector("axpy", "y", yv);
  check_pair("axpy", x, y, true);
  check_output("axpy", "y", y);
  const detail::blas1_problem p{x.n, x.inc, y.inc, accumulation::standard};
  run<op_id::axpy>(x, x.type, p, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, alpha, x.data, x.inc, writable(y), y.inc);
  });
}

void axpby(double alpha, const_view xv, double beta, view yv) {
  const vec x = as_vector("axpby", "x", xv), y = as_vector("axpby", "y", yv);
  check_pair("axpby", x, y, true);
  check_output("axpby", "y", y);
  const detail::blas1_problem p{x.n, x.inc, y.inc, accumulation::standard};
  run<op_id::axpby>(x, x.type, p, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, alpha, x.data, x.inc, beta, writable(y), y.inc);
  });
}

namespace detail {

double cg_update(double alpha, const_view pv, const_view qv, view xv, view rv) {
  constexpr const char* op = "cg_update";
  const vec p = as_vector(op, "p", pv), q = as_vector(op, "q", qv), x = as_vector(op, "x", xv),
            r = as_vector(op, "r", rv);
  check_pair(op, p, q, true);
  check_pair(op, p, x, true);
  check_pair(op, p, r, true);
  if (p.inc != 1 || q.inc != 1 || x.inc != 1 || r.inc != 1)
    MIXPREC_THROW(unsupported, op, "p, q, x and r must be dense");
  double rr = 0;
  const detail::blas1_problem prob{p.n, 1, 1, accumulation::f64};
  run<op_id::cg_update>(p, p.type, prob, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, p.n, alpha, p.data, q.data, writable(x), writable(r), &rr);
  });
  return rr;
}

void diag_scale(double alpha, const_view dv, const_view rv, double beta, view zv) {
  constexpr const char* op = "diag_scale";
  const vec d = as_vector(op, "d", dv), r = as_vector(op, "r", rv), z = as_vector(op, "z", zv);
  check_pair(op, d, r, true);
  check_pair(op, d, z, true);
  check_output(op, "z", z);
  if (d.inc != 1 || r.inc != 1 || z.inc != 1) MIXPREC_THROW(unsupported, op, "d, r and z must be dense");
  const detail::blas1_problem prob{d.n, 1, 1, accumulation::standard};
  run<op_id::diag_scale>(d, d.type, prob, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, d.n, alpha, d.data, r.data, beta, writable(z));
  });
}

/// Whether the backend has a kernel of a fused vector op (f64 or f32): the CPU always has; a
/// CUDA plugin (perhaps an older one) says through the kernels it registered when it loaded,
/// asked once per op and dtype rather than on every call of a solver's loop.
bool has_fused_kernel(const context_state& ctx, const char* op, dtype t) {
  if (ctx.kind == backend::cpu) return true;
  static constexpr const char* fused[] = {"mdot", "maxpy", "pcg_jacobi_update", "mdot2", "dcgs2_update"};
  static const auto served = [] {
    std::array<bool, 2 * std::size(fused)> s{};
    for (std::size_t i = 0; i < std::size(fused); ++i) {
      s[2 * i] = backend_serves(backend::cuda, fused[i], dtype::f64, dtype::f64);
      s[2 * i + 1] = backend_serves(backend::cuda, fused[i], dtype::f32, dtype::f32);
    }
    return s;
  }();
  for (std::size_t i = 0; i < std::size(fused); ++i)
    if (std::strcmp(op, fused[i]) == 0) return served[2 * i + (t == dtype::f32 ? 1 : 0)];
  return backend_serves(ctx.kind, op, t, t);
}

bool diag_scale_serves(const_view d, const_view r, const_view z) {
  const auto dense_here = [&](const const_view& v) {
    return v.rank() == 1 && (v.extent(0) < 2 || v.stride(0) == 1) && v.type() == d.type() &&
           v.ctx().same_memory(d.ctx());
  };
  return !d.ctx().empty() && (d.type() == dtype::f64 || d.type() == dtype::f32) && dense_here(d) && dense_here(r) &&
         dense_here(z) && has_fused_kernel(*detail::state_of(d.ctx()), "pcg_jacobi_update", d.type());
}

pcg_jacobi_sums pcg_jacobi_update(double alpha, const_view pv, const_view qv, const_view dv, view xv, view rv) {
  constexpr const char* op = "pcg_jacobi_update";
  const vec p = as_vector(op, "p", pv), q = as_vector(op, "q", qv), d = as_vector(op, "d", dv),
            x = as_vector(op, "x", xv), r = as_vector(op, "r", rv);
  check_pair(op, p, q, true);
  check_pair(op, p, d, true);
  check_pair(op, p, x, true);
  check_pair(op, p, r, true);
  if (p.inc != 1 || q.inc != 1 || d.inc != 1 || x.inc != 1 || r.inc != 1)
    MIXPREC_THROW(unsupported, op, "p, q, d, x and r must be dense");
  double sums[2] = {0, 0};
  const detail::blas1_problem prob{p.n, 1, 1, accumulation::f64};
  run<op_id::pcg_jacobi_update>(p, p.type, prob, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, p.n, alpha, p.data, q.data, d.data, writable(x), writable(r), sums);
  });
  return {sums[0], sums[1]};
}

namespace {

/// A checked block of k dense rows of n elements, `ld` elements apart.
struct rows {
  const char* data;
  std::int64_t k, n, ld;
};

/// Checks the rows of vs against w (same n, dtype and memory; f64 or f32; dense); for the
/// multi-vector ops (mdot, maxpy, mdot2, dcgs2_update).
rows check_rows(const char* op, const const_view& vs, const const_view& wv, const vec& w, const char* arg = "w") {
  if (vs.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "the vectors have no context");
  if (vs.rank() != 2 || (vs.extent(0) > 1 && vs.stride(0) < vs.extent(1)) || (vs.extent(1) > 1 && vs.stride(1) != 1))
    MIXPREC_THROW(invalid_argument, op, "the vectors must be the rows of a k x n view with unit stride along n");
  const rows r{static_cast<const char*>(vs.data()), vs.extent(0), vs.extent(1), vs.stride(0)};
  if (r.n != w.n) MIXPREC_THROW(shape_mismatch, op, "the vectors have ", r.n, " elements, ", arg, " has ", w.n);
  if (vs.type() != w.type)
    MIXPREC_THROW(invalid_argument, op, "the vectors are ", name_of(vs.type()), " but ", arg, " is ", name_of(w.type));
  if (w.type != dtype::f64 && w.type != dtype::f32)
    MIXPREC_THROW(unsupported, op, "vectors are ", name_of(w.type), "; ", op, " takes f64 or f32");
  if (w.inc != 1) MIXPREC_THROW(unsupported, op, arg, " must be dense");
  if (!vs.ctx().same_memory(wv.ctx()))
    MIXPREC_THROW(invalid_argument, op, "the vectors and ", arg, " live in different memory spaces");
  return r;
}

/// Whether the dense vector w shares memory with the rows' span.
bool overlaps(const rows& r, const vec& w) {
  const std::int64_t es = std::int64_t(size_of(w.type));
  const char* wb = static_cast<const char*>(w.data);
  return r.k > 0 && r.n > 0 && wb < r.data + ((r.k - 1) * r.ld + r.n) * es && r.data < wb + w.n * es;
}

/// Row j of the block as a vector view.
const_view row_of(const const_view& vs, const rows& r, std::int64_t j) {
  return const_view(r.data + j * r.ld * std::int64_t(size_of(vs.type())), vs.type(), {r.n}, {1}, vs.ctx());
}

}  // namespace

void row_dots(const_view a, const_view yv, double alpha, view outv) {
  constexpr const char* op = "row_dots";
  const vec y = as_vector(op, "y", yv), out = as_vector(op, "out", outv);
  if (a.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "a has no context (a default-constructed view)");
  if (a.rank() != 2 || (a.extent(1) > 1 && a.stride(1) != 1) || (a.extent(0) > 1 && a.stride(0) < a.extent(1)))
    MIXPREC_THROW(invalid_argument, op, "a must be a rows x len view with unit stride along a row");
  if (a.type() != dtype::f64 && a.type() != dtype::f32)
    MIXPREC_THROW(unsupported, op, "a is ", name_of(a.type()), "; row_dots takes f64 or f32 rows");
  if (y.type != dtype::f64 || out.type != dtype::f64) MIXPREC_THROW(unsupported, op, "y and out must be f64");
  if (y.inc != 1 || out.inc != 1) MIXPREC_THROW(unsupported, op, "y and out must be dense");
  if (y.n != a.extent(1) || out.n != a.extent(0))
    MIXPREC_THROW(shape_mismatch, op, "a is ", a.extent(0), " x ", a.extent(1), " but y has ", y.n, " and out ", out.n,
                  " elements");
  if (!a.ctx().same_memory(yv.ctx()) || !a.ctx().same_memory(outv.ctx()))
    MIXPREC_THROW(invalid_argument, op, "a, y and out live in different memory spaces");
  const rows r{static_cast<const char*>(a.data()), a.extent(0), a.extent(1), a.stride(0)};
  const detail::byte_span out_span = detail::span_of(outv);
  if (detail::overlap(detail::span_of(a), out_span) || detail::overlap(detail::span_of(yv), out_span))
    MIXPREC_THROW(invalid_argument, op, "out overlaps a or y");
  const detail::blas1_problem prob{r.n, 1, 1, accumulation::f64};
  detail::dispatch<op_id::row_dots>(
      *out.ctx, a.type(), dtype::f64, &prob, accumulation::f64,
      [&](auto kernel, const detail::exec_args& ex) {
        kernel(ex, r.k, r.n, r.data, r.ld, static_cast<const double*>(y.data), alpha,
               static_cast<double*>(writable(out)));
      },
      [&] { return std::make_pair(std::string(name_of(a.type())), detail::cat(r.k, "x", r.n)); });
}

void mdot(const_view vs, const_view wv, double* h) {
  constexpr const char* op = "mdot";
  const vec w = as_vector(op, "w", wv);
  const rows r = check_rows(op, vs, wv, w);
  if (!has_fused_kernel(*w.ctx, "mdot", w.type)) {  // one dot per row
    for (std::int64_t j = 0; j < r.k; ++j) h[j] = dot(row_of(vs, r, j), wv, accumulation::f64);
    return;
  }
  const std::size_t es = size_of(w.type);
  const detail::blas1_problem prob{w.n, 1, 1, accumulation::f64};
  for (std::int64_t g = 0; g < r.k; g += detail::multi_vector_max) {
    const int count = int(std::min<std::int64_t>(detail::multi_vector_max, r.k - g));
    run<op_id::mdot>(w, w.type, prob, [&](auto kernel, const detail::exec_args& ex) {
      kernel(ex, w.n, count, r.data + g * r.ld * std::int64_t(es), r.ld, w.data, h + g);
    });
  }
}

void maxpy(const double* a, const_view vs, view wv) {
  constexpr const char* op = "maxpy";
  const vec w = as_vector(op, "w", wv);
  const rows r = check_rows(op, vs, wv, w);
  const std::size_t es = size_of(w.type);
  if (overlaps(r, w)) MIXPREC_THROW(invalid_argument, op, "w overlaps the vectors it is updated from");
  if (!has_fused_kernel(*w.ctx, "maxpy", w.type)) {  // one axpy per row
    for (std::int64_t j = 0; j < r.k; ++j) axpy(a[j], row_of(vs, r, j), wv);
    return;
  }
  const detail::blas1_problem prob{w.n, 1, 1, accumulation::standard};
  for (std::int64_t g = 0; g < r.k; g += detail::multi_vector_max) {
    const int count = int(std::min<std::int64_t>(detail::multi_vector_max, r.k - g));
    run<op_id::maxpy>(w, w.type, prob, [&](auto kernel, const detail::exec_args& ex) {
      kernel(ex, w.n, count, a + g, r.data + g * r.ld * std::int64_t(es), r.ld, writable(w));
    });
  }
}

void mdot2(const_view vs, const_view xv, const_view yv, double* hx, double* hy) {
  constexpr const char* op = "mdot2";
  const vec x = as_vector(op, "x", xv), y = as_vector(op, "y", yv);
  const rows r = check_rows(op, vs, xv, x, "x");
  check_rows(op, vs, yv, y, "y");
  if (r.k == 0) return;                         // no vectors, no sums
  if (!has_fused_kernel(*x.ctx, op, x.type)) {  // two passes over the rows
    mdot(vs, xv, hx);
    mdot(vs, yv, hy);
    return;
  }
  const detail::blas1_problem prob{x.n, 1, 1, accumulation::f64};
  run<op_id::mdot2>(x, x.type, prob, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, int(r.k), r.data, r.ld, x.data, y.data, hx, hy);
  });
}

double dcgs2_update(const_view vs, const double* s, const double* t, double inv_rho, double gamma, double scale,
                    view xv, view yv) {
  constexpr const char* op = "dcgs2_update";
  const vec x = as_vector(op, "x", xv), y = as_vector(op, "y", yv);
  const rows r = check_rows(op, vs, xv, x, "x");
  check_rows(op, vs, yv, y, "y");
  const std::int64_t bytes = x.n * std::int64_t(size_of(x.type));
  const char *xb = static_cast<const char*>(x.data), *yb = static_cast<const char*>(y.data);
  if (overlaps(r, x) || overlaps(r, y) || (x.n > 0 && xb < yb + bytes && yb < xb + bytes))
    MIXPREC_THROW(invalid_argument, op, "x and y must not overlap each other or the vectors they are updated from");
  if (!has_fused_kernel(*x.ctx, op, x.type)) {  // the same steps as separate ops
    std::vector<double> minus(std::size_t(r.k));
    for (std::int64_t j = 0; j < r.k; ++j) minus[std::size_t(j)] = -s[j];
    maxpy(minus.data(), vs, xv);
    scal(inv_rho, xv);
    for (std::int64_t j = 0; j < r.k; ++j) minus[std::size_t(j)] = -t[j];
    maxpy(minus.data(), vs, yv);
    axpy(-gamma, xv, yv);
    scal(scale, yv);
    return dot(yv, yv, accumulation::f64);
  }
  double yy = 0;
  const detail::blas1_problem prob{x.n, 1, 1, accumulation::f64};
  run<op_id::dcgs2_update>(x, x.type, prob, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, int(r.k), r.data, r.ld, s, t, inv_rho, gamma, scale, writable(x), writable(y), &yy);
  });
  return yy;
}

}  // namespace detail

void scal(double alpha, view xv) {
  const vec x = as_vector("scal", "x", xv);
  check_output("scal", "x", x);
  const detail::blas1_problem p{x.n, x.inc, 1, accumulation::standard};
  run<op_id::scal>(x, x.type, p,
                   [&](auto kernel, const detail::exec_args& ex) { kernel(ex, x.n, alpha, writable(x), x.inc); });
}

double dot(const_view xv, const_view yv, accumulation acc) {
  const vec x = as_vector("dot", "x", xv), y = as_vector("dot", "y", yv);
  check_pair("dot", x, y, true);
  const detail::blas1_problem p{x.n, x.inc, y.inc, acc};
  double r = 0;
  run<op_id::dot>(x, x.type, p, [&](auto kernel, const detail::exec_args& ex) {
    kernel(ex, x.n, x.data, x.inc, y.data, y.inc, acc, &r);
  });
  return r;
}

double nrm2(const_view xv, accumulation acc) {
  const vec x = as_vector("nrm2", "x", xv);
  if (x.n == 0) return 0.0;
  // One pass in the common case. Only when the sum of squares left the accumulator's range
  // (overflow, or so small that squares lost precision to underflow) is the vector
  // rescaled by a power of two near 1/max|x| (exact) and summed again.
  const double s = sumsq(x, 1.0, acc);
  double tiny, huge;
  accumulator_range(x.type, acc, &tiny, &huge);
  if (s >= tiny && s <= huge) return std::sqrt(s);
  // A NaN sum is not always a NaN element: a compensated sum that overflows subtracts
  // inf - inf in its correction term. amax finds a NaN element first if there is one.
  const double m = magnitude_at(x, amax_of(x));
  if (m == 0.0 || !std::isfinite(m)) return m;  // all zero, or an inf/NaN element
  // A subnormal maximum (ilogb below -1023) would need a scale past the largest double;
  // 2^1023 still lifts it to at least 2^-51, whose square is a normal f64.
  const double scale = std::ldexp(1.0, std::min(-std::ilogb(m), std::numeric_limits<double>::max_exponent - 1));
  return std::sqrt(sumsq(x, scale, acc)) / scale;
}

double asum(const_view xv, accumulation acc) {
  const vec x = as_vector("asum", "x", xv);
  const detail::blas1_problem p{x.n, x.inc, 1, acc};
  double r = 0;
  run<op_id::asum>(x, x.type, p,
                   [&](auto kernel, const detail::exec_args& ex) { kernel(ex, x.n, x.data, x.inc, acc, &r); });
  return r;
}

std::int64_t amax(const_view xv) {
  const vec x = as_vector("amax", "x", xv);
  if (x.n == 0) return -1;
  return amax_of(x);
}

}  // namespace mixprec
