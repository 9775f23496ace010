// BatchNormalization (inference form) on the GPU: fold the statistics into a per-channel scale and
// shift (kernels/cuda/normalization_kernels.cu), then y = scale * x + shift. The fold is redone
// each call: C values, far cheaper than the pass over the activations.
#include "core/profiling.h"
#include "layers/batch_normalization.h"
#include "layers/gpu_support.cuh"
#include "layers/layer_support.h"

namespace catdog {

using namespace gpu_support;

namespace {
struct BatchNormState {
  Tensor scale, shift;  // (C)
  Tensor xhat_dy;       // backward scratch (rows, C)
};
}  // namespace

void BatchNormalization::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  NvtxRange range(cat(name_, " forward"));
  CATDOG_CHECK(moving_mean_.value.defined() && moving_mean_.value.device() == Device::cuda,
               "BatchNormalization layer ", name_, ": statistics are not on the GPU");
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(y, output_shape(x.shape()), x.dtype());
  BatchNormState& s = state_of<BatchNormState>(gpu_state_);
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  ensure_gpu(s.scale, {c}, DType::f32);
  ensure_gpu(s.shift, {c}, DType::f32);
  cuda::batchnorm_fold(config_.scale ? gamma_.value.f32() : nullptr,
                       config_.center ? beta_.value.f32() : nullptr, moving_mean_.value.f32(),
                       moving_variance_.value.f32(), config_.epsilon, c, s.scale.f32(),
                       s.shift.f32(), cuda.compute);
  cuda::channel_affine_forward(x.raw(), y.raw(), x.dtype(), rows, c, s.scale.f32(), s.shift.f32(),
                               cuda.compute);
}

// dx = a dy; dgamma = sum dy * (x - mean) / sqrt(var + eps); dbeta = sum dy (as the CPU).
void BatchNormalization::backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy,
                                      Tensor* dx, ExecContext& ctx) {
  NvtxRange range(cat(name_, " backward"));
  CATDOG_CHECK(dy.shape() == y.shape(), "BatchNormalization layer ", name_,
               ": gradient of shape ", to_string(dy.shape()), " for an output of shape ",
               to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  require_f32(x, name_, "input");
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  BatchNormState& s = state_of<BatchNormState>(gpu_state_);
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  ensure_gpu(s.scale, {c}, DType::f32);
  ensure_gpu(s.shift, {c}, DType::f32);
  if (dx) {
    cuda::batchnorm_fold(config_.scale ? gamma_.value.f32() : nullptr, nullptr,
                         moving_mean_.value.f32(), moving_variance_.value.f32(), config_.epsilon,
                         c, s.scale.f32(), s.shift.f32(), cuda.compute);
    ensure_gpu(*dx, x.shape(), DType::f32);
    cuda::channel_scale_backward(dy.f32(), dx->f32(), rows, c, s.scale.f32(), cuda.compute);
  }
  if (want_params && config_.scale) {
    // xhat = (x - mean) / sqrt(var + eps) is the fold with gamma = 1, beta = 0; then xhat * dy.
    cuda::batchnorm_fold(nullptr, nullptr, moving_mean_.value.f32(), moving_variance_.value.f32(),
                         config_.epsilon, c, s.scale.f32(), s.shift.f32(), cuda.compute);
    ensure_gpu(s.xhat_dy, x.shape(), DType::f32);
    cuda::channel_affine_forward(x.raw(), s.xhat_dy.raw(), DType::f32, rows, c, s.scale.f32(),
                                 s.shift.f32(), cuda.compute);
    cuda::multiply_elements(s.xhat_dy.f32(), dy.f32(), s.xhat_dy.f32(), x.numel(), cuda.compute);
    cuda::column_sum(s.xhat_dy.f32(), layer_support::grad_of(gamma_).f32(), rows, c, cuda.compute);
  }
  if (want_params && config_.center) {
    cuda::column_sum(dy.f32(), layer_support::grad_of(beta_).f32(), rows, c, cuda.compute);
  }
}

}  // namespace catdog
