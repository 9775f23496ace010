#include "engine/layer_registry.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "layers/activations.h"
#include "layers/batch_normalization.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/global_average_pooling2d.h"
#include "layers/layer_support.h"
#include "layers/max_pooling2d.h"

namespace catdog {

using nlohmann::json;
using namespace layer_support;

namespace {

// Keras writes "activation": "relu"; null or absent means linear.
Activation activation_of(const json& cfg, const std::string& name) {
  if (!cfg.contains("activation") || cfg["activation"].is_null()) return Activation::linear;
  CATDOG_CHECK(cfg["activation"].is_string(), "layer ", name,
               ": activation must be a name, got ", json_excerpt(cfg["activation"]));
  return parse_activation(cfg["activation"].get<std::string>(), name);
}

float number_of(const json& cfg, const char* key, double fallback, const std::string& name) {
  if (!cfg.contains(key) || cfg[key].is_null()) return static_cast<float>(fallback);
  CATDOG_CHECK(cfg[key].is_number(), "layer ", name, ": '", key, "' must be a number, got ",
               json_excerpt(cfg[key]));
  return cfg[key].get<float>();
}

bool flag_of(const json& cfg, const char* key, bool fallback, const std::string& name) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  CATDOG_CHECK(cfg[key].is_boolean(), "layer ", name, ": '", key, "' must be true or false, got ",
               json_excerpt(cfg[key]));
  return cfg[key].get<bool>();
}

// Units or filters: read wide and range-checked, and named as written when out of range.
int width_of(const json& cfg, const char* key, const char* cls, const std::string& name) {
  const json& v = cfg[key];
  CATDOG_CHECK(json_int_in(v, 1, kMaxLayerWidth), cls, " layer ", name, ": ", key, " ",
               json_excerpt(v), " is out of range (1 to ", kMaxLayerWidth, ")");
  return v.get<int>();
}

Padding padding_of(const json& cfg, const std::string& name) {
  return parse_padding(cfg.value("padding", std::string("valid")), name);
}

std::unique_ptr<Layer> make_conv2d(const json& cfg, const std::string& name) {
  check_common_fields(cfg, "Conv2D", name);
  CATDOG_CHECK(cfg.contains("filters") && cfg["filters"].is_number_integer(), "Conv2D layer ",
               name, ": 'filters' is missing or not an integer");
  CATDOG_CHECK(cfg.contains("kernel_size"), "Conv2D layer ", name, ": 'kernel_size' is missing");
  CATDOG_CHECK(cfg.value("groups", 1) == 1, "Conv2D layer ", name,
               ": grouped convolution (groups ", cfg.value("groups", 1), ") is not supported");
  Conv2DConfig c;
  c.filters = width_of(cfg, "filters", "Conv2D", name);
  std::tie(c.kernel_h, c.kernel_w) = parse_pair(cfg, "kernel_size", {3, 3}, name);
  std::tie(c.stride_h, c.stride_w) = parse_pair(cfg, "strides", {1, 1}, name);
  c.padding = padding_of(cfg, name);
  c.use_bias = flag_of(cfg, "use_bias", true, name);
  c.activation = activation_of(cfg, name);
  c.kernel_initializer = parse_initializer(cfg.value("kernel_initializer", json()));
  return std::make_unique<Conv2D>(name, c);
}

std::unique_ptr<Layer> make_max_pooling2d(const json& cfg, const std::string& name) {
  check_common_fields(cfg, "MaxPooling2D", name);
  MaxPooling2DConfig c;
  std::tie(c.pool_h, c.pool_w) = parse_pair(cfg, "pool_size", {2, 2}, name);
  // Keras: strides null means "the pool size".
  std::tie(c.stride_h, c.stride_w) = parse_pair(cfg, "strides", {c.pool_h, c.pool_w}, name);
  c.padding = padding_of(cfg, name);
  return std::make_unique<MaxPooling2D>(name, c);
}

std::unique_ptr<Layer> make_batch_normalization(const json& cfg, const std::string& name) {
  check_common_fields(cfg, "BatchNormalization", name);
  // Keras writes the axis as -1, 3, or (after build) a list [3]. Only the last axis is NHWC's C.
  json axis = cfg.value("axis", json(-1));
  if (axis.is_array() && axis.size() == 1) axis = axis[0];
  CATDOG_CHECK(axis.is_number_integer() && (axis.get<int>() == -1 || axis.get<int>() == 3),
               "BatchNormalization layer ", name, ": axis ", json_excerpt(axis),
               " is not supported (only the channel axis, -1 or 3)");
  CATDOG_CHECK(!flag_of(cfg, "renorm", false, name), "BatchNormalization layer ", name,
               ": batch renormalization is not supported");
  BatchNormalizationConfig c;
  c.epsilon = number_of(cfg, "epsilon", 1e-3, name);
  c.center = flag_of(cfg, "center", true, name);
  c.scale = flag_of(cfg, "scale", true, name);
  return std::make_unique<BatchNormalization>(name, c);
}

std::unique_ptr<Layer> make_leaky_relu(const json& cfg, const std::string& name) {
  // Keras 2 calls the slope 'alpha', Keras 3 'negative_slope'; both default to 0.3.
  const char* key = cfg.contains("negative_slope") ? "negative_slope" : "alpha";
  return std::make_unique<ActivationLayer>(name, "LeakyReLU", Activation::relu,
                                           number_of(cfg, key, 0.3, name));
}

std::unique_ptr<Layer> make_relu(const json& cfg, const std::string& name) {
  CATDOG_CHECK(!cfg.contains("max_value") || cfg["max_value"].is_null(), "ReLU layer ", name,
               ": max_value ", json_excerpt(cfg.value("max_value", json())), " is not supported");
  CATDOG_CHECK(number_of(cfg, "threshold", 0.0, name) == 0.0f, "ReLU layer ", name,
               ": a non-zero threshold is not supported");
  return std::make_unique<ActivationLayer>(name, "ReLU", Activation::relu,
                                           number_of(cfg, "negative_slope", 0.0, name));
}

std::unique_ptr<Layer> make_dense(const json& cfg, const std::string& name) {
  check_common_fields(cfg, "Dense", name);
  CATDOG_CHECK(cfg.contains("units") && cfg["units"].is_number_integer(), "Dense layer ", name,
               ": 'units' is missing or not an integer");
  DenseConfig c;
  c.units = width_of(cfg, "units", "Dense", name);
  c.activation = activation_of(cfg, name);
  c.use_bias = flag_of(cfg, "use_bias", true, name);
  c.kernel_initializer = parse_initializer(cfg.value("kernel_initializer", json()));
  return std::make_unique<Dense>(name, c);
}

std::unique_ptr<Layer> make_dropout(const json& cfg, const std::string& name) {
  CATDOG_CHECK(!cfg.contains("noise_shape") || cfg["noise_shape"].is_null(), "Dropout layer ",
               name, ": noise_shape is not supported");
  CATDOG_CHECK(cfg.contains("rate"), "Dropout layer ", name, ": 'rate' is missing");
  return std::make_unique<Dropout>(name, number_of(cfg, "rate", 0.0, name));
}

}  // namespace

