// Elementwise activation layers: ReLU, LeakyReLU and Keras' generic Activation layer
// (relu, sigmoid, linear).
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
  bool leaky() const { return class_name_ == "LeakyReLU"; }
  float alpha() const { return alpha_; }

 protected:
  void forward_cpu(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                    ExecContext& ctx) override;
#if CATDOG_WITH_CUDA
  void forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                    ExecContext& ctx) override;
#endif

 private:
  std::string class_name_;
  Activation activation_;
  float alpha_ = 0.0f;  // LeakyReLU slope for x < 0 (0 for plain ReLU)
};

}  // namespace catdog
