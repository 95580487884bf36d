// cuBLAS and cuSPARSE, opened at run time by the plugin rather than linked: a machine
// without one of them still gets every other CUDA kernel, and the ops that need the
// missing library say which library could not be loaded (through their kernels'
// supports(), so dispatch's error names it). Only the calls the kernels make are looked up.
#pragma once

#include <cublas_v2.h>
#include <cusparse.h>

#include <string>

namespace mixprec::cuda {

struct cublas_library {
  bool loaded = false;
  std::string why;  // when not loaded: the library's name and the loader's message
  cublasStatus_t (*create)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy)(cublasHandle_t) = nullptr;
  cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t) = nullptr;
  cublasStatus_t (*gemm_strided_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                         const void*, const void*, cudaDataType, int, long long, const void*,
                                         cudaDataType, int, long long, const void*, void*, cudaDataType, int, long long,
                                         int, cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  const char* (*status_string)(cublasStatus_t) = nullptr;
};

struct cusparse_library {
  bool loaded = false;
  std::string why;
  cusparseStatus_t (*create)(cusparseHandle_t*) = nullptr;
  cusparseStatus_t (*destroy)(cusparseHandle_t) = nullptr;
  cusparseStatus_t (*set_stream)(cusparseHandle_t, cudaStream_t) = nullptr;
  cusparseStatus_t (*create_csr)(cusparseConstSpMatDescr_t*, int64_t, int64_t, int64_t, const void*, const void*,
                                 const void*, cusparseIndexType_t, cusparseIndexType_t, cusparseIndexBase_t,
                                 cudaDataType) = nullptr;
  cusparseStatus_t (*destroy_matrix)(cusparseConstSpMatDescr_t) = nullptr;
  cusparseStatus_t (*create_const_vector)(cusparseConstDnVecDescr_t*, int64_t, const void*, cudaDataType) = nullptr;
  cusparseStatus_t (*create_vector)(cusparseDnVecDescr_t*, int64_t, void*, cudaDataType) = nullptr;
  cusparseStatus_t (*destroy_vector)(cusparseConstDnVecDescr_t) = nullptr;
  cusparseStatus_t (*spmv_buffer_size)(cusparseHandle_t, cusparseOperation_t, const void*, cusparseConstSpMatDescr_t,
                                       cusparseConstDnVecDescr_t, const void*, cusparseDnVecDescr_t, cudaDataType,
                                       cusparseSpMVAlg_t, size_t*) = nullptr;
  cusparseStatus_t (*spmv)(cusparseHandle_t, cusparseOperation_t, const void*, cusparseConstSpMatDescr_t,
                           cusparseConstDnVecDescr_t, const void*, cusparseDnVecDescr_t, cudaDataType,
                           cusparseSpMVAlg_t, void*) = nullptr;
  const char* (*status_string)(cusparseStatus_t) = nullptr;
};

/// Opened once per process, on first use.
const cublas_library& cublas();
const cusparse_library& cusparse();

}  // namespace mixprec::cuda
