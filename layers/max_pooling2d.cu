// MaxPooling2D on the GPU. 'valid' forward through cuDNN (descriptors made once per shape);
// 'same' forward and every backward through our kernels (kernels/cuda/pooling_kernels.cu says
// why: TensorFlow's asymmetric -inf padding and the first-maximum rule for ties).
#include <memory>

#include "core/profiling.h"
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

cuda::PoolShape pool_shape(const MaxPooling2DConfig& c, const Shape& x) {
  const WindowGeometry g = make_window_geometry(x[0], x[1], x[2], x[3], c.pool_h, c.pool_w,
                                                c.stride_h, c.stride_w,
                                                c.padding == Padding::same, x[3]);
  cuda::PoolShape s;
  s.n = static_cast<int>(g.n), s.h = static_cast<int>(g.h), s.w = static_cast<int>(g.w);
  s.c = static_cast<int>(g.c), s.oh = static_cast<int>(g.oh), s.ow = static_cast<int>(g.ow);
  s.ph = c.pool_h, s.pw = c.pool_w, s.sh = c.stride_h, s.sw = c.stride_w;
  s.pad_top = static_cast<int>(g.pad_top), s.pad_left = static_cast<int>(g.pad_left);
  return s;
}

}  // namespace

void MaxPooling2D::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  NvtxRange range(cat(name_, " forward"));
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(y, output_shape(x.shape()), x.dtype());
  const cuda::PoolShape s = pool_shape(config_, x.shape());
  if (config_.padding == Padding::same) {
    cuda::max_pool_forward(x.raw(), y.raw(), x.dtype(), s, cuda.compute);
    return;
  }
  if (!gpu_state_ || static_cast<PoolState*>(gpu_state_.get())->x_shape != x.shape() ||
      static_cast<PoolState*>(gpu_state_.get())->dtype != x.dtype()) {
    auto state = std::make_shared<PoolState>();
    state->x_shape = x.shape();
    state->dtype = x.dtype();
    state->x_desc.set_nhwc(x.dtype(), s.n, s.h, s.w, s.c);
    state->y_desc.set_nhwc(x.dtype(), s.n, s.oh, s.ow, s.c);
    cudnnCheck(cudnnSetPooling2dDescriptor(state->pool.desc, CUDNN_POOLING_MAX,
                                           CUDNN_PROPAGATE_NAN, s.ph, s.pw, 0, 0, s.sh, s.sw),
               "MaxPooling2D ", name_, " x ", to_string(x.shape()));
    gpu_state_ = state;
  }
  PoolState& state = *static_cast<PoolState*>(gpu_state_.get());
  const float one = 1.0f, zero = 0.0f;
  cudnnCheck(cudnnPoolingForward(cuda.cudnn, state.pool.desc, &one, state.x_desc.desc, x.raw(),
                                 &zero, state.y_desc.desc, y.raw()),
             "MaxPooling2D ", name_, " x ", to_string(x.shape()), " ", dtype_name(x.dtype()));
}

void MaxPooling2D::backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                                ExecContext& ctx) {
  NvtxRange range(cat(name_, " backward"));
  CATDOG_CHECK(dy.shape() == y.shape(), "MaxPooling2D layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  if (!dx) return;
  require_f32(x, name_, "input");
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(*dx, x.shape(), DType::f32);
  cuda::max_pool_backward(x.f32(), dy.f32(), dx->f32(), pool_shape(config_, x.shape()),
                          cuda.compute);
}

}  // namespace catdog
