// libmixprec_cuda: the CUDA backend as a plugin. The core dlopen()s this library and asks
// `mixprec_cuda_plugin` for its function table (src/internal/cuda_plugin_api.hpp); nothing
// in the core links CUDA. This file holds devices, streams, memory and copies; the kernels
// register from their own files.
#include <cstring>
#include <string>

#include "internal/cuda_plugin_api.hpp"
#include "kernels/cuda/plugin_state.cuh"

namespace mixprec::cuda {

void register_blas1_kernels(const detail::kernel_sink& sink);

namespace {

thread_local std::string pending_kernel_error;

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
  cudaFree(s->scratch);
  cudaStreamDestroy(s->stream);
  delete s;
}

int allocate(int device, std::size_t bytes, void** ptr, char* err, std::size_t err_len) {
  MIXPREC_CUDA_TRY(cudaSetDevice(device));
  MIXPREC_CUDA_TRY(cudaMalloc(ptr, bytes));
  return 0;
}

void release(int device, void* ptr) {
  cudaSetDevice(device);
  cudaFree(ptr);
}

int copy(void* stream, void* dst, const void* src, std::size_t bytes, detail::copy_kind kind, char* err,
         std::size_t err_len) {
  const cudaMemcpyKind k = kind == detail::copy_kind::host_to_device   ? cudaMemcpyHostToDevice
                           : kind == detail::copy_kind::device_to_host ? cudaMemcpyDeviceToHost
                                                                       : cudaMemcpyDeviceToDevice;
  auto s = static_cast<cudaStream_t>(stream);
  MIXPREC_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, k, s));
  MIXPREC_CUDA_TRY(cudaStreamSynchronize(s));
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

void register_kernels(const detail::kernel_sink& sink) { register_blas1_kernels(sink); }

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

void record_error(const char* what, cudaError_t e) {
  if (!pending_kernel_error.empty()) return;
  pending_kernel_error = std::string(what) + ": " + cudaGetErrorString(e);
}

}  // namespace mixprec::cuda

extern "C" __attribute__((visibility("default"))) const mixprec::detail::cuda_plugin_api* mixprec_cuda_plugin(
    int abi_version) {
  (void)abi_version;  // the core compares versions itself and explains a mismatch
  return &mixprec::cuda::api_table;
}
