// What the CPU twins of kernels/<op>.h share: the float32-only check for the `void*` + DType
// parameters (reduced precision exists on the GPU only), and the elementwise activation math the
// activation and bias_activation ops both apply. Internal to kernels/cpu.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/activation.h"
#include "core/error.h"
#include "core/tensor.h"

namespace catdog::cpu {

inline void require_f32(DType dtype, const char* op) {
  CATDOG_CHECK(dtype == DType::f32, op, ": the CPU computes in float32 only, not ",
               dtype_name(dtype));
}

// Elements per thread below which an elementwise loop stays on the calling thread.
constexpr int64_t kElementwiseGrain = 1 << 16;

// exp of a non-positive number only, so neither branch can overflow.
inline float stable_sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

// y[i] = act(x[i]) for i in [begin, end); y may alias x.
inline void apply_activation(Activation act, float alpha, const float* x, float* y, int64_t begin,
                             int64_t end) {
  switch (act) {
    case Activation::linear:
      if (x != y) std::copy(x + begin, x + end, y + begin);
      break;
    case Activation::relu:
      for (int64_t i = begin; i < end; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Activation::sigmoid:
      for (int64_t i = begin; i < end; ++i) y[i] = stable_sigmoid(x[i]);
      break;
    case Activation::leaky_relu:
      // max(x, 0) + alpha min(x, 0): no branch, so the compiler vectorises it (the sign of an
      // activation is a coin flip, and a mispredicted branch per element made this pass 4x slower
      // than the BatchNormalization pass of the same size).
      for (int64_t i = begin; i < end; ++i) {
        y[i] = std::max(x[i], 0.0f) + alpha * std::min(x[i], 0.0f);
      }
      break;
  }
}

}  // namespace catdog::cpu
