// Reference stencil kernels: one point at a time, serial, written straight from the
// contract in mixprec/stencil.hpp; the multi-sweep is plain sweeps with halo fills between.
#include <cstring>
#include <vector>

#include "kernels/common/halo_fill.hpp"
#include "kernels/common/register_helpers.hpp"

namespace mixprec::kern {
namespace {

template <class S>
struct stencil_ref {
  using C = compute_t<S>;

  static void halo(const detail::exec_args& ex, const detail::grid_args& g, const detail::halo_args& bc) {
    halo_filler<false>::run<S>(ex, g, bc);
  }

  static void apply(const detail::exec_args&, const detail::stencil_args& a) {
    const S* u = static_cast<const S*>(a.u);
    const S* f = static_cast<const S*>(a.f);
    S* out = static_cast<S*>(a.out);
    for (std::int64_t z = 0; z < a.nz; ++z)
      for (std::int64_t y = 0; y < a.ny; ++y)
        for (std::int64_t x = 0; x < a.nx; ++x) {
          const S* at = u + x + y * a.usy + z * a.usz;
          const std::int64_t c_at = x + y * a.csy + z * a.csz;
          C sum = 0;
          for (int p = 0; p < a.npoints; ++p) {
            const detail::stencil_offset o = a.offsets[p];
            const C c = a.coeffs ? C(a.coeffs[p]) : widen(static_cast<const S*>(a.coeff_grids[p])[c_at]);
            const C v = widen(at[o.dx + o.dy * a.usy + o.dz * a.usz]);
            sum = p == 0 ? c * v : sum + c * v;
          }
          const C fv = f ? widen(f[x + y * a.fsy + z * a.fsz]) : C(0);
          C result;
          if (a.coeffs) {
            result = f ? sum + C(a.gamma) * fv : sum;
          } else if (a.mode == detail::stencil_mode::jacobi) {
            const C d = widen(static_cast<const S*>(a.coeff_grids[a.center])[c_at]);
            result = widen(*at) + C(a.omega) * (fv - sum) / d;
          } else {
            result = C(a.alpha) * sum;
            if (a.beta != 0) result += C(a.beta) * widen(*at);
            if (f) result += C(a.gamma) * fv;
          }
          out[x + y * a.osy + z * a.osz] = narrow<S>(result);
        }
  }

  /// Sweeps alternate between a.u and a.out; an even count ends in a.u and is copied over.
  static int sweeps(const detail::exec_args& ex, const detail::stencil_args& a, const detail::halo_args& bc, int k) {
    detail::stencil_args step = a;
    for (int i = 0; i < k; ++i) {
      const bool forward = i % 2 == 0;
      step.u = forward ? a.u : a.out;
      step.usy = forward ? a.usy : a.osy;
      step.usz = forward ? a.usz : a.osz;
      step.out = forward ? a.out : const_cast<void*>(a.u);
      step.osy = forward ? a.osy : a.usy;
      step.osz = forward ? a.osz : a.usz;
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
