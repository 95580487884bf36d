// packed_matrix: B packed once into the layout of its memory's GEMM kernels (internal/
// gemm_packed_layout.hpp): the CPU kernels' panels, or a GPU's column-by-column matrix; by the
// gemm_pack kernel of its dtype and backend.
#include <chrono>

#include "gemm/gemm_internal.hpp"
#include "internal/dispatch.hpp"
#include "internal/error_macros.hpp"
#include "internal/gemm_packed_layout.hpp"

namespace mixprec {
namespace {

detail::packed_b_layout packed_layout(dtype t) {
  const detail::packed_b_layout lay = detail::packed_b_layout_of(t);
  if (lay.nr == 0)
    MIXPREC_THROW(unsupported, "packed_matrix::pack", "B is ", name_of(t),
                  "; weights are packed from f64, f32, f16, bf16 or i8");
  return lay;
}

}  // namespace

packed_matrix packed_matrix::pack(const_view b, trans tb) {
  constexpr const char* op = "packed_matrix::pack";
  if (b.ctx().empty()) MIXPREC_THROW(invalid_argument, op, "B has no context");
  if (b.rank() != 2) MIXPREC_THROW(shape_mismatch, op, "B must be rank 2 (k x n), not rank ", b.rank());
  const detail::packed_b_layout lay = packed_layout(b.type());
  std::int64_t k = b.extent(0), n = b.extent(1), rs = b.stride(0), cs = b.stride(1);
  if (tb == trans::yes) {
    std::swap(k, n);
    std::swap(rs, cs);
  }
  auto p = std::make_shared<impl>();
  p->k = k;
  p->n = n;
  p->type = b.type();
  if (b.ctx().kind() == backend::cpu) {
    p->nr = lay.nr;
    p->kgroup = lay.kgroup;
    p->k_padded = (k + lay.kgroup - 1) / lay.kgroup * lay.kgroup;
    if (b.type() == dtype::i8) p->col_sums.assign(std::size_t(n), 0);  // the CPU kernels' zero-point terms
  } else {
    // By columns: panels one column wide whose single k-group is the whole padded column.
    p->k_padded = detail::packed_columns_ld(k);
    p->nr = 1;
    p->kgroup = int(p->k_padded);
  }
  const std::int64_t elements = std::max<std::int64_t>(1, p->k_padded * ((n + p->nr - 1) / p->nr * p->nr));
  p->panels = buffer(b.type(), elements, b.ctx());

  const detail::context_state& st = *detail::state_of(b.ctx());
  detail::dispatch<detail::op_id::gemm_pack>(
      st, b.type(), b.type(), nullptr, accumulation::standard,
      [&](detail::gemm_pack_fn kernel, const detail::exec_args& ex) {
        kernel(ex, k, n, b.data(), rs, cs, p->panels.data(), p->col_sums.empty() ? nullptr : p->col_sums.data());
      },
      [&] { return std::make_pair(std::string(name_of(b.type())), detail::cat(k, "x", n)); });
  packed_matrix out;
  out.impl_ = std::move(p);
  return out;
}

dtype packed_matrix::type() const { return impl_ ? impl_->type : dtype::f32; }
std::int64_t packed_matrix::rows() const { return impl_ ? impl_->k : 0; }
std::int64_t packed_matrix::cols() const { return impl_ ? impl_->n : 0; }
std::size_t packed_matrix::bytes() const { return impl_ ? impl_->panels.bytes() : 0; }
const context& packed_matrix::ctx() const {
  static const context none;
  return impl_ ? impl_->panels.ctx() : none;
}
std::string packed_matrix::layout_name() const {
  if (!impl_) return "empty";
  if (impl_->nr == 1) return detail::cat(name_of(impl_->type), ":columns:ld", impl_->k_padded);
  return detail::cat(name_of(impl_->type), ":nr", impl_->nr, ":kg", impl_->kgroup);
}

namespace detail {
gemm_packed packed_args_of(const packed_matrix& p) {
  const auto& i = packed_matrix_access::of(p);
  return gemm_packed{
      i.panels.data(), i.k, i.n, i.k_padded, i.nr, i.kgroup, i.type, i.col_sums.empty() ? nullptr : i.col_sums.data()};
}
}  // namespace detail

}  // namespace mixprec
