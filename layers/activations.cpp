#include "layers/activations.h"

#include "core/error.h"
#include "kernels/activation.h"
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

namespace {
// LeakyReLU, and ReLU with a negative_slope, are the leaky form; everything else is plain.
Activation kernel_activation(Activation activation, float alpha) {
  return activation == Activation::relu && alpha != 0.0f ? Activation::leaky_relu : activation;
}
}  // namespace

// Forward accepts float32, or on the GPU also float16 / bfloat16 (y has x's type).
void ActivationLayer::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  y.reuse_as(x.shape(), x.dtype(), ctx.device);
  activation_forward(x.raw(), y.raw(), x.dtype(), x.numel(),
                     kernel_activation(activation_, alpha_), alpha_, ctx);
}

void ActivationLayer::backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy,
                                          Tensor* dx, ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == x.shape(), class_name_, " layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(x.shape()));
  if (!dx) return;
  dx->reuse_as(x.shape(), DType::f32, ctx.device);
  const Activation act = kernel_activation(activation_, alpha_);
  // relu / leaky relu read x (y may be gone in a frozen prefix); sigmoid reads y.
  const float* x_data = act == Activation::sigmoid ? nullptr : x.f32();
  const float* y_data = act == Activation::sigmoid ? y.f32() : nullptr;
  activation_backward(x_data, y_data, dy.f32(), dx->f32(), x.numel(), act, alpha_, ctx);
}

}  // namespace catdog
