#include "tools/compare/user_matrix.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "mixprec/error.hpp"
#include "mixprec/solver.hpp"
#include "mixprec/sparse.hpp"
#include "tools/compare/solver_cases.hpp"
#include "tools/compare/spmv_cases.hpp"

namespace mixprec::compare {
namespace {

/// Symmetric when the transpose's CSR has the same pattern and values.
bool symmetric(const coo_matrix& coo, const csr_matrix& a) {
  if (a.rows() != a.cols()) return false;
  coo_matrix t(coo.cols, coo.rows);
  t.row = coo.col;
  t.col = coo.row;
  t.value = coo.value;
  const csr_matrix at = csr_matrix::from_coo(t);
  if (at.nnz() != a.nnz()) return false;
  const auto same = [n = a.nnz()](const void* x, const void* y, std::size_t bytes) {
    return std::memcmp(x, y, bytes * std::size_t(n)) == 0;
  };
  const std::size_t ib = size_of(a.index_kind());
  if (std::memcmp(a.row_ptr_data(), at.row_ptr_data(), ib * std::size_t(a.rows() + 1)) != 0) return false;
  return same(a.col_idx_data(), at.col_idx_data(), ib) && same(a.values().data(), at.values().data(), 8);
}

bool positive_diagonal(const coo_matrix& coo) {
  std::vector<double> d(static_cast<std::size_t>(coo.rows), 0.0);
  for (std::size_t e = 0; e < coo.value.size(); ++e)
    if (coo.row[e] == coo.col[e]) d[std::size_t(coo.row[e])] += coo.value[e];
  for (double v : d)
    if (!(v > 0)) return false;
  return true;
}

std::vector<double> dense_rhs(const std::string& path, std::int64_t rows) {
  const coo_matrix b = read_matrix_market(path);
  if (b.rows != rows || b.cols != 1)
    throw std::invalid_argument("--rhs " + path + " is " + std::to_string(b.rows) + " x " + std::to_string(b.cols) +
                                "; the matrix needs a " + std::to_string(rows) + " x 1 vector");
  std::vector<double> v(static_cast<std::size_t>(rows), 0.0);
  for (std::size_t e = 0; e < b.value.size(); ++e) v[std::size_t(b.row[e])] += b.value[e];
  return v;
}

std::string file_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

case_list user_matrix_cases(const user_problem& p, std::string& description) {
  const coo_matrix coo = read_matrix_market(p.matrix_path);
  auto a = std::make_shared<const csr_matrix>(csr_matrix::from_coo(coo));
  const std::string name = file_name(p.matrix_path);
  std::ostringstream d;
  d << name << ": " << a->rows() << " x " << a->cols() << ", " << a->nnz() << " nonzeros";
  case_list cases;
  std::vector<spmv_format> formats = {spmv_format::csr, spmv_format::sell};
  const double fill = dia_matrix::fill_of(*a);
  if (fill > 0 && fill <= 3.0) formats.push_back(spmv_format::dia);
  d << "; DIA " << (fill > 0 && fill <= 3.0 ? "suits it" : "would store too much") << " (fill " << fill << ")";
  add_spmv_cases_for(
      cases, "user_spmv", name, [a] { return a; }, formats);
  if (a->rows() != a->cols() || a->rows() == 0) {
    d << "; not square: SpMV only";
    description = d.str();
    return cases;
  }
  solver_problem sp;
  sp.family = "user_solve";
  sp.name = name;
  sp.a = a;
  sp.spd = symmetric(coo, *a) && positive_diagonal(coo);
  sp.target = p.tolerance;
  if (!p.rhs_path.empty()) {
    sp.b = std::make_shared<const std::vector<double>>(dense_rhs(p.rhs_path, a->rows()));
  } else {
    array<double> one(std::vector<double>(static_cast<std::size_t>(a->cols()), 1.0)), b(a->rows());
    spmv(1.0, *a, one, 0.0, b);
    sp.b = std::make_shared<const std::vector<double>>(b.to_vector());
    sp.x_exact = std::make_shared<const std::vector<double>>(static_cast<std::size_t>(a->rows()), 1.0);
  }
  d << "; " << (sp.spd ? "symmetric with a positive diagonal: CG family" : "not symmetric positive: GMRES family")
    << "; b = " << (p.rhs_path.empty() ? "A * 1" : file_name(p.rhs_path)) << "; target " << p.tolerance;
  add_solver_cases_for(cases, sp);
  description = d.str();
  return cases;
}

std::string recommend_policy(const std::vector<case_result>& results) {
  const case_result* best = nullptr;
  const case_result* f64 = nullptr;
  for (const case_result& r : results) {
    if (r.iterations < 0 || r.family != "user_solve") continue;
    if (r.precision == "f64") f64 = &r;
    if (r.bounds_held() && r.stop_reason == name_of(stop_reason::converged) && (!best || r.median < best->median))
      best = &r;
  }
  if (!best) return "no policy reached the tolerance: see each case's stop reason";
  std::ostringstream o;
  o << "fastest to the FP64 tolerance: " << best->precision << " (" << best->median << " s";
  if (f64 && f64 != best && f64->median > 0 && f64->bounds_held())
    o << ", " << f64->median / best->median << "x FP64's";
  o << ")";
  return o.str();
}

}  // namespace mixprec::compare
