// The CUDA side of kernels/global_average_pool2d.h: the mean over (h, w) of NHWC input, and its
// backward. Twin of kernels/cpu/global_average_pool2d.cpp.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/global_average_pool2d.h"

namespace catdog::cuda {

namespace {

// One thread per (n, c): walk the H*W positions (consecutive threads read consecutive channels).
template <class T>
__global__ void global_avg_pool_forward_kernel(const T* x, T* y, int64_t n, int64_t hw,
                                               int64_t c) {
  const int64_t total = n * c;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = idx / c, ch = idx % c;
    const T* base = x + b * hw * c + ch;
    float sum = 0.0f;
    for (int64_t p = 0; p < hw; ++p) sum += to_float(base[p * c]);
    y[idx] = from_float<T>(sum / static_cast<float>(hw));
  }
}

__global__ void global_avg_pool_backward_kernel(const float* dy, float* dx, int64_t n, int64_t hw,
                                                int64_t c) {
  const int64_t total = n * hw * c;
  const float inv = 1.0f / static_cast<float>(hw);
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ch = idx % c, b = idx / (hw * c);
    dx[idx] = dy[b * c + ch] * inv;
  }
}

}  // namespace

void global_average_pool2d_forward(const void* x, void* y, DType dtype, int64_t n, int64_t hw,
                                   int64_t c, Stream stream) {
  if (n * c <= 0) return;
  with_element_type(dtype, "global_average_pool2d_forward", [&](auto tag) {
    using T = decltype(tag);
    launch(global_avg_pool_forward_kernel<T>, blocks_for(n * c), kThreads, 0, stream,
           static_cast<const T*>(x), static_cast<T*>(y), n, hw, c);
  });
  cudaCheckLaunch("global_avg_pool_forward_kernel", "x (", n, ", ", hw, ", ", c, ")");
}

void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c,
                                    Stream stream) {
  if (n * hw * c <= 0) return;
  launch(global_avg_pool_backward_kernel, blocks_for(n * hw * c), kThreads, 0, stream, dy, dx, n,
         hw, c);
  cudaCheckLaunch("global_avg_pool_backward_kernel", "dx (", n, ", ", hw, ", ", c, ")");
}

}  // namespace catdog::cuda
