// Reference stencil kernels: one point at a time (stencil_point.hpp, the body the CUDA
// kernel runs too), serial; the multi-sweep is plain sweeps with halo fills between.
#include <cstring>
#include <vector>

#include "kernels/common/halo_fill.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/common/stencil_point.hpp"

namespace mixprec::kern {
namespace {

template <class S>
struct stencil_ref {
  static void halo(const detail::exec_args& ex, const detail::grid_args& g, const detail::halo_args& bc) {
    halo_filler<false>::run<S>(ex, g, bc);
  }

  static void apply(const detail::exec_args&, const detail::stencil_args& a) {
    const stencil_points pts{a.offsets, a.coeffs, a.coeff_grids};
    for (std::int64_t z = 0; z < a.nz; ++z)
      for (std::int64_t y = 0; y < a.ny; ++y)
        for (std::int64_t x = 0; x < a.nx; ++x) stencil_point<S>(a, pts, x, y, z);
  }

  /// Sweeps alternate between a.u and a.out; an even count ends in a.u and is copied over.
  static int sweeps(const detail::exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc, int k) {
    for (int i = 0; i < k; ++i) {
      const detail::stencil_args step = sweep_step(a, i);
      apply(ex, step);
      if (i + 1 < k) {
        const detail::grid_args g{step.out, a.nx, a.ny, a.nz, step.osy, step.osz, a.radius, a.dims};
        halo(ex, g, bc);
      }
    }
    if (k % 2 == 0) {
      const S* src = static_cast<const S*>(a.u);
      S* dst = static_cast<S*>(a.out);
      for (std::int64_t z = 0; z < a.nz; ++z)
        for (std::int64_t y = 0; y < a.ny; ++y)
          std::memcpy(dst + y * a.osy + z * a.osz, src + y * a.usy + z * a.usz, std::size_t(a.nx) * sizeof(S));
    }
    return k;
  }
};

}  // namespace
}  // namespace mixprec::kern

namespace mixprec::detail {
void register_cpu_ref_stencil_kernels(const kernel_sink& sink) {
  const kern::variant_desc v{"ref", backend::cpu, cpu_isa::generic, nullptr};
  auto one = [&](auto tag) {
    using S = decltype(tag);
    const dtype t = dtype_of<S>;
    kern::add_kernel<detail::op_id::halo_fill>(sink, v, t, t, &kern::stencil_ref<S>::halo);
    kern::add_kernel<detail::op_id::stencil>(sink, v, t, t, &kern::stencil_ref<S>::apply);
    kern::add_kernel<detail::op_id::stencil_sweeps>(sink, v, t, t, &kern::stencil_ref<S>::sweeps);
  };
  one(double{});
  one(float{});
  one(half{});
  one(bfloat16{});
}
}  // namespace mixprec::detail