std::unique_ptr<Layer> make_layer(const json& keras_layer) {
  CATDOG_CHECK(keras_layer.is_object() && keras_layer.contains("class_name"),
               "layer config without a class_name: ", json_excerpt(keras_layer));
  const std::string cls = keras_layer["class_name"].get<std::string>();
  const json cfg = keras_layer.value("config", json::object());
  CATDOG_CHECK(cfg.is_object(), "layer of class ", cls, ": 'config' is not an object");
  const std::string name = cfg.value("name", keras_layer.value("name", std::string()));
  CATDOG_CHECK(!name.empty(), "layer of class ", cls, " has no name");
  try {
    if (cls == "Conv2D" || cls == "Convolution2D") return make_conv2d(cfg, name);
    if (cls == "MaxPooling2D" || cls == "MaxPool2D") return make_max_pooling2d(cfg, name);
    if (cls == "BatchNormalization") return make_batch_normalization(cfg, name);
    if (cls == "LeakyReLU") return make_leaky_relu(cfg, name);
    if (cls == "ReLU") return make_relu(cfg, name);
    if (cls == "Activation") {
      return std::make_unique<ActivationLayer>(name, "Activation", activation_of(cfg, name), 0.0f);
    }
    if (cls == "Flatten") {
      check_common_fields(cfg, "Flatten", name);
      return std::make_unique<Flatten>(name);
    }
    if (cls == "Dense") return make_dense(cfg, name);
    if (cls == "Dropout") return make_dropout(cfg, name);
    if (cls == "GlobalAveragePooling2D" || cls == "GlobalAvgPool2D") {
      check_common_fields(cfg, "GlobalAveragePooling2D", name);
      CATDOG_CHECK(!flag_of(cfg, "keepdims", false, name), "GlobalAveragePooling2D layer ", name,
                   ": keepdims=True is not supported");
      return std::make_unique<GlobalAveragePooling2D>(name);
    }
  } catch (const json::exception& e) {
    fail(cls, " layer ", name, ": a config field has the wrong type: ", e.what());
  }
  fail("layer ", name, ": Keras class '", cls,
       "' is not supported (supported: Conv2D, MaxPooling2D, BatchNormalization, LeakyReLU, ReLU, "
       "Activation, Flatten, Dense, Dropout, GlobalAveragePooling2D)");
}

}  // namespace catdog
