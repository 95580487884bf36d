// The one place that orders kernels: per op, its implementations best first and the
// reference last, each with why it sits where it does. The registry ranks every kernel by
// its variant's place here; dispatch then tries, for a call's (op, backend, dtypes), the
// kernels in that order and takes the first the machine can run and whose supports()
// accepts the problem. Backends never compete (a context has one), so "cuda" heads the
// lists it is in only to be listed. A kernel whose variant is missing from its op's list
// ranks after all of them, and the test suite fails on it
// (context.every_kernel_is_in_its_implementation_list).
#include "internal/registry.hpp"

#include <cstring>
#include <iterator>

namespace mixprec::detail {
namespace {

constexpr implementation cuda{"cuda", "the CUDA plugin's, on the context's device"};
constexpr implementation ref{"ref",
                             "one thread, in order, written from the definition: the fallback and the tests' oracle"};
constexpr implementation generic{"generic", "portable loops on the context's threads, any stride, any CPU"};

#define MIXPREC_LIST(name, ...)                            \
  constexpr implementation name##_items[] = {__VA_ARGS__}; \
  constexpr implementation_list name { name##_items, int(std::size(name##_items)) }

// BLAS-1, the fused Krylov updates and the multi-vector ops.
MIXPREC_LIST(vector_ops, cuda,
             {"avx512", "explicit 512-bit bodies, several accumulators, masked tails; unit strides only"},
             {"avx2", "the same bodies on 256-bit vectors, F16C for f16; unit strides only"}, generic, ref);

MIXPREC_LIST(convert_ops, cuda,
             {"avx512_bf16", "f32 -> bf16 by vcvtneps2bf16 (a vector with a subnormal by integers); unit strides only"},
             {"avx512", "16 lanes through f32 registers, f64 rounded to odd before 16-bit targets; unit strides"},
             {"avx2", "8 lanes with F16C, the same rounding; unit strides only"}, generic, ref);

// Index type first: i32 and i64 kernels never compete (supports() takes one index type).
MIXPREC_LIST(csr_ops, {"i32_cusparse", "cuSPARSE's deterministic CSR SpMV (CSR_ALG2), f64 and f32"},
             {"i64_cusparse", "as i32_cusparse, 64-bit indices"},
             {"i32_cuda", "one CUDA thread per row running the CPU's row sum: 16-bit values, f64 accumulation"},
             {"i64_cuda", "as i32_cuda, 64-bit indices"},
             {"i32_loops_avx512",
              "the scalar row loops (runs of equal-length rows, two partial sums, prefetch) "
              "built with FMA and F16C"},
             {"i64_loops_avx512", "as i32_loops_avx512, 64-bit indices"},
             {"i32_loops_avx2", "the same loops built for AVX2 + FMA + F16C"},
             {"i64_loops_avx2", "as i32_loops_avx2, 64-bit indices"},
             {"i32_generic", "the same loops, baseline flags (f16 widened by bit manipulation)"},
             {"i64_generic", "as i32_generic, 64-bit indices"},
             {"i32_gather_avx512",
              "8 or 16 entries per step, x gathered: slower than the scalar loops where "
              "gathers are slow (docs/performance-notes.md); forced by name where they are not"},
             {"i32_ref", "one thread, entry by entry through the CUDA SpMM's strided row sum: the oracle"},
             {"i64_ref", "as i32_ref, 64-bit indices"});

MIXPREC_LIST(spmm_ops, {"i32_cuda", "a CUDA thread per entry of Y, each column summed as the own CSR SpMV sums it"},
             {"i64_cuda", "as i32_cuda, 64-bit indices"},
             {"i32_loops_avx512", "CSR rows over k right-hand sides, summed as SpMV sums them"},
             {"i64_loops_avx512", "as i32_loops_avx512, 64-bit indices"},
             {"i32_loops_avx2", "the same loops built for AVX2 + FMA + F16C"},
             {"i64_loops_avx2", "as i32_loops_avx2, 64-bit indices"}, {"i32_generic", "the same loops, baseline flags"},
             {"i64_generic", "as i32_generic, 64-bit indices"},
             {"i32_ref", "one thread, entry by entry through the CUDA SpMM's strided row sum: the oracle"},
             {"i64_ref", "as i32_ref, 64-bit indices"});

MIXPREC_LIST(sell_ops, cuda,
             {"sell8_avx512",
              "one row per f64 lane, x by scalar loads, no per-row reduction: 2-3x the scalar "
              "loops; slices of 8 rows only"},
             {"loops_avx512", "the scalar slice loops built with FMA and F16C"},
             {"loops_avx2", "the same loops built for AVX2 + FMA + F16C"},
             {"generic", "the same loops, baseline flags"},
             {"ref",
              "one thread, slot by slot through the CUDA kernel's body (sell_slot): the fallback and its check"});

MIXPREC_LIST(dia_ops, cuda,
             {"avx512", "register blocks of rows walk the diagonals: contiguous loads, no indices, no gathers"},
             {"avx2", "the portable diagonal loops vectorised 4 or 8 lanes wide with FMA and F16C"}, generic, ref);

MIXPREC_LIST(stencil_ops, cuda, {"avx512", "the row engine as 512-bit FMAs; box stencils shift rows in registers"},
             {"avx2", "the row engine as 256-bit FMAs, F16C rows"}, {"generic", "the row engine, baseline flags"},
             {"ref", "one point at a time, serial: the oracle"});

MIXPREC_LIST(sweeps_ops, cuda,
             {"wavefront_avx512", "several sweeps per pass over cache-sized blocks (wavefront), 512-bit rows"},
             {"wavefront_avx2", "the same wavefront, 256-bit rows"},
             {"wavefront_generic", "the same wavefront, baseline flags"},
             {"ref", "one sweep at a time, one point at a time: the oracle"});

MIXPREC_LIST(gemm_ops,
             {"cublas",
              "cuBLAS GemmStridedBatchedEx on the context's stream; epilogues and zero points by a "
              "thread per element after it"},
             {"avx512_bf16", "vdpbf16ps (bf16 pairs) and vpdpbusd (u8 x s8 quads) microkernels"},
             {"avx512", "512-bit FMA microkernels; f16 B widened by vcvtph2ps as it is loaded"},
             {"avx2", "256-bit FMA microkernels; bf16 and int8 split into f32 FMAs and vpmaddwd"},
             {"generic", "the blocked driver with the portable microkernel"},
             {"ref", "triple loop, one thread: the oracle"});

MIXPREC_LIST(convert_grid_ops, cuda,
             {"ref", "the CUDA body's oracle: CPU grids are copied row by row by the convert kernels"});

MIXPREC_LIST(gemm_pack_ops, {"columns_cuda", "a GPU copy column by column, the vendor GEMM's operand form"},
             {"ref", "a copy into panels, once per weight: not worth an ISA variant"});

MIXPREC_LIST(quant_ops, cuda, {"avx512", "16 elements per step, the scalar rule in vector form; unit column strides"},
             {"avx2", "8 elements per step, the same rule; unit column strides"},
             {"generic", "rows split among threads, the scalar rule"},
             {"ref", "one thread, row by row, the scalar rule: the oracle"});

MIXPREC_LIST(multigrid_ops, cuda, {"avx512", "the shared bodies vectorised 8 (f64) or 16 (f32) lanes wide"},
             {"avx2", "the shared bodies vectorised 4 or 8 lanes wide"},
             {"generic", "the shared bodies, baseline flags"},
             {"ref", "one thread, the point bodies the CUDA kernels run, point by point"});

MIXPREC_LIST(
    rows_solve_ops, cuda,
    {"generic",
     "independent rows on the context's threads (no ref: the tests check each row's residual in long double)"});

MIXPREC_LIST(nn_row_ops, cuda,
             {"avx512_bf16", "bf16 storage: the avx512 bodies, results rounded by vcvtneps2bf16 (subnormals apart)"},
             {"avx512", "16 f32 lanes, exp/erfc by f32 fits in registers, masked tails; f32 statistics only"},
             {"avx2", "8 f32 lanes, the same body; f32 statistics only"},
             {"generic", "one lane at a time on the context's threads; f64 statistics when asked"},
             {"ref",
              "one thread, by the CUDA kernels' lane bodies (nn_lanes.hpp, four lanes in turn): the fallback,"
              " and their check on the CPU (the tests' oracle is f64)"});

MIXPREC_LIST(block_matmul_ops, cuda,
             {"avx512_bf16", "vpdpbusd on two blocks per zmm, f32 lanes scaled per block, one reduction per output"},
             {"generic", "weight rows split among threads, each read once for all m rows; x quantized once per call"},
             {"ref", "one thread, output by output through the CUDA kernels' bodies: the fallback and their check"});

MIXPREC_LIST(attention_ops, cuda,
             {"avx512_bf16", "bf16 q and cache: the avx512 tiles with Q K^T and P V (P in bf16) on vdpbf16ps"},
             {"avx512", "tiles of 16 query rows in the lanes, keys in blocks of 32 widened in L1, online softmax"},
             {"avx2", "the same tiles, 8 rows in the lanes"},
             {"generic", "one query row per tile, tiles on the context's threads"},
             {"ref",
              "one thread, by the CUDA kernel's lane bodies (attention_lanes.hpp, tiles of four keys, rows"
              " past eight keys in two merged splits): the fallback, and their check on the CPU (the tests'"
              " oracle is f64)"});

// The KV cache's append and the finiteness scan of the attention front ends.
MIXPREC_LIST(kv_cache_ops, cuda,
             {"ref", "one thread, by the CUDA kernels' lane bodies (attention_lanes.hpp, four lanes in turn)"});

MIXPREC_LIST(train_ops, cuda,
             {"avx512_bf16", "bf16 results (gradients, model copy): the avx512 bodies, rounded by vcvtneps2bf16"},
             {"avx512", "16 f32 lanes, the shared bodies; exp/erfc by f32 fits in registers"},
             {"avx2", "8 f32 lanes, the same bodies"},
             {"generic", "one lane at a time, rows or flat ranges on the context's threads"},
             {"ref",
              "one thread, by the CUDA kernels' lane bodies (train_lanes.hpp, four lanes in turn): the fallback,"
              " and their check on the CPU (the tests' oracle is f64)"});

#undef MIXPREC_LIST

}  // namespace

implementation_list implementations_of(op_id op) {
  switch (op) {  // no default: a new op without a list is a compiler warning
    case op_id::fill:
    case op_id::axpy:
    case op_id::axpby:
    case op_id::scal:
    case op_id::dot:
    case op_id::sumsq:
    case op_id::asum:
    case op_id::amax:
    case op_id::cg_update:
    case op_id::mdot:
    case op_id::maxpy:
    case op_id::mdot2:
    case op_id::dcgs2_update:
    case op_id::diag_scale:
    case op_id::pcg_jacobi_update:
    case op_id::row_dots:
      return vector_ops;
    case op_id::convert:
      return convert_ops;
    case op_id::spmv_csr:
      return csr_ops;
    case op_id::spmm_csr:
      return spmm_ops;
    case op_id::spmv_sell:
      return sell_ops;
    case op_id::spmv_dia:
      return dia_ops;
    case op_id::halo_fill:
    case op_id::stencil:
      return stencil_ops;
    case op_id::stencil_sweeps:
      return sweeps_ops;
    case op_id::gemm:
      return gemm_ops;
    case op_id::gemm_pack:
      return gemm_pack_ops;
    case op_id::convert_grid:
      return convert_grid_ops;
    case op_id::quantize:
    case op_id::dequantize:
      return quant_ops;
    case op_id::mg_smooth:
    case op_id::mg_restrict:
    case op_id::mg_prolong:
      return multigrid_ops;
    case op_id::csr_rows_solve:
      return rows_solve_ops;
    case op_id::eltwise:
    case op_id::softmax:
    case op_id::norm:
    case op_id::rope:
    case op_id::embedding:
      return nn_row_ops;
    case op_id::block_matmul:
      return block_matmul_ops;
    case op_id::attention:
      return attention_ops;
    case op_id::kv_append:
    case op_id::find_non_finite:
      return kv_cache_ops;
    case op_id::eltwise_backward:
    case op_id::softmax_backward:
    case op_id::norm_backward:
    case op_id::cross_entropy:
    case op_id::unscale:
    case op_id::optimizer:
      return train_ops;
    case op_id::count_:
      break;
  }
  return {nullptr, 0};
}

int implementation_rank(op_id op, const char* variant) {
  const implementation_list list = implementations_of(op);
  for (int i = 0; i < list.count; ++i)
    if (std::strcmp(list.items[i].variant, variant) == 0) return i;
  return -1;
}

}  // namespace mixprec::detail
