#include "engine/sgd.h"

#include "core/error.h"
#if CATDOG_WITH_CUDA
#include "kernels/cuda/ops.h"
#endif

namespace catdog {

void sgd_momentum_update_cpu(float* w, float* v, const float* g, int64_t n, float lr,
                             float momentum) {
  for (int64_t i = 0; i < n; ++i) {
    v[i] = momentum * v[i] - lr * g[i];
    w[i] += v[i];
  }
}

void SGD::step(const std::vector<Param*>& params, ExecContext& ctx) {
  for (Param* p : params) {
    CATDOG_CHECK(p->grad.defined() && p->grad.shape() == p->value.shape(), "parameter ", p->name,
                 " of shape ", to_string(p->value.shape()), " has no gradient of that shape");
    if (!p->velocity.defined() || p->velocity.shape() != p->value.shape() ||
        p->velocity.device() != p->value.device()) {
      p->velocity = Tensor::zeros(p->value.shape(), DType::f32, p->value.device());
    }
    const int64_t n = p->value.numel();
    if (ctx.on_gpu()) {
#if CATDOG_WITH_CUDA
      cuda::sgd_momentum_update(p->value.f32(), p->velocity.f32(), p->grad.f32(), n, lr_,
                                momentum_, *ctx.cuda);
      continue;
#else
      fail("SGD on the GPU without the CUDA backend");
#endif
    }
    sgd_momentum_update_cpu(p->value.f32(), p->velocity.f32(), p->grad.f32(), n, lr_, momentum_);
  }
}

}  // namespace catdog
