// libmixprec_cuda: the CUDA backend as a plugin. The core dlopen()s this library and asks
// `mixprec_cuda_plugin` for its function table (src/internal/cuda_plugin_api.hpp); nothing
// in the core links CUDA. This file holds devices, streams, memory and copies; the kernels
// register from their own files.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "internal/cuda_plugin_api.hpp"
#include "internal/stream_block_cache.hpp"
#include "kernels/cuda/plugin_state.cuh"
#include "kernels/cuda/vendor_libraries.cuh"

namespace mixprec::cuda {

void register_blas1_kernels(const detail::kernel_sink& sink);
void register_krylov_kernels(const detail::kernel_sink& sink);
void register_stencil_kernels(const detail::kernel_sink& sink);
void register_multigrid_kernels(const detail::kernel_sink& sink);
void register_sparse_kernels(const detail::kernel_sink& sink);
void register_gemm_kernels(const detail::kernel_sink& sink);
void register_quantize_kernels(const detail::kernel_sink& sink);
void register_nn_kernels(const detail::kernel_sink& sink);
void register_train_kernels(const detail::kernel_sink& sink);
void register_attention_kernels(const detail::kernel_sink& sink);

namespace {

thread_local std::string pending_kernel_error;

/// One device's memory as the block cache sees it: cudaMalloc/cudaFree, fences as events.
struct device_memory {
  int device;
  using fence = cudaEvent_t;
  bool allocate(std::size_t bytes, void** p) {
    cudaSetDevice(device);
    if (cudaMalloc(p, bytes) == cudaSuccess) return true;
    (void)cudaGetLastError();  // out of memory is not sticky: clear it
    return false;
  }
  void free(void* p) {
    cudaSetDevice(device);
    cudaFree(p);
  }
  /// A null fence means the stream was waited for instead.
  fence record(void* stream) {
    cudaSetDevice(device);
    cudaEvent_t e = nullptr;
    if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess &&
        cudaEventRecord(e, static_cast<cudaStream_t>(stream)) == cudaSuccess)
      return e;
    if (e) cudaEventDestroy(e);
    cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
    return nullptr;
  }
  bool passed(const fence& e) { return !e || cudaEventQuery(e) == cudaSuccess; }
  void drop(const fence& e) {
    if (e) cudaEventDestroy(e);
  }
  void synchronize() {
    cudaSetDevice(device);
    cudaDeviceSynchronize();
  }
};

using device_cache = detail::stream_block_cache<device_memory>;

/// One cache per device, made on first use and kept to the end of the process (blocks may
/// be freed by static destructors after main). MIXPREC_CUDA_CACHE=0 turns reuse off, for
/// memory checkers that must see every allocation.
device_cache& cache_of(int device) {
  static std::mutex mutex;
  static std::vector<device_cache*> caches;
  std::lock_guard<std::mutex> lock(mutex);
  if (device >= int(caches.size())) caches.resize(std::size_t(device) + 1, nullptr);
  if (!caches[std::size_t(device)]) {
    const char* env = std::getenv("MIXPREC_CUDA_CACHE");
    caches[std::size_t(device)] = new device_cache(device_memory{device}, !(env && std::strcmp(env, "0") == 0));
  }
  return *caches[std::size_t(device)];
}

/// Pinned staging: pageable copies of at least this much go through two pinned buffers of
/// this size, the host-side memcpy of one half overlapping the DMA of the other.
constexpr std::size_t staging_bytes = std::size_t(4) << 20;

#define MIXPREC_CUDA_TRY(call)            \
  do {                                    \
    const cudaError_t e_ = (call);        \
    if (e_ != cudaSuccess) {              \
      set_error(err, err_len, #call, e_); \
      return 1;                           \
    }                                     \
  } while (0)

int device_count(int* count, char* err, std::size_t err_len) {
  *count = 0;
  MIXPREC_CUDA_TRY(cudaGetDeviceCount(count));
  return 0;
}

int device_name(int device, char* name, std::size_t len, char* err, std::size_t err_len) {
  cudaDeviceProp p{};
  MIXPREC_CUDA_TRY(cudaGetDeviceProperties(&p, device));
  std::snprintf(name, len, "%s (sm_%d%d, %.1f GiB)", p.name, p.major, p.minor,
                double(p.totalGlobalMem) / double(1u << 30));
  return 0;
}

int create_state(int device, void** state, void** stream, char* err, std::size_t err_len) {
  MIXPREC_CUDA_TRY(cudaSetDevice(device));
  auto* s = new device_state;
  s->device = device;
  cudaError_t e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
  if (e == cudaSuccess) e = cudaMalloc(&s->scratch, scratch_bytes);
  if (e != cudaSuccess) {
    set_error(err, err_len, "create_state", e);
    if (s->stream) cudaStreamDestroy(s->stream);
    delete s;
    return 1;
  }
  s->scratch_bytes = scratch_bytes;
  *state = s;
  *stream = s->stream;
  return 0;
}

void destroy_state(void* state) {
  auto* s = static_cast<device_state*>(state);
  cudaSetDevice(s->device);
  cudaStreamSynchronize(s->stream);
  if (s->cublas_handle) cublas().destroy(static_cast<cublasHandle_t>(s->cublas_handle));
  if (s->cusparse_handle) cusparse().destroy(static_cast<cusparseHandle_t>(s->cusparse_handle));
  for (int i = 0; i < 2; ++i) {
    if (s->staged[i]) cudaEventDestroy(s->staged[i]);
    if (s->staging[i]) cudaFreeHost(s->staging[i]);
  }
  cache_of(s->device).forget_stream(s->stream);
  cudaFree(s->scratch);
  cudaStreamDestroy(s->stream);
  delete s;
}

int allocate(void* state, std::size_t bytes, void** ptr, char* err, std::size_t err_len) {
  auto& st = *static_cast<device_state*>(state);
  *ptr = device_take(st, bytes);
  if (*ptr) return 0;
  std::size_t free_bytes = 0, total_bytes = 0;
  cudaSetDevice(st.device);
  cudaMemGetInfo(&free_bytes, &total_bytes);
  std::snprintf(err, err_len,
                "out of memory: cudaMalloc of %zu bytes failed with %zu of %zu bytes free on the device "
                "(the cache's idle blocks were given back first)",
                device_cache::rounded(bytes), free_bytes, total_bytes);
  return 1;
}

void release(void* state, void* ptr) { device_give_back(*static_cast<device_state*>(state), ptr); }

/// Copies between pageable host memory and the device through the context's two pinned
/// buffers; the stream is synchronised at the end.
int staged_copy(device_state& st, void* dst, const void* src, std::size_t bytes, bool to_device, char* err,
                std::size_t err_len) {
  for (int i = 0; i < 2; ++i) {
    if (!st.staging[i]) MIXPREC_CUDA_TRY(cudaMallocHost(&st.staging[i], staging_bytes));
    if (!st.staged[i]) MIXPREC_CUDA_TRY(cudaEventCreateWithFlags(&st.staged[i], cudaEventDisableTiming));
  }
  const auto* from = static_cast<const char*>(src);
  auto* to = static_cast<char*>(dst);
  if (to_device) {
    for (std::size_t done = 0, i = 0; done < bytes; done += staging_bytes, i ^= 1) {
      const std::size_t n = std::min(staging_bytes, bytes - done);
      MIXPREC_CUDA_TRY(cudaEventSynchronize(st.staged[i]));  // the buffer's last DMA is over
      std::memcpy(st.staging[i], from + done, n);
      MIXPREC_CUDA_TRY(cudaMemcpyAsync(to + done, st.staging[i], n, cudaMemcpyHostToDevice, st.stream));
      MIXPREC_CUDA_TRY(cudaEventRecord(st.staged[i], st.stream));
    }
  } else {
    // DMA of chunk c+1 runs while chunk c is copied out of its buffer.
    const std::size_t chunks = (bytes + staging_bytes - 1) / staging_bytes;
    auto start = [&](std::size_t c) -> cudaError_t {
      const std::size_t n = std::min(staging_bytes, bytes - c * staging_bytes);
      const cudaError_t e =
          cudaMemcpyAsync(st.staging[c % 2], from + c * staging_bytes, n, cudaMemcpyDeviceToHost, st.stream);
      return e == cudaSuccess ? cudaEventRecord(st.staged[c % 2], st.stream) : e;
    };
    MIXPREC_CUDA_TRY(start(0));
    for (std::size_t c = 0; c < chunks; ++c) {
      if (c + 1 < chunks) MIXPREC_CUDA_TRY(start(c + 1));
      MIXPREC_CUDA_TRY(cudaEventSynchronize(st.staged[c % 2]));
      std::memcpy(to + c * staging_bytes, st.staging[c % 2], std::min(staging_bytes, bytes - c * staging_bytes));
    }
  }
  MIXPREC_CUDA_TRY(cudaStreamSynchronize(st.stream));
  return 0;
}

bool is_pinned(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}

int copy(void* state, void* dst, const void* src, std::size_t bytes, detail::copy_kind kind, char* err,
         std::size_t err_len) {
  auto& st = *static_cast<device_state*>(state);
  MIXPREC_CUDA_TRY(cudaSetDevice(st.device));
  if (kind != detail::copy_kind::device_to_device && bytes >= staging_bytes) {
    const bool to_device = kind == detail::copy_kind::host_to_device;
    if (!is_pinned(to_device ? src : dst)) return staged_copy(st, dst, src, bytes, to_device, err, err_len);
  }
  const cudaMemcpyKind k = kind == detail::copy_kind::host_to_device   ? cudaMemcpyHostToDevice
                           : kind == detail::copy_kind::device_to_host ? cudaMemcpyDeviceToHost
                                                                       : cudaMemcpyDeviceToDevice;
  MIXPREC_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, k, st.stream));
  MIXPREC_CUDA_TRY(cudaStreamSynchronize(st.stream));
  return 0;
}

