// GlobalAveragePooling2D: (N, H, W, C) -> (N, C), y[n, c] = mean over (h, w) of x[n, h, w, c].
// Backward spreads dy[n, c] / (H * W) over every position.
#pragma once

#include "layers/layer.h"

namespace catdog {

class GlobalAveragePooling2D : public Layer {
 public:
  explicit GlobalAveragePooling2D(std::string name) : Layer(std::move(name)) {}
  const char* class_name() const override { return "GlobalAveragePooling2D"; }
  Shape output_shape(const Shape& input) const override;
  nlohmann::json keras_config() const override;

 protected:
  // One body for CPU and GPU: the op dispatchers pick the side.
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;
};

}  // namespace catdog
