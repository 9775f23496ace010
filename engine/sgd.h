// SGD with momentum, Keras semantics:
//   v <- momentum * v - lr * g
//   w <- w + v
// (PyTorch's form, v <- m v + g; w <- w - lr v, gives the same weights for a constant lr.)
// The update of one tensor is the sgd_momentum op (kernels/sgd_momentum.h), CPU or CUDA twin.
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

}  // namespace catdog
