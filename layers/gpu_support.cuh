// What the layers' GPU files (layers/*.cu: Conv2D's cuDNN plan, Dense's cuBLAS calls,
// MaxPooling2D's cuDNN forward) share: the CUDA context of a run, the float32 check of backward, cuDNN types and
// math modes, and small owners of cuDNN descriptors (destroyed with the layer's gpu_state_).
// Internal to layers/.
#pragma once

#include <cudnn.h>

#include <string>

#include "core/context.h"
#include "core/error.h"
#include "layers/layer.h"
#include "core/tensor.h"
#include "core/cuda_checks.h"
#include "core/cuda_context.h"

namespace catdog::gpu_support {

// The run's CUDA context; a clear error when the caller forgot to set it.
inline CudaContext& cuda_of(const ExecContext& ctx, const std::string& layer) {
  CATDOG_CHECK(ctx.cuda != nullptr, "layer ", layer, ": GPU run without a CUDA context ",
               "(ExecContext::cuda is null)");
  return *ctx.cuda;
}

// Backward runs in float32 only (trainable layers keep float32 activations).
inline void require_f32(const Tensor& t, const std::string& layer, const char* what) {
  CATDOG_CHECK(t.dtype() == DType::f32 && t.device() == Device::cuda, "layer ", layer, ": ", what,
               " must be a float32 GPU tensor for backward, got ", dtype_name(t.dtype()), " on ",
               device_name(t.device()));
}

inline cudnnDataType_t cudnn_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return CUDNN_DATA_FLOAT;
    case DType::f16: return CUDNN_DATA_HALF;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
    default: fail("cuDNN takes float32, float16 or bfloat16 tensors, not ", dtype_name(dtype));
  }
}

// cuDNN math for the frozen part's precision: fp32 forbids tensor-core shortcuts (FMA only, so
// results match the CPU to 1e-4), tf32 allows TF32 tensor cores on fp32 data (DEFAULT_MATH does
// on sm_80+), fp16/bf16 use tensor cores with fp32 accumulation.
inline cudnnMathType_t cudnn_math(Precision precision) {
  switch (precision) {
    case Precision::fp32: return CUDNN_FMA_MATH;
    case Precision::tf32: return CUDNN_DEFAULT_MATH;
    default: return CUDNN_TENSOR_OP_MATH;
  }
}

// Owners of cuDNN descriptors: created once, destroyed with the layer state.
struct TensorDesc {
  cudnnTensorDescriptor_t desc = nullptr;
  TensorDesc() { cudnnCheck(cudnnCreateTensorDescriptor(&desc), "creating a tensor descriptor"); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(desc); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  // An NHWC tensor (cuDNN takes the sizes in N, C, H, W order whatever the layout).
  void set_nhwc(DType dtype, int64_t n, int64_t h, int64_t w, int64_t c) {
    cudnnCheck(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NHWC, cudnn_type(dtype),
                                          static_cast<int>(n), static_cast<int>(c),
                                          static_cast<int>(h), static_cast<int>(w)),
               "NHWC descriptor (", n, ", ", h, ", ", w, ", ", c, ") ", dtype_name(dtype));
  }
};

struct FilterDesc {
  cudnnFilterDescriptor_t desc = nullptr;
  FilterDesc() { cudnnCheck(cudnnCreateFilterDescriptor(&desc), "creating a filter descriptor"); }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(desc); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t desc = nullptr;
  ConvDesc() {
    cudnnCheck(cudnnCreateConvolutionDescriptor(&desc), "creating a convolution descriptor");
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(desc); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

struct ActivationDesc {
  cudnnActivationDescriptor_t desc = nullptr;
  ActivationDesc() {
    cudnnCheck(cudnnCreateActivationDescriptor(&desc), "creating an activation descriptor");
  }
  ~ActivationDesc() { cudnnDestroyActivationDescriptor(desc); }
  ActivationDesc(const ActivationDesc&) = delete;
  ActivationDesc& operator=(const ActivationDesc&) = delete;
};

struct PoolingDesc {
  cudnnPoolingDescriptor_t desc = nullptr;
  PoolingDesc() { cudnnCheck(cudnnCreatePoolingDescriptor(&desc), "creating a pooling descriptor"); }
  ~PoolingDesc() { cudnnDestroyPoolingDescriptor(desc); }
  PoolingDesc(const PoolingDesc&) = delete;
  PoolingDesc& operator=(const PoolingDesc&) = delete;
};

// The state a layer keeps in Layer::gpu_state_ (a shared_ptr<void>), typed.
template <class State>
State& state_of(std::shared_ptr<void>& slot) {
  if (!slot) slot = std::make_shared<State>();
  return *static_cast<State*>(slot.get());
}

}  // namespace catdog::gpu_support
