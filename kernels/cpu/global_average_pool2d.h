// Global average pooling over NHWC input.
//   x (N, H, W, C) -> y (N, C), y[n, c] = (1 / (H*W)) * sum over (h, w) of x[n, h, w, c]
//   dx[n, h, w, c] = dy[n, c] / (H*W)
#pragma once

#include <cstdint>

namespace catdog::cpu {

// hw = H * W (the pooled positions per image).
void global_average_pool2d_forward(const float* x, float* y, int64_t n, int64_t hw, int64_t c);
void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c);

}  // namespace catdog::cpu
