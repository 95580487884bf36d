// CSR matrices: construction from triplets, conversions, and structural validation.
#include <algorithm>
#include <limits>
#include <new>
#include <numeric>

#include "internal/context_state.hpp"
#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {

const char* name_of(index_type t) { return t == index_type::i32 ? "i32" : "i64"; }

namespace {

/// Index arrays live in byte buffers: i64 is not an element dtype of the ops.
buffer index_buffer(index_type t, std::int64_t n, const context& ctx) {
  return buffer(dtype::u8, n * std::int64_t(size_of(t)), ctx);
}

std::int64_t read_index(const void* p, index_type t, std::int64_t i) {
  return t == index_type::i32 ? std::int64_t(static_cast<const std::int32_t*>(p)[i])
                              : static_cast<const std::int64_t*>(p)[i];
}

void write_index(void* p, index_type t, std::int64_t i, std::int64_t v) {
  if (t == index_type::i32)
    static_cast<std::int32_t*>(p)[i] = std::int32_t(v);
  else
    static_cast<std::int64_t*>(p)[i] = v;
}

void check_fits(const char* op, index_type t, std::int64_t rows, std::int64_t cols, std::int64_t nnz) {
  const std::int64_t limit = std::numeric_limits<std::int32_t>::max();
  if (t == index_type::i32 && (rows > limit || cols > limit || nnz > limit))
    MIXPREC_THROW(invalid_argument, op, "a ", rows, " x ", cols, " matrix with ", nnz,
                  " nonzeros does not fit i32 indices; use index_type::i64");
}

}  // namespace

csr_ref csr_ref::make(std::int64_t rows, std::int64_t cols, const void* row_ptr, const void* col_idx,
                      const void* values, dtype vt, index_type it, context ctx, structure s) {
  constexpr const char* op = "csr_ref::wrap";
  if (rows < 0 || cols < 0) MIXPREC_THROW(invalid_argument, op, "shape ", rows, " x ", cols, " is negative");
  if (!row_ptr) MIXPREC_THROW(invalid_argument, op, "row_ptr is null");
  if (ctx.empty()) MIXPREC_THROW(invalid_argument, op, "the context is empty");
  if (!is_floating(vt))
    MIXPREC_THROW(invalid_argument, op, "values are ", name_of(vt), "; CSR values must be a float dtype");
  const detail::context_state& host = *detail::state_of(context::cpu());
  unsigned char last[8] = {};
  detail::copy_bytes(*detail::state_of(ctx), static_cast<const char*>(row_ptr) + rows * std::int64_t(size_of(it)), host,
                     last, size_of(it));
  const std::int64_t nnz = read_index(last, it, 0);
  if (nnz < 0) MIXPREC_THROW(invalid_argument, op, "row_ptr[rows] = ", nnz, " is negative");
  if (nnz > 0 && (!col_idx || !values))
    MIXPREC_THROW(invalid_argument, op, "col_idx or values is null for ", nnz, " nonzeros");
  csr_ref r(rows, cols, nnz, row_ptr, col_idx, values, vt, it, std::move(ctx));
  if (s == structure::check) {
    const csr_check c = r.validate();
    if (!c.ok) MIXPREC_THROW(invalid_argument, op, c.problem, " (wrap_unchecked skips this check)");
  }
  return r;
}

namespace {

/// The structural checks of validate() over host-readable index arrays of one type.
template <class I>
csr_check check_structure(std::int64_t rows, std::int64_t cols, std::int64_t nnz, const I* rp, const I* ci) {
  csr_check r;
  auto fail = [&](std::int64_t row, std::int64_t pos, std::string what) {
    r.ok = false;
    r.row = row;
    r.position = pos;
    r.problem = std::move(what);
    return r;
  };
  if (rp[0] != 0) return fail(0, 0, detail::cat("row_ptr[0] is ", std::int64_t(rp[0]), ", must be 0"));
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t b = rp[i], e = rp[i + 1];
    if (e < b) return fail(i, b, detail::cat("row_ptr decreases at row ", i, ": ", b, " then ", e));
    if (e > nnz) return fail(i, e, detail::cat("row_ptr[", i + 1, "] = ", e, " exceeds nnz = ", nnz));
    for (std::int64_t k = b; k < e; ++k) {
      const std::int64_t c = ci[k];
      if (c < 0 || c >= cols)
        return fail(i, k, detail::cat("row ", i, ", entry ", k, ": column ", c, " is outside [0, ", cols, ")"));
      if (k > b && c <= std::int64_t(ci[k - 1])) {
        const std::int64_t prev = ci[k - 1];
        if (c == prev) return fail(i, k, detail::cat("row ", i, ", entry ", k, ": column ", c, " appears twice"));
        return fail(i, k, detail::cat("row ", i, ", entry ", k, ": columns unsorted (", prev, " before ", c, ")"));
      }
    }
  }
  if (rp[rows] != nnz)
    return fail(rows, nnz, detail::cat("row_ptr[rows] = ", std::int64_t(rp[rows]), " but nnz = ", nnz));
  return r;
}

}  // namespace

