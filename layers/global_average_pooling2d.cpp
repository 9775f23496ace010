#include "layers/global_average_pooling2d.h"

#include "core/error.h"
#include "kernels/global_average_pool2d.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Shape GlobalAveragePooling2D::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() == 4 && input[1] > 0 && input[2] > 0, "GlobalAveragePooling2D layer ",
               name_, ": expected a non-empty (N, H, W, C) input, got ", to_string(input));
  return {input[0], input[3]};
}

nlohmann::json GlobalAveragePooling2D::keras_config() const {
  return keras_layer_json("GlobalAveragePooling2D", *this, {{"data_format", "channels_last"}});
}

void GlobalAveragePooling2D::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  y.reuse_as(output_shape(x.shape()), x.dtype(), ctx.device);
  global_average_pool2d_forward(x.raw(), y.raw(), x.dtype(), x.dim(0), x.dim(1) * x.dim(2),
                                x.dim(3), ctx);
}

void GlobalAveragePooling2D::backward_any_device(const Tensor& x, const Tensor&, const Tensor& dy,
                                                 Tensor* dx, ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == output_shape(x.shape()), "GlobalAveragePooling2D layer ", name_,
               ": gradient of shape ", to_string(dy.shape()), " for an input of shape ",
               to_string(x.shape()));
  if (!dx) return;
  dx->reuse_as(x.shape(), DType::f32, ctx.device);
  global_average_pool2d_backward(dy.f32(), dx->f32(), x.dim(0), x.dim(1) * x.dim(2), x.dim(3),
                                 ctx);
}

}  // namespace catdog
