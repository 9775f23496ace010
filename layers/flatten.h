// Flatten: (N, H, W, C) -> (N, H*W*C). In NHWC this is a view, not a copy, and its order is
// exactly Keras' channels-last flatten order, so a head trained here is a Keras head.
#pragma once

#include "layers/layer.h"

namespace catdog {

class Flatten : public Layer {
 public:
  explicit Flatten(std::string name) : Layer(std::move(name)) {}
  const char* class_name() const override { return "Flatten"; }
  Shape output_shape(const Shape& input) const override;
  bool is_view() const override { return true; }
  nlohmann::json keras_config() const override;

 protected:
  // A view on either device: one body, no kernel.
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;
};

}  // namespace catdog
