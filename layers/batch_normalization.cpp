#include "layers/batch_normalization.h"

#include <cmath>

#include "core/error.h"
#include "kernels/batch_norm.h"
#include "layers/layer_support.h"

namespace catdog {

using namespace layer_support;

BatchNormalization::BatchNormalization(std::string name, BatchNormalizationConfig config)
    : Layer(std::move(name)), config_(config) {
  CATDOG_CHECK(config_.epsilon > 0, "BatchNormalization layer ", name_,
               ": epsilon must be positive, got ", config_.epsilon);
}

Shape BatchNormalization::output_shape(const Shape& input) const {
  CATDOG_CHECK(input.size() >= 2, "BatchNormalization layer ", name_,
               ": expected (N, ..., C) input, got ", to_string(input));
  if (moving_mean_.value.defined()) {
    CATDOG_CHECK(input.back() == moving_mean_.value.numel(), "BatchNormalization layer ", name_,
                 ": input ", to_string(input), " has ", input.back(), " channels, the layer has ",
                 moving_mean_.value.numel());
  }
  return input;
}

void BatchNormalization::build(const Shape& input) {
  CATDOG_CHECK(input.size() >= 2 && input.back() > 0, "BatchNormalization layer ", name_,
               ": cannot build for input ", to_string(input));
  const Shape c = {input.back()};
  if (config_.scale) ensure_param(gamma_, "gamma", c, "ones", 0, 0);
  if (config_.center) ensure_param(beta_, "beta", c, "zeros", 0, 0);
  ensure_param(moving_mean_, "moving_mean", c, "zeros", 0, 0, false);
  ensure_param(moving_variance_, "moving_variance", c, "ones", 0, 0, false);
}

std::vector<Param*> BatchNormalization::params() {
  if (!moving_mean_.value.defined()) return {};
  std::vector<Param*> out;
  if (config_.scale) out.push_back(&gamma_);
  if (config_.center) out.push_back(&beta_);
  out.push_back(&moving_mean_);
  out.push_back(&moving_variance_);
  return out;
}

BatchNormalization::Affine BatchNormalization::affine() const {
  CATDOG_CHECK(moving_mean_.value.defined(), "BatchNormalization layer ", name_,
               ": affine() before build");
  const auto host = [](const Param& p) { return p.value.to(Device::cpu).to_vector(); };
  const std::vector<float> mean = host(moving_mean_), variance = host(moving_variance_);
  const std::vector<float> gamma = config_.scale ? host(gamma_) : std::vector<float>();
  const std::vector<float> beta = config_.center ? host(beta_) : std::vector<float>();
  Affine out;
  for (size_t c = 0; c < mean.size(); ++c) {
    const double a = (config_.scale ? gamma[c] : 1.0) /
                     std::sqrt(static_cast<double>(variance[c]) + config_.epsilon);
    out.a.push_back(a);
    out.b.push_back((config_.center ? beta[c] : 0.0) - a * mean[c]);
  }
  return out;
}

nlohmann::json BatchNormalization::keras_config() const {
  return keras_layer_json("BatchNormalization", *this,
                          {{"axis", -1},
                           {"momentum", 0.99},
                           {"epsilon", config_.epsilon},
                           {"center", config_.center},
                           {"scale", config_.scale},
                           {"beta_initializer", keras_initializer_json("zeros")},
                           {"gamma_initializer", keras_initializer_json("ones")},
                           {"moving_mean_initializer", keras_initializer_json("zeros")},
                           {"moving_variance_initializer", keras_initializer_json("ones")},
                           {"beta_regularizer", nullptr},
                           {"gamma_regularizer", nullptr},
                           {"beta_constraint", nullptr},
                           {"gamma_constraint", nullptr}});
}

// The fold with gamma (and beta when `with_beta`) into fold_ = (a, b) on the run's device.
void BatchNormalization::fold(bool with_beta, ExecContext& ctx) {
  const int64_t c = moving_mean_.value.numel();
  fold_.reuse_as({2, c}, DType::f32, ctx.device);
  batch_norm_fold(config_.scale ? gamma_.value.f32() : nullptr,
                  with_beta && config_.center ? beta_.value.f32() : nullptr,
                  moving_mean_.value.f32(), moving_variance_.value.f32(), config_.epsilon, c,
                  fold_.f32(), fold_.f32() + c, ctx);
}

void BatchNormalization::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(moving_mean_.value.defined() && moving_mean_.value.device() == ctx.device,
               "BatchNormalization layer ", name_, ": statistics are not on ",
               device_name(ctx.device), " (forward before build or to_device?)");
  y.reuse_as(output_shape(x.shape()), x.dtype(), ctx.device);
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  fold(true, ctx);
  channel_affine_forward(x.raw(), y.raw(), x.dtype(), rows, c, fold_.f32(), fold_.f32() + c, ctx);
}

// dx = a dy; dgamma = sum dy * (x - mean) / sqrt(var + eps); dbeta = sum dy.
void BatchNormalization::backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy,
                                             Tensor* dx, ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == y.shape(), "BatchNormalization layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  fold(false, ctx);
  if (dx) dx->reuse_as(x.shape(), DType::f32, ctx.device);
  batch_norm_backward(x.f32(), dy.f32(), fold_.f32(), moving_mean_.value.f32(),
                      moving_variance_.value.f32(), config_.epsilon, rows, c,
                      dx ? dx->f32() : nullptr,
                      want_params && config_.scale ? grad_of(gamma_).f32() : nullptr,
                      want_params && config_.center ? grad_of(beta_).f32() : nullptr, ctx);
}

}  // namespace catdog
