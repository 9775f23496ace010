// The activation op: elementwise activations forward and backward, CPU and CUDA twins with the
// same parameters (stream last), and the dispatcher that picks the side from an ExecContext.
//
//   relu:       y = max(x, 0)             dx = dy * (x > 0)
//   leaky_relu: y = x > 0 ? x : a * x     dx = dy * (x > 0 ? 1 : a)
//   sigmoid:    y = 1 / (1 + exp(-x))     dx = dy * y * (1 - y)
//   linear:     y = x                     dx = dy
//
// Arrays are flat, n elements. `void*` activations are float32, float16 or bfloat16 as `dtype`
// says (the frozen part of a model may run in reduced precision on the GPU; the CPU takes float32
// only); `float*` ones are float32. Pointers are host memory for cpu::, device memory for cuda::.
// CPU: kernels/cpu/activation.cpp; CUDA: kernels/cuda/activation.cu.
#pragma once

#include <cstdint>

#include "core/activation.h"
#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

namespace cpu {
// y (n) = act(x (n)); y may alias x. alpha: the leaky_relu slope (ignored otherwise).
void activation_forward(const void* x, void* y, DType dtype, int64_t n, Activation act,
                        float alpha, Stream stream);
// dx (n) = dy (n) * act'(.): relu and leaky_relu read x (the activation's input; for relu the
// output is the same test, y > 0 iff x > 0), sigmoid reads y; the other may be null. dx may
// alias dy.
void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         Activation act, float alpha, Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void activation_forward(const void* x, void* y, DType dtype, int64_t n, Activation act,
                        float alpha, Stream stream);
void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         Activation act, float alpha, Stream stream);
}  // namespace cuda

// The dispatchers: cpu:: or cuda:: by ctx.device (the GPU side on ctx.cuda->compute).
inline void activation_forward(const void* x, void* y, DType dtype, int64_t n, Activation act,
                               float alpha, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::activation_forward(x, y, dtype, n, act, alpha, s); },
      [&](Stream s) { cuda::activation_forward(x, y, dtype, n, act, alpha, s); });
}
inline void activation_backward(const float* x, const float* y, const float* dy, float* dx,
                                int64_t n, Activation act, float alpha, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::activation_backward(x, y, dy, dx, n, act, alpha, s); },
      [&](Stream s) { cuda::activation_backward(x, y, dy, dx, n, act, alpha, s); });
}

}  // namespace catdog
