#include "layers/activations.h"

#include "core/error.h"
#include "kernels/cpu/activations.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

ActivationLayer::ActivationLayer(std::string name, std::string class_name, Activation activation,
                                 float alpha)
    : Layer(std::move(name)), class_name_(std::move(class_name)), activation_(activation),
      alpha_(alpha) {
  CATDOG_CHECK(class_name_ == "ReLU" || class_name_ == "LeakyReLU" || class_name_ == "Activation",
               "layer ", name_, ": unknown activation layer class '", class_name_, "'");
  if (class_name_ != "Activation") activation_ = Activation::relu;
}

nlohmann::json ActivationLayer::keras_config() const {
  if (class_name_ == "LeakyReLU") return keras_layer_json("LeakyReLU", *this, {{"alpha", alpha_}});
  if (class_name_ == "ReLU") {
    return keras_layer_json("ReLU", *this,
                            {{"max_value", nullptr}, {"negative_slope", alpha_}, {"threshold", 0.0}});
  }
  return keras_layer_json("Activation", *this, {{"activation", activation_name(activation_)}});
}

// LeakyReLU, and ReLU with a negative_slope, are the leaky form; everything else is plain.
void ActivationLayer::forward_cpu(const Tensor& x, Tensor& y, ExecContext&) {
  ensure_cpu(y, x.shape());
  if (activation_ == Activation::relu && alpha_ != 0.0f) {
    cpu::leaky_relu_forward(x.f32(), y.f32(), x.numel(), alpha_);
  } else {
    cpu::activation_forward(activation_, x.f32(), y.f32(), x.numel());
  }
}

void ActivationLayer::backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                                   ExecContext&) {
  CATDOG_CHECK(dy.shape() == x.shape(), class_name_, " layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(x.shape()));
  if (!dx) return;
  ensure_cpu(*dx, x.shape());
  if (activation_ == Activation::relu && alpha_ != 0.0f) {
    cpu::leaky_relu_backward(x.f32(), dy.f32(), dx->f32(), x.numel(), alpha_);
  } else if (activation_ == Activation::relu) {
    // From x, not y: the same thing for relu, and y may be gone (a frozen prefix keeps nothing).
    cpu::leaky_relu_backward(x.f32(), dy.f32(), dx->f32(), x.numel(), 0.0f);
  } else {
    cpu::activation_backward_from_output(activation_, y.f32(), dy.f32(), dx->f32(), x.numel());
  }
}

}  // namespace catdog
