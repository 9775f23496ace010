// The global_average_pool2d op over NHWC input, CPU and CUDA twins with the same parameters
// (stream last), and dispatchers.
//
//   x (N, HW, C) -> y (N, C), y[n, c] = (1 / HW) * sum over the HW = H*W positions of x[n, p, c]
//   dx[n, p, c] = dy[n, c] / HW
//
// The forward sums in double on the CPU, in float on the GPU (one thread per (n, c) over at most
// a few hundred positions). `void*` x, y are float32 (CPU), or float32 / float16 / bfloat16 as
// dtype says (GPU); backward is float32.
// CPU: kernels/cpu/global_average_pool2d.cpp; CUDA: kernels/cuda/global_average_pool2d.cu.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

namespace cpu {
void global_average_pool2d_forward(const void* x, void* y, DType dtype, int64_t n, int64_t hw,
                                   int64_t c, Stream stream);
void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c,
                                    Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void global_average_pool2d_forward(const void* x, void* y, DType dtype, int64_t n, int64_t hw,
                                   int64_t c, Stream stream);
void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c,
                                    Stream stream);
}  // namespace cuda

inline void global_average_pool2d_forward(const void* x, void* y, DType dtype, int64_t n,
                                          int64_t hw, int64_t c, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::global_average_pool2d_forward(x, y, dtype, n, hw, c, s); },
      [&](Stream s) { cuda::global_average_pool2d_forward(x, y, dtype, n, hw, c, s); });
}
inline void global_average_pool2d_backward(const float* dy, float* dx, int64_t n, int64_t hw,
                                           int64_t c, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::global_average_pool2d_backward(dy, dx, n, hw, c, s); },
      [&](Stream s) { cuda::global_average_pool2d_backward(dy, dx, n, hw, c, s); });
}

}  // namespace catdog
