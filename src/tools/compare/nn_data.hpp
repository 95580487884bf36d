// Row data shared by the AI-layer and training families: an f64 problem (rows x cols),
// stored in one NN dtype (f32, bf16, f16), and its values back as f64.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tools/compare/reference.hpp"

namespace mixprec::compare {

struct nn_rows {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> problem;  // the f64 data
  std::vector<double> stored;   // as rounded to the storage dtype
  std::shared_ptr<buffer> data;
  view matrix() const { return matrix_view(*data, rows, cols); }
};

inline nn_rows make_rows(std::int64_t rows, std::int64_t cols, dtype t, std::uint64_t seed, double lo, double hi) {
  nn_rows r;
  r.rows = rows;
  r.cols = cols;
  r.problem = uniform_values(rows * cols, seed, lo, hi);
  r.data = std::make_shared<buffer>(stored_as(t, r.problem));
  r.stored = values_of(r.data->as_view());
  return r;
}

inline std::shared_ptr<buffer> like(const nn_rows& r) {
  return std::make_shared<buffer>(r.data->type(), r.rows * r.cols);
}

/// The NN storage dtypes, f32 first (their baseline: these ops have no f64 storage).
inline constexpr dtype nn_types[] = {dtype::f32, dtype::bf16, dtype::f16};

}  // namespace mixprec::compare
