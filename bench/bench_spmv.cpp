// SpMV benchmarks: spmv/<format>/<dtype>/<problem> (format csr, sell or dia), values in
// <dtype>, x and y in f64, with Eigen's threaded row-major CSR SpMV as the peer in the same
// run. Bytes counted as in shared/MACHINE.md: values and column indices per nonzero, row
// pointers, x and y once (DIA: its stored diagonals, x and y). SELL's padding is not counted.
#include <map>
#include <string>

#include "bench_common.hpp"
#include "mixprec/sparse.hpp"
#if defined(MIXPREC_BENCH_EIGEN)
#include <Eigen/SparseCore>
#endif

namespace mixprec::bench {
namespace {

struct problem {
  const char* name;
  csr_matrix (*make)();
};
csr_matrix poisson7_128() { return poisson_3d(128); }
csr_matrix hpcg27_104() { return hpcg_27pt(104); }
const problem problems[] = {{"poisson7_128", poisson7_128}, {"hpcg27_104", hpcg27_104}};

/// The f64 matrix of each problem, built once and shared by every benchmark.
const csr_matrix& matrix(const problem& p) {
  static std::map<std::string, csr_matrix> cache;
  auto it = cache.find(p.name);
  if (it == cache.end()) it = cache.emplace(p.name, p.make()).first;
  return it->second;
}

double spmv_bytes(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::size_t value_bytes, std::size_t index_bytes) {
  return double(nnz) * double(value_bytes + index_bytes) + double(rows + 1) * double(index_bytes) + 8.0 * double(cols + rows);
}

/// y = A*1 must equal the row sums exactly (the generators' values are small integers).
bool verify(const csr_matrix& a64, const std::vector<double>& y) {
  const coo_matrix c = a64.to_coo();
  std::vector<double> sums(static_cast<std::size_t>(a64.rows()), 0.0);
  for (std::int64_t k = 0; k < c.nnz(); ++k) sums[c.row[k]] += c.value[k];
  return sums == y;
}

template <class Matrix>
void run(benchmark::State& state, const csr_matrix& a64, const Matrix& a, double bytes) {
  array<double> x(std::vector<double>(static_cast<std::size_t>(a64.cols()), 1.0)), y(a64.rows());
  spmv(1.0, a, x, 0.0, y);
  if (!verify(a64, y.to_vector())) {
    state.SkipWithError("spmv verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    spmv(1.0, a, x, 0.0, y);
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, bytes, 2.0 * double(a64.nnz()));
}

void bench_csr(benchmark::State& state, const problem* p, dtype t) {
  const csr_matrix& a64 = matrix(*p);
  const csr_matrix a = t == dtype::f64 ? a64.to(a64.ctx()) : a64.with_values(t);
  run(state, a64, a, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), size_of(t), 4));
}

void bench_sell(benchmark::State& state, const problem* p, dtype t) {
  const csr_matrix& a64 = matrix(*p);
  const sell_matrix a(a64.with_values(t), 8, 1);
  run(state, a64, a, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), size_of(t), 4));
  state.counters["padding"] = double(a.stored()) / double(a.nnz()) - 1.0;
}

/// DIA moves its stored diagonals (padding included) and no indices.
void bench_dia(benchmark::State& state, const problem* p, dtype t) {
  static std::map<std::string, dia_matrix> cache;  // built once per (problem, dtype)
  const csr_matrix& a64 = matrix(*p);
  const std::string key = std::string(p->name) + name_of(t);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, dia_matrix(a64).with_values(t)).first;
  const dia_matrix& a = it->second;
  run(state, a64, a, double(a.stored()) * double(size_of(t)) + 8.0 * double(a.rows() + a.cols()));
  state.counters["padding"] = double(a.stored()) / double(a.nnz()) - 1.0;
}

#if defined(MIXPREC_BENCH_EIGEN)
void peer_eigen(benchmark::State& state, const problem* p) {
  const csr_matrix& a64 = matrix(*p);
  const coo_matrix c = a64.to_coo();
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<std::size_t>(c.nnz()));
  for (std::int64_t k = 0; k < c.nnz(); ++k) t.emplace_back(int(c.row[k]), int(c.col[k]), c.value[k]);
  Eigen::SparseMatrix<double, Eigen::RowMajor, int> a(int(a64.rows()), int(a64.cols()));
  a.setFromTriplets(t.begin(), t.end());
  Eigen::VectorXd x = Eigen::VectorXd::Ones(a.cols()), y(a.rows());
  y.noalias() = a * x;
  if (!verify(a64, std::vector<double>(y.data(), y.data() + y.size()))) {
    state.SkipWithError("eigen verification failed");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), 8, 4), 2.0 * double(a64.nnz()));
}
#endif

int register_all() {
  for (const problem& p : problems) {
    for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      benchmark::RegisterBenchmark((std::string("spmv/csr/") + name_of(t) + "/" + p.name).c_str(), bench_csr, &p, t)
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((std::string("spmv/sell/") + name_of(t) + "/" + p.name).c_str(), bench_sell, &p, t)
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((std::string("spmv/dia/") + name_of(t) + "/" + p.name).c_str(), bench_dia, &p, t)
          ->UseRealTime()->Unit(benchmark::kMillisecond);
    }
#if defined(MIXPREC_BENCH_EIGEN)
    benchmark::RegisterBenchmark((std::string("peer/eigen_spmv/f64/") + p.name).c_str(), peer_eigen, &p)
        ->UseRealTime()->Unit(benchmark::kMillisecond);
#endif
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
