// SpMV cases on one matrix in every storage format and value precision, shared by the
// built-in SpMV family and by --matrix.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mixprec/sparse.hpp"
#include "tools/compare/compare.hpp"

namespace mixprec::compare {

enum class spmv_format { csr, sell, dia };
const char* name_of(spmv_format f);

/// Builds (or hands out) the f64 matrix when a case is prepared.
using matrix_source = std::function<std::shared_ptr<const csr_matrix>()>;

void add_spmv_cases_for(case_list& cases, const std::string& family, const std::string& name,
                        const matrix_source& source, const std::vector<spmv_format>& formats);

}  // namespace mixprec::compare
