// CUDA GEMM through cuBLAS (cublasGemmStridedBatchedEx): f64, f32 (FP32 math; TF32 when the
// caller allows it, f32_mode::allow_tf32), f16 and bf16 with f32 accumulation, i8 -> i32. Row- or column-major operands
// of any leading dimension; a row-major C is computed as C^T = B^T A^T. A GEMM that cuBLAS's plain call cannot finish
// (an epilogue, a C of another dtype or layout, an s32 C that saturates) runs in two steps: cuBLAS writes the
// accumulators to scratch, then a thread per element finishes C by the reference GEMM's element epilogue
// (kernels/common/gemm_finish_element.hpp). cuBLAS's int8 GEMM refuses leading dimensions that are not multiples of 4,
// and has no zero points or u8 A: such integer GEMMs stage their operands first (A's rows and B's columns as s8 lines
// of a padded length, a u8 A shifted by -128; a B already in that form, as a packed one, is read in place), cuBLAS
// multiplies the lines, and the finishing threads correct each sum by A's row sums and B's column sums, as the CPU
// kernels do. A B packed on the device is stored by columns (internal/gemm_packed_layout.hpp) and multiplied as the
// strided matrix it is. What cuBLAS cannot compute at all (operands without a unit stride, A and B of two dtypes) is
// declined by supports(), with the reason in dispatch's error.
#include "internal/gemm_packed_layout.hpp"
#include "kernels/common/gemm_finish_element.hpp"
#include "kernels/common/register_helpers.hpp"
#include "kernels/cuda/plugin_state.cuh"
#include "kernels/cuda/vendor_libraries.cuh"

