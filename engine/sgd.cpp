#include "engine/sgd.h"

#include "core/error.h"
#include "kernels/sgd_momentum.h"

namespace catdog {

void SGD::step(const std::vector<Param*>& params, ExecContext& ctx) {
  for (Param* p : params) {
    CATDOG_CHECK(p->grad.defined() && p->grad.shape() == p->value.shape(), "parameter ", p->name,
                 " of shape ", to_string(p->value.shape()), " has no gradient of that shape");
    if (!p->velocity.defined() || p->velocity.shape() != p->value.shape() ||
        p->velocity.device() != p->value.device()) {
      p->velocity = Tensor::zeros(p->value.shape(), DType::f32, p->value.device());
    }
    sgd_momentum_update(p->value.f32(), p->velocity.f32(), p->grad.f32(), p->value.numel(), lr_,
                        momentum_, ctx);
  }
}

}  // namespace catdog
