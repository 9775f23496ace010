// 2-D max pooling over NHWC input.
//
//   x (N, H, W, C) -> y (N, OH, OW, C), y[n, i, j, c] = max of x over the window at (i, j).
//
// Sizes and padding follow conv_geometry.h (g.f is unused). Padding counts as -infinity, so it
// never wins: a 'same' window at the border is the max of its real pixels. Backward sends each
// dy to the FIRST maximum of its window (scanning rows, then columns), as TensorFlow does, and
// recomputes that position from x rather than storing indices.
#pragma once

#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu {

void max_pool2d_forward_nhwc(const WindowGeometry& g, const float* x, float* y);
// dx (N, H, W, C) is written (zeros where no window's maximum was).
void max_pool2d_backward_nhwc(const WindowGeometry& g, const float* x, const float* dy, float* dx);

}  // namespace catdog::cpu
