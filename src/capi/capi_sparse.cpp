// The C API's sparse matrices (CSR wrapped or owned, DIA, Matrix Market I/O, SpMV) and
// structured grids with their stencil sweeps (include/mixprec/mixprec.h).
#include <limits>

#include "capi/capi_support.hpp"
#include "mixprec/stencil.hpp"

using namespace mixprec;
using namespace mixprec::capi;

namespace mixprec::capi {

std::shared_ptr<const csr_matrix> owned_csr(const mixprec_csr_s& h) {
  if (h.owned) return h.owned;
  return std::make_shared<csr_matrix>(csr_matrix::copy_of(h.ref));
}

}  // namespace mixprec::capi

namespace {

index_type to_index_type(mixprec_index_type t, const char* fn) {
  if (t == MIXPREC_INDEX_I32) return index_type::i32;
  if (t == MIXPREC_INDEX_I64) return index_type::i64;
  MIXPREC_THROW(invalid_argument, fn, "index = ", int(t), " is not a mixprec_index_type");
}

template <class V>
csr_ref wrap_values(std::int64_t rows, std::int64_t cols, index_type it, const void* row_ptr, const void* col_idx,
                    const void* values, bool trust, const context& ctx) {
  const V* v = static_cast<const V*>(values);
  if (it == index_type::i32) {
    const auto* rp = static_cast<const std::int32_t*>(row_ptr);
    const auto* ci = static_cast<const std::int32_t*>(col_idx);
    return trust ? csr_ref::wrap_unchecked(rows, cols, rp, ci, v, ctx) : csr_ref::wrap(rows, cols, rp, ci, v, ctx);
  }
  const auto* rp = static_cast<const std::int64_t*>(row_ptr);
  const auto* ci = static_cast<const std::int64_t*>(col_idx);
  return trust ? csr_ref::wrap_unchecked(rows, cols, rp, ci, v, ctx) : csr_ref::wrap(rows, cols, rp, ci, v, ctx);
}

std::unique_ptr<mixprec_csr_s> own(csr_matrix&& m) {
  auto h = std::make_unique<mixprec_csr_s>();
  h->owned = std::make_shared<const csr_matrix>(std::move(m));
  h->ref = h->owned->ref();
  return h;
}

/// i32 indices where every index fits, else i64.
index_type indices_for(const coo_matrix& coo) {
  constexpr std::int64_t limit = std::numeric_limits<std::int32_t>::max();
  return coo.rows > limit || coo.cols > limit || coo.nnz() > limit ? index_type::i64 : index_type::i32;
}

boundary_conditions to_boundary(mixprec_boundary kind, double value, const char* fn) {
  switch (kind) {
    case MIXPREC_DIRICHLET:
      return boundary_conditions::all(boundary::dirichlet, value);
    case MIXPREC_PERIODIC:
      return boundary_conditions::all(boundary::periodic);
    case MIXPREC_NEUMANN:
      return boundary_conditions::all(boundary::neumann);
    default:
      break;
  }
  MIXPREC_THROW(invalid_argument, fn, "kind = ", int(kind), " is not a mixprec_boundary");
}

/// The caller's dense array as a grid without halo, of g's extent (checked).
grid dense_grid_over(void* data, const const_view& v, const grid& g, const char* fn) {
  const grid_extent& e = g.extent();
  const bool dense = v.is_contiguous() &&
                     (e.dims == 2 ? v.rank() == 2 && v.extent(0) == e.ny && v.extent(1) == e.nx
                                  : v.rank() == 3 && v.extent(0) == e.nz && v.extent(1) == e.ny && v.extent(2) == e.nx);
  if (!dense)
    MIXPREC_THROW(shape_mismatch, fn, "values must be a dense ",
                  e.dims == 2 ? detail::cat(e.ny, " x ", e.nx) : detail::cat(e.nz, " x ", e.ny, " x ", e.nx),
                  " array (the grid's interior, x fastest)");
  return grid::wrap(data, v.type(), e, 0, e.nx, e.nx * e.ny, v.ctx());
}

}  // namespace

