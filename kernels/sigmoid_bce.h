// The sigmoid_bce op: fused sigmoid + binary cross-entropy from logits (the loss of a one-unit
// head), CPU and CUDA twins with the same parameters (stream last). engine/loss.h is its user.
//
//   z (n) logits, t (n) labels in {0, 1}:
//   loss_sum (one double) = sum_i max(z, 0) - z t + log1p(exp(-|z|))      (accumulated in double)
//   correct  (one double) = how many (z >= 0) == (t >= 0.5)
//   dz (n, nullable)      = (sigmoid(z) - t) / n                            (float)
//
// cpu:: writes loss_sum and correct to host memory; cuda:: to DEVICE memory (one block reduces
// in double: n is a batch, at most a few thousand), so a caller copies them back and waits.
// CPU: kernels/cpu/sigmoid_bce.cpp; CUDA: kernels/cuda/sigmoid_bce.cu.
#pragma once

#include <cstdint>

#include "core/stream.h"

namespace catdog {

namespace cpu {
void sigmoid_bce(const float* z, const float* t, float* dz, int64_t n, double* loss_sum,
                 double* correct, Stream stream);
// One term of loss_sum, in double: max(z, 0) - z t + log1p(exp(-|z|)).
double sigmoid_bce_term(double z, double t);
// 1 / (1 + exp(-z)) in two branches, so exp never overflows.
float sigmoid(float z);
}  // namespace cpu

namespace cuda {  // the GPU twin: the same parameters, device pointers
void sigmoid_bce(const float* z, const float* t, float* dz, int64_t n, double* loss_sum,
                 double* correct, Stream stream);
}  // namespace cuda

}  // namespace catdog