csr_check csr_ref::validate() const {
  if (ctx_.empty()) return {};  // a default-constructed, empty matrix
  // Host memory is read in place; device arrays are copied to the host first.
  std::vector<unsigned char> rp_copy, ci_copy;
  const void* rp = row_ptr_;
  const void* ci = col_idx_;
  if (ctx_.kind() != backend::cpu) {
    const detail::context_state& host = *detail::state_of(context::cpu());
    rp_copy.resize(std::size_t(rows_ + 1) * size_of(index_kind_));
    ci_copy.resize(std::size_t(nnz_) * size_of(index_kind_));
    detail::copy_bytes(*detail::state_of(ctx_), row_ptr_, host, rp_copy.data(), rp_copy.size());
    if (nnz_) detail::copy_bytes(*detail::state_of(ctx_), col_idx_, host, ci_copy.data(), ci_copy.size());
    rp = rp_copy.data();
    ci = ci_copy.data();
  }
  if (index_kind_ == index_type::i32)
    return check_structure(rows_, cols_, nnz_, static_cast<const std::int32_t*>(rp),
                           static_cast<const std::int32_t*>(ci));
  return check_structure(rows_, cols_, nnz_, static_cast<const std::int64_t*>(rp),
                         static_cast<const std::int64_t*>(ci));
}

csr_matrix::csr_matrix(std::int64_t rows, std::int64_t cols, std::int64_t nnz, dtype values, index_type indices,
                       const context& ctx)
    : rows_(rows), cols_(cols), index_(indices) {
  if (rows < 0 || cols < 0 || nnz < 0)
    MIXPREC_THROW(invalid_argument, "csr_matrix", "shape ", rows, " x ", cols, " with ", nnz,
                  " nonzeros has a negative size");
  if (!is_floating(values))
    MIXPREC_THROW(invalid_argument, "csr_matrix", "values are ", name_of(values), "; CSR values must be a float dtype");
  check_fits("csr_matrix", indices, rows, cols, nnz);
  row_ptr_ = index_buffer(indices, rows + 1, ctx);
  col_idx_ = index_buffer(indices, nnz, ctx);
  values_ = buffer(values, nnz, ctx);
}

csr_matrix csr_matrix::from_coo(const coo_matrix& coo, dtype values, index_type indices, const context& ctx) {
  try {
    return build_from_coo(coo, values, indices, ctx);
  } catch (const std::bad_alloc&) {
    MIXPREC_THROW(out_of_memory, "csr_matrix::from_coo", "the sorting arrays for ", coo.nnz(),
                  " entries do not fit in host memory");
  }
}

csr_matrix csr_matrix::build_from_coo(const coo_matrix& coo, dtype values, index_type indices, const context& ctx) {
  const std::int64_t n = coo.nnz();
  if (std::int64_t(coo.row.size()) != n || std::int64_t(coo.col.size()) != n)
    MIXPREC_THROW(shape_mismatch, "csr_matrix::from_coo", "row, col and value hold ", coo.row.size(), ", ",
                  coo.col.size(), " and ", n, " entries");
  for (std::int64_t k = 0; k < n; ++k)
    if (coo.row[k] < 0 || coo.row[k] >= coo.rows || coo.col[k] < 0 || coo.col[k] >= coo.cols)
      MIXPREC_THROW(invalid_argument, "csr_matrix::from_coo", "entry ", k, " at (", coo.row[k], ", ", coo.col[k],
                    ") is outside the ", coo.rows, " x ", coo.cols, " matrix");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return coo.row[a] != coo.row[b] ? coo.row[a] < coo.row[b] : coo.col[a] < coo.col[b];
  });
  // Merge duplicates (summed in f64, in input order).
  std::vector<std::int64_t> rows_of, cols_of;
  std::vector<double> vals;
  for (std::int64_t k : order) {
    if (!rows_of.empty() && rows_of.back() == coo.row[k] && cols_of.back() == coo.col[k]) {
      vals.back() += coo.value[k];
    } else {
      rows_of.push_back(coo.row[k]);
      cols_of.push_back(coo.col[k]);
      vals.push_back(coo.value[k]);
    }
  }
  const std::int64_t nnz = std::int64_t(vals.size());
  csr_matrix host(coo.rows, coo.cols, nnz, values, indices, context::cpu());
  // Row pointers by one walk over the sorted rows: no second array of rows + 1 counts
  // (a hypersparse matrix of 10^9 rows would need 8 GB more for it).
  std::int64_t k = 0;
  for (std::int64_t i = 0; i <= coo.rows; ++i) {
    write_index(host.row_ptr_.data(), indices, i, k);
    while (k < nnz && rows_of[std::size_t(k)] == i) ++k;
  }
  for (std::int64_t k = 0; k < nnz; ++k) write_index(host.col_idx_.data(), indices, k, cols_of[k]);
  convert(make_view(vals.data(), nnz), host.values_.as_view());
  return ctx.kind() == backend::cpu ? std::move(host) : host.to(ctx);
}