namespace mixprec::cuda {
namespace {

using idx = std::int64_t;
using detail::exec_args;

/// An operand as rows x cols with element strides; transposed() views it the other way.
struct operand {
  const void* data;
  idx rows, cols, rs, cs, bs;
  operand transposed() const { return {data, cols, rows, cs, rs, bs}; }
};

/// The operand in cuBLAS's column-major terms: op and leading dimension, or false.
bool column_major(const operand& o, cublasOperation_t* op, idx* ld) {
  const idx r = std::max<idx>(1, o.rows), c = std::max<idx>(1, o.cols);
  if (o.rs == 1 && (o.cols <= 1 || o.cs >= r)) {
    *op = CUBLAS_OP_N;
    *ld = o.cols <= 1 ? r : o.cs;
    return true;
  }
  if (o.cs == 1 && (o.rows <= 1 || o.rs >= c)) {
    *op = CUBLAS_OP_T;
    *ld = o.rows <= 1 ? c : o.rs;
    return true;
  }
  return false;
}

/// The call cuBLAS gets: first * second = out, all column-major.
struct plan {
  idx m, n, k;
  operand first, second;
  cublasOperation_t op1, op2;
  idx ld1, ld2, ldc, cbs;
  void* c;
};

bool plan_for(const detail::gemm_args& g, plan* p, const char** why) {
  const operand a{g.a.data, g.m, g.k, g.a.rs, g.a.cs, g.a.bs}, b{g.b.data, g.k, g.n, g.b.rs, g.b.cs, g.b.bs};
  const idx m = std::max<idx>(1, g.m), n = std::max<idx>(1, g.n);
  if (g.crs == 1 && (g.n <= 1 || g.ccs >= m)) {
    *p = plan{g.m, g.n, g.k, a, b, {}, {}, 0, 0, g.n <= 1 ? m : g.ccs, g.cbs, g.c};
  } else if (g.ccs == 1 && (g.m <= 1 || g.crs >= n)) {
    *p = plan{g.n, g.m, g.k, b.transposed(), a.transposed(), {}, {}, 0, 0, g.m <= 1 ? n : g.crs, g.cbs, g.c};
  } else {
    *why = "cuBLAS needs C with a unit row or column stride";
    return false;
  }
  if (!column_major(p->first, &p->op1, &p->ld1) || !column_major(p->second, &p->op2, &p->ld2)) {
    *why = "cuBLAS needs A and B with a unit row or column stride";
    return false;
  }
  const idx limit = 0x7fffffff;
  if (p->m > limit || p->n > limit || p->k > limit || p->ld1 > limit || p->ld2 > limit || p->ldc > limit ||
      g.batch > limit) {
    *why = "cuBLAS's 32-bit sizes cannot hold this GEMM";
    return false;
  }
  return true;
}

struct types {
  cudaDataType ab, c;
  cublasComputeType_t compute;
};

bool types_for(const detail::gemm_args& g, types* t, const char** why) {
  const bool c32f = g.c_type == dtype::f32;
  switch (g.a_type) {
    case dtype::f64:
      *t = {CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F};
      return g.c_type == dtype::f64 || (*why = "cuBLAS's f64 GEMM writes f64 C", false);
    case dtype::f32:  // f32_mode::allow_tf32: tensor cores on TF32-rounded inputs
      *t = {CUDA_R_32F, CUDA_R_32F, g.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
      return c32f || (*why = "cuBLAS's f32 GEMM writes f32 C", false);
    case dtype::f16:
      *t = {CUDA_R_16F, c32f ? CUDA_R_32F : CUDA_R_16F, CUBLAS_COMPUTE_32F};
      return c32f || g.c_type == dtype::f16 || (*why = "cuBLAS's f16 GEMM writes f16 or f32 C", false);
    case dtype::bf16:
      *t = {CUDA_R_16BF, c32f ? CUDA_R_32F : CUDA_R_16BF, CUBLAS_COMPUTE_32F};
      return c32f || g.c_type == dtype::bf16 || (*why = "cuBLAS's bf16 GEMM writes bf16 or f32 C", false);
    case dtype::i8:
      *t = {CUDA_R_8I, CUDA_R_32I, CUBLAS_COMPUTE_32I};  // alpha 1, beta 0 or 1 (the front end's rule)
      return g.c_type == dtype::i32 || (*why = "cuBLAS's i8 GEMM writes i32 C", false);
    default:
      *why = "cuBLAS has no GEMM for this dtype";
      return false;
  }
}

/// Whether an integer GEMM's sums need correcting: zero points, or u8 A (multiplied as s8).
bool has_offsets(const detail::gemm_args& g) {
  return g.a_type == dtype::u8 || g.a_zero_point != 0 || g.b_zero_point != 0;
}

/// Whether cuBLAS writes C itself: no epilogue or offsets, C of a dtype its GEMM writes, and
/// an s32 C only with beta = 0 (cuBLAS's beta = 1 would wrap where the contract saturates).
bool cublas_writes_c(const detail::gemm_args& g) {
  if (g.ep.scale || g.ep.bias || g.ep.act != activation::none || g.ep.residual || has_offsets(g)) return false;
  switch (g.a_type) {
    case dtype::f64:
      return g.c_type == dtype::f64;
    case dtype::f32:
      return g.c_type == dtype::f32;
    case dtype::f16:
      return g.c_type == dtype::f32 || g.c_type == dtype::f16;
    case dtype::bf16:
      return g.c_type == dtype::f32 || g.c_type == dtype::bf16;
    default:
      return g.c_type == dtype::i32 && g.beta == 0.0;
  }
}

/// The accumulators' dtype: what cuBLAS writes to scratch when a kernel finishes C.
dtype accumulator_of(dtype a) {
  return a == dtype::f64 ? dtype::f64 : a == dtype::i8 || a == dtype::u8 ? dtype::i32 : dtype::f32;
}

/// The first step of a finished GEMM: alpha = 1, beta = 0, no epilogue, into `scratch` as
/// batch column-major m x n matrices.
detail::gemm_args accumulators_into(const detail::gemm_args& g, void* scratch) {
  detail::gemm_args s = g;
  s.c = scratch;
  s.crs = 1;
  s.ccs = std::max<idx>(1, g.m);
  s.cbs = g.m * g.n;
  s.c_type = accumulator_of(g.a_type);
  s.alpha = 1.0;
  s.beta = 0.0;
  s.ep = {};
  s.ep.out_scale = 1.0f;
  return s;
}

/// What cuBLAS multiplies for g: g itself when it writes C; else the accumulators into
/// `acc`, with s8 operands and no zero points (a u8 A as the row-major s8 lines it is staged
/// into, which are not made yet: their address is left null).
detail::gemm_args cublas_problem(const detail::gemm_args& g, void* acc) {
  if (cublas_writes_c(g)) return g;
  detail::gemm_args s = accumulators_into(g, acc);
  if (g.a_type == dtype::u8) {
    s.a = {nullptr, g.k, 1, g.a.bs ? g.m * g.k : 0};
    s.a_type = dtype::i8;
  }
  s.a_zero_point = s.b_zero_point = 0;
  return s;
}

/// g with its packed B (stored by columns: packed on the device) as the strided B it is.
detail::gemm_args with_strided_b(const detail::gemm_args& g) {
  if (!g.packed_b) return g;
  detail::gemm_args s = g;
  s.b = {g.packed_b->panels, 1, g.packed_b->k_padded, 0};
  s.packed_b = nullptr;
  return s;
}

bool supports_cublas(const void* problem, const char** why) {
  const auto& given = *static_cast<const detail::gemm_args*>(problem);
  if (given.packed_b && given.packed_b->nr != 1) {  // the front end keeps B and C in one memory: cannot happen
    *why = "B was packed into the CPU kernels' panels";
    return false;
  }
  const detail::gemm_args g = cublas_problem(with_strided_b(given), nullptr);
  plan p{};
  types t{};
  if (g.a_type != g.b_type) {
    *why = "cuBLAS needs A and B of one dtype";
    return false;
  }
  if (!types_for(g, &t, why) || !plan_for(g, &p, why)) return false;
  if (!cublas().loaded) {
    *why = cublas().why.c_str();  // static storage: the library state lives to the end
    return false;
  }
  return true;
}

cublasHandle_t cublas_handle(device_state& st) {
  if (!st.cublas_handle) {
    cublasHandle_t h = nullptr;
    const cublasStatus_t s = cublas().create(&h);
    if (s != CUBLAS_STATUS_SUCCESS) {
      pending_error("cublasCreate", cublas().status_string(s));
      return nullptr;
    }
    cublas().set_stream(h, st.stream);
    cublas().set_math_mode(h, CUBLAS_DEFAULT_MATH);  // no TF32 unless a call's compute type asks
    st.cublas_handle = h;
  }
  return static_cast<cublasHandle_t>(st.cublas_handle);
}

/// C from the accumulators (batch column-major m x n), a thread per element.
template <class R, class ACC>
__global__ void finish_kernel(detail::gemm_args g, const ACC* acc) {
  const idx m = g.m, mn = g.m * g.n;
  MIXPREC_GRID_STRIDE(e, g.batch * mn) {
    const idx bi = e / mn, r = e % mn;
    kern::finish_element_any<R>(g, bi, r % m, r / m, acc[e]);
  }
}

/// A u8 or s8 operand staged for cuBLAS (detail::int8_line_element): per batch, `padded`
/// lines of ld values, the lines from `lines` on zero; a thread per staged value.
template <class T>
__global__ void stage_int8_kernel(const T* x, idx lines, idx padded, idx k, idx line_stride, idx step, idx bs,
                                  idx batches, idx ld, std::int8_t* out) {
  const idx per_batch = padded * ld;
  MIXPREC_GRID_STRIDE(t, batches * per_batch) {
    const idx line = t % per_batch / ld;
    out[t] = line < lines ? detail::int8_line_element(x + t / per_batch * bs + line * line_stride, k, step, t % ld)
                          : std::int8_t(0);
  }
}

/// sums[t] = the sum over q < len of x[(t / lines) * bs + (t % lines) * line_stride + q * step]:
/// A's row sums or B's column sums over their lines, in wrapping 32-bit arithmetic.
__global__ void line_sums_kernel(const std::int8_t* x, idx lines, idx len, idx line_stride, idx step, idx bs,
                                 idx batches, std::int32_t* sums) {
  MIXPREC_GRID_STRIDE(t, batches * lines) {
    const std::int8_t* p = x + (t / lines) * bs + (t % lines) * line_stride;
    std::uint32_t s = 0;
    for (idx q = 0; q < len; ++q) s += std::uint32_t(std::int32_t(p[q * step]));
    sums[t] = std::int32_t(s);
  }
}

/// An integer GEMM's C from S = sum(a' * b) over the s8 lines, S(bi, i, j) at acc[(bi * m + i)
/// * np + j] (cuBLAS's np x m column-major C^T): each sum corrected by the zero points (za of
/// a', zb) with A's row sums and B's column sums (np a batch), then finished. A null row_sums
/// (zb = 0) or col_sums (za = 0) stands for sums that the correction multiplies by 0.
__global__ void finish_integer_kernel(detail::gemm_args g, const std::int32_t* acc, idx np,
                                      const std::int32_t* row_sums, const std::int32_t* col_sums, std::int32_t za,
                                      std::int32_t zb) {
  const idx m = g.m, n = g.n, mn = m * n;
  const std::uint32_t k_za_zb = std::uint32_t(g.k) * std::uint32_t(za) * std::uint32_t(zb);
  MIXPREC_GRID_STRIDE(e, g.batch * mn) {
    const idx bi = e / mn, i = e % mn / n, j = e % n;
    const std::int32_t row_sum = row_sums ? row_sums[(g.a.bs ? bi * m : 0) + i] : 0;
    const std::int32_t col_sum = col_sums ? col_sums[(g.b.bs ? bi * np : 0) + j] : 0;
    const std::uint32_t row_term = k_za_zb - std::uint32_t(zb) * std::uint32_t(row_sum);
    kern::finish_element_any<float>(
        g, bi, i, j, kern::zero_point_corrected(acc[(bi * m + i) * np + j], std::uint32_t(za), col_sum, row_term));
  }
}

/// One cuBLAS call: first * second into p.c, column-major, batched by the plan's strides.
void cublas_call(device_state& st, const plan& p, const types& t, double alpha_value, double beta_value, idx batch) {
  cublasHandle_t h = cublas_handle(st);
  if (!h) return;
  // Scalars in the compute type, from host memory (the default pointer mode).
  const double a64 = alpha_value, b64 = beta_value;
  const float a32 = float(alpha_value), b32 = float(beta_value);
  const std::int32_t ai = std::int32_t(alpha_value), bi = std::int32_t(beta_value);
  const void* alpha = t.compute == CUBLAS_COMPUTE_64F   ? static_cast<const void*>(&a64)
                      : t.compute == CUBLAS_COMPUTE_32I ? static_cast<const void*>(&ai)
                                                        : static_cast<const void*>(&a32);
  const void* beta = t.compute == CUBLAS_COMPUTE_64F   ? static_cast<const void*>(&b64)
                     : t.compute == CUBLAS_COMPUTE_32I ? static_cast<const void*>(&bi)
                                                       : static_cast<const void*>(&b32);
  const cublasStatus_t s = cublas().gemm_strided_batched(
      h, p.op1, p.op2, int(p.m), int(p.n), int(p.k), alpha, p.first.data, t.ab, int(p.ld1), p.first.bs, p.second.data,
      t.ab, int(p.ld2), p.second.bs, beta, p.c, t.c, int(p.ldc), p.cbs, int(batch), t.compute, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS) pending_error("cublasGemmStridedBatchedEx", cublas().status_string(s));
}

/// One cuBLAS call for g, as planned by plan_for and types_for (which supports() ran).
void run_cublas(device_state& st, const detail::gemm_args& g) {
  plan p{};
  types t{};
  const char* why = "";
  if (!types_for(g, &t, &why) || !plan_for(g, &p, &why)) {  // supports() said yes: cannot happen
    pending_error("cuBLAS GEMM", why);
    return;
  }
  cublas_call(st, p, t, g.alpha, g.beta, g.batch);
}

bool aligned4(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 4 == 0; }

/// Whether cuBLAS's int8 GEMM takes a call as planned: the "TN" form (k contiguous in both
/// operands), leading dimensions and batch strides multiples of 4, operands 4-byte aligned.
/// It refuses other leading dimensions; older releases took int8 operands in the TN form
/// only, so the other forms are staged as well, the safe side until a GPU run shows more.
bool int8_ready(const plan& p) {
  return p.op1 == CUBLAS_OP_T && p.op2 == CUBLAS_OP_N && p.ld1 % 4 == 0 && p.ld2 % 4 == 0 && p.ldc % 4 == 0 &&
         p.first.bs % 4 == 0 && p.second.bs % 4 == 0 && p.cbs % 4 == 0 && aligned4(p.first.data) &&
         aligned4(p.second.data) && aligned4(p.c);
}

/// Whether an integer GEMM goes to cuBLAS unstaged: no zero points or u8 A, and a plan that
/// cuBLAS's int8 GEMM takes (with C, or the accumulators in scratch, where they would go).
bool integer_direct(const detail::gemm_args& g) {
  if (has_offsets(g)) return false;
  void* const some_scratch = reinterpret_cast<void*>(std::uintptr_t(256));  // planned, never touched
  plan p{};
  const char* why = "";
  return plan_for(cublas_problem(g, some_scratch), &p, &why) && int8_ready(p);
}

/// Whether B's columns go to cuBLAS's int8 GEMM in place: k contiguous in each (a packed B,
/// or nn.Linear's n x k weights), column and batch strides multiples of 4, aligned, and n
/// and k multiples of 4 (no line or value to pad).
bool b_columns_ready(const detail::gemm_args& g) {
  return g.k > 0 && g.b.rs == 1 && g.b.cs >= g.k && g.b.cs % 4 == 0 && g.b.bs % 4 == 0 && g.n % 4 == 0 &&
         g.k % 4 == 0 && aligned4(g.b.data);
}

/// An integer GEMM through staged operands (detail::int8_line_element): A's m rows and B's n
/// columns, padded to np = n rounded up to 4, as s8 lines of ld = packed_columns_ld(k) values
/// (B read in place where b_columns_ready). cuBLAS multiplies them "TN" into np x m s32
/// accumulators (C^T, column-major); A's row sums (needed when zb is not 0) and B's column
/// sums (when A's offset after the u8 shift is not 0) are summed over the same lines; a
/// thread per element corrects and finishes C. One scratch block holds it all.
bool gemm_integer_staged(device_state& st, const detail::gemm_args& g) {
  const bool u8 = g.a_type == dtype::u8;
  // a - za = (a - 128) - (za - 128) for a u8 A
  const std::int32_t za = u8 ? g.a_zero_point - 128 : g.a_zero_point, zb = g.b_zero_point;
  const idx ld = detail::packed_columns_ld(g.k), np = (g.n + 3) / 4 * 4;
  const idx a_batches = g.a.bs ? g.batch : 1, b_batches = g.b.bs ? g.batch : 1;
  const bool b_in_place = b_columns_ready(g);
  const idx acc_count = g.batch * g.m * np;
  const idx rows = zb != 0 ? a_batches * g.m : 0, cols = za != 0 ? b_batches * np : 0;
  const idx a_values = a_batches * g.m * ld, b_values = b_in_place ? 0 : b_batches * np * ld;
  // The staged lines at 256-byte boundaries, as cuBLAS's tensor-core kernels want operands.
  auto round_up = [](std::size_t bytes) { return (bytes + 255) / 256 * 256; };
  const std::size_t a_at = round_up(std::size_t(acc_count + rows + cols) * 4);
  const std::size_t b_at = a_at + round_up(std::size_t(a_values));
  void* block = device_take(st, b_at + std::size_t(b_values));
  if (!block) return false;  // the front end reports the scratch it could not get
  auto* acc = static_cast<std::int32_t*>(block);
  std::int32_t* row_sums = rows ? acc + acc_count : nullptr;
  std::int32_t* col_sums = cols ? acc + acc_count + rows : nullptr;
  auto* a_lines = static_cast<std::int8_t*>(block) + a_at;
  if (u8)
    stage_int8_kernel<<<grid_for(a_values), block_threads, 0, st.stream>>>(
        static_cast<const std::uint8_t*>(g.a.data), g.m, g.m, g.k, g.a.rs, g.a.cs, g.a.bs, a_batches, ld, a_lines);
  else
    stage_int8_kernel<<<grid_for(a_values), block_threads, 0, st.stream>>>(
        static_cast<const std::int8_t*>(g.a.data), g.m, g.m, g.k, g.a.rs, g.a.cs, g.a.bs, a_batches, ld, a_lines);
  // B's lines as cuBLAS reads them: in place (k values, its column stride apart) or staged.
  const std::int8_t* b_lines = static_cast<const std::int8_t*>(g.b.data);
  idx k_read = g.k, b_ld = g.b.cs, b_bs = g.b.bs;
  if (!b_in_place) {
    auto* staged = static_cast<std::int8_t*>(block) + b_at;
    stage_int8_kernel<<<grid_for(b_values), block_threads, 0, st.stream>>>(b_lines, g.n, np, g.k, g.b.cs, g.b.rs,
                                                                           g.b.bs, b_batches, ld, staged);
    b_lines = staged;
    k_read = ld;
    b_ld = ld;
    b_bs = g.b.bs ? np * ld : 0;
  }
  if (rows)
    line_sums_kernel<<<grid_for(rows), block_threads, 0, st.stream>>>(a_lines, g.m, ld, ld, 1, g.m * ld, a_batches,
                                                                      row_sums);
  if (cols)
    line_sums_kernel<<<grid_for(cols), block_threads, 0, st.stream>>>(b_lines, np, k_read, b_ld, 1, b_bs, b_batches,
                                                                      col_sums);
  if (check_launch("gemm int8 staging and sums")) {
    plan p{};
    p.m = np;
    p.n = g.m;
    p.k = k_read;
    p.first = {b_lines, k_read, np, 1, b_ld, b_bs};
    p.op1 = CUBLAS_OP_T;
    p.ld1 = b_ld;
    p.second = {a_lines, k_read, g.m, 1, ld, g.a.bs ? g.m * ld : 0};
    p.op2 = CUBLAS_OP_N;
    p.ld2 = ld;
    p.c = acc;
    p.ldc = np;
    p.cbs = g.m * np;
    cublas_call(st, p, types{CUDA_R_8I, CUDA_R_32I, CUBLAS_COMPUTE_32I}, 1.0, 0.0, g.batch);
    finish_integer_kernel<<<grid_for(g.batch * g.m * g.n), block_threads, 0, st.stream>>>(g, acc, np, row_sums,
                                                                                          col_sums, za, zb);
    check_launch("gemm finish_integer_kernel");
  }
  device_give_back(st, block);  // stream-ordered: reused only after the kernels
  return true;
}

bool gemm(const exec_args& ex, const detail::gemm_args& given) {
  const detail::gemm_args g = with_strided_b(given);
  if (g.m == 0 || g.n == 0 || g.batch == 0) return true;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  const bool integer = g.a_type == dtype::i8 || g.a_type == dtype::u8;
  if (integer && !integer_direct(g)) return gemm_integer_staged(st, g);
  if (cublas_writes_c(g)) {
    run_cublas(st, g);
    return true;
  }
  const dtype acc_type = accumulator_of(g.a_type);
  const idx count = g.batch * g.m * g.n;
  void* scratch = device_take(st, std::size_t(count) * size_of(acc_type));
  if (!scratch) return false;  // the front end reports the scratch it could not get
  run_cublas(st, accumulators_into(g, scratch));
  if (acc_type == dtype::f64)
    finish_kernel<double><<<grid_for(count), block_threads, 0, st.stream>>>(g, static_cast<const double*>(scratch));
  else if (acc_type == dtype::f32)
    finish_kernel<float><<<grid_for(count), block_threads, 0, st.stream>>>(g, static_cast<const float*>(scratch));
  else
    finish_kernel<float>
        <<<grid_for(count), block_threads, 0, st.stream>>>(g, static_cast<const std::int32_t*>(scratch));
  check_launch("gemm finish_kernel");
  device_give_back(st, scratch);  // stream-ordered: reused only after the kernel
  return true;
}

/// Packs B by columns (internal/gemm_packed_layout.hpp), a thread per element. Bits: an
/// unsigned type of B's element size (zero bits are 0 in every weight dtype).
template <class Bits>
__global__ void pack_by_columns_kernel(const Bits* b, idx k, idx rs, idx cs, idx ld, idx count, Bits* out) {
  MIXPREC_GRID_STRIDE(e, count) { out[e] = detail::packed_columns_element(b, k, rs, cs, ld, e); }
}

template <class Bits>
void pack_by_columns(const exec_args& ex, idx k, idx n, const void* b, idx rs, idx cs, void* out, std::int32_t*) {
  const idx ld = detail::packed_columns_ld(k), count = n * ld;
  if (count == 0) return;
  device_state& st = state_of(ex);
  cudaSetDevice(st.device);
  pack_by_columns_kernel<Bits><<<grid_for(count), block_threads, 0, st.stream>>>(static_cast<const Bits*>(b), k, rs, cs,
                                                                                 ld, count, static_cast<Bits*>(out));
  check_launch("gemm_pack by columns");
}

}  // namespace

void register_gemm_kernels(const detail::kernel_sink& sink) {
  const kern::variant_desc v{"cublas", backend::cuda, cpu_isa::generic, supports_cublas};
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::f64, dtype::f64, &gemm);
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::f32, dtype::f32, &gemm);
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::f16, dtype::f32, &gemm);
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::bf16, dtype::f32, &gemm);
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::i8, dtype::i32, &gemm);
  kern::add_kernel<detail::op_id::gemm>(sink, v, dtype::u8, dtype::i32, &gemm);
  const kern::variant_desc by_columns{"columns_cuda", backend::cuda, cpu_isa::generic, nullptr};
  kern::add_kernel<detail::op_id::gemm_pack>(sink, by_columns, dtype::f64, dtype::f64, &pack_by_columns<std::uint64_t>);
  kern::add_kernel<detail::op_id::gemm_pack>(sink, by_columns, dtype::f32, dtype::f32, &pack_by_columns<std::uint32_t>);
  kern::add_kernel<detail::op_id::gemm_pack>(sink, by_columns, dtype::f16, dtype::f16, &pack_by_columns<std::uint16_t>);
  kern::add_kernel<detail::op_id::gemm_pack>(sink, by_columns, dtype::bf16, dtype::bf16,
                                             &pack_by_columns<std::uint16_t>);
  kern::add_kernel<detail::op_id::gemm_pack>(sink, by_columns, dtype::i8, dtype::i8, &pack_by_columns<std::uint8_t>);
}

}  // namespace mixprec::cuda
