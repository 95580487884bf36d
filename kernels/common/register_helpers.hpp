// Registration helpers shared by the kernel folders: a folder describes its kernels as a
// class template with one static function per op, and these add one registry entry per
// (op, dtype) with a name composed as <op>_<dtypes>_<variant>. The registry copies names.
#pragma once

#include "kernels/common/isa_namespace.hpp"

#include <string>

#include "internal/registry.hpp"

namespace mixprec::kern {
inline namespace MIXPREC_KERNEL_ISA {

struct variant_desc {
  const char* suffix;  // "ref", "omp", "avx512", "cuda", ...
  backend where;
  cpu_isa min_isa;
  int priority;
  detail::supports_fn supports;  // null: any problem
};

inline void add_entry(const detail::kernel_sink& sink, const variant_desc& v, detail::op_id op, dtype in, dtype out,
                      detail::any_fn fn) {
  std::string name = std::string(detail::name_of(op)) + "_" + name_of(in);
  if (op == detail::op_id::convert || !detail::is_blas1(op)) name += name_of(out);
  name += "_";
  name += v.suffix;
  sink(detail::kernel_entry{op, v.where, in, out, v.min_isa, v.priority, name.c_str(), v.supports, fn});
}

/// K<T> provides static fill, axpy, axpby, scal, dot, sumsq, asum, amax with the registry
/// signatures (and cg_update, registered by add_cg_update for the float dtypes).
template <template <class> class K, class T>
void add_blas1_set(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::erase;
  using detail::op_id;
  const dtype t = dtype_of<T>;
  add_entry(sink, v, op_id::fill, t, t, erase(&K<T>::fill));
  add_entry(sink, v, op_id::axpy, t, t, erase(&K<T>::axpy));
  add_entry(sink, v, op_id::axpby, t, t, erase(&K<T>::axpby));
  add_entry(sink, v, op_id::scal, t, t, erase(&K<T>::scal));
  add_entry(sink, v, op_id::dot, t, t, erase(&K<T>::dot));
  add_entry(sink, v, op_id::sumsq, t, t, erase(&K<T>::sumsq));
  add_entry(sink, v, op_id::asum, t, t, erase(&K<T>::asum));
  add_entry(sink, v, op_id::amax, t, t, erase(&K<T>::amax));
}

/// Registers an ISA folder's unit-stride BLAS-1 table (f64, f32, f16, bf16).
inline void add_blas1_table(const detail::kernel_sink& sink, const variant_desc& v,
                            const detail::blas1_kernel_table& t) {
  using detail::erase;
  using detail::op_id;
  const dtype types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  for (int i = 0; i < 4; ++i) {
    add_entry(sink, v, op_id::fill, types[i], types[i], erase(t.fill[i]));
    add_entry(sink, v, op_id::axpy, types[i], types[i], erase(t.axpy[i]));
    add_entry(sink, v, op_id::axpby, types[i], types[i], erase(t.axpby[i]));
    add_entry(sink, v, op_id::scal, types[i], types[i], erase(t.scal[i]));
    add_entry(sink, v, op_id::dot, types[i], types[i], erase(t.dot[i]));
    add_entry(sink, v, op_id::sumsq, types[i], types[i], erase(t.sumsq[i]));
    add_entry(sink, v, op_id::asum, types[i], types[i], erase(t.asum[i]));
    add_entry(sink, v, op_id::amax, types[i], types[i], erase(t.amax[i]));
  }
  for (int i = 0; i < 2; ++i) {
    add_entry(sink, v, op_id::mdot, types[i], types[i], erase(t.mdot[i]));
    add_entry(sink, v, op_id::maxpy, types[i], types[i], erase(t.maxpy[i]));
    add_entry(sink, v, op_id::cg_update, types[i], types[i], erase(t.cg_update[i]));
    add_entry(sink, v, op_id::diag_scale, types[i], types[i], erase(t.diag_scale[i]));
    add_entry(sink, v, op_id::pcg_jacobi_update, types[i], types[i], erase(t.pcg_jacobi_update[i]));
  }
}

/// CG's fused update for f64 and f32 vectors.
template <template <class> class K>
void add_cg_update(const detail::kernel_sink& sink, const variant_desc& v) {
  add_entry(sink, v, detail::op_id::cg_update, dtype::f64, dtype::f64, detail::erase(&K<double>::cg_update));
  add_entry(sink, v, detail::op_id::cg_update, dtype::f32, dtype::f32, detail::erase(&K<float>::cg_update));
}

/// The diagonal ops of point Jacobi (diag_scale, pcg_jacobi_update) for f64 and f32 vectors.
template <template <class> class K>
void add_diagonal_ops(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::erase;
  using detail::op_id;
  add_entry(sink, v, op_id::diag_scale, dtype::f64, dtype::f64, erase(&K<double>::diag_scale));
  add_entry(sink, v, op_id::diag_scale, dtype::f32, dtype::f32, erase(&K<float>::diag_scale));
  add_entry(sink, v, op_id::pcg_jacobi_update, dtype::f64, dtype::f64, erase(&K<double>::pcg_jacobi_update));
  add_entry(sink, v, op_id::pcg_jacobi_update, dtype::f32, dtype::f32, erase(&K<float>::pcg_jacobi_update));
}

/// The multi-vector ops of Krylov bases (mdot, maxpy) for f64 and f32 vectors.
template <template <class> class K>
void add_multi_vector_ops(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::erase;
  using detail::op_id;
  add_entry(sink, v, op_id::mdot, dtype::f64, dtype::f64, erase(&K<double>::mdot));
  add_entry(sink, v, op_id::mdot, dtype::f32, dtype::f32, erase(&K<float>::mdot));
  add_entry(sink, v, op_id::maxpy, dtype::f64, dtype::f64, erase(&K<double>::maxpy));
  add_entry(sink, v, op_id::maxpy, dtype::f32, dtype::f32, erase(&K<float>::maxpy));
}

/// C<Src, Dst> provides static run with the convert signature.
template <template <class, class> class C, class Src, class Dst>
void add_convert(const detail::kernel_sink& sink, const variant_desc& v) {
  add_entry(sink, v, detail::op_id::convert, dtype_of<Src>, dtype_of<Dst>, detail::erase(&C<Src, Dst>::run));
}

/// Registers a folder's quantize and dequantize kernels (detail::quant_kernel_table).
inline void add_quant_set(const detail::kernel_sink& sink, const variant_desc& v, const detail::quant_kernel_table& t) {
  const dtype sources[] = {dtype::f32, dtype::bf16, dtype::f16};
  const dtype targets[] = {dtype::i8, dtype::u8};
  for (int s = 0; s < 3; ++s)
    for (int q = 0; q < 2; ++q)
      add_entry(sink, v, detail::op_id::quantize, sources[s], targets[q], detail::erase(t.quantize[s * 2 + q]));
  for (int q = 0; q < 2; ++q)
    add_entry(sink, v, detail::op_id::dequantize, targets[q], dtype::f32, detail::erase(t.dequantize[q]));
}

/// Registers an ISA folder's stencil kernels: halo fill and stencil as `v`, the time-blocked
/// sweeps as `sweeps`.
inline void add_stencil_table(const detail::kernel_sink& sink, const variant_desc& v, const variant_desc& sweeps,
                              const detail::stencil_kernel_table& t) {
  const dtype types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  for (int i = 0; i < 4; ++i) {
    add_entry(sink, v, detail::op_id::halo_fill, types[i], types[i], detail::erase(t.halo[i]));
    add_entry(sink, v, detail::op_id::stencil, types[i], types[i], detail::erase(t.apply[i]));
    add_entry(sink, sweeps, detail::op_id::stencil_sweeps, types[i], types[i], detail::erase(t.sweeps[i]));
  }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