extern "C" {

// ---- CSR --------------------------------------------------------------------------------------

mixprec_status mixprec_csr_wrap(mixprec_context ctx, int64_t rows, int64_t cols, mixprec_index_type index,
                                const void* row_ptr, const void* col_idx, mixprec_dtype value_type, const void* values,
                                unsigned flags, mixprec_csr* out) {
  constexpr const char* fn = "mixprec_csr_wrap";
  return guarded([&] {
    check_out(out, fn);
    const context& c = context_of(ctx, fn);
    const index_type it = to_index_type(index, fn);
    if (flags & ~MIXPREC_CSR_TRUST_STRUCTURE) MIXPREC_THROW(invalid_argument, fn, "unknown flags ", flags);
    const bool trust = (flags & MIXPREC_CSR_TRUST_STRUCTURE) != 0;
    auto h = std::make_unique<mixprec_csr_s>();
    switch (to_dtype(value_type, fn, "value_type")) {
      case dtype::f64:
        h->ref = wrap_values<double>(rows, cols, it, row_ptr, col_idx, values, trust, c);
        break;
      case dtype::f32:
        h->ref = wrap_values<float>(rows, cols, it, row_ptr, col_idx, values, trust, c);
        break;
      case dtype::f16:
        h->ref = wrap_values<half>(rows, cols, it, row_ptr, col_idx, values, trust, c);
        break;
      case dtype::bf16:
        h->ref = wrap_values<bfloat16>(rows, cols, it, row_ptr, col_idx, values, trust, c);
        break;
      default:
        MIXPREC_THROW(unsupported, fn, "value_type ", mixprec_dtype_name(value_type), " (f64, f32, f16 or bf16)");
    }
    publish(std::move(h), out);
  });
}

mixprec_status mixprec_csr_from_coo(mixprec_context ctx, int64_t rows, int64_t cols, int64_t nnz, const int64_t* row,
                                    const int64_t* col, const double* value, mixprec_dtype value_type,
                                    mixprec_index_type index, mixprec_csr* out) {
  constexpr const char* fn = "mixprec_csr_from_coo";
  return guarded([&] {
    check_out(out, fn);
    const context& c = context_of(ctx, fn);
    if (rows < 0 || cols < 0 || nnz < 0)
      MIXPREC_THROW(invalid_argument, fn, "rows ", rows, ", cols ", cols, ", nnz ", nnz, ": none may be negative");
    if (nnz > 0 && (!row || !col || !value)) MIXPREC_THROW(invalid_argument, fn, "row, col or value is NULL");
    coo_matrix coo(rows, cols);
    coo.row.assign(row, row + nnz);
    coo.col.assign(col, col + nnz);
    coo.value.assign(value, value + nnz);
    publish(own(csr_matrix::from_coo(coo, to_dtype(value_type, fn, "value_type"), to_index_type(index, fn), c)), out);
  });
}

mixprec_status mixprec_csr_read_matrix_market(mixprec_context ctx, const char* path, mixprec_dtype value_type,
                                              mixprec_csr* out) {
  constexpr const char* fn = "mixprec_csr_read_matrix_market";
  return guarded([&] {
    check_out(out, fn);
    const context& c = context_of(ctx, fn);
    check_result(path, fn, "path");
    const dtype vt = to_dtype(value_type, fn, "value_type");
    const coo_matrix coo = read_matrix_market(std::string(path));
    publish(own(csr_matrix::from_coo(coo, vt, indices_for(coo), c)), out);
  });
}

mixprec_status mixprec_csr_write_matrix_market(mixprec_csr a, const char* path) {
  constexpr const char* fn = "mixprec_csr_write_matrix_market";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_result(path, fn, "path");
    write_matrix_market(std::string(path), owned_csr(h)->to_coo());
  });
}

mixprec_status mixprec_csr_poisson_2d(int64_t n, mixprec_csr* out) {
  return guarded([&] {
    check_out(out, "mixprec_csr_poisson_2d");
    publish(own(poisson_2d(n)), out);
  });
}

mixprec_status mixprec_csr_poisson_3d(int64_t n, mixprec_csr* out) {
  return guarded([&] {
    check_out(out, "mixprec_csr_poisson_3d");
    publish(own(poisson_3d(n)), out);
  });
}

mixprec_status mixprec_csr_convection_diffusion_3d(int64_t n, double peclet, mixprec_csr* out) {
  return guarded([&] {
    check_out(out, "mixprec_csr_convection_diffusion_3d");
    publish(own(convection_diffusion_3d(n, peclet)), out);
  });
}

mixprec_status mixprec_csr_with_values(mixprec_csr a, mixprec_dtype value_type, mixprec_csr* out) {
  constexpr const char* fn = "mixprec_csr_with_values";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_out(out, fn);
    publish(own(owned_csr(h)->with_values(to_dtype(value_type, fn, "value_type"))), out);
  });
}

void mixprec_csr_destroy(mixprec_csr a) { destroy(a, "mixprec_csr_destroy"); }

mixprec_status mixprec_csr_info(mixprec_csr a, int64_t* rows, int64_t* cols, int64_t* nnz, mixprec_dtype* value_type) {
  return guarded([&] {
    const csr_ref& r = deref(a, "mixprec_csr_info", "a").ref;
    if (rows) *rows = r.rows();
    if (cols) *cols = r.cols();
    if (nnz) *nnz = r.nnz();
    if (value_type) *value_type = static_cast<mixprec_dtype>(r.value_type());
  });
}

mixprec_status mixprec_csr_spmv(double alpha, mixprec_csr a, mixprec_array x, double beta, mixprec_array y,
                                mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_csr_spmv";
  return guarded([&] {
    spmv(alpha, deref(a, fn, "a").ref, input(x, fn, "x"), beta, output(y, fn, "y"), to_accumulation(acc, fn));
  });
}

mixprec_status mixprec_csr_spmm(double alpha, mixprec_csr a, mixprec_array x, double beta, mixprec_array y,
                                mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_csr_spmm";
  return guarded([&] {
    spmm(alpha, deref(a, fn, "a").ref, input(x, fn, "x"), beta, output(y, fn, "y"), to_accumulation(acc, fn));
  });
}

