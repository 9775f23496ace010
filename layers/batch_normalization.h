// BatchNormalization, inference form, over the last (channel) axis:
//   y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta
// i.e. a per-channel affine map y = a * x + b with a = gamma / sqrt(var + eps), b = beta - a * mean.
// Training-mode batch statistics are not supported: catdog only runs BN inside frozen bases.
// Computed by the batch_norm op (kernels/batch_norm.h) on either device.
#pragma once

#include <vector>

#include "layers/layer.h"

namespace catdog {

struct BatchNormalizationConfig {
  float epsilon = 1e-3f;
  bool center = true;  // has beta
  bool scale = true;   // has gamma
};

class BatchNormalization : public Layer {
 public:
  BatchNormalization(std::string name, BatchNormalizationConfig config);
  const char* class_name() const override { return "BatchNormalization"; }
  Shape output_shape(const Shape& input) const override;
  void build(const Shape& input) override;
  std::vector<Param*> params() override;  // [gamma], [beta], moving_mean, moving_variance
  nlohmann::json keras_config() const override;
  const BatchNormalizationConfig& config() const { return config_; }
  // The per-channel y = a * x + b this layer computes, on the host in double (for folding it
  // into the convolution before it: engine/batch_norm_fold.h).
  struct Affine {
    std::vector<double> a, b;
  };
  Affine affine() const;

 protected:
  // One body for CPU and GPU: the op dispatchers pick the side.
  void forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) override;
  void backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                           ExecContext& ctx) override;

 private:
  BatchNormalizationConfig config_;
  Param gamma_, beta_, moving_mean_, moving_variance_;  // each (C)
  // The fold (a, b), (2, C) on the run's device: redone each call (C values, far cheaper than the
  // pass over the activations), kept to reuse the memory.
  Tensor fold_;
  void fold(bool with_beta, ExecContext& ctx);
};

}  // namespace catdog
