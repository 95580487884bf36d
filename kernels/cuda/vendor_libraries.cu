// Opens cuBLAS and cuSPARSE by their sonames (the major versions this plugin was built
// against) and looks up the calls the kernels make.
#include <dlfcn.h>

#include "kernels/cuda/vendor_libraries.cuh"

namespace mixprec::cuda {
namespace {

#define MIXPREC_STR2(x) #x
#define MIXPREC_STR(x) MIXPREC_STR2(x)

/// Opens `soname` and binds each (pointer, symbol) pair; on failure `why` names what is
/// missing and the library counts as absent.
class opener {
 public:
  explicit opener(const char* soname, std::string* why) : soname_(soname), why_(why) {
    handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* e = dlerror();
      *why_ = std::string(soname) + " could not be loaded: " + (e ? e : "unknown error");
    }
  }
  template <class F>
  void bind(F*& fn, const char* symbol) {
    if (!handle_) return;
    fn = reinterpret_cast<F*>(dlsym(handle_, symbol));
    if (!fn && why_->empty()) *why_ = std::string(soname_) + " has no symbol " + symbol;
  }
  bool ok() const { return handle_ && why_->empty(); }

 private:
  const char* soname_;
  std::string* why_;
  void* handle_ = nullptr;  // kept open for the life of the process
};

cublas_library open_cublas() {
  cublas_library lib;
  opener o("libcublas.so." MIXPREC_STR(CUBLAS_VER_MAJOR), &lib.why);
  o.bind(lib.create, "cublasCreate_v2");
  o.bind(lib.destroy, "cublasDestroy_v2");
  o.bind(lib.set_stream, "cublasSetStream_v2");
  o.bind(lib.set_math_mode, "cublasSetMathMode");
  o.bind(lib.gemm_strided_batched, "cublasGemmStridedBatchedEx");
  o.bind(lib.status_string, "cublasGetStatusString");
  lib.loaded = o.ok();
  return lib;
}

cusparse_library open_cusparse() {
  cusparse_library lib;
  opener o("libcusparse.so." MIXPREC_STR(CUSPARSE_VER_MAJOR), &lib.why);
  o.bind(lib.create, "cusparseCreate");
  o.bind(lib.destroy, "cusparseDestroy");
  o.bind(lib.set_stream, "cusparseSetStream");
  o.bind(lib.create_csr, "cusparseCreateConstCsr");
  o.bind(lib.destroy_matrix, "cusparseDestroySpMat");
  o.bind(lib.create_const_vector, "cusparseCreateConstDnVec");
  o.bind(lib.create_vector, "cusparseCreateDnVec");
  o.bind(lib.destroy_vector, "cusparseDestroyDnVec");
  o.bind(lib.spmv_buffer_size, "cusparseSpMV_bufferSize");
  o.bind(lib.spmv, "cusparseSpMV");
  o.bind(lib.status_string, "cusparseGetErrorString");
  lib.loaded = o.ok();
  return lib;
}

}  // namespace

const cublas_library& cublas() {
  static const cublas_library lib = open_cublas();
  return lib;
}

const cusparse_library& cusparse() {
  static const cusparse_library lib = open_cusparse();
  return lib;
}

}  // namespace mixprec::cuda
