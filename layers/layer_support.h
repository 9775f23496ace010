// What the layer files share: Keras JSON fields (reading configs, writing keras_config) and
// parameter/buffer bookkeeping. Internal to layers/; not part of the Layer interface.
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "layers/layer.h"

namespace catdog::layer_support {

using nlohmann::json;

// {"class_name": cls, "config": {"name", "trainable", "dtype": "float32", ...fields}}: the
// fields every Keras 2 layer config carries, then the layer's own.
json keras_layer_json(const char* cls, const Layer& layer, json fields);

// The fields Conv2D and Dense share: activation, use_bias, initializers, and the regularizers and
// constraints catdog does not have (written as null, as Keras writes them when unset).
json kernel_layer_fields(Activation activation, bool use_bias, const std::string& initializer);

// "he_uniform" -> {"class_name": "HeUniform", "config": {"seed": null}} (also GlorotUniform,
// Zeros, Ones); any other name is written as the plain string, which Keras also accepts.
json keras_initializer_json(const std::string& name);
// The reverse, also accepting Keras strings ("he_uniform", "glorot_uniform"), class names and the
// VarianceScaling forms they stand for. Anything else comes back as a lowercase name that
// Sequential::initialize will refuse (with the layer named) only if asked to use it.
std::string parse_initializer(const json& value);

// (h, w) from an int or a 2-element list ("kernel_size": 3 or [3, 3]). Throws naming the layer.
std::pair<int, int> parse_pair(const json& config, const char* key, std::pair<int, int> fallback,
                               const std::string& layer);

// Reject configs catdog would silently compute differently: data_format channels_first,
// dilation_rate other than 1, a dtype other than float32.
void check_common_fields(const json& config, const std::string& cls, const std::string& layer);

// The most a config may ask for: units, filters or channels per layer; a window's side; and the
// elements of one parameter (2^28 floats, 1 GiB: VGG16's largest, fc1, is 103M).
constexpr int64_t kMaxLayerWidth = int64_t{1} << 24;
constexpr int64_t kMaxWindowSide = int64_t{1} << 16;
constexpr int64_t kMaxParamElements = int64_t{1} << 28;

// Throws, naming the layer, the parameter and its shape, when `shape` has more than
// kMaxParamElements elements (counted without overflow). Call before allocating it.
void check_param_size(const std::string& layer, const char* param, const Shape& shape);

// Create p's value with `shape` (filled per its initializer name when it is zeros or ones, else
// zeros until Sequential::initialize or a weights file fills it), unless it already has that
// shape, so rebuilding keeps loaded weights.
void ensure_param(Param& p, const std::string& name, const Shape& shape,
                  const std::string& initializer, int64_t fan_in, int64_t fan_out,
                  bool trainable = true);
// p.grad as a tensor of p.value's shape and device (allocated on first use).
Tensor& grad_of(Param& p);

}  // namespace catdog::layer_support
