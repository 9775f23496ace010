#include "engine/layer_cost.h"

#include <cstring>

#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/max_pooling2d.h"

namespace catdog {

namespace {

// A GEMM-shaped layer (Conv2D, Dense): `macs` multiply-adds, `weights` parameters.
LayerCost weighted(int64_t macs, int64_t x, int64_t y, int64_t weights, int64_t e, bool dx) {
  LayerCost c;
  c.forward_flops = 2 * macs;
  c.forward_bytes = e * (x + weights + y);
  c.backward_flops = 2 * macs + (dx ? 2 * macs : 0);
  c.backward_bytes = e * (y + x + weights + (dx ? weights + x : 0));  // dy, x, dW (+ W, dx)
  return c;
}

// An element-wise layer: `forward` and `backward` FLOPs per element of x.
LayerCost elementwise(int64_t x, int64_t y, int64_t forward, int64_t backward, int64_t params,
                      int64_t e, bool dx, bool param_grads) {
  LayerCost c;
  c.forward_flops = forward * x;
  c.forward_bytes = e * (x + y + params);
  if (dx || param_grads) {
    c.backward_flops = backward * x;
    c.backward_bytes = e * (y + x + (dx ? x : 0) + (param_grads ? params : 0));  // dy, x, dx, dW
  }
  return c;
}

}  // namespace

LayerCost layer_cost(const Layer& layer, const Shape& input, int element_bytes,
                     bool input_gradient) {
  const Shape output = layer.output_shape(input);
  const int64_t x = numel(input), y = numel(output), e = element_bytes;
  const char* cls = layer.class_name();
  const int64_t params = layer.param_count();
  const bool param_grads = layer.trainable() && params > 0;
  if (const auto* conv = dynamic_cast<const Conv2D*>(&layer)) {
    const Conv2DConfig& k = conv->config();
    const int64_t macs = y * k.kernel_h * k.kernel_w * input[3];  // y = N*OH*OW*F
    return weighted(macs, x, y, params, e, input_gradient);
  }
  if (dynamic_cast<const Dense*>(&layer)) {
    const int64_t macs = y * input[1];  // y = N*M, K = input[1]
    return weighted(macs, x, y, params, e, input_gradient);
  }
  if (const auto* pool = dynamic_cast<const MaxPooling2D*>(&layer)) {
    const MaxPooling2DConfig& k = pool->config();
    LayerCost c;
    c.forward_flops = y * k.pool_h * k.pool_w;
    c.forward_bytes = e * (x + y);
    if (input_gradient) {
      c.backward_flops = c.forward_flops;
      c.backward_bytes = e * (y + x + x);  // dy, x (where the maxima were), dx
    }
    return c;
  }
  if (std::strcmp(cls, "Flatten") == 0) return {};
  if (std::strcmp(cls, "BatchNormalization") == 0) {
    return elementwise(x, y, 2, 4, params, e, input_gradient, param_grads);
  }
  // ReLU, LeakyReLU, Activation, Dropout, GlobalAveragePooling2D: one FLOP per input element.
  return elementwise(x, y, 1, 1, 0, e, input_gradient, false);
}

}  // namespace catdog
