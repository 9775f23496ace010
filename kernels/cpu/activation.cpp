#include "kernels/activation.h"

#include <algorithm>

#include "kernels/cpu/cpu_support.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

void activation_forward(const void* x, void* y, DType dtype, int64_t n, Activation act,
                        float alpha, Stream) {
  require_f32(dtype, "activation_forward");
  const float* in = static_cast<const float*>(x);
  float* out = static_cast<float*>(y);
  parallel_for(n, kElementwiseGrain,
               [&](int64_t b, int64_t e) { apply_activation(act, alpha, in, out, b, e); });
}

void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         Activation act, float alpha, Stream) {
  parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    switch (act) {
      case Activation::linear:
        if (dx != dy) std::copy(dy + b, dy + e, dx + b);
        break;
      case Activation::relu:
        for (int64_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
        break;
      case Activation::leaky_relu:
        for (int64_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
        break;
      case Activation::sigmoid:
        for (int64_t i = b; i < e; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    }
  });
}

}  // namespace catdog::cpu