csr_ref csr_matrix::ref() const {
  return csr_ref(rows_, cols_, nnz(), row_ptr_.data(), col_idx_.data(), values_.data(), value_type(), index_,
                 values_.ctx());
}

csr_matrix csr_matrix::copy_of(const csr_ref& a) {
  csr_matrix out(a.rows(), a.cols(), a.nnz(), a.value_type(), a.index_kind(), a.ctx());
  const std::int64_t index_bytes = std::int64_t(size_of(a.index_kind()));
  const auto from = [&](const void* p, std::int64_t n) { return const_view(p, dtype::u8, {n}, {1}, a.ctx()); };
  const auto into = [&](void* p, std::int64_t n) { return view(p, dtype::u8, {n}, {1}, a.ctx()); };
  copy(from(a.row_ptr(), (a.rows() + 1) * index_bytes), into(out.row_ptr_data(), (a.rows() + 1) * index_bytes));
  if (a.nnz() == 0) return out;  // the caller's col_idx and values may be null
  copy(from(a.col_idx(), a.nnz() * index_bytes), into(out.col_idx_data(), a.nnz() * index_bytes));
  copy(const_view(a.values(), a.value_type(), {a.nnz()}, {1}, a.ctx()), out.values());
  return out;
}

csr_matrix csr_matrix::to(const context& target) const {
  csr_matrix out;
  out.rows_ = rows_;
  out.cols_ = cols_;
  out.index_ = index_;
  out.row_ptr_ = row_ptr_.to(target);
  out.col_idx_ = col_idx_.to(target);
  out.values_ = values_.to(target);
  return out;
}

csr_matrix csr_matrix::with_values(dtype values) const {
  csr_matrix out;
  out.rows_ = rows_;
  out.cols_ = cols_;
  out.index_ = index_;
  out.row_ptr_ = row_ptr_.to(ctx());
  out.col_idx_ = col_idx_.to(ctx());
  out.values_ = buffer(values, nnz(), ctx());
  convert(values_.as_view(), out.values_.as_view());
  return out;
}

csr_matrix csr_matrix::with_indices(index_type indices) const {
  check_fits("csr_matrix::with_indices", indices, rows_, cols_, nnz());
  const csr_matrix host = ctx().kind() == backend::cpu ? to(ctx()) : to(context::cpu());
  csr_matrix out(rows_, cols_, nnz(), value_type(), indices, context::cpu());
  for (std::int64_t i = 0; i <= rows_; ++i)
    write_index(out.row_ptr_.data(), indices, i, read_index(host.row_ptr_.data(), index_, i));
  for (std::int64_t k = 0; k < nnz(); ++k)
    write_index(out.col_idx_.data(), indices, k, read_index(host.col_idx_.data(), index_, k));
  copy(host.values_.as_view(), out.values_.as_view());
  return ctx().kind() == backend::cpu ? std::move(out) : out.to(ctx());
}

coo_matrix csr_matrix::to_coo() const {
  const csr_matrix host = to(context::cpu());
  coo_matrix c(rows_, cols_);
  std::vector<double> v(static_cast<std::size_t>(nnz()));
  convert(host.values_.as_view(), make_view(v.data(), nnz()));
  for (std::int64_t i = 0; i < rows_; ++i)
    for (std::int64_t k = read_index(host.row_ptr_.data(), index_, i);
         k < read_index(host.row_ptr_.data(), index_, i + 1); ++k)
      c.add(i, read_index(host.col_idx_.data(), index_, k), v[static_cast<std::size_t>(k)]);
  return c;
}

std::vector<double> csr_matrix::diagonal() const {
  const csr_matrix host = to(context::cpu());
  std::vector<double> v(static_cast<std::size_t>(nnz())), d(static_cast<std::size_t>(std::min(rows_, cols_)), 0.0);
  convert(host.values_.as_view(), make_view(v.data(), nnz()));
  for (std::int64_t i = 0; i < std::int64_t(d.size()); ++i)
    for (std::int64_t k = read_index(host.row_ptr_.data(), index_, i);
         k < read_index(host.row_ptr_.data(), index_, i + 1); ++k)
      if (read_index(host.col_idx_.data(), index_, k) == i) d[std::size_t(i)] += v[std::size_t(k)];
  return d;
}

}  // namespace mixprec
