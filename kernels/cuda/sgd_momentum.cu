// The CUDA side of kernels/sgd_momentum.h: one SGD-with-momentum update. Twin of
// kernels/cpu/sgd_momentum.cpp.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/sgd_momentum.h"

namespace catdog::cuda {

namespace {

// v = m v - lr g; w += v (Keras SGD with momentum, nesterov=False).
__global__ void sgd_momentum_kernel(float* w, float* v, const float* g, int64_t n, float lr,
                                    float momentum) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float vi = momentum * v[i] - lr * g[i];
    v[i] = vi;
    w[i] += vi;
  }
}

}  // namespace

void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         Stream stream) {
  if (n <= 0) return;
  launch(sgd_momentum_kernel, blocks_for(n), kThreads, 0, stream, w, v, g, n, lr, momentum);
  cudaCheckLaunch("sgd_momentum_kernel", "n=", n);
}

}  // namespace catdog::cuda
