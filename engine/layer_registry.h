// Building layers from Keras layer configs, and the list of supported classes.
#pragma once

#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "layers/layer.h"

namespace catdog {

// {"class_name": "Conv2D", "config": {...}} -> a layer. InputLayer is handled by the model
// parser, not here. Throws catdog::Error naming the layer and the unsupported class or field.
std::unique_ptr<Layer> make_layer(const nlohmann::json& keras_layer);

}  // namespace catdog
