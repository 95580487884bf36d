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
  /// The name's last part: [index type_][technique_]<ISA level or backend>, as "ref",
  /// "generic", "avx2", "avx512", "avx512_bf16", "cuda", "i32_gather_avx512",
  /// "loops_avx2", "sell8_avx512", "wavefront_avx512". "ref" is the one-thread reference;
  /// "generic" the portable parallel loops; a technique is named where one ISA folder offers
  /// an op in more than one way (loops: the portable loops built with that ISA's flags).
  /// Its place in the op's list (src/implementation_lists.cpp) decides the dispatch order.
  const char* suffix;
  backend where;
  cpu_isa min_isa;
  detail::supports_fn supports;  // null: any problem
};

/// Adds kernel `fn` of op Op for dtypes (in, out); fn must have Op's kernel type
/// (detail::op_kernel). The name is composed as <op>_<dtypes>_<variant>.
template <detail::op_id Op>
void add_kernel(const detail::kernel_sink& sink, const variant_desc& v, dtype in, dtype out,
                detail::kernel_fn_t<Op> fn) {
  std::string name = std::string(detail::name_of(Op)) + "_" + name_of(in);
  if (Op == detail::op_id::convert || !detail::is_blas1(Op)) name += name_of(out);
  name += "_";
  name += v.suffix;
  sink(detail::kernel_entry{Op, v.where, in, out, v.min_isa, v.suffix, 0, name.c_str(), v.supports,
                            reinterpret_cast<detail::any_fn>(fn)});
}

/// K<T> provides static fill, axpy, axpby, scal, dot, sumsq, asum, amax with the registry
/// signatures (and cg_update, registered by add_cg_update for the float dtypes).
template <template <class> class K, class T>
void add_blas1_set(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::op_id;
  const dtype t = dtype_of<T>;
  add_kernel<detail::op_id::fill>(sink, v, t, t, &K<T>::fill);
  add_kernel<detail::op_id::axpy>(sink, v, t, t, &K<T>::axpy);
  add_kernel<detail::op_id::axpby>(sink, v, t, t, &K<T>::axpby);
  add_kernel<detail::op_id::scal>(sink, v, t, t, &K<T>::scal);
  add_kernel<detail::op_id::dot>(sink, v, t, t, &K<T>::dot);
  add_kernel<detail::op_id::sumsq>(sink, v, t, t, &K<T>::sumsq);
  add_kernel<detail::op_id::asum>(sink, v, t, t, &K<T>::asum);
  add_kernel<detail::op_id::amax>(sink, v, t, t, &K<T>::amax);
}

/// Registers an ISA folder's unit-stride BLAS-1 table (f64, f32, f16, bf16).
inline void add_blas1_table(const detail::kernel_sink& sink, const variant_desc& v,
                            const detail::blas1_kernel_table& t) {
  using detail::op_id;
  const dtype types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  for (int i = 0; i < 4; ++i) {
    add_kernel<detail::op_id::fill>(sink, v, types[i], types[i], t.fill[i]);
    add_kernel<detail::op_id::axpy>(sink, v, types[i], types[i], t.axpy[i]);
    add_kernel<detail::op_id::axpby>(sink, v, types[i], types[i], t.axpby[i]);
    add_kernel<detail::op_id::scal>(sink, v, types[i], types[i], t.scal[i]);
    add_kernel<detail::op_id::dot>(sink, v, types[i], types[i], t.dot[i]);
    add_kernel<detail::op_id::sumsq>(sink, v, types[i], types[i], t.sumsq[i]);
    add_kernel<detail::op_id::asum>(sink, v, types[i], types[i], t.asum[i]);
    add_kernel<detail::op_id::amax>(sink, v, types[i], types[i], t.amax[i]);
  }
  for (int i = 0; i < 2; ++i) {
    add_kernel<detail::op_id::mdot>(sink, v, types[i], types[i], t.mdot[i]);
    add_kernel<detail::op_id::maxpy>(sink, v, types[i], types[i], t.maxpy[i]);
    add_kernel<detail::op_id::mdot2>(sink, v, types[i], types[i], t.mdot2[i]);
    add_kernel<detail::op_id::dcgs2_update>(sink, v, types[i], types[i], t.dcgs2_update[i]);
    add_kernel<detail::op_id::cg_update>(sink, v, types[i], types[i], t.cg_update[i]);
    add_kernel<detail::op_id::diag_scale>(sink, v, types[i], types[i], t.diag_scale[i]);
    add_kernel<detail::op_id::pcg_jacobi_update>(sink, v, types[i], types[i], t.pcg_jacobi_update[i]);
    add_kernel<detail::op_id::row_dots>(sink, v, types[i], dtype::f64, t.row_dots[i]);
  }
}

