// The batch_norm op: BatchNormalization in inference form over the channel axis of (rows, C)
// data (NHWC with rows = N*H*W), CPU and CUDA twins with the same parameters (stream last), and
// dispatchers.
//
//   a[c] = gamma[c] / sqrt(var[c] + eps),  b[c] = beta[c] - a[c] * mean[c]   (the fold, in double)
//   y = a * x + b                      (per channel)
//   dx = a * dy
//   dgamma[c] = sum over rows of dy * (x - mean) / sqrt(var + eps),   dbeta[c] = sum of dy
//                                      (both sums accumulated in double on both sides)
//
// gamma, beta, mean, var, a, b, dgamma, dbeta (C) and dx, dy (rows, C) are float32; `void*` x, y
// of the forward are float32 (CPU), or float32 / float16 / bfloat16 as dtype says (GPU).
// CPU: kernels/cpu/batch_norm.cpp; CUDA: kernels/cuda/batch_norm.cu.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

namespace cpu {
// a, b (C) from the statistics; gamma or beta may be null (Keras scale=False / center=False:
// gamma = 1, beta = 0).
void batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                     float eps, int64_t c, float* a, float* b, Stream stream);
// y (rows, C) = a * x + b per channel; y may alias x.
void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t c,
                            const float* a, const float* b, Stream stream);
// a (C) is the fold's scale (with gamma); dx, dgamma, dbeta may each be null to skip them.
void batch_norm_backward(const float* x, const float* dy, const float* a, const float* mean,
                         const float* var, float eps, int64_t rows, int64_t c, float* dx,
                         float* dgamma, float* dbeta, Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                     float eps, int64_t c, float* a, float* b, Stream stream);
void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t c,
                            const float* a, const float* b, Stream stream);
void batch_norm_backward(const float* x, const float* dy, const float* a, const float* mean,
                         const float* var, float eps, int64_t rows, int64_t c, float* dx,
                         float* dgamma, float* dbeta, Stream stream);
}  // namespace cuda

inline void batch_norm_fold(const float* gamma, const float* beta, const float* mean,
                            const float* var, float eps, int64_t c, float* a, float* b,
                            const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::batch_norm_fold(gamma, beta, mean, var, eps, c, a, b, s); },
      [&](Stream s) { cuda::batch_norm_fold(gamma, beta, mean, var, eps, c, a, b, s); });
}
inline void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t c,
                                   const float* a, const float* b, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::channel_affine_forward(x, y, dtype, rows, c, a, b, s); },
      [&](Stream s) { cuda::channel_affine_forward(x, y, dtype, rows, c, a, b, s); });
}
inline void batch_norm_backward(const float* x, const float* dy, const float* a,
                                const float* mean, const float* var, float eps, int64_t rows,
                                int64_t c, float* dx, float* dgamma, float* dbeta,
                                const ExecContext& ctx) {
  run_on(
      ctx,
      [&](Stream s) {
        cpu::batch_norm_backward(x, dy, a, mean, var, eps, rows, c, dx, dgamma, dbeta, s);
      },
      [&](Stream s) {
        cuda::batch_norm_backward(x, dy, a, mean, var, eps, rows, c, dx, dgamma, dbeta, s);
      });
}

}  // namespace catdog
