// The CUDA side of kernels/bias_activation.h: the bias + activation epilogue of Conv2D and Dense,
// and the bias gradient (a column sum in double). Twins of kernels/cpu/bias_activation.cpp.
#include "core/cuda_checks.h"
#include "kernels/bias_activation.h"
#include "kernels/cuda/activate.cuh"
#include "kernels/cuda/column_sum.cuh"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"

namespace catdog::cuda {

namespace {

// y (rows, channels): element i has channel i % channels.
template <class T>
__global__ void bias_activation_kernel(T* y, const float* bias, int64_t n, int64_t channels,
                                       Activation act, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float v = to_float(y[i]);
    if (bias) v += bias[i % channels];
    y[i] = from_float<T>(activate(v, act, alpha));
  }
}

}  // namespace

void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, Activation act, float alpha, Stream stream) {
  const int64_t n = rows * channels;
  if (n <= 0) return;
  if (!bias && act == Activation::linear) return;  // nothing to do
  with_element_type(dtype, "bias_activation_forward", [&](auto tag) {
    using T = decltype(tag);
    launch(bias_activation_kernel<T>, blocks_for(n), kThreads, 0, stream, static_cast<T*>(y), bias,
           n, channels, act, alpha);
  });
  cudaCheckLaunch("bias_activation_kernel", "rows=", rows, " channels=", channels);
}

void bias_backward(const float* dz, float* db, int64_t rows, int64_t channels, Stream stream) {
  column_sum(MatrixElement{dz, channels}, db, rows, channels, stream, "bias_backward");
}

}  // namespace catdog::cuda
