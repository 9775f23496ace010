#include "engine/batch_norm_fold.h"

#include "core/error.h"

namespace catdog {

bool batch_norm_foldable(const Conv2D& conv, const BatchNormalization& bn) {
  return !conv.trainable() && !bn.trainable() && conv.config().activation == Activation::linear;
}

std::unique_ptr<Conv2D> fold_batch_norm(const Conv2D& conv, const BatchNormalization& bn,
                                        const Shape& input) {
  CATDOG_CHECK(batch_norm_foldable(conv, bn), "cannot fold BatchNormalization ", bn.name(),
               " into Conv2D ", conv.name(), ": both must be frozen and the convolution linear");
  const std::vector<const Param*> conv_params = static_cast<const Layer&>(conv).params();  // kernel (KH, KW, C, F), [bias]
  CATDOG_CHECK(!conv_params.empty(), "Conv2D layer ", conv.name(), ": fold before build");
  const std::vector<float> kernel = conv_params[0]->value.to(Device::cpu).to_vector();
  const std::vector<float> bias = conv.config().use_bias
                                      ? conv_params[1]->value.to(Device::cpu).to_vector()
                                      : std::vector<float>(static_cast<size_t>(conv.config().filters), 0.0f);
  const BatchNormalization::Affine affine = bn.affine();
  const size_t filters = bias.size();
  CATDOG_CHECK(affine.a.size() == filters, "cannot fold BatchNormalization ", bn.name(), " (",
               affine.a.size(), " channels) into Conv2D ", conv.name(), " (", filters, " filters)");

  Conv2DConfig config = conv.config();
  config.use_bias = true;
  auto twin = std::make_unique<Conv2D>(conv.name(), config);
  twin->build(input);
  twin->set_trainable(false);
  std::vector<Param*> params = twin->params();
  float* folded_kernel = params[0]->value.f32();
  for (size_t i = 0; i < kernel.size(); ++i) {  // HWIO: the output channel is the fastest index
    folded_kernel[i] = static_cast<float>(kernel[i] * affine.a[i % filters]);
  }
  float* folded_bias = params[1]->value.f32();
  for (size_t f = 0; f < filters; ++f) {
    folded_bias[f] = static_cast<float>(affine.a[f] * bias[f] + affine.b[f]);
  }
  twin->weights_changed();
  return twin;
}

}  // namespace catdog
