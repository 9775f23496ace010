// The sgd_momentum op: one SGD-with-momentum update of a float32 tensor, Keras semantics
// (nesterov=False), CPU and CUDA twins with the same parameters (stream last), and the
// dispatcher. engine/sgd.h is its user.
//
//   w, v, g (n):   v = momentum * v - lr * g;   w += v
//
// CPU: kernels/cpu/sgd_momentum.cpp; CUDA: kernels/cuda/sgd_momentum.cu.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/stream.h"

namespace catdog {

namespace cpu {
void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         Stream stream);
}  // namespace cpu
namespace cuda {  // the GPU twin: the same parameters, device pointers
void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         Stream stream);
}  // namespace cuda

inline void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr,
                                float momentum, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::sgd_momentum_update(w, v, g, n, lr, momentum, s); },
      [&](Stream s) { cuda::sgd_momentum_update(w, v, g, n, lr, momentum, s); });
}

}  // namespace catdog
