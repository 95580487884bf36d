#include "solver/row_schedule.hpp"

#include <algorithm>
#include <chrono>

#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"

namespace mixprec::detail {

row_schedule::row_schedule(const std::vector<std::vector<std::int64_t>>& groups) {
  for (const auto& g : groups) {
    rows_.insert(rows_.end(), g.begin(), g.end());
    starts_.push_back(std::int64_t(rows_.size()));
  }
}

row_schedule row_schedule::triangular_levels(const coo_matrix& a, bool lower) {
  const std::int64_t n = a.rows;
  std::vector<std::vector<std::int64_t>> refs(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < a.nnz(); ++k) {
    const std::int64_t i = a.row[std::size_t(k)], j = a.col[std::size_t(k)];
    if (a.value[std::size_t(k)] != 0.0 && (lower ? j < i : j > i)) refs[std::size_t(i)].push_back(j);
  }
  std::vector<int> level(static_cast<std::size_t>(n), 0);
  int top = 0;
  for (std::int64_t s = 0; s < n; ++s) {
    const std::int64_t i = lower ? s : n - 1 - s;
    int l = 0;
    for (std::int64_t j : refs[std::size_t(i)]) l = std::max(l, level[std::size_t(j)] + 1);
    level[std::size_t(i)] = l;
    top = std::max(top, l);
  }
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(n > 0 ? top + 1 : 0));
  for (std::int64_t s = 0; s < n; ++s) {
    const std::int64_t i = lower ? s : n - 1 - s;
    groups[std::size_t(level[std::size_t(i)])].push_back(i);
  }
  return row_schedule(groups);
}

row_schedule row_schedule::coloring(const coo_matrix& a) {
  const std::int64_t n = a.rows;
  std::vector<std::vector<std::int64_t>> adj(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < a.nnz(); ++k) {
    const std::int64_t i = a.row[std::size_t(k)], j = a.col[std::size_t(k)];
    if (i == j || a.value[std::size_t(k)] == 0.0) continue;
    adj[std::size_t(i)].push_back(j);
    adj[std::size_t(j)].push_back(i);
  }
  std::vector<int> color(static_cast<std::size_t>(n), -1);
  std::vector<char> used;
  int colors = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    used.assign(std::size_t(colors) + 1, 0);
    for (std::int64_t j : adj[std::size_t(i)])
      if (color[std::size_t(j)] >= 0) used[std::size_t(color[std::size_t(j)])] = 1;
    int c = 0;
    while (used[std::size_t(c)]) ++c;
    color[std::size_t(i)] = c;
    colors = std::max(colors, c + 1);
  }
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(colors));
  for (std::int64_t i = 0; i < n; ++i) groups[std::size_t(color[std::size_t(i)])].push_back(i);
  return row_schedule(groups);
}

row_schedule row_schedule::reversed() const {
  std::vector<std::vector<std::int64_t>> out;
  for (int g = groups() - 1; g >= 0; --g)
    out.emplace_back(rows_.begin() + starts_[std::size_t(g)], rows_.begin() + starts_[std::size_t(g) + 1]);
  return row_schedule(out);
}

row_schedule row_schedule::placed_in(const context& ctx) && {
  if (ctx.kind() != backend::cpu && !rows_.empty()) {
    const std::int64_t bytes = std::int64_t(rows_.size() * sizeof(std::int64_t));
    placed_ = buffer(dtype::u8, bytes, ctx);
    copy(const_view(rows_.data(), dtype::u8, {bytes}, {1}, context::cpu()), placed_.as_view());
  }
  return std::move(*this);
}

buffer f64_buffer_in(const context& ctx, const std::vector<double>& values) {
  buffer out(dtype::f64, std::int64_t(values.size()), ctx);
  if (!values.empty()) copy(make_view(values.data(), std::int64_t(values.size())), out.as_view());
  return out;
}

void sweep(const csr_matrix& a, const row_schedule& s, const buffer& inv_diag, const_view b, view x) {
  const context_state& st = *detail::state_of(a.ctx());
  const csr_ref r = a.ref();
  csr_rows_solve_args args{{r.rows(), r.cols(), r.nnz(), r.row_ptr(), r.col_idx(), r.values(), r.index_kind()},
                           nullptr,
                           0,
                           static_cast<const double*>(inv_diag.data()),
                           b.data(),
                           x.data()};
  dispatch<op_id::csr_rows_solve>(
      st, a.value_type(), x.type(), nullptr, accumulation::standard,
      [&](csr_rows_solve_fn kernel, const exec_args& ex) {
        for (int g = 0; g < s.groups(); ++g) {
          args.rows = s.rows(g);
          args.count = s.size(g);
          kernel(ex, args);
        }
      },
      [&] {
        return std::make_pair(cat(name_of(a.value_type()), ":", name_of(x.type())),
                              cat(a.rows(), "x", a.cols(), ":groups", s.groups()));
      });
}

}  // namespace mixprec::detail
