// Models are Keras model_config JSON: the supported subset (InputLayer, Conv2D, MaxPooling2D,
// BatchNormalization, LeakyReLU, ReLU, Activation, Flatten, Dense, Dropout,
// GlobalAveragePooling2D) becomes a Sequential. Built-in configurations live in
// engine/builtin_models.h.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "engine/sequential.h"

namespace catdog {

struct ParsedModel {
  Sequential model;
  std::string name;          // the model's Keras name
  Shape input_hwc;           // from the InputLayer's batch_input_shape, when it gives one
};

// Parse {"class_name": "Sequential"|"Model"|"Functional", "config": {"layers": [...]}} (a
// sequential chain only). `stop_after`, when not empty, cuts the model after that layer.
// Layers with "trainable": false are frozen. Throws catdog::Error naming the layer at fault.
ParsedModel parse_model_config(const nlohmann::json& config, const std::string& stop_after = "");
ParsedModel parse_model_config_text(const std::string& json_text,
                                    const std::string& stop_after = "");
// The Keras "Sequential" model_config of a model (what model.h5 stores).
nlohmann::json to_model_config(const Sequential& model, const std::string& name);

}  // namespace catdog
