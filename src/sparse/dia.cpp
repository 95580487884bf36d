// DIA (diagonal storage) built from CSR on the host.
#include <algorithm>
#include <cmath>
#include <optional>

#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {
namespace {

/// a on the host: a itself where it is there, else a copy in `keep`.
const csr_matrix& on_host(const csr_matrix& a, csr_matrix& keep) {
  if (a.ctx().kind() == backend::cpu) return a;
  keep = a.to(context::cpu());
  return keep;
}

/// What one pass over a host matrix's indices says about its diagonals.
struct pattern_scan {
  bool within = true;                 // at most `most` distinct offsets (else the scan stopped)
  bool sorted = true;                 // every row's columns strictly increase (no duplicates)
  std::vector<std::int64_t> offsets;  // the distinct offsets j - i, ascending (when within)
};

/// Reads a's indices in their own type, marking offsets in rows + cols bytes; stops at the
/// first offset past `most`, so that a scattered matrix costs a few rows.
template <class I>
pattern_scan scan_pattern(const csr_matrix& h, std::int64_t most) {
  const auto* rp = static_cast<const I*>(h.row_ptr_data());
  const auto* ci = static_cast<const I*>(h.col_idx_data());
  std::vector<char> seen(static_cast<std::size_t>(h.rows() + h.cols()), 0);  // offset + rows
  pattern_scan scan;
  std::int64_t distinct = 0;
  for (std::int64_t i = 0; i < h.rows(); ++i)
    for (I k = rp[i]; k < rp[i + 1]; ++k) {
      if (k > rp[i] && ci[k] <= ci[k - 1]) scan.sorted = false;
      char& mark = seen[static_cast<std::size_t>(std::int64_t(ci[k]) - i + h.rows())];
      if (!mark && ++distinct > most) {
        scan.within = false;
        return scan;
      }
      mark = 1;
    }
  for (std::size_t o = 0; o < seen.size(); ++o)
    if (seen[o]) scan.offsets.push_back(std::int64_t(o) - h.rows());
  return scan;
}

pattern_scan scan_pattern(const csr_matrix& h, std::int64_t most) {
  return h.index_kind() == index_type::i32 ? scan_pattern<std::int32_t>(h, most) : scan_pattern<std::int64_t>(h, most);
}

/// See dia_matrix::stride(): past 4096 rows, a multiple of 2048 elements plus 24, so that
/// consecutive diagonals start 24 elements (48-192 bytes) apart in a page's cache sets.
std::int64_t padded_stride(std::int64_t rows) { return rows < 4096 ? rows : (rows + 2047) / 2048 * 2048 + 24; }

double fill_ratio(std::int64_t diagonals, std::int64_t rows, std::int64_t nnz) {
  return nnz == 0 ? 0.0 : double(diagonals) * double(rows) / double(nnz);
}

/// The most distinct offsets a rows-row matrix with nnz entries may span within max_fill.
std::int64_t most_offsets(std::int64_t rows, std::int64_t nnz, double max_fill) {
  return rows == 0 ? 0 : std::int64_t(max_fill * double(nnz) / double(rows));
}

/// Rows whose columns strictly increase: each row's entries meet the ascending offsets in
/// order, so every slot is written once, by its entry's bits or by zero bits (0 in every
/// value dtype), with no summing and no rounding. Bits of type B copy values of B's size.
template <class I, class B>
void fill_sorted(const csr_matrix& h, const std::vector<std::int64_t>& off, std::int64_t stride, void* out) {
  const auto* rp = static_cast<const I*>(h.row_ptr_data());
  const auto* ci = static_cast<const I*>(h.col_idx_data());
  const auto* src = static_cast<const B*>(h.values().data());
  B* dst = static_cast<B*>(out);
  const std::int64_t nd = std::int64_t(off.size()), rows = h.rows();
  for (std::int64_t i = 0; i < rows; ++i) {
    I k = rp[i];
    const I end = rp[i + 1];
    for (std::int64_t d = 0; d < nd; ++d) {
      const bool here = k < end && std::int64_t(ci[k]) - i == off[std::size_t(d)];
      dst[d * stride + i] = here ? src[k] : B(0);
      k += here;
    }
  }
  for (std::int64_t d = 0; d < nd; ++d) std::fill(dst + d * stride + rows, dst + (d + 1) * stride, B(0));
}

template <class I>
void fill_sorted(const csr_matrix& h, const std::vector<std::int64_t>& off, std::int64_t stride, void* out) {
  switch (size_of(h.value_type())) {
    case 8:
      return fill_sorted<I, std::uint64_t>(h, off, stride, out);
    case 4:
      return fill_sorted<I, std::uint32_t>(h, off, stride, out);
    default:
      return fill_sorted<I, std::uint16_t>(h, off, stride, out);
  }
}

/// Any other rows (unsorted, or repeating a column): summed in f64, as from_coo sums
/// duplicates, then rounded once to the values' dtype.
template <class I>
void fill_summed(const csr_matrix& h, const std::vector<std::int64_t>& off, std::int64_t stride, buffer& out) {
  const auto* rp = static_cast<const I*>(h.row_ptr_data());
  const auto* ci = static_cast<const I*>(h.col_idx_data());
  std::vector<double> csr_values(static_cast<std::size_t>(h.nnz()));
  if (h.nnz()) convert(h.values(), make_view(csr_values.data(), h.nnz()));
  std::vector<double> v(static_cast<std::size_t>(out.size()), 0.0);
  for (std::int64_t i = 0; i < h.rows(); ++i)
    for (I k = rp[i]; k < rp[i + 1]; ++k) {
      const auto d = std::lower_bound(off.begin(), off.end(), std::int64_t(ci[k]) - i) - off.begin();
      v[static_cast<std::size_t>(d * stride + i)] += csr_values[static_cast<std::size_t>(k)];
    }
  if (!v.empty()) convert(make_view(v.data(), std::int64_t(v.size())), out.as_view());
}

}  // namespace

