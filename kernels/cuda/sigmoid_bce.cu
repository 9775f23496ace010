// The CUDA side of kernels/sigmoid_bce.h: the fused sigmoid + binary cross-entropy (loss sum,
// accuracy count and gradient in one pass). Twin of kernels/cpu/sigmoid_bce.cpp.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/sigmoid_bce.h"

namespace catdog::cuda {

namespace {

// One block of kReduceThreads: each thread accumulates a strided share in double, then a tree
// reduction in shared memory. Deterministic for a given n.
constexpr int kReduceThreads = 256;
__global__ void sigmoid_bce_kernel(const float* z, const float* t, float* dz, int64_t n,
                                   double* loss_sum, double* correct) {
  __shared__ double loss_part[kReduceThreads];
  __shared__ double right_part[kReduceThreads];
  double loss = 0.0, right = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kReduceThreads) {
    const double zi = z[i], ti = t[i];
    // max(z, 0) - z t + log(1 + exp(-|z|)): exact for large |z| where log(sigmoid) is not.
    loss += fmax(zi, 0.0) - zi * ti + log1p(exp(-fabs(zi)));
    if ((z[i] >= 0.0f) == (t[i] >= 0.5f)) right += 1.0;
    if (dz) {
      const float e = expf(-fabsf(z[i]));
      const float s = z[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
      dz[i] = (s - t[i]) / static_cast<float>(n);
    }
  }
  loss_part[threadIdx.x] = loss;
  right_part[threadIdx.x] = right;
  __syncthreads();
  for (int half = kReduceThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      loss_part[threadIdx.x] += loss_part[threadIdx.x + half];
      right_part[threadIdx.x] += right_part[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    *loss_sum = loss_part[0];
    *correct = right_part[0];
  }
}

}  // namespace

void sigmoid_bce(const float* z, const float* t, float* dz, int64_t n, double* loss_sum,
                 double* correct, Stream stream) {
  launch(sigmoid_bce_kernel, 1, kReduceThreads, 0, stream, z, t, dz, n, loss_sum, correct);
  cudaCheckLaunch("sigmoid_bce_kernel", "n=", n);
}

}  // namespace catdog::cuda
