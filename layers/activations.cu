// ReLU / LeakyReLU / Activation layers on the GPU (kernels/cuda/activation_kernels.cu). Forward
// accepts float32, float16 or bfloat16 (y has x's type); backward is float32.
#include "core/profiling.h"
#include "layers/activations.h"
#include "layers/gpu_support.cuh"

namespace catdog {

using namespace gpu_support;

namespace {
// As the CPU: relu with a nonzero slope is LeakyReLU.
cuda::ActKind kind_of(Activation activation, float alpha) {
  if (activation == Activation::relu && alpha != 0.0f) return cuda::ActKind::leaky_relu;
  return act_kind(activation);
}
}  // namespace

void ActivationLayer::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  NvtxRange range(cat(name_, " forward"));
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(y, x.shape(), x.dtype());
  cuda::activation_forward(x.raw(), y.raw(), x.dtype(), x.numel(), kind_of(activation_, alpha_),
                           alpha_, cuda.compute);
}

void ActivationLayer::backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                                   ExecContext& ctx) {
  NvtxRange range(cat(name_, " backward"));
  CATDOG_CHECK(dy.shape() == x.shape(), class_name_, " layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(x.shape()));
  if (!dx) return;
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(*dx, x.shape(), DType::f32);
  const cuda::ActKind kind = kind_of(activation_, alpha_);
  // relu / leaky relu read x (y may be gone in a frozen prefix); sigmoid reads y.
  const float* x_data = kind == cuda::ActKind::sigmoid ? nullptr : x.f32();
  const float* y_data = kind == cuda::ActKind::sigmoid ? y.f32() : nullptr;
  cuda::activation_backward(x_data, y_data, dy.f32(), dx->f32(), x.numel(), kind, alpha_,
                            cuda.compute);
}

}  // namespace catdog
