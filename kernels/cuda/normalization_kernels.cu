// Batch normalization in inference form, as a per-channel affine map (layers/batch_normalization.h):
// fold the four statistics into scale and shift once, then y = scale * x + shift.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launchers.h"

namespace catdog::cuda {

namespace {

__global__ void batchnorm_fold_kernel(const float* gamma, const float* beta, const float* mean,
                                      const float* var, float epsilon, int64_t channels,
                                      float* scale, float* shift) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  const float a = (gamma ? gamma[c] : 1.0f) / sqrtf(var[c] + epsilon);
  scale[c] = a;
  shift[c] = (beta ? beta[c] : 0.0f) - a * mean[c];
}

// x, y (rows, channels): element i has channel i % channels.
template <class T>
__global__ void channel_affine_kernel(const T* x, T* y, int64_t n, int64_t channels,
                                      const float* scale, const float* shift) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i % channels;
    y[i] = from_float<T>(scale[c] * to_float(x[i]) + shift[c]);
  }
}

__global__ void channel_scale_kernel(const float* dy, float* dx, int64_t n, int64_t channels,
                                     const float* scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    dx[i] = scale[i % channels] * dy[i];
  }
}

}  // namespace

void batchnorm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                    float epsilon, int64_t channels, float* scale, float* shift,
                    cudaStream_t stream) {
  if (channels <= 0) return;
  batchnorm_fold_kernel<<<blocks_for(channels), kThreads, 0, stream>>>(gamma, beta, mean, var,
                                                                       epsilon, channels, scale,
                                                                       shift);
  cudaCheckLaunch("batchnorm_fold_kernel", "channels=", channels);
}

void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t channels,
                            const float* scale, const float* shift, cudaStream_t stream) {
  const int64_t n = rows * channels;
  if (n <= 0) return;
  with_element_type(dtype, "channel_affine_forward", [&](auto tag) {
    using T = decltype(tag);
    channel_affine_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), n, channels, scale, shift);
  });
  cudaCheckLaunch("channel_affine_kernel", "rows=", rows, " channels=", channels);
}

void channel_scale_backward(const float* dy, float* dx, int64_t rows, int64_t channels,
                            const float* scale, cudaStream_t stream) {
  const int64_t n = rows * channels;
  if (n <= 0) return;
  channel_scale_kernel<<<blocks_for(n), kThreads, 0, stream>>>(dy, dx, n, channels, scale);
  cudaCheckLaunch("channel_scale_kernel", "rows=", rows, " channels=", channels);
}

}  // namespace catdog::cuda