int synchronize(void* stream, char* err, std::size_t err_len) {
  MIXPREC_CUDA_TRY(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
  return 0;
}

int take_kernel_error(char* err, std::size_t err_len) {
  if (pending_kernel_error.empty()) return 0;
  std::snprintf(err, err_len, "%s", pending_kernel_error.c_str());
  pending_kernel_error.clear();
  return 1;
}

void register_kernels(const detail::kernel_sink& sink) {
  register_blas1_kernels(sink);
  register_krylov_kernels(sink);
  register_stencil_kernels(sink);
  register_multigrid_kernels(sink);
  register_sparse_kernels(sink);
  register_gemm_kernels(sink);
  register_quantize_kernels(sink);
  register_nn_kernels(sink);
  register_train_kernels(sink);
  register_attention_kernels(sink);
}

#define MIXPREC_STR2(x) #x
#define MIXPREC_STR(x) MIXPREC_STR2(x)

const detail::cuda_plugin_api api_table = {
    detail::kernel_abi_version,
    "CUDA " MIXPREC_STR(__CUDACC_VER_MAJOR__) "." MIXPREC_STR(__CUDACC_VER_MINOR__),
    device_count,
    device_name,
    create_state,
    destroy_state,
    allocate,
    release,
    copy,
    synchronize,
    take_kernel_error,
    register_kernels};

}  // namespace

void* device_take(device_state& st, std::size_t bytes) { return cache_of(st.device).take(bytes, st.stream); }
void device_give_back(device_state& st, void* p) { cache_of(st.device).give_back(p, st.stream); }

void record_error(const char* what, cudaError_t e) { pending_error(what, cudaGetErrorString(e)); }

void pending_error(const char* what, const char* message) {
  if (!pending_kernel_error.empty()) return;
  pending_kernel_error = std::string(what) + ": " + message;
}

}  // namespace mixprec::cuda

extern "C" __attribute__((visibility("default"))) const mixprec::detail::cuda_plugin_api* mixprec_cuda_plugin(
    int abi_version) {
  (void)abi_version;  // the core compares versions itself and explains a mismatch
  return &mixprec::cuda::api_table;
}