double dia_matrix::fill_of(const csr_matrix& a) {
  csr_matrix keep;
  const csr_matrix& h = on_host(a, keep);
  return fill_ratio(std::int64_t(scan_pattern(h, h.rows() + h.cols()).offsets.size()), a.rows(), a.nnz());
}

std::optional<dia_matrix> dia_matrix::if_fits(const csr_matrix& a, double max_fill) {
  if (a.ctx().kind() != backend::cpu || a.nnz() == 0) return std::nullopt;
  pattern_scan scan = scan_pattern(a, most_offsets(a.rows(), a.nnz(), max_fill));
  if (!scan.within) return std::nullopt;
  dia_matrix d;
  d.fill_from(a, std::move(scan.offsets), scan.sorted);
  return d;
}

dia_matrix::dia_matrix(const csr_matrix& a, double max_fill) {
  constexpr const char* op = "dia_matrix";
  if (!(max_fill >= 1.0)) MIXPREC_THROW(invalid_argument, op, "max_fill = ", max_fill, " must be at least 1");
  csr_matrix keep;
  const csr_matrix& h = on_host(a, keep);
  pattern_scan scan = scan_pattern(h, h.rows() + h.cols());
  const auto nd = std::int64_t(scan.offsets.size());
  const double fill = fill_ratio(nd, a.rows(), a.nnz());
  if (fill > max_fill)
    MIXPREC_THROW(invalid_argument, op, "the ", a.rows(), " x ", a.cols(), " matrix with ", a.nnz(), " nonzeros spans ",
                  nd, " diagonals: DIA would store ", fill, " x its nonzeros, above max_fill = ", max_fill,
                  "; keep it in CSR or SELL");
  fill_from(h, std::move(scan.offsets), scan.sorted);
  if (a.ctx().kind() != backend::cpu) {
    values_ = values_.to(a.ctx());
    device_offsets_ = device_offsets_.to(a.ctx());
  }
}

void dia_matrix::fill_from(const csr_matrix& h, std::vector<std::int64_t> offsets, bool sorted) {
  rows_ = h.rows();
  cols_ = h.cols();
  nnz_ = h.nnz();
  offsets_ = std::move(offsets);
  stride_ = padded_stride(rows_);
  values_ = buffer(h.value_type(), diagonals() * stride_);
  const bool i32 = h.index_kind() == index_type::i32;
  if (sorted)
    i32 ? fill_sorted<std::int32_t>(h, offsets_, stride_, values_.data())
        : fill_sorted<std::int64_t>(h, offsets_, stride_, values_.data());
  else
    i32 ? fill_summed<std::int32_t>(h, offsets_, stride_, values_)
        : fill_summed<std::int64_t>(h, offsets_, stride_, values_);
  device_offsets_ = buffer(dtype::u8, diagonals() * std::int64_t(sizeof(std::int64_t)));
  std::copy(offsets_.begin(), offsets_.end(), static_cast<std::int64_t*>(device_offsets_.data()));
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
