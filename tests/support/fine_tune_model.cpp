#include "tests/support/fine_tune_model.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/train_step.h"
#include "training/fine_tune.h"
#include "training/model_setup.h"
#include "tests/support/test_support.h"
#include "weights/keras_h5.h"

namespace catdog::test {

namespace {

using nlohmann::json;

json conv(const std::string& name, int filters) {
  return {{"class_name", "Conv2D"},
          {"config", {{"name", name}, {"filters", filters}, {"kernel_size", {3, 3}},
                      {"padding", "same"}, {"activation", "linear"}, {"use_bias", true}}}};
}

// BatchNormalization statistics far from the identity (gamma 1, beta 0, mean 0, variance 1), so a
// backward that ignored one of them would show.
void randomize_batch_norms(Sequential& model, uint64_t seed) {
  for (size_t i = 0; i < model.size(); ++i) {
    Layer& layer = model.layer(i);
    if (std::strcmp(layer.class_name(), "BatchNormalization") != 0) continue;
    for (Param* p : layer.params()) {
      const bool variance = p->name == "moving_variance", gamma = p->name == "gamma";
      p->value = random_tensor(p->value.shape(), seed + i * 8 + p->name.size(),
                               variance || gamma ? 0.5f : -0.5f, variance || gamma ? 2.0f : 0.5f);
    }
    layer.weights_changed();
  }
}

}  // namespace

Sequential small_fine_tune_model(uint64_t seed) {
  const json layers = json::array(
      {{{"class_name", "InputLayer"}, {"config", {{"name", "input"}, {"batch_input_shape", {nullptr, 8, 8, 2}}}}},
       conv("conv_frozen", 3), conv("conv_b", 4),
       {{"class_name", "BatchNormalization"}, {"config", {{"name", "bn_b"}, {"epsilon", 1e-3}}}},
       {{"class_name", "MaxPooling2D"},
        {"config", {{"name", "pool_b"}, {"pool_size", {2, 2}}, {"strides", {2, 2}}, {"padding", "valid"}}}},
       conv("conv_c", 3),
       {{"class_name", "Flatten"}, {"config", {{"name", "flatten"}}}},
       {{"class_name", "Dense"}, {"config", {{"name", "dense_1"}, {"units", 1}, {"activation", "sigmoid"}}}}});
  Sequential model = std::move(
      parse_model_config(json{{"class_name", "Sequential"}, {"config", {{"name", "small"}, {"layers", layers}}}})
          .model);
  model.build({8, 8, 2});
  model.initialize(seed);
  randomize_batch_norms(model, seed);
  end_in_logits(model);
  train_from(model, kSmallModelCut);
  return model;
}

std::string write_random_tiny_darknet_weights(const std::string& path, uint64_t seed) {
  ModelSetup setup = describe_model("tiny-darknet");
  setup.model.initialize(seed);
  randomize_batch_norms(setup.model, seed);
  save_keras_model(path, setup.model, setup.name);
  return path;
}

}  // namespace catdog::test
