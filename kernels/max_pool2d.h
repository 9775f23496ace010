// The max_pool2d op: 2-D max pooling over NHWC input, CPU and CUDA twins with the same
// parameters (stream last), and dispatchers.
//
//   x (N, H, W, C) -> y (N, OH, OW, C), y[n, i, j, c] = max of x over the window at (i, j).
//
// Sizes and padding are one WindowGeometry (kernels/cpu/conv_geometry.h; g.f is unused) on both
// sides. Padding counts as -infinity, so it never wins: a 'same' window at the border is the max
// of its real pixels. Backward sends each dy to the FIRST maximum of its window (scanning rows,
// then columns), as TensorFlow does, and recomputes that position from x rather than storing
// indices; dx (N, H, W, C) is written (zeros where no window's maximum was).
// `void*` x, y are float32 (CPU), or float32 / float16 / bfloat16 as dtype says (GPU); backward is
// float32. CPU: kernels/cpu/max_pool2d.cpp; CUDA: kernels/cuda/max_pool2d.cu.
#pragma once

#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "kernels/cpu/conv_geometry.h"

namespace catdog {

namespace cpu {
void max_pool2d_forward(const WindowGeometry& g, const void* x, void* y, DType dtype,
                        Stream stream);
void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx,
                         Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void max_pool2d_forward(const WindowGeometry& g, const void* x, void* y, DType dtype,
                        Stream stream);
// A gather (each input position looks at the windows covering it): no atomics, and the same tie
// rule as the CPU.
void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx,
                         Stream stream);
}  // namespace cuda

inline void max_pool2d_forward(const WindowGeometry& g, const void* x, void* y, DType dtype,
                               const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::max_pool2d_forward(g, x, y, dtype, s); },
      [&](Stream s) { cuda::max_pool2d_forward(g, x, y, dtype, s); });
}
inline void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy,
                                float* dx, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::max_pool2d_backward(g, x, dy, dx, s); },
      [&](Stream s) { cuda::max_pool2d_backward(g, x, dy, dx, s); });
}

}  // namespace catdog
