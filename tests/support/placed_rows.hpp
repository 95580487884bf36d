// Operands of the row-wise op suites (test_nn, test_train) in the memory of the kernel under
// test: the values are set and read on the host, and the ops see a copy in the kernel's
// memory — for CPU kernels too, so that the mirroring is exercised on every machine — that
// is uploaded when the host values changed and read back after an op may have written it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "support/harness.hpp"

namespace mixprec::test {

/// Where the operands of the kernel under test live (set for a test body by
/// on_kernel_storage; the CPU otherwise).
inline context& placement() {
  static context where = context::cpu();
  return where;
}

/// Runs f(T{}) as on_nn_storage does, with operands placed in kernel k's memory.
template <class F>
void on_kernel_storage(const kernel_info& k, F&& f) {
  struct restore {
    ~restore() { placement() = context::cpu(); }
  } at_exit;
  placement() = context_for(k);
  on_nn_storage(k, k.in, f);
}

/// Host values copied into the placement's memory, as a dense rank-1 view.
template <class T>
struct placed_values {
  array<T> values;
  explicit placed_values(const std::vector<T>& host) : values(host, placement()) {}
  const_view as_const() const { return make_view(values.data(), values.size(), 1, values.ctx()); }
};

/// Rows x cols values of T with row stride ldv (padding holds a sentinel the ops must not
/// touch), mirrored in the placement's memory.
template <class T>
struct rows_of_t {
  std::int64_t rows, cols, ldv;
  rows_of_t(std::int64_t r, std::int64_t c, std::int64_t l, double fill = 7.0)
      : rows(r), cols(c), ldv(l), v(std::size_t(std::max<std::int64_t>(0, (r - 1) * l + c)), T(fill)) {}
  /// Dense rows (ldv = cols) of the given values, row after row.
  rows_of_t(std::int64_t r, std::int64_t c, std::vector<T> values) : rows(r), cols(c), ldv(c), v(std::move(values)) {}
  /// One row of the given values.
  explicit rows_of_t(const std::vector<T>& row)
      : rows(1), cols(std::int64_t(row.size())), ldv(std::int64_t(row.size())), v(row) {}
  rows_of_t(const rows_of_t& o) : rows(o.rows), cols(o.cols), ldv(o.ldv), v(o.host()) {}

  T& at(std::int64_t i, std::int64_t j) {
    host();
    host_newer = true;
    return v[std::size_t(i * ldv + j)];
  }
  double get(std::int64_t i, std::int64_t j) const { return double(host()[std::size_t(i * ldv + j)]); }
  /// Every stored value, padding included, in host memory.
  const std::vector<T>& values() const { return host(); }

  view as_view() {
    T* p = placed_data();
    placed_newer = true;
    return make_view(p, {rows, cols}, {ldv, 1}, placed.ctx());
  }
  const_view as_const() const {
    const T* p = placed_data();  // before placed.ctx(): it may make the array
    return make_view(p, {rows, cols}, {ldv, 1}, placed.ctx());
  }
  /// A rank-1 view of one dense row (a weight-gradient accumulator, a gradient to unscale).
  view as_vector() {
    T* p = placed_data();
    placed_newer = true;
    return make_view(p, cols, 1, placed.ctx());
  }

 private:
  mutable std::vector<T> v;
  mutable array<T> placed;
  mutable bool host_newer = true, placed_newer = false;
  const std::vector<T>& host() const {
    if (placed_newer) v = placed.to_vector(), placed_newer = false;
    return v;
  }
  T* placed_data() const {
    if (host_newer) placed = array<T>(host(), placement()), host_newer = false;
    return placed.data();
  }
};

}  // namespace mixprec::test
