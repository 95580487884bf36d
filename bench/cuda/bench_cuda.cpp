// CUDA benchmarks against the vendor peers on the same device, in the same run:
//   cuda/copy:    mixprec::copy device to device   vs  cudaMemcpyAsync (the bandwidth line)
//   cuda/axpy, cuda/dot, cuda/cg_update: BLAS-1 and the fused CG update, bytes/s against it
//   cuda/spmv:    CSR SpMV f64 on Poisson 7-point 192^3 vs cusparseSpMV called directly
//   cuda/stencil: 7-point f64 on 192^3, bytes/s against the copy bandwidth
//   cuda/gemm:    f64, f32 (and TF32), f16->f32, bf16->f32, i8->i32 at 4096^3 vs cublasGemmEx directly;
//                 bf16 with a bias and GELU epilogue (cuBLAS, then the finishing kernel) vs the
//                 plain bf16->f32 cublasGemmEx
//   cuda/softmax, cuda/rms_norm: bf16 rows of 4096, one read and one write, against the copy
//   cuda/attention_decode: one token, 32 query heads over a bf16 cache of 8 KV heads x 128
//                 and 8192 tokens: the cache read once, bytes/s against the copy
//   cuda/cg and cpu2t/cg: CG on Poisson 7-point 192^3 to 1e-10, on the GPU and on 2 CPU threads
// Every GPU timing waits for the device (context::synchronize / cudaStreamSynchronize)
// inside the loop. Without a usable device each benchmark reports the reason as an error.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "mixprec/mixprec.hpp"

