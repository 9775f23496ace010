// Built-in model configurations, as Keras model_config JSON:
//   vgg16          VGG16 without its top (13 Conv2D 3x3 'same' relu + 5 MaxPooling2D), Keras names
//   tiny-darknet   Tiny Darknet cut after leaky_re_lu_15 (14x14x128 at 224x224)
//   vgg1/2/3       the tutorial's from-scratch baselines; vgg3-dropout adds Dropout
// and the transfer-learning head: Flatten -> Dense(128, relu, he_uniform) -> Dense(1, sigmoid).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace catdog {

std::vector<std::string> builtin_model_names();
bool is_builtin_model(const std::string& name);
// The model_config JSON of a built-in model. Throws catdog::Error listing the names when unknown.
nlohmann::json builtin_model_config(const std::string& name);
// Names of the layers a pretrained base ends with, and its input preprocessing ("caffe", "scale").
std::string pretrained_preprocessing(const std::string& name);
// The Keras layer configs of the transfer-learning head.
nlohmann::json transfer_head_layers();
// Base config with every layer frozen, followed by the head: the model `train` builds from
// --model vgg16|tiny-darknet --weights FILE.
nlohmann::json transfer_model_config(const std::string& base);

}  // namespace catdog