/// CG's fused update for f64 and f32 vectors.
template <template <class> class K>
void add_cg_update(const detail::kernel_sink& sink, const variant_desc& v) {
  add_kernel<detail::op_id::cg_update>(sink, v, dtype::f64, dtype::f64, &K<double>::cg_update);
  add_kernel<detail::op_id::cg_update>(sink, v, dtype::f32, dtype::f32, &K<float>::cg_update);
}

/// The diagonal ops of point Jacobi (diag_scale, pcg_jacobi_update) for f64 and f32 vectors.
template <template <class> class K>
void add_diagonal_ops(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::op_id;
  add_kernel<detail::op_id::diag_scale>(sink, v, dtype::f64, dtype::f64, &K<double>::diag_scale);
  add_kernel<detail::op_id::diag_scale>(sink, v, dtype::f32, dtype::f32, &K<float>::diag_scale);
  add_kernel<detail::op_id::pcg_jacobi_update>(sink, v, dtype::f64, dtype::f64, &K<double>::pcg_jacobi_update);
  add_kernel<detail::op_id::pcg_jacobi_update>(sink, v, dtype::f32, dtype::f32, &K<float>::pcg_jacobi_update);
}

/// The multi-vector ops of Krylov bases (mdot, maxpy) for f64 and f32 vectors.
template <template <class> class K>
void add_multi_vector_ops(const detail::kernel_sink& sink, const variant_desc& v) {
  using detail::op_id;
  add_kernel<detail::op_id::mdot>(sink, v, dtype::f64, dtype::f64, &K<double>::mdot);
  add_kernel<detail::op_id::mdot>(sink, v, dtype::f32, dtype::f32, &K<float>::mdot);
  add_kernel<detail::op_id::maxpy>(sink, v, dtype::f64, dtype::f64, &K<double>::maxpy);
  add_kernel<detail::op_id::maxpy>(sink, v, dtype::f32, dtype::f32, &K<float>::maxpy);
}

/// The rows-times-f64-vector products of the dense solves (row_dots) for f64 and f32 rows.
template <template <class> class K>
void add_row_dots(const detail::kernel_sink& sink, const variant_desc& v) {
  add_kernel<detail::op_id::row_dots>(sink, v, dtype::f64, dtype::f64, &K<double>::row_dots);
  add_kernel<detail::op_id::row_dots>(sink, v, dtype::f32, dtype::f64, &K<float>::row_dots);
}

/// The ops of a DCGS2 Arnoldi step (mdot2, dcgs2_update) for f64 and f32 vectors.
template <template <class> class K>
void add_dcgs2_ops(const detail::kernel_sink& sink, const variant_desc& v) {
  add_kernel<detail::op_id::mdot2>(sink, v, dtype::f64, dtype::f64, &K<double>::mdot2);
  add_kernel<detail::op_id::mdot2>(sink, v, dtype::f32, dtype::f32, &K<float>::mdot2);
  add_kernel<detail::op_id::dcgs2_update>(sink, v, dtype::f64, dtype::f64, &K<double>::dcgs2_update);
  add_kernel<detail::op_id::dcgs2_update>(sink, v, dtype::f32, dtype::f32, &K<float>::dcgs2_update);
}

/// C<Src, Dst> provides static run with the convert signature.
template <template <class, class> class C, class Src, class Dst>
void add_convert(const detail::kernel_sink& sink, const variant_desc& v) {
  add_kernel<detail::op_id::convert>(sink, v, dtype_of<Src>, dtype_of<Dst>, &C<Src, Dst>::run);
}

/// Registers a folder's quantize and dequantize kernels (detail::quant_kernel_table).
inline void add_quant_set(const detail::kernel_sink& sink, const variant_desc& v, const detail::quant_kernel_table& t) {
  const dtype sources[] = {dtype::f32, dtype::bf16, dtype::f16};
  const dtype targets[] = {dtype::i8, dtype::u8};
  for (int s = 0; s < 3; ++s)
    for (int q = 0; q < 2; ++q)
      add_kernel<detail::op_id::quantize>(sink, v, sources[s], targets[q], t.quantize[s * 2 + q]);
  for (int q = 0; q < 2; ++q) add_kernel<detail::op_id::dequantize>(sink, v, targets[q], dtype::f32, t.dequantize[q]);
}