namespace mixprec::bench {
namespace {

constexpr std::int64_t big = std::int64_t(1) << 26;  // 64 Mi elements: 512 MiB in f64
constexpr std::int64_t grid_n = 192;

bool have_gpu(benchmark::State& state) {
  std::string why;
  if (cuda_available(&why)) return true;
  state.SkipWithError(("no usable CUDA device: " + why).c_str());
  return false;
}

void set_bytes(benchmark::State& state, double bytes, double flops = 0) {
  state.SetBytesProcessed(std::int64_t(bytes * double(state.iterations())));
  if (flops > 0)
    state.counters["FLOP/s"] = benchmark::Counter(flops * double(state.iterations()), benchmark::Counter::kIsRate);
}

void copy_mixprec(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  array<double> x(big, gpu), y(big, gpu);
  fill(x, 1.0);
  for (auto _ : state) {
    copy(x, y);
    gpu.synchronize();
  }
  set_bytes(state, 2.0 * 8 * double(big));
}

void copy_peer_cudamemcpy(benchmark::State& state) {
  if (!have_gpu(state)) return;
  double *x = nullptr, *y = nullptr;
  cudaMalloc(&x, std::size_t(big) * 8);
  cudaMalloc(&y, std::size_t(big) * 8);
  cudaMemset(x, 0, std::size_t(big) * 8);
  for (auto _ : state) {
    cudaMemcpyAsync(y, x, std::size_t(big) * 8, cudaMemcpyDeviceToDevice, nullptr);
    cudaStreamSynchronize(nullptr);
  }
  set_bytes(state, 2.0 * 8 * double(big));
  cudaFree(x);
  cudaFree(y);
}

void axpy_f64(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  array<double> x(big, gpu), y(big, gpu);
  fill(x, 1.0);
  fill(y, 2.0);
  for (auto _ : state) {
    axpy(1e-9, x, y);
    gpu.synchronize();
  }
  set_bytes(state, 3.0 * 8 * double(big), 2.0 * double(big));
}

void dot_f64(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  array<double> x(big, gpu), y(big, gpu);
  fill(x, 1.0);
  fill(y, 2.0);
  double s = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s = dot(x, y));  // returns to the host: synchronous
  set_bytes(state, 2.0 * 8 * double(big), 2.0 * double(big));
}

void spmv_f64(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const csr_matrix a = poisson_3d(grid_n).to(gpu);
  array<double> x(a.cols(), gpu), y(a.rows(), gpu);
  fill(x, 1.0);
  for (auto _ : state) {
    spmv(1.0, a, x, 0.0, y);
    gpu.synchronize();
  }
  const double bytes = 12.0 * double(a.nnz()) + 4.0 * double(a.rows() + 1) + 16.0 * double(a.rows());
  set_bytes(state, bytes, 2.0 * double(a.nnz()));
}

void spmv_peer_cusparse(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const csr_matrix a = poisson_3d(grid_n).to(gpu);
  array<double> x(a.cols(), gpu), y(a.rows(), gpu);
  fill(x, 1.0);
  cusparseHandle_t h = nullptr;
  cusparseCreate(&h);
  cusparseSpMatDescr_t mat = nullptr;
  cusparseDnVecDescr_t vx = nullptr, vy = nullptr;
  cusparseCreateCsr(&mat, a.rows(), a.cols(), a.nnz(), const_cast<void*>(a.row_ptr_data()),
                    const_cast<void*>(a.col_idx_data()), const_cast<void*>(a.values().data()), CUSPARSE_INDEX_32I,
                    CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_64F);
  cusparseCreateDnVec(&vx, a.cols(), x.data(), CUDA_R_64F);
  cusparseCreateDnVec(&vy, a.rows(), y.data(), CUDA_R_64F);
  const double one = 1, zero = 0;
  std::size_t bytes = 0;
  cusparseSpMV_bufferSize(h, CUSPARSE_OPERATION_NON_TRANSPOSE, &one, mat, vx, &zero, vy, CUDA_R_64F,
                          CUSPARSE_SPMV_ALG_DEFAULT, &bytes);
  void* work = nullptr;
  cudaMalloc(&work, bytes + 1);
  for (auto _ : state) {
    cusparseSpMV(h, CUSPARSE_OPERATION_NON_TRANSPOSE, &one, mat, vx, &zero, vy, CUDA_R_64F, CUSPARSE_SPMV_ALG_DEFAULT,
                 work);
    cudaDeviceSynchronize();
  }
  set_bytes(state, 12.0 * double(a.nnz()) + 4.0 * double(a.rows() + 1) + 16.0 * double(a.rows()),
            2.0 * double(a.nnz()));
  cudaFree(work);
  cusparseDestroyDnVec(vx);
  cusparseDestroyDnVec(vy);
  cusparseDestroySpMat(mat);
  cusparseDestroy(h);
}

void stencil_f64(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const grid_extent e(grid_n, grid_n, grid_n);
  grid u(dtype::f64, e, 1, gpu), out(dtype::f64, e, 1, gpu);
  fill_halo(u, boundary_conditions::all(boundary::dirichlet, 1.0));
  const stencil s = stencil::laplace_3d7();
  for (auto _ : state) {
    stencil_apply(s, 1.0, u, 0.0, out);
    gpu.synchronize();
  }
  set_bytes(state, 2.0 * 8 * double(u.points()), 13.0 * double(u.points()));
}

/// What a square GEMM adds to the plain call.
enum class gemm_extra { none, bias_gelu, tf32 };

/// A square GEMM; with bias_gelu the inference layer's epilogue (bias, then GELU) too, with
/// tf32 f32_mode::allow_tf32.
template <class TA, class TC, gemm_extra extra = gemm_extra::none>
void gemm_square(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const std::int64_t n = state.range(0);
  array<TA> a(n * n, gpu), b(n * n, gpu);
  array<TC> c(n * n, gpu);
  convert(array<float>(std::vector<float>(std::size_t(n * n), 0.5f), gpu), a);
  convert(array<float>(std::vector<float>(std::size_t(n * n), 0.25f), gpu), b);
  const auto m = [&](auto& arr) { return make_view(arr.data(), {n, n}, {n, 1}, gpu); };
  using R = std::conditional_t<std::is_same_v<TA, double>, double, float>;
  const array<R> bias(std::vector<R>(std::size_t(n), R(0.125)), gpu);
  gemm_options o;
  o.f32 = extra == gemm_extra::tf32 ? f32_mode::allow_tf32 : f32_mode::exact;
  if (extra == gemm_extra::bias_gelu) {
    o.epilogue.bias = bias;
    o.epilogue.act = activation::gelu_erf;
  }
  for (auto _ : state) {
    gemm(trans::no, trans::no, 1.0, m(a), m(b), 0.0, m(c), o);
    gpu.synchronize();
  }
  set_bytes(state, double(n * n) * (2 * sizeof(TA) + sizeof(TC)), 2.0 * double(n) * double(n) * double(n));
}

/// An inference layer's GEMM: m tokens times 4096 x 4096 weights, the weights pre-packed on
/// the device (packed_matrix) or a plain row-major B. Bytes: the
/// weights streamed, which is what bounds a small m.
template <class TA, class TC>
void gemm_weights(benchmark::State& state, std::int64_t m, bool packed) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const std::int64_t n = 4096, k = 4096;
  array<TA> a(m * k, gpu), b(k * n, gpu);
  array<TC> c(m * n, gpu);
  convert(array<float>(std::vector<float>(std::size_t(m * k), 0.5f), gpu), a);
  convert(array<float>(std::vector<float>(std::size_t(k * n), 0.25f), gpu), b);
  const const_view av = make_view(a.data(), {m, k}, {k, 1}, gpu), bv = make_view(b.data(), {k, n}, {n, 1}, gpu);
  const view cv = make_view(c.data(), {m, n}, {n, 1}, gpu);
  const packed_matrix w = packed ? packed_matrix::pack(bv) : packed_matrix{};
  for (auto _ : state) {
    if (packed)
      gemm(trans::no, 1.0, av, w, 0.0, cv);
    else
      gemm(trans::no, trans::no, 1.0, av, bv, 0.0, cv);
    gpu.synchronize();
  }
  set_bytes(state, double(n * k) * sizeof(TA), 2.0 * double(m) * double(n) * double(k));
}

