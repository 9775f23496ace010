#include "layers/dense.h"

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/cpu/dense.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

Dense::Dense(std::string name, DenseConfig config) : Layer(std::move(name)), config_(config) {
  CATDOG_CHECK(config_.units > 0, "Dense layer ", name_, ": units must be positive, got ",
               config_.units);
}

Activation Dense::effective_activation() const {
  if (emit_logits_ && config_.activation == Activation::sigmoid) return Activation::linear;
  return config_.activation;
}

Shape Dense::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() == 2, "Dense layer ", name_, ": expected an (N, features) input, got ",
               to_string(input), " (add a Flatten before it)");
  if (kernel_.value.defined()) {
    CATDOG_CHECK(input[1] == kernel_.value.dim(0), "Dense layer ", name_, ": input ",
                 to_string(input), " has ", input[1], " features but the kernel ",
                 to_string(kernel_.value.shape()), " expects ", kernel_.value.dim(0));
  }
  return {input[0], config_.units};
}

void Dense::build(const Shape& input) {
  CATDOG_CHECK(input.size() == 2 && input[1] > 0, "Dense layer ", name_,
               ": cannot build for input ", to_string(input), " (expected (N, features))");
  const int64_t k = input[1], m = config_.units;
  check_param_size(name_, "kernel", {k, m});
  ensure_param(kernel_, "kernel", {k, m}, config_.kernel_initializer, k, m);
  if (config_.use_bias) ensure_param(bias_, "bias", {m}, "zeros", 0, 0);
}

std::vector<Param*> Dense::params() {
  std::vector<Param*> out;
  if (kernel_.value.defined()) out.push_back(&kernel_);
  if (config_.use_bias && bias_.value.defined()) out.push_back(&bias_);
  return out;
}

nlohmann::json Dense::keras_config() const {
  json fields = {{"units", config_.units}};
  fields.update(kernel_layer_fields(config_.activation, config_.use_bias,
                                    config_.kernel_initializer));
  return keras_layer_json("Dense", *this, fields);
}

void Dense::forward_cpu(const Tensor& x, Tensor& y, ExecContext&) {
  CATDOG_CHECK(kernel_.value.defined(), "Dense layer ", name_, ": forward before build");
  y.reuse_as(output_shape(x.shape()), DType::f32, Device::cpu);
  cpu::dense_forward(x.f32(), kernel_.value.f32(), config_.use_bias ? bias_.value.f32() : nullptr,
                     effective_activation(), y.f32(), x.dim(0), x.dim(1), config_.units);
}

void Dense::backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                         ExecContext&) {
  CATDOG_CHECK(dy.shape() == y.shape(), "Dense layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  const Activation act = effective_activation();
  Tensor dz = dy;
  if (act != Activation::linear) {
    dz = Tensor(dy.shape());
    cpu::activation_backward(y.f32(), y.f32(), dy.f32(), dz.f32(), dy.numel(), act, 0.0f, nullptr);
  }
  if (dx) dx->reuse_as(x.shape(), DType::f32, Device::cpu);
  cpu::dense_backward(x.f32(), kernel_.value.f32(), dz.f32(), dx ? dx->f32() : nullptr,
                      want_params ? grad_of(kernel_).f32() : nullptr,
                      want_params && config_.use_bias ? grad_of(bias_).f32() : nullptr, x.dim(0),
                      x.dim(1), config_.units);
}

}  // namespace catdog
