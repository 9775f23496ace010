#include "kernels/sgd_momentum.h"

namespace catdog::cpu {

void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         Stream) {
  for (int64_t i = 0; i < n; ++i) {
    v[i] = momentum * v[i] - lr * g[i];
    w[i] += v[i];
  }
}

}  // namespace catdog::cpu
