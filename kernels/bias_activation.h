// The bias op of Conv2D and Dense: the forward epilogue y = act(y + bias) and the bias gradient
// (a column sum), CPU and CUDA twins with the same parameters (stream last), and dispatchers.
//
//   y, dz (rows, channels) row-major (NHWC output pixels or a batch of dense rows); bias, db
//   (channels). `void* y` is float32 (CPU), or float32 / float16 / bfloat16 as dtype says (GPU);
//   bias is float32 and the sum is taken in float before rounding to dtype.
//   Both sides accumulate the bias gradient in double (a VGG layer sums 50,000 rows, where float
//   would lose digits), then round once to float.
// CPU: kernels/cpu/bias_activation.cpp; CUDA: kernels/cuda/bias_activation.cu.
#pragma once

#include <cstdint>

#include "core/activation.h"
#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

namespace cpu {
// In place y[r, c] = act(y[r, c] + bias[c]); bias may be null. alpha: the leaky_relu slope.
void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, Activation act, float alpha, Stream stream);
// db[c] = sum over rows of dz[r, c], written (not accumulated).
void bias_backward(const float* dz, float* db, int64_t rows, int64_t channels, Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, Activation act, float alpha, Stream stream);
// Deterministic (no atomics): partial sums over row chunks, then a sum of the partials.
void bias_backward(const float* dz, float* db, int64_t rows, int64_t channels, Stream stream);
}  // namespace cuda

inline void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                                    int64_t channels, Activation act, float alpha,
                                    const ExecContext& ctx) {
  run_on(
      ctx,
      [&](Stream s) {
        cpu::bias_activation_forward(y, dtype, bias, rows, channels, act, alpha, s);
      },
      [&](Stream s) {
        cuda::bias_activation_forward(y, dtype, bias, rows, channels, act, alpha, s);
      });
}
inline void bias_backward(const float* dz, float* db, int64_t rows, int64_t channels,
                          const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::bias_backward(dz, db, rows, channels, s); },
      [&](Stream s) { cuda::bias_backward(dz, db, rows, channels, s); });
}

}  // namespace catdog