/// Registers an ISA folder's stencil kernels: halo fill and stencil as `v`, the time-blocked
/// sweeps as `sweeps`.
inline void add_stencil_table(const detail::kernel_sink& sink, const variant_desc& v, const variant_desc& sweeps,
                              const detail::stencil_kernel_table& t) {
  const dtype types[] = {dtype::f64, dtype::f32, dtype::f16, dtype::bf16};
  for (int i = 0; i < 4; ++i) {
    add_kernel<detail::op_id::halo_fill>(sink, v, types[i], types[i], t.halo[i]);
    add_kernel<detail::op_id::stencil>(sink, v, types[i], types[i], t.apply[i]);
    add_kernel<detail::op_id::stencil_sweeps>(sink, sweeps, types[i], types[i], t.sweeps[i]);
  }
}

/// NN row kernels that compute their statistics in f32 only.
inline bool supports_f32_statistics(const void* problem, const char** why) {
  if (static_cast<const detail::nn_problem*>(problem)->acc == accumulation::standard) return true;
  *why = "computes its statistics in f32";
  return false;
}

/// Registers a folder's NN row kernels (detail::nn_kernel_table: f32, bf16, f16); null
/// entries (a folder that covers some storage dtypes only) are left out.
inline void add_nn_table(const detail::kernel_sink& sink, const variant_desc& v, const detail::nn_kernel_table& t) {
  const dtype types[] = {dtype::f32, dtype::bf16, dtype::f16};
  for (int i = 0; i < 3; ++i) {
    if (t.eltwise[i]) add_kernel<detail::op_id::eltwise>(sink, v, types[i], types[i], t.eltwise[i]);
    if (t.softmax[i]) add_kernel<detail::op_id::softmax>(sink, v, types[i], types[i], t.softmax[i]);
    if (t.norm[i]) add_kernel<detail::op_id::norm>(sink, v, types[i], types[i], t.norm[i]);
    if (t.rope[i]) add_kernel<detail::op_id::rope>(sink, v, types[i], types[i], t.rope[i]);
  }
}

/// Registers a folder's attention kernels (detail::attention_kernel_table), keyed (KV dtype,
/// q/out dtype).
inline void add_attention_table(const detail::kernel_sink& sink, const variant_desc& v,
                                const detail::attention_kernel_table& t) {
  const dtype io[] = {dtype::f32, dtype::bf16, dtype::f16};
  const dtype kv[] = {dtype::f32, dtype::bf16, dtype::f16, dtype::i8};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) add_kernel<detail::op_id::attention>(sink, v, kv[j], io[i], t.fn[i][j]);
}

/// Registers a folder's training kernels (detail::train_kernel_table): f32, bf16, f16
/// storage; the optimizer keyed (grad dtype, model dtype). Null entries are left out.
inline void add_train_table(const detail::kernel_sink& sink, const variant_desc& v,
                            const detail::train_kernel_table& t) {
  const dtype types[] = {dtype::f32, dtype::bf16, dtype::f16};
  for (int i = 0; i < 3; ++i) {
    if (t.eltwise_backward[i])
      add_kernel<detail::op_id::eltwise_backward>(sink, v, types[i], types[i], t.eltwise_backward[i]);
    if (t.softmax_backward[i])
      add_kernel<detail::op_id::softmax_backward>(sink, v, types[i], types[i], t.softmax_backward[i]);
    if (t.norm_backward[i]) add_kernel<detail::op_id::norm_backward>(sink, v, types[i], types[i], t.norm_backward[i]);
    if (t.cross_entropy[i]) add_kernel<detail::op_id::cross_entropy>(sink, v, types[i], types[i], t.cross_entropy[i]);
    if (t.unscale[i]) add_kernel<detail::op_id::unscale>(sink, v, types[i], types[i], t.unscale[i]);
    for (int j = 0; j < 3; ++j)
      if (t.optimizer[i][j]) add_kernel<detail::op_id::optimizer>(sink, v, types[i], types[j], t.optimizer[i][j]);
  }
}

}  // namespace MIXPREC_KERNEL_ISA
}  // namespace mixprec::kern