/// cublasGemmEx directly on row-major data (as C^T = B^T A^T), the same types as ours.
void gemm_peer_cublas(benchmark::State& state, cudaDataType ab, cudaDataType c_type, cublasComputeType_t compute,
                      std::size_t ab_size, std::size_t c_size) {
  if (!have_gpu(state)) return;
  const std::int64_t n = state.range(0);
  void *a = nullptr, *b = nullptr, *c = nullptr;
  cudaMalloc(&a, std::size_t(n * n) * ab_size);
  cudaMalloc(&b, std::size_t(n * n) * ab_size);
  cudaMalloc(&c, std::size_t(n * n) * c_size);
  cudaMemset(a, 0, std::size_t(n * n) * ab_size);
  cudaMemset(b, 0, std::size_t(n * n) * ab_size);
  cublasHandle_t h = nullptr;
  cublasCreate(&h);
  const double one64 = 1, zero64 = 0;
  const float one32 = 1, zero32 = 0;
  const std::int32_t one_i = 1, zero_i = 0;
  const void* alpha = compute == CUBLAS_COMPUTE_64F   ? static_cast<const void*>(&one64)
                      : compute == CUBLAS_COMPUTE_32I ? static_cast<const void*>(&one_i)
                                                      : static_cast<const void*>(&one32);
  const void* beta = compute == CUBLAS_COMPUTE_64F   ? static_cast<const void*>(&zero64)
                     : compute == CUBLAS_COMPUTE_32I ? static_cast<const void*>(&zero_i)
                                                     : static_cast<const void*>(&zero32);
  for (auto _ : state) {
    cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(n), int(n), alpha, b, ab, int(n), a, ab, int(n), beta, c,
                 c_type, int(n), compute, CUBLAS_GEMM_DEFAULT);
    cudaDeviceSynchronize();
  }
  set_bytes(state, double(n * n) * double(2 * ab_size + c_size), 2.0 * double(n) * double(n) * double(n));
  cublasDestroy(h);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
}

/// CG on Poisson 7-point 192^3 to 1e-10 in the given context.
void cg_poisson(benchmark::State& state, bool on_gpu) {
  if (on_gpu && !have_gpu(state)) return;
  const context ctx = on_gpu ? context::cuda(0) : context::cpu(2);
  const csr_matrix a = poisson_3d(grid_n).to(ctx);
  const csr_operator op(a);
  array<double> ones(std::vector<double>(std::size_t(a.rows()), 1.0), ctx), b(a.rows(), ctx), x(a.rows(), ctx);
  spmv(1.0, a, ones, 0.0, b);
  solve_options o;
  o.rel_tol = 1e-10;
  o.max_iterations = 5000;
  solve_report rep;
  for (auto _ : state) {
    fill(x, 0.0);
    rep = cg(op, b, x, o);
    ctx.synchronize();
  }
  if (!rep.converged() || !(rep.true_residual <= 1e-10 * 1.01)) {
    state.SkipWithError(("CG did not converge honestly: " + rep.summary()).c_str());
    return;
  }
  state.counters["iterations"] = rep.iterations;
  state.counters["true_residual"] = rep.true_residual;
}

enum class row_op { softmax, rms_norm };

/// A row op over 16384 rows of 4096 bf16 values (a prefill's attention scores or hidden
/// states): each row read once and written once, so bytes/s compares with the copy line.
void nn_rows_bf16(benchmark::State& state, row_op op) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const std::int64_t rows = 16384, cols = 4096;
  array<bfloat16> x(rows * cols, gpu), y(rows * cols, gpu);
  fill(x, 0.5);
  const const_view xv = make_view(static_cast<const bfloat16*>(x.data()), {rows, cols}, {}, gpu);
  const view yv = make_view(y.data(), {rows, cols}, {}, gpu);
  for (auto _ : state) {
    if (op == row_op::softmax)
      softmax(xv, yv);
    else
      rms_norm(xv, const_view(), yv);
    gpu.synchronize();
  }
  set_bytes(state, 2.0 * 2 * double(rows * cols));
}

