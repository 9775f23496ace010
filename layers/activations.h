// Elementwise activation layers: ReLU, LeakyReLU and Keras' generic Activation layer
// (relu, sigmoid, linear), computed by the activation op (kernels/activation.h) on either device.
//   relu:       y = max(x, 0)             dy/dx = 1 if x > 0 else 0 (0 at the kink, as Keras)
//   leaky relu: y = x if x > 0 else a*x   dy/dx = 1 if x > 0 else a
//   sigmoid:    y = 1 / (1 + exp(-x))     dy/dx = y (1 - y)
#pragma once

#include "layers/layer.h"

namespace catdog {

class ActivationLayer : public Layer {
 public:
  // class_name is "ReLU", "LeakyReLU" or "Activation" (as it appeared in the Keras config).
  ActivationLayer(std::string name, std::string class_name, Activation activation, float alpha);
  const char* class_name() const override { return class_name_.c_str(); }
  Shape output_shape(const Shape& input) const override { return input; }
  nlohmann::json keras_config() const override;
  Activation activation() const { return activation_; }
  float alpha() const { return alpha_; }

 protected:
  // One body for CPU and GPU: the op dispatchers pick the side.
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;

 private:
  std::string class_name_;
  Activation activation_;
  float alpha_ = 0.0f;  // LeakyReLU slope for x < 0 (0 for plain ReLU)
};

}  // namespace catdog
