// The CUDA side of kernels/activation.h: elementwise activations forward and backward. Twins of
// kernels/cpu/activation.cpp.
#include "core/cuda_checks.h"
#include "kernels/activation.h"
#include "kernels/cuda/activate.cuh"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"

namespace catdog::cuda {

namespace {

template <class T>
__global__ void activation_forward_kernel(const T* x, T* y, int64_t n, Activation act,
                                          float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    y[i] = from_float<T>(activate(to_float(x[i]), act, alpha));
  }
}

__global__ void activation_backward_kernel(const float* x, const float* y, const float* dy,
                                           float* dx, int64_t n, Activation act, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float g = dy[i];
    switch (act) {
      case Activation::relu: dx[i] = x[i] > 0.0f ? g : 0.0f; break;
      case Activation::leaky_relu: dx[i] = x[i] > 0.0f ? g : alpha * g; break;
      case Activation::sigmoid: dx[i] = g * y[i] * (1.0f - y[i]); break;
      default: dx[i] = g;
    }
  }
}

}  // namespace

void activation_forward(const void* x, void* y, DType dtype, int64_t n, Activation act,
                        float alpha, Stream stream) {
  if (n <= 0) return;
  with_element_type(dtype, "activation_forward", [&](auto tag) {
    using T = decltype(tag);
    launch(activation_forward_kernel<T>, blocks_for(n), kThreads, 0, stream,
           static_cast<const T*>(x), static_cast<T*>(y), n, act, alpha);
  });
  cudaCheckLaunch("activation_forward_kernel", "n=", n, " dtype=", dtype_name(dtype));
}

void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         Activation act, float alpha, Stream stream) {
  if (n <= 0) return;
  launch(activation_backward_kernel, blocks_for(n), kThreads, 0, stream, x, y, dy, dx, n, act,
         alpha);
  cudaCheckLaunch("activation_backward_kernel", "n=", n);
}

}  // namespace catdog::cuda
