// The CUDA side of kernels/batch_norm.h: BatchNormalization in inference form as a per-channel
// affine map (fold the four statistics into a and b once, then y = a * x + b), and its backward
// (dx = a dy; dgamma, dbeta as column sums in double). Twins of kernels/cpu/batch_norm.cpp.
#include "core/cuda_checks.h"
#include "kernels/batch_norm.h"
#include "kernels/cuda/column_sum.cuh"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"

namespace catdog::cuda {

namespace {

// In double, then rounded once, as the CPU: C values, so it costs nothing.
__global__ void batch_norm_fold_kernel(const float* gamma, const float* beta, const float* mean,
                                       const float* var, float eps, int64_t channels, float* a,
                                       float* b) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  const double scale = (gamma ? gamma[c] : 1.0) / sqrt(static_cast<double>(var[c]) + eps);
  a[c] = static_cast<float>(scale);
  b[c] = static_cast<float>((beta ? beta[c] : 0.0) - scale * mean[c]);
}

// x, y (rows, channels): element i has channel i % channels.
template <class T>
__global__ void channel_affine_kernel(const T* x, T* y, int64_t n, int64_t channels,
                                      const float* a, const float* b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i % channels;
    y[i] = from_float<T>(a[c] * to_float(x[i]) + b[c]);
  }
}

__global__ void channel_scale_kernel(const float* dy, float* dx, int64_t n, int64_t channels,
                                     const float* a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    dx[i] = a[i % channels] * dy[i];
  }
}

// dy[r, c] * (x[r, c] - mean[c]) / sqrt(var[c] + eps), in double as the CPU (x - mean in float).
struct XhatDyTerm {
  const float *x, *dy, *mean, *var;
  float eps;
  int64_t channels;
  __device__ double operator()(int64_t r, int64_t c) const {
    const int64_t i = r * channels + c;
    const double inv_std = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
    return static_cast<double>(dy[i]) * (x[i] - mean[c]) * inv_std;
  }
};

}  // namespace

void batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                     float eps, int64_t c, float* a, float* b, Stream stream) {
  if (c <= 0) return;
  launch(batch_norm_fold_kernel, blocks_for(c), kThreads, 0, stream, gamma, beta, mean, var, eps, c,
         a, b);
  cudaCheckLaunch("batch_norm_fold_kernel", "channels=", c);
}

void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t c,
                            const float* a, const float* b, Stream stream) {
  const int64_t n = rows * c;
  if (n <= 0) return;
  with_element_type(dtype, "channel_affine_forward", [&](auto tag) {
    using T = decltype(tag);
    launch(channel_affine_kernel<T>, blocks_for(n), kThreads, 0, stream, static_cast<const T*>(x),
           static_cast<T*>(y), n, c, a, b);
  });
  cudaCheckLaunch("channel_affine_kernel", "rows=", rows, " channels=", c);
}

void batch_norm_backward(const float* x, const float* dy, const float* a, const float* mean,
                         const float* var, float eps, int64_t rows, int64_t c, float* dx,
                         float* dgamma, float* dbeta, Stream stream) {
  const int64_t n = rows * c;
  if (dx && n > 0) {
    launch(channel_scale_kernel, blocks_for(n), kThreads, 0, stream, dy, dx, n, c, a);
    cudaCheckLaunch("channel_scale_kernel", "rows=", rows, " channels=", c);
  }
  if (dgamma) {
    column_sum(XhatDyTerm{x, dy, mean, var, eps, c}, dgamma, rows, c, stream,
               "batch_norm_backward (dgamma)");
  }
  if (dbeta) column_sum(MatrixElement{dy, c}, dbeta, rows, c, stream, "batch_norm_backward (dbeta)");
}

}  // namespace catdog::cuda
