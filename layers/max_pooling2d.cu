// MaxPooling2D's 'valid' forward on the GPU through cuDNN (descriptors made once per shape).
// Everything else (the 'same' forward, every backward) is the max_pool2d op, called from
// layers/max_pooling2d.cpp: kernels/cuda/max_pool2d.cu says why (TensorFlow's asymmetric -inf
// padding and the first-maximum rule for ties).
#include <memory>

#include "kernels/cpu/conv_geometry.h"
#include "layers/gpu_support.cuh"
#include "layers/max_pooling2d.h"

namespace catdog {

using namespace gpu_support;

namespace {

struct PoolState {
  Shape x_shape;
  DType dtype = DType::f32;
  TensorDesc x_desc, y_desc;
  PoolingDesc pool;
};

}  // namespace

// y arrives with its shape and dtype on the GPU.
void MaxPooling2D::forward_cudnn(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CudaContext& cuda = cuda_of(ctx, name_);
  if (!gpu_state_ || static_cast<PoolState*>(gpu_state_.get())->x_shape != x.shape() ||
      static_cast<PoolState*>(gpu_state_.get())->dtype != x.dtype()) {
    const WindowGeometry g = make_window_geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3),
                                                  config_.pool_h, config_.pool_w,
                                                  config_.stride_h, config_.stride_w, false,
                                                  x.dim(3));
    auto state = std::make_shared<PoolState>();
    state->x_shape = x.shape();
    state->dtype = x.dtype();
    state->x_desc.set_nhwc(x.dtype(), g.n, g.h, g.w, g.c);
    state->y_desc.set_nhwc(x.dtype(), g.n, g.oh, g.ow, g.c);
    cudnnCheck(cudnnSetPooling2dDescriptor(state->pool.desc, CUDNN_POOLING_MAX,
                                           CUDNN_PROPAGATE_NAN, config_.pool_h, config_.pool_w, 0,
                                           0, config_.stride_h, config_.stride_w),
               "MaxPooling2D ", name_, " x ", to_string(x.shape()));
    gpu_state_ = state;
  }
  PoolState& state = *static_cast<PoolState*>(gpu_state_.get());
  const float one = 1.0f, zero = 0.0f;
  cudnnCheck(cudnnPoolingForward(cuda.cudnn, state.pool.desc, &one, state.x_desc.desc, x.raw(),
                                 &zero, state.y_desc.desc, y.raw()),
             "MaxPooling2D ", name_, " x ", to_string(x.shape()), " ", dtype_name(x.dtype()));
}

}  // namespace catdog
