// DIA (diagonal storage) built from CSR on the host.
#include <algorithm>
#include <cmath>

#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace {

/// a on the host with i64 indices: a itself where it already is that, else a copy in `keep`.
const csr_matrix& host_i64(const csr_matrix& a, csr_matrix& keep) {
  if (a.ctx().kind() == backend::cpu && a.index_kind() == index_type::i64) return a;
  keep = a.ctx().kind() == backend::cpu ? a.with_indices(index_type::i64)
                                        : a.to(context::cpu()).with_indices(index_type::i64);
  return keep;
}

/// Marks the offsets j - i of a's stored entries; returns them ascending. O(nnz + rows + cols).
std::vector<std::int64_t> offsets_of(const csr_matrix& h) {
  const auto* rp = static_cast<const std::int64_t*>(h.row_ptr_data());
  const auto* ci = static_cast<const std::int64_t*>(h.col_idx_data());
  std::vector<char> seen(static_cast<std::size_t>(h.rows() + h.cols()), 0);  // offset + rows
  for (std::int64_t i = 0; i < h.rows(); ++i)
    for (std::int64_t k = rp[i]; k < rp[i + 1]; ++k) seen[static_cast<std::size_t>(ci[k] - i + h.rows())] = 1;
  std::vector<std::int64_t> off;
  for (std::size_t o = 0; o < seen.size(); ++o)
    if (seen[o]) off.push_back(std::int64_t(o) - h.rows());
  return off;
}

/// See dia_matrix::stride(): past 4096 rows, a multiple of 2048 elements plus 24, so that
/// consecutive diagonals start 24 elements (48-192 bytes) apart in a page's cache sets.
std::int64_t padded_stride(std::int64_t rows) { return rows < 4096 ? rows : (rows + 2047) / 2048 * 2048 + 24; }

double fill_ratio(std::int64_t diagonals, std::int64_t rows, std::int64_t nnz) {
  return nnz == 0 ? 0.0 : double(diagonals) * double(rows) / double(nnz);
}

}  // namespace

double dia_matrix::fill_of(const csr_matrix& a) {
  csr_matrix keep;
  return fill_ratio(std::int64_t(offsets_of(host_i64(a, keep)).size()), a.rows(), a.nnz());
}

dia_matrix::dia_matrix(const csr_matrix& a, double max_fill) : rows_(a.rows()), cols_(a.cols()), nnz_(a.nnz()) {
  constexpr const char* op = "dia_matrix";
  if (!(max_fill >= 1.0)) MIXPREC_THROW(invalid_argument, op, "max_fill = ", max_fill, " must be at least 1");
  csr_matrix keep;
  const csr_matrix& h = host_i64(a, keep);
  offsets_ = offsets_of(h);
  const std::int64_t nd = diagonals();
  const double fill = fill_ratio(nd, rows_, nnz_);
  if (fill > max_fill)
    MIXPREC_THROW(invalid_argument, op, "the ", rows_, " x ", cols_, " matrix with ", nnz_, " nonzeros spans ", nd,
                  " diagonals: DIA would store ", fill, " x its nonzeros, above max_fill = ", max_fill,
                  "; keep it in CSR or SELL");
  stride_ = padded_stride(rows_);
  std::vector<std::int64_t> diagonal_of(static_cast<std::size_t>(rows_ + cols_), -1);  // by offset + rows
  for (std::int64_t d = 0; d < nd; ++d) diagonal_of[static_cast<std::size_t>(offsets_[std::size_t(d)] + rows_)] = d;
  const auto* rp = static_cast<const std::int64_t*>(h.row_ptr_data());
  const auto* ci = static_cast<const std::int64_t*>(h.col_idx_data());
  std::vector<double> csr_values(static_cast<std::size_t>(nnz_));
  if (nnz_) convert(h.values(), make_view(csr_values.data(), nnz_));
  // Summed in f64 (duplicates, as from_coo does), then rounded once to a's dtype.
  std::vector<double> v(static_cast<std::size_t>(nd * stride_), 0.0);
  for (std::int64_t i = 0; i < rows_; ++i)
    for (std::int64_t k = rp[i]; k < rp[i + 1]; ++k)
      v[static_cast<std::size_t>(diagonal_of[static_cast<std::size_t>(ci[k] - i + rows_)] * stride_ + i)] +=
          csr_values[static_cast<std::size_t>(k)];
  const context& ctx = a.ctx();
  buffer host(a.value_type(), nd * stride_);
  if (!v.empty()) convert(make_view(v.data(), std::int64_t(v.size())), host.as_view());
  values_ = ctx.kind() == backend::cpu ? std::move(host) : host.to(ctx);
  buffer off(dtype::u8, nd * std::int64_t(sizeof(std::int64_t)));
  std::copy(offsets_.begin(), offsets_.end(), static_cast<std::int64_t*>(off.data()));
  device_offsets_ = ctx.kind() == backend::cpu ? std::move(off) : off.to(ctx);
}

dia_matrix dia_matrix::with_values(dtype values) const {
  dia_matrix out;
  out.rows_ = rows_;
  out.cols_ = cols_;
  out.nnz_ = nnz_;
  out.stride_ = stride_;
  out.offsets_ = offsets_;
  out.device_offsets_ = device_offsets_.to(ctx());
  out.values_ = buffer(values, values_.size(), ctx());
  convert(values_.as_view(), out.values_.as_view());
  return out;
}

std::vector<double> dia_matrix::diagonal() const {
  std::vector<double> d(std::size_t(std::min(rows_, cols_)), 0.0);
  const auto main = std::find(offsets_.begin(), offsets_.end(), std::int64_t(0));
  if (main == offsets_.end() || d.empty()) return d;
  // Only the main diagonal comes to the host, not every diagonal.
  const std::int64_t at = (main - offsets_.begin()) * stride_, n = std::int64_t(d.size());
  const auto* base = static_cast<const unsigned char*>(values_.data()) + std::size_t(at) * size_of(value_type());
  buffer host(value_type(), n);
  copy(const_view(base, value_type(), {n}, {1}, ctx()), host.as_view());
  convert(host.as_view(), make_view(d.data(), n));
  return d;
}

coo_matrix dia_matrix::to_coo() const {
  coo_matrix c(rows_, cols_);
  std::vector<double> v(static_cast<std::size_t>(values_.size()));
  if (!v.empty()) convert(values_.to(context::cpu()).as_view(), make_view(v.data(), values_.size()));
  for (std::int64_t i = 0; i < rows_; ++i)
    for (std::int64_t d = 0; d < diagonals(); ++d) {
      const std::int64_t j = i + offsets_[std::size_t(d)];
      const double x = v[std::size_t(d * stride_ + i)];
      if (j >= 0 && j < cols_ && x != 0.0) c.add(i, j, x);
    }
  return c;
}

}  // namespace mixprec
