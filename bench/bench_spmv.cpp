// SpMV benchmarks: spmv/<format>/<dtype>/<problem> (format csr, sell or dia), values in
// <dtype>, x and y in f64, with Eigen's threaded row-major CSR SpMV as the peer in the same
// run. Bytes counted as in shared/MACHINE.md: values and column indices per nonzero, row
// pointers, x and y once (DIA: its stored diagonals, x and y). SELL's padding is not counted.
// SpMM: spmm/csr/<dtype>/<problem>/k<k>, k right-hand sides in row-major X and Y (f64),
// against Eigen's sparse x dense product; bytes count the matrix once and X and Y k times.
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

double spmv_bytes(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::size_t value_bytes,
                  std::size_t index_bytes, std::int64_t rhs = 1) {
  return double(nnz) * double(value_bytes + index_bytes) + double(rows + 1) * double(index_bytes) +
         8.0 * double(rhs) * double(cols + rows);
}

/// y = A*1 must equal the row sums exactly (the generators' values are small integers);
/// with k right-hand sides, Y = A*(1 2 .. k) row-major must hold column j times the sums.
bool verify(const csr_matrix& a64, const std::vector<double>& y, std::int64_t rhs = 1) {
  const coo_matrix c = a64.to_coo();
  std::vector<double> sums(static_cast<std::size_t>(a64.rows()), 0.0);
  for (std::int64_t k = 0; k < c.nnz(); ++k) sums[c.row[k]] += c.value[k];
  for (std::size_t i = 0; i < sums.size(); ++i)
    for (std::int64_t j = 0; j < rhs; ++j)
      if (y[i * std::size_t(rhs) + std::size_t(j)] != double(j + 1) * sums[i]) return false;
  return true;
}

/// X of k right-hand sides, row-major, column j all j + 1 (products stay exact).
std::vector<double> columns_1_to_k(std::int64_t rows, std::int64_t k) {
  std::vector<double> x(std::size_t(rows * k));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = double(i % std::size_t(k) + 1);
  return x;
}

/// Checks one product Y = A*X (X from columns_1_to_k) against the row sums, then times
/// `apply`; `result` reads Y back row-major. 2 FLOP per nonzero and right-hand side.
template <class Apply, class Result>
void check_then_time(benchmark::State& state, const csr_matrix& a64, std::int64_t k, double bytes, Apply apply,
                     Result result) {
  apply();
  if (!verify(a64, result(), k)) {
    state.SkipWithError("verification failed: Y = A*X is not the row sums");
    return;
  }
  loop_timer timer;
  for (auto _ : state) {
    apply();
    benchmark::ClobberMemory();
  }
  set_counters(state, timer, bytes, 2.0 * double(a64.nnz()) * double(k));
}

template <class Matrix>
void run(benchmark::State& state, const csr_matrix& a64, const Matrix& a, double bytes) {
  array<double> x(columns_1_to_k(a64.cols(), 1)), y(a64.rows());
  check_then_time(
      state, a64, 1, bytes, [&] { spmv(1.0, a, x, 0.0, y); }, [&] { return y.to_vector(); });
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

void bench_spmm(benchmark::State& state, const problem* p, dtype t, std::int64_t k) {
  const csr_matrix& a64 = matrix(*p);
  const csr_matrix a = t == dtype::f64 ? a64.to(a64.ctx()) : a64.with_values(t);
  array<double> x(columns_1_to_k(a64.cols(), k)), y(a64.rows() * k);
  const view xv(x.data(), dtype::f64, {a64.cols(), k}, {k, 1}, context::cpu());
  const view yv(y.data(), dtype::f64, {a64.rows(), k}, {k, 1}, context::cpu());
  check_then_time(
      state, a64, k, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), size_of(t), 4, k),
      [&] { spmm(1.0, a, xv, 0.0, yv); }, [&] { return y.to_vector(); });
}

#if defined(MIXPREC_BENCH_EIGEN)
Eigen::SparseMatrix<double, Eigen::RowMajor, int> eigen_matrix(const csr_matrix& a64) {
  const coo_matrix c = a64.to_coo();
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<std::size_t>(c.nnz()));
  for (std::int64_t k = 0; k < c.nnz(); ++k) t.emplace_back(int(c.row[k]), int(c.col[k]), c.value[k]);
  Eigen::SparseMatrix<double, Eigen::RowMajor, int> a(int(a64.rows()), int(a64.cols()));
  a.setFromTriplets(t.begin(), t.end());
  return a;
}

/// Eigen's product with column-major X and Y. Row-major ones were no slower in this
/// benchmark (2026-11-30, poisson7_128: k = 4 31.5 ms against 41-64 ms, k = 16 0.80 s
/// against 0.83-0.84 s); either layout may serve as the peer.
void peer_eigen_spmm(benchmark::State& state, const problem* p, std::int64_t k) {
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const csr_matrix& a64 = matrix(*p);
  const auto a = eigen_matrix(a64);
  const std::vector<double> xs = columns_1_to_k(a64.cols(), k);
  const Eigen::MatrixXd x = Eigen::Map<const row_major>(xs.data(), a.cols(), k);
  Eigen::MatrixXd y(a.rows(), k);
  check_then_time(
      state, a64, k, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), 8, 4, k), [&] { y.noalias() = a * x; },
      [&] {
        const row_major yr = y;
        return std::vector<double>(yr.data(), yr.data() + yr.size());
      });
}

void peer_eigen(benchmark::State& state, const problem* p) {
  const csr_matrix& a64 = matrix(*p);
  const auto a = eigen_matrix(a64);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(a.cols()), y(a.rows());
  check_then_time(
      state, a64, 1, spmv_bytes(a64.rows(), a64.cols(), a64.nnz(), 8, 4), [&] { y.noalias() = a * x; },
      [&] { return std::vector<double>(y.data(), y.data() + y.size()); });
}
#endif

int register_all() {
  for (const problem& p : problems) {
    for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
      benchmark::RegisterBenchmark((std::string("spmv/csr/") + name_of(t) + "/" + p.name).c_str(), bench_csr, &p, t)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((std::string("spmv/sell/") + name_of(t) + "/" + p.name).c_str(), bench_sell, &p, t)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((std::string("spmv/dia/") + name_of(t) + "/" + p.name).c_str(), bench_dia, &p, t)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    for (std::int64_t k : {4, 16}) {
      const std::string shape = std::string("/") + p.name + "/k" + std::to_string(k);
      for (dtype t : {dtype::f64, dtype::f32})
        benchmark::RegisterBenchmark((std::string("spmm/csr/") + name_of(t) + shape).c_str(), bench_spmm, &p, t, k)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
#if defined(MIXPREC_BENCH_EIGEN)
      benchmark::RegisterBenchmark(("peer/eigen_spmm/f64" + shape).c_str(), peer_eigen_spmm, &p, k)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
#endif
    }
#if defined(MIXPREC_BENCH_EIGEN)
    benchmark::RegisterBenchmark((std::string("peer/eigen_spmv/f64/") + p.name).c_str(), peer_eigen, &p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench
