// SGD with momentum, Keras semantics:
//   v <- momentum * v - lr * g
//   w <- w + v
// (PyTorch's form, v <- m v + g; w <- w - lr v, gives the same weights for a constant lr.)
#pragma once

#include <vector>

#include "core/context.h"
#include "layers/layer.h"

namespace catdog {

class SGD {
 public:
  SGD(float learning_rate, float momentum) : lr_(learning_rate), momentum_(momentum) {}
  // Update every parameter in place from its grad; velocities are created (zero) on first use.
  void step(const std::vector<Param*>& params, ExecContext& ctx);
  float learning_rate() const { return lr_; }
  float momentum() const { return momentum_; }

 private:
  float lr_;
  float momentum_;
};

// The CPU update of one tensor (n elements): the reference the CUDA kernel is tested against.
void sgd_momentum_update_cpu(float* w, float* v, const float* g, int64_t n, float lr,
                             float momentum);

}  // namespace catdog
