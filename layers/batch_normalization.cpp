#include "layers/batch_normalization.h"

#include <vector>

#include "core/error.h"
#include "kernels/cpu/batch_norm.h"
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

void BatchNormalization::forward_cpu(const Tensor& x, Tensor& y, ExecContext&) {
  CATDOG_CHECK(moving_mean_.value.defined(), "BatchNormalization layer ", name_,
               ": forward before build");
  ensure_cpu(y, output_shape(x.shape()));
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  std::vector<float> a(static_cast<size_t>(c)), b(static_cast<size_t>(c));
  cpu::batch_norm_fold(config_.scale ? gamma_.value.f32() : nullptr,
                       config_.center ? beta_.value.f32() : nullptr, moving_mean_.value.f32(),
                       moving_variance_.value.f32(), config_.epsilon, c, a.data(), b.data());
  cpu::channel_affine_forward(x.f32(), a.data(), b.data(), y.f32(), rows, c);
}

void BatchNormalization::backward_cpu(const Tensor& x, const Tensor& y, const Tensor& dy,
                                      Tensor* dx, ExecContext&) {
  CATDOG_CHECK(dy.shape() == y.shape(), "BatchNormalization layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  const int64_t c = x.shape().back(), rows = x.numel() / c;
  std::vector<float> a(static_cast<size_t>(c)), b(static_cast<size_t>(c));
  cpu::batch_norm_fold(config_.scale ? gamma_.value.f32() : nullptr, nullptr,
                       moving_mean_.value.f32(), moving_variance_.value.f32(), config_.epsilon, c,
                       a.data(), b.data());
  if (dx) ensure_cpu(*dx, x.shape());
  cpu::batch_norm_backward(x.f32(), dy.f32(), a.data(), moving_mean_.value.f32(),
                           moving_variance_.value.f32(), config_.epsilon, rows, c,
                           dx ? dx->f32() : nullptr,
                           want_params && config_.scale ? grad_of(gamma_).f32() : nullptr,
                           want_params && config_.center ? grad_of(beta_).f32() : nullptr);
}

}  // namespace catdog