// ---- DIA --------------------------------------------------------------------------------------

mixprec_status mixprec_dia_from_csr(mixprec_csr a, double max_fill, mixprec_dia* out) {
  constexpr const char* fn = "mixprec_dia_from_csr";
  return guarded([&] {
    const auto& h = deref(a, fn, "a");
    check_out(out, fn);
    auto d = std::make_unique<mixprec_dia_s>();
    d->matrix = std::make_shared<const dia_matrix>(*owned_csr(h), max_fill == 0 ? 3.0 : max_fill);
    publish(std::move(d), out);
  });
}

void mixprec_dia_destroy(mixprec_dia a) { destroy(a, "mixprec_dia_destroy"); }

mixprec_status mixprec_dia_info(mixprec_dia a, int64_t* rows, int64_t* cols, int64_t* diagonals) {
  return guarded([&] {
    const dia_matrix& m = *deref(a, "mixprec_dia_info", "a").matrix;
    if (rows) *rows = m.rows();
    if (cols) *cols = m.cols();
    if (diagonals) *diagonals = m.diagonals();
  });
}

mixprec_status mixprec_dia_spmv(double alpha, mixprec_dia a, mixprec_array x, double beta, mixprec_array y,
                                mixprec_accumulation acc) {
  constexpr const char* fn = "mixprec_dia_spmv";
  return guarded([&] {
    spmv(alpha, *deref(a, fn, "a").matrix, input(x, fn, "x"), beta, output(y, fn, "y"), to_accumulation(acc, fn));
  });
}

// ---- grids and stencils ---------------------------------------------------------------------

mixprec_status mixprec_grid_create(mixprec_context ctx, mixprec_dtype type, int dims, int64_t nx, int64_t ny,
                                   int64_t nz, int halo, mixprec_grid* out) {
  constexpr const char* fn = "mixprec_grid_create";
  return guarded([&] {
    check_out(out, fn);
    const context& c = context_of(ctx, fn);
    if (dims != 2 && dims != 3) MIXPREC_THROW(invalid_argument, fn, "dims = ", dims, " (2 or 3)");
    auto h = std::make_unique<mixprec_grid_s>();
    h->g = grid(to_dtype(type, fn, "type"), dims == 2 ? grid_extent(nx, ny) : grid_extent(nx, ny, nz), halo, c);
    publish(std::move(h), out);
  });
}

void mixprec_grid_destroy(mixprec_grid g) { destroy(g, "mixprec_grid_destroy"); }

mixprec_status mixprec_grid_write(mixprec_grid g, mixprec_array values) {
  constexpr const char* fn = "mixprec_grid_write";
  return guarded([&] {
    grid& target = deref(g, fn, "g").g;
    const const_view v = input(values, fn, "values");
    // copy_interior reads it only; the wrap wants a mutable pointer.
    const grid src = dense_grid_over(const_cast<void*>(v.data()), v, target, fn);
    copy_interior(src, target);
  });
}

mixprec_status mixprec_grid_read(mixprec_grid g, mixprec_array values) {
  constexpr const char* fn = "mixprec_grid_read";
  return guarded([&] {
    const grid& source = deref(g, fn, "g").g;
    const view v = output(values, fn, "values");
    grid dst = dense_grid_over(v.data(), v, source, fn);
    copy_interior(source, dst);
  });
}

mixprec_status mixprec_heat_steps(mixprec_grid u, mixprec_grid scratch, double r, mixprec_boundary kind, double value,
                                  int steps, int* result_in_scratch) {
  constexpr const char* fn = "mixprec_heat_steps";
  return guarded([&] {
    auto& gu = deref(u, fn, "u").g;
    auto& gs = deref(scratch, fn, "scratch").g;
    if (u == scratch) MIXPREC_THROW(invalid_argument, fn, "u and scratch are the same grid");
    const boundary_conditions bc = to_boundary(kind, value, fn);
    check_result(result_in_scratch, fn, "result_in_scratch");
    *result_in_scratch = &heat_steps(gu, gs, r, bc, steps) == &gs ? 1 : 0;
  });
}

mixprec_status mixprec_laplace_jacobi_sweeps(mixprec_grid u, mixprec_grid f, mixprec_grid scratch,
                                             mixprec_boundary kind, double value, int sweeps, double omega,
                                             int* result_in_scratch) {
  constexpr const char* fn = "mixprec_laplace_jacobi_sweeps";
  return guarded([&] {
    auto& gu = deref(u, fn, "u").g;
    auto& gs = deref(scratch, fn, "scratch").g;
    const grid* gf = f ? &deref(f, fn, "f").g : nullptr;
    if (u == scratch) MIXPREC_THROW(invalid_argument, fn, "u and scratch are the same grid");
    const boundary_conditions bc = to_boundary(kind, value, fn);
    check_result(result_in_scratch, fn, "result_in_scratch");
    const stencil s = gu.dims() == 2 ? stencil::laplace_2d5() : stencil::laplace_3d7();
    *result_in_scratch = &jacobi_sweeps(s, gu, gf, gs, bc, sweeps, omega) == &gs ? 1 : 0;
  });
}

}  // extern "C"
