// The element types a GPU activation may have (core/tensor.h DType f32, f16, bf16), loaded to
// and stored from float so that every kernel computes in float32 whatever it stores.
//
//   with_element_type(dtype, "relu", [&](auto tag) { using T = decltype(tag); ... });
// runs the lambda with T = float, __half or __nv_bfloat16.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "core/error.h"
#include "core/tensor.h"

namespace catdog::cuda {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

template <class F>
void with_element_type(DType dtype, const char* what, F&& body) {
  switch (dtype) {
    case DType::f32: body(float{}); return;
    case DType::f16: body(__half{}); return;
    case DType::bf16: body(__nv_bfloat16{}); return;
    default: fail(what, ": GPU kernels take float32, float16 or bfloat16, not ", dtype_name(dtype));
  }
}

// Launch shape for one thread per element over n elements (grid-stride loops cover the rest).
constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

}  // namespace catdog::cuda
