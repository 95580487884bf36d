// SpMV in each storage format (CSR, SELL-8-1, DIA) and value precision, on the 7-point
// pattern of a 3D grid with random values (a stencil's integer values are exact in every
// dtype and would hide what rounding the values costs). f64 values run with f64 vectors;
// f32/f16/bf16 values with f32 vectors, as the inner solves of mixed-precision policies do.
// Contract (mixprec/sparse.hpp): per row, gamma_k(u) sum_j |a_ij x_j| for k nonzeros, plus
// one rounding of y.
#include <algorithm>
#include <cmath>

#include "mixprec/sparse.hpp"
#include "tools/compare/reference.hpp"
#include "tools/compare/spmv_cases.hpp"

namespace mixprec::compare {
namespace {

std::int64_t edge(suite_size s) { return s == suite_size::tiny ? 12 : s == suite_size::quick ? 128 : 160; }

/// The 7-point pattern of an n^3 grid with values uniform in [-1, 1), in f64.
csr_matrix random_7point(std::int64_t n) {
  csr_matrix a = poisson_3d(n);
  const std::vector<double> v = uniform_values(a.nnz(), 41);
  convert(make_view(v.data(), a.nnz()), a.values());
  return a;
}

/// The matrix's rows as (column, value) lists, for the long-double reference.
struct host_csr {
  std::vector<std::int64_t> ptr, col;
  std::vector<double> val;
};
host_csr host_copy(const csr_matrix& a) {
  host_csr h;
  const auto take = [&](const auto* p, const auto* c) {
    h.ptr.assign(p, p + a.rows() + 1);
    h.col.assign(c, c + a.nnz());
  };
  if (a.index_kind() == index_type::i32)
    take(static_cast<const std::int32_t*>(a.row_ptr_data()), static_cast<const std::int32_t*>(a.col_idx_data()));
  else
    take(static_cast<const std::int64_t*>(a.row_ptr_data()), static_cast<const std::int64_t*>(a.col_idx_data()));
  h.val = values_of(a.values());
  return h;
}

void add_case(case_list& cases, const std::string& family, const std::string& name, const matrix_source& source,
              spmv_format f, dtype t) {
  case_def d{family, std::string(name_of(f)) + "/" + name, name_of(t), {}};
  d.prepare = [source, f, t] {
    const std::shared_ptr<const csr_matrix> source_matrix = source();
    const csr_matrix& a64 = *source_matrix;
    auto a = std::make_shared<csr_matrix>(a64.with_values(t));
    const dtype vt = t == dtype::f64 ? dtype::f64 : dtype::f32;
    const std::int64_t rows = a->rows();
    const std::vector<double> x64 = uniform_values(a->cols(), 42);
    auto x = std::make_shared<buffer>(stored_as(vt, x64));
    auto y = std::make_shared<buffer>(vt, rows);
    prepared_case c;
    const double value_bytes = double(size_of(t));
    std::function<void()> run;
    if (f == spmv_format::csr) {
      c.bytes = double(a->nnz()) * (value_bytes + 4) + 4.0 * double(rows + 1);
      run = [a, x, y] { spmv(1.0, a->ref(), x->as_view(), 0.0, y->as_view()); };
    } else if (f == spmv_format::sell) {
      auto s = std::make_shared<sell_matrix>(*a, 8, 1);
      c.bytes = double(s->stored()) * (value_bytes + 4);
      run = [s, x, y] { spmv(1.0, *s, x->as_view(), 0.0, y->as_view()); };
    } else {
      auto dm = std::make_shared<dia_matrix>(*a);
      c.bytes = double(dm->stored()) * value_bytes;
      run = [dm, x, y] { spmv(1.0, *dm, x->as_view(), 0.0, y->as_view()); };
    }
    c.bytes += 2.0 * double(rows) * double(size_of(vt));
    c.flops = 2.0 * double(a->nnz());
    c.run = run;
    auto h = std::make_shared<host_csr>(host_copy(*a));
    auto h64 = std::make_shared<host_csr>(host_copy(a64));
    c.check = [h, h64, x, y, x64, t, vt](case_result& r) {
      const std::vector<double> xs = values_of(x->as_view()), got = values_of(y->as_view());
      double worst = 0, worst_problem = 0;
      std::int64_t longest = 0;
      for (std::size_t i = 0; i + 1 < h->ptr.size(); ++i) {
        long double exact = 0, abs_sum = 0, problem = 0;
        for (std::int64_t p = h->ptr[i]; p < h->ptr[i + 1]; ++p) {
          exact += (long double)h->val[std::size_t(p)] * xs[std::size_t(h->col[std::size_t(p)])];
          abs_sum += std::fabs((long double)h->val[std::size_t(p)] * xs[std::size_t(h->col[std::size_t(p)])]);
          problem += (long double)h64->val[std::size_t(p)] * x64[std::size_t(h->col[std::size_t(p)])];
        }
        longest = std::max(longest, h->ptr[i + 1] - h->ptr[i]);
        if (abs_sum == 0) continue;
        worst = std::max(worst, double(std::fabs(got[i] - exact) / abs_sum));
        worst_problem = std::max(worst_problem, double(std::fabs(got[i] - problem) / abs_sum));
      }
      const double g = gamma(double(longest), compute_roundoff(t)), uy = unit_roundoff(vt);
      r.accuracy.push_back(checked_figure("max |error| / sum|a x| per row", "exact", worst, g + uy * (1 + g),
                                          "gamma_k(u) sum_j |a_ij x_j| + u_y |y_i|"));
      r.accuracy.push_back(plain_figure("max |error| / sum|a x| per row", "f64 problem", worst_problem));
    };
    return c;
  };
  cases.push_back(std::move(d));
}

}  // namespace

const char* name_of(spmv_format f) { return f == spmv_format::csr ? "csr" : f == spmv_format::sell ? "sell8" : "dia"; }

void add_spmv_cases_for(case_list& cases, const std::string& family, const std::string& name,
                        const matrix_source& source, const std::vector<spmv_format>& formats) {
  for (spmv_format f : formats)
    for (dtype t : float_types) add_case(cases, family, name, source, f, t);
}

void add_spmv_cases(case_list& cases, const suite_settings& s) {
  const std::int64_t n = edge(s.size);
  // Built when the first case needs it and kept for the other eleven (building it is most
  // of a case's set-up time).
  auto built = std::make_shared<std::shared_ptr<const csr_matrix>>();
  const matrix_source source = [n, built] {
    if (!*built) *built = std::make_shared<const csr_matrix>(random_7point(n));
    return *built;
  };
  add_spmv_cases_for(cases, "spmv", "random7pt_" + std::to_string(n) + "^3", source,
                     {spmv_format::csr, spmv_format::sell, spmv_format::dia});
}

}  // namespace mixprec::compare
