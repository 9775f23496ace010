// GlobalAveragePooling2D on the GPU (kernels/cuda/pooling_kernels.cu): y[n, c] = mean over (h, w).
#include "core/profiling.h"
#include "layers/global_average_pooling2d.h"
#include "layers/gpu_support.cuh"

namespace catdog {

using namespace gpu_support;

void GlobalAveragePooling2D::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  NvtxRange range(cat(name_, " forward"));
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(y, output_shape(x.shape()), x.dtype());
  cuda::global_avg_pool_forward(x.raw(), y.raw(), x.dtype(), x.dim(0), x.dim(1) * x.dim(2),
                                x.dim(3), cuda.compute);
}

void GlobalAveragePooling2D::backward_gpu(const Tensor& x, const Tensor&, const Tensor& dy,
                                          Tensor* dx, ExecContext& ctx) {
  NvtxRange range(cat(name_, " backward"));
  CATDOG_CHECK(dy.shape() == output_shape(x.shape()), "GlobalAveragePooling2D layer ", name_,
               ": gradient of shape ", to_string(dy.shape()), " for an input of shape ",
               to_string(x.shape()));
  if (!dx) return;
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(*dx, x.shape(), DType::f32);
  cuda::global_avg_pool_backward(dy.f32(), dx->f32(), x.dim(0), x.dim(1) * x.dim(2), x.dim(3),
                                 cuda.compute);
}

}  // namespace catdog
