// The elementwise activation on the GPU, shared by the activation and bias_activation kernels
// (the twin of kernels/cpu/cpu_support.h's apply_activation). Internal to kernels/cuda.
#pragma once

#include "core/activation.h"

namespace catdog::cuda {

__device__ __forceinline__ float activate(float v, Activation act, float alpha) {
  switch (act) {
    case Activation::relu: return v > 0.0f ? v : 0.0f;
    case Activation::leaky_relu: return v > 0.0f ? v : alpha * v;
    // The two-branch form never overflows exp (as the CPU's stable_sigmoid).
    case Activation::sigmoid: {
      if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
      const float e = expf(v);
      return e / (1.0f + e);
    }
    default: return v;
  }
}

}  // namespace catdog::cuda