/// A decode step's attention (m = 1, 32 query heads sharing 8 KV heads of 128) over a bf16
/// cache of 8192 tokens: bound by reading the keys and values once.
void attention_decode_bf16(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const context gpu = context::cuda(0);
  const std::int64_t heads = 32, kv_heads = 8, hd = 128, tokens = 8192, kv_dim = kv_heads * hd;
  kv_cache cache(tokens, kv_heads, hd, dtype::bf16, gpu);
  array<bfloat16> kv(tokens * kv_dim, gpu), q(heads * hd, gpu), out(heads * hd, gpu);
  fill(kv, 0.25);
  fill(q, 0.5);
  const const_view rows = make_view(static_cast<const bfloat16*>(kv.data()), {tokens, kv_dim}, {}, gpu);
  cache.append(rows, rows);
  const const_view qv = make_view(static_cast<const bfloat16*>(q.data()), {1, heads * hd}, {}, gpu);
  const view ov = make_view(out.data(), {1, heads * hd}, {}, gpu);
  for (auto _ : state) {
    attention(qv, cache, ov);
    gpu.synchronize();
  }
  set_bytes(state, 2.0 * 2 * double(tokens * kv_dim));
}

void gemm_peers() {
  auto add = [](const char* name, cudaDataType ab, cudaDataType c, cublasComputeType_t compute, std::size_t abs,
                std::size_t cs) {
    benchmark::RegisterBenchmark(name, gemm_peer_cublas, ab, c, compute, abs, cs)
        ->Arg(4096)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("cuda/gemm/f64f64f64/peer_cublas", CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F, 8, 8);
  add("cuda/gemm/f32f32f32/peer_cublas", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 4, 4);
  add("cuda/gemm/f32f32f32_tf32/peer_cublas", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 4);
  add("cuda/gemm/f16f16f32/peer_cublas", CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 2, 4);
  add("cuda/gemm/bf16bf16f32/peer_cublas", CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, 2, 4);
  add("cuda/gemm/i8i8i32/peer_cublas", CUDA_R_8I, CUDA_R_32I, CUBLAS_COMPUTE_32I, 1, 4);
}

int register_all() {
  auto real = [](benchmark::internal::Benchmark* b) { b->UseRealTime()->Unit(benchmark::kMillisecond); };
  real(benchmark::RegisterBenchmark("cuda/copy/f64/n64M/mixprec", copy_mixprec));
  real(benchmark::RegisterBenchmark("cuda/copy/f64/n64M/peer_cudamemcpy", copy_peer_cudamemcpy));
  real(benchmark::RegisterBenchmark("cuda/axpy/f64/n64M", axpy_f64));
  real(benchmark::RegisterBenchmark("cuda/dot/f64/n64M", dot_f64));
  real(benchmark::RegisterBenchmark("cuda/spmv/csr/f64/poisson7_192/mixprec", spmv_f64));
  real(benchmark::RegisterBenchmark("cuda/spmv/csr/f64/poisson7_192/peer_cusparse", spmv_peer_cusparse));
  real(benchmark::RegisterBenchmark("cuda/stencil/7pt/f64/192", stencil_f64));
  real(benchmark::RegisterBenchmark("cuda/gemm/f64f64f64/mixprec", gemm_square<double, double>)->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/f32f32f32/mixprec", gemm_square<float, float>)->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/f32f32f32_tf32/mixprec", gemm_square<float, float, gemm_extra::tf32>)
           ->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/f16f16f32/mixprec", gemm_square<half, float>)->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/bf16bf16f32/mixprec", gemm_square<bfloat16, float>)->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/i8i8i32/mixprec", gemm_square<std::int8_t, std::int32_t>)->Arg(4096));
  real(benchmark::RegisterBenchmark("cuda/gemm/bf16bf16bf16_bias_gelu/mixprec",
                                    gemm_square<bfloat16, bfloat16, gemm_extra::bias_gelu>)
           ->Arg(4096));
  gemm_peers();
  for (const std::int64_t m : {8, 32})
    for (const bool packed : {false, true}) {
      const std::string shape = "/m" + std::to_string(m) + "_n4096_k4096/" + (packed ? "packed" : "plain");
      real(benchmark::RegisterBenchmark(("cuda/gemm_weights/bf16bf16f32" + shape).c_str(),
                                        gemm_weights<bfloat16, float>, m, packed));
      real(benchmark::RegisterBenchmark(("cuda/gemm_weights/i8i8i32" + shape).c_str(),
                                        gemm_weights<std::int8_t, std::int32_t>, m, packed));
    }
  real(benchmark::RegisterBenchmark("cuda/softmax/bf16/16384x4096", nn_rows_bf16, row_op::softmax));
  real(benchmark::RegisterBenchmark("cuda/rms_norm/bf16/16384x4096", nn_rows_bf16, row_op::rms_norm));
  real(benchmark::RegisterBenchmark("cuda/attention_decode/bf16/32x128_kv8_L8192", attention_decode_bf16));
  real(benchmark::RegisterBenchmark("cuda/cg/f64/poisson7_192", cg_poisson, true)->Iterations(3));
  real(benchmark::RegisterBenchmark("cpu2t/cg/f64/poisson7_192", cg_poisson, false)->Iterations(1));
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace mixprec::bench

BENCHMARK_MAIN();
