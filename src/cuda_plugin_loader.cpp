// Finds and loads libmixprec_cuda at run time. Looked for, in order: the path in
// MIXPREC_CUDA_PLUGIN; beside the core library (or executable) that contains this code;
// the dynamic linker's search path. Loaded once; its kernels join the registry then.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "internal/cuda_plugin_api.hpp"
#include "internal/error_macros.hpp"

namespace mixprec::detail {

void add_plugin_kernels(void (*register_kernels)(const kernel_sink&));

namespace {

struct plugin_state {
  const cuda_plugin_api* api = nullptr;
  std::string why;
};

std::string directory_of_this_library() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&directory_of_this_library), &info) == 0 || !info.dli_fname) return {};
  std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

plugin_state load() {
  plugin_state st;
  std::string tried;
  void* handle = nullptr;
  auto attempt = [&](const std::string& path) {
    if (handle || path.empty()) return;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* e = dlerror();
      tried += "\n  " + (e ? std::string(e) : path + ": not loadable");
    }
  };
  if (const char* env = std::getenv("MIXPREC_CUDA_PLUGIN")) attempt(env);
  attempt(directory_of_this_library() + "libmixprec_cuda.so");
  attempt("libmixprec_cuda.so");
  if (!handle) {
    st.why = "the CUDA plugin libmixprec_cuda.so could not be loaded:" + tried;
    return st;
  }
  auto entry = reinterpret_cast<cuda_plugin_entry_fn>(dlsym(handle, "mixprec_cuda_plugin"));
  if (!entry) {
    st.why = "libmixprec_cuda.so has no mixprec_cuda_plugin symbol";
    return st;
  }
  const cuda_plugin_api* api = entry(kernel_abi_version);
  if (!api || api->abi_version != kernel_abi_version) {
    st.why = cat("libmixprec_cuda.so was built for kernel ABI ", api ? api->abi_version : -1, ", this library is ABI ",
                 kernel_abi_version);
    return st;
  }
  st.api = api;
  // Plugin handle stays open for the life of the process: its kernels are in the registry.
  add_plugin_kernels(api->register_kernels);
  return st;
}

const plugin_state& state() {
  static const plugin_state st = load();
  return st;
}

}  // namespace

const cuda_plugin_api* cuda_plugin(std::string* why) {
  const plugin_state& st = state();
  if (!st.api && why) *why = st.why;
  return st.api;
}

void check_cuda(int rc, const char* op, const char* err) {
  if (rc == 0) return;
  const std::string msg = err && *err ? err : "CUDA call failed";
  if (msg.find("out of memory") != std::string::npos) MIXPREC_THROW(out_of_memory, op, msg);
  MIXPREC_THROW(backend_unavailable, op, msg);
}

}  // namespace mixprec::detail
