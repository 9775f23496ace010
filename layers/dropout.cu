// Dropout on the GPU: the CPU's mask (kernels/cpu/dropout_mask.h) evaluated per element in a
// kernel, so CPU and GPU runs drop the same elements. Identity when not training.
#include "core/profiling.h"
#include "layers/dropout.h"
#include "layers/gpu_support.cuh"

namespace catdog {

using namespace gpu_support;

void Dropout::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  NvtxRange range(cat(name_, " forward"));
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(y, x.shape(), x.dtype());
  if (!ctx.training || rate_ == 0.0f) {
    cudaCheck(cudaMemcpyAsync(y.raw(), x.raw(), x.nbytes(), cudaMemcpyDeviceToDevice, cuda.compute),
              "Dropout ", name_, " x ", to_string(x.shape()));
    return;
  }
  CATDOG_CHECK(x.dtype() == DType::f32, "Dropout layer ", name_, ": training needs float32, got ",
               dtype_name(x.dtype()));
  cuda::dropout_forward(x.f32(), y.f32(), x.numel(), rate_, ctx.seed, ctx.step, stream_id_,
                        cuda.compute);
}

void Dropout::backward_gpu(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) {
  NvtxRange range(cat(name_, " backward"));
  CATDOG_CHECK(dy.shape() == x.shape(), "Dropout layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an input of shape ", to_string(x.shape()));
  if (!dx) return;
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  ensure_gpu(*dx, x.shape(), DType::f32);
  if (!ctx.training || rate_ == 0.0f) {
    cudaCheck(cudaMemcpyAsync(dx->raw(), dy.raw(), dy.nbytes(), cudaMemcpyDeviceToDevice,
                              cuda.compute),
              "Dropout ", name_, " dy ", to_string(dy.shape()));
    return;
  }
  cuda::dropout_backward(dy.f32(), dx->f32(), dy.numel(), rate_, ctx.seed, ctx.step, stream_id_,
                         cuda.compute);
}

}  // namespace catdog
