// SELL-C-sigma built from CSR on the host.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "internal/error_macros.hpp"
#include "mixprec/sparse.hpp"

namespace mixprec {

sell_matrix::sell_matrix(const csr_matrix& a_in, int chunk, int sigma) : chunk_(chunk), sigma_(sigma) {
  constexpr const char* op = "sell_matrix";
  if (chunk != 8 && chunk != 16) MIXPREC_THROW(invalid_argument, op, "chunk C = ", chunk, " must be 8 or 16");
  if (sigma < 1 || (sigma > 1 && sigma % chunk != 0))
    MIXPREC_THROW(invalid_argument, op, "sigma = ", sigma, " must be 1 or a multiple of C = ", chunk);
  if (a_in.cols() > std::numeric_limits<std::int32_t>::max())
    MIXPREC_THROW(invalid_argument, op, a_in.cols(), " columns do not fit the i32 column indices of SELL");
  if (a_in.rows() > std::numeric_limits<std::int32_t>::max() - chunk)
    MIXPREC_THROW(invalid_argument, op, a_in.rows(), " rows do not fit the i32 row numbers of SELL's slots");
  const context ctx = a_in.ctx();
  const csr_matrix a = a_in.with_indices(index_type::i64).to(context::cpu());
  rows_ = a.rows();
  cols_ = a.cols();
  nnz_ = a.nnz();
  const auto* rp = static_cast<const std::int64_t*>(a.row_ptr_data());
  const auto* ci = static_cast<const std::int64_t*>(a.col_idx_data());
  const std::size_t vbytes = size_of(a.value_type());
  const auto* vals = static_cast<const unsigned char*>(a.values().data());

  const std::int64_t slices = (rows_ + chunk - 1) / chunk, slots = slices * chunk;
  // Slot order: rows sorted by decreasing length within each window of sigma rows, rows of
  // equal length in row order. std::sort on that total order, not std::stable_sort, which
  // allocates a buffer per window: a million short rows took 115,000 allocations.
  std::vector<std::int32_t> order(static_cast<std::size_t>(slots), -1);
  std::iota(order.begin(), order.begin() + rows_, 0);
  auto longer_first = [&](std::int32_t x, std::int32_t y) {
    const std::int64_t lx = rp[x + 1] - rp[x], ly = rp[y + 1] - rp[y];
    return lx != ly ? lx > ly : x < y;
  };
  if (sigma > 1)
    for (std::int64_t w = 0; w < rows_; w += sigma)
      std::sort(order.begin() + w, order.begin() + std::min<std::int64_t>(rows_, w + sigma), longer_first);
  std::vector<std::int64_t> sptr(static_cast<std::size_t>(slices + 1), 0);
  std::vector<std::int32_t> slen(static_cast<std::size_t>(slices)), llen(static_cast<std::size_t>(slots), 0);
  for (std::int64_t s = 0; s < slices; ++s) {
    std::int64_t longest = 0;
    for (int l = 0; l < chunk; ++l) {
      const std::int32_t r = order[s * chunk + l];
      if (r >= 0) llen[s * chunk + l] = std::int32_t(rp[r + 1] - rp[r]);
      longest = std::max<std::int64_t>(longest, llen[s * chunk + l]);
    }
    slen[s] = std::int32_t(longest);
    sptr[s + 1] = sptr[s] + longest * chunk;
  }
  const std::int64_t stored = sptr[slices];
  buffer col(dtype::i32, stored), val(a.value_type(), stored);
  auto* c = static_cast<std::int32_t*>(col.data());
  auto* v = static_cast<unsigned char*>(val.data());
  if (stored > 0) {  // a matrix without entries has null arrays, which memset must not get
    std::memset(c, 0, std::size_t(stored) * 4);
    std::memset(v, 0, std::size_t(stored) * vbytes);
  }
  for (std::int64_t s = 0; s < slices; ++s)
    for (int l = 0; l < chunk; ++l) {
      const std::int32_t r = order[s * chunk + l];
      if (r < 0) continue;
      for (std::int64_t k = 0; k < rp[r + 1] - rp[r]; ++k) {
        const std::int64_t at = sptr[s] + k * chunk + l;
        c[at] = std::int32_t(ci[rp[r] + k]);
        std::memcpy(v + at * vbytes, vals + (rp[r] + k) * vbytes, vbytes);
      }
    }
  // Index arrays are stored as raw bytes (i64 is not an element dtype of the ops).
  auto upload = [&](const void* data, std::size_t bytes) {
    buffer b(dtype::u8, std::int64_t(bytes), ctx);
    if (bytes) copy(const_view(data, dtype::u8, {std::int64_t(bytes)}, {1}, context::cpu()), b.as_view());
    return b;
  };
  slice_ptr_ = upload(sptr.data(), sptr.size() * sizeof(std::int64_t));
  slice_len_ = upload(slen.data(), slen.size() * sizeof(std::int32_t));
  row_of_ = upload(order.data(), order.size() * sizeof(std::int32_t));
  lane_len_ = upload(llen.data(), llen.size() * sizeof(std::int32_t));
  col_idx_ = ctx.kind() == backend::cpu ? std::move(col) : col.to(ctx);
  values_ = ctx.kind() == backend::cpu ? std::move(val) : val.to(ctx);
}

}  // namespace mixprec
