// Fully connected layer as row-major OpenBLAS sgemm: CPU only (the GPU Dense is cuBLAS calls in
// layers/dense.cu, whose epilogue and bias gradient are the bias_activation op's CUDA twins).
//
//   x (N, K), W (K, M) as Keras stores it, b (M), y (N, M):   y = act(x W + b)
//   backward, given dz = dL/d(x W + b) (N, M):
//     dW (K, M) = x^T dz      db (M) = sum over N of dz      dx (N, K) = dz W^T
#pragma once

#include <cstdint>

#include "core/activation.h"

namespace catdog::cpu {

// b may be null.
void dense_forward(const float* x, const float* w, const float* b, Activation act, float* y,
                   int64_t n, int64_t k, int64_t m);
// Any output pointer may be null to skip it; results are written, not accumulated.
void dense_backward(const float* x, const float* w, const float* dz, float* dx, float* dw,
                    float* db, int64_t n, int64_t k, int64_t m);

}  // namespace catdog::cpu
