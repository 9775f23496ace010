// Error checks for every CUDA runtime, cuBLAS and cuDNN call. Each macro takes the call and then
// any number of parts saying what was being done and with which shapes, e.g.
//   cudnnCheck(cudnnConvolutionForward(...), "conv ", layer, " x ", to_string(x.shape()));
// and throws catdog::Error "cudnnConvolutionForward(...) failed: CUDNN_STATUS_BAD_PARAM (conv
// block1_conv1 x (64, 224, 224, 3)) at layers/conv2d.cu:120", never abort().
// Only .cu files (and .cpp files compiled with the CUDA toolkit's headers) include it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "core/error.h"

namespace catdog::cuda {

// A hint for the failures whose usual cause is known.
inline const char* cuda_hint(cudaError_t error) {
  if (error == cudaErrorMemoryAllocation) {
    return " (the GPU is out of memory: try a smaller --batch or --precision fp16)";
  }
  if (error == cudaErrorNoKernelImageForDevice) {
    return " (this binary has no code for this GPU: rebuild with its CMAKE_CUDA_ARCHITECTURES)";
  }
  if (error == cudaErrorInsufficientDriver) {
    return " (no NVIDIA driver is loaded, or it is older than the CUDA runtime catdog was built with)";
  }
  return "";
}

template <class... Parts>
[[noreturn]] void throw_call_failed(const char* call, const std::string& status,
                                    const char* hint, const char* file, int line,
                                    const Parts&... parts) {
  const std::string context = cat(parts...);
  fail(call, " failed: ", status, hint, context.empty() ? "" : " (", context,
       context.empty() ? "" : ")", " at ", file, ":", line);
}

}  // namespace catdog::cuda

#define cudaCheck(call, ...)                                                                 \
  do {                                                                                       \
    const cudaError_t catdog_status_ = (call);                                               \
    if (catdog_status_ != cudaSuccess) {                                                     \
      ::catdog::cuda::throw_call_failed(#call, cudaGetErrorString(catdog_status_),           \
                                        ::catdog::cuda::cuda_hint(catdog_status_), __FILE__, \
                                        __LINE__, ##__VA_ARGS__);                            \
    }                                                                                        \
  } while (0)

#define cublasCheck(call, ...)                                                                \
  do {                                                                                        \
    const cublasStatus_t catdog_status_ = (call);                                             \
    if (catdog_status_ != CUBLAS_STATUS_SUCCESS) {                                            \
      ::catdog::cuda::throw_call_failed(#call, cublasGetStatusName(catdog_status_), \
                                        "", __FILE__, __LINE__, ##__VA_ARGS__);               \
    }                                                                                         \
  } while (0)

#define cudnnCheck(call, ...)                                                                \
  do {                                                                                       \
    const cudnnStatus_t catdog_status_ = (call);                                             \
    if (catdog_status_ != CUDNN_STATUS_SUCCESS) {                                            \
      ::catdog::cuda::throw_call_failed(#call, cudnnGetErrorString(catdog_status_), "",     \
                                        __FILE__, __LINE__, ##__VA_ARGS__);                  \
    }                                                                                        \
  } while (0)

// After a kernel launch: launch errors (bad configuration, no image for this GPU) show up here.
#define cudaCheckLaunch(kernel_name, ...) cudaCheck(cudaGetLastError(), kernel_name, ##__VA_ARGS__)
