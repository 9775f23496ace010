#include "layers/layer_support.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/json_text.h"

namespace catdog::layer_support {

json keras_layer_json(const char* cls, const Layer& layer, json fields) {
  json config = {{"name", layer.name()}, {"trainable", layer.trainable()}, {"dtype", "float32"}};
  config.update(fields);
  return {{"class_name", cls}, {"config", config}};
}

json kernel_layer_fields(Activation activation, bool use_bias, const std::string& initializer) {
  return {{"activation", activation_name(activation)},
          {"use_bias", use_bias},
          {"kernel_initializer", keras_initializer_json(initializer)},
          {"bias_initializer", keras_initializer_json("zeros")},
          {"kernel_regularizer", nullptr},
          {"bias_regularizer", nullptr},
          {"activity_regularizer", nullptr},
          {"kernel_constraint", nullptr},
          {"bias_constraint", nullptr}};
}

json keras_initializer_json(const std::string& name) {
  const char* cls = name == "he_uniform"       ? "HeUniform"
                    : name == "glorot_uniform" ? "GlorotUniform"
                    : name == "zeros"          ? "Zeros"
                    : name == "ones"           ? "Ones"
                                               : nullptr;
  if (!cls) return name;
  json config = json::object();
  if (name == "he_uniform" || name == "glorot_uniform") config["seed"] = nullptr;
  return {{"class_name", cls}, {"config", config}};
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string parse_initializer(const json& value) {
  if (value.is_string()) {
    const std::string s = lower(value.get<std::string>());
    if (s == "heuniform") return "he_uniform";
    if (s == "glorotuniform") return "glorot_uniform";
    return s;
  }
  if (!value.is_object()) return "glorot_uniform";  // null or absent: Keras' default
  const std::string cls = lower(value.value("class_name", ""));
  if (cls == "heuniform") return "he_uniform";
  if (cls == "glorotuniform") return "glorot_uniform";
  if (cls == "zeros" || cls == "ones") return cls;
  if (cls == "variancescaling") {
    // Keras 2.0-2.2 wrote he_uniform and glorot_uniform as VarianceScaling with these fields.
    const json c = value.value("config", json::object());
    const double scale = c.value("scale", 1.0);
    const std::string mode = c.value("mode", "fan_in");
    const std::string dist = c.value("distribution", "normal");
    if (dist == "uniform" && mode == "fan_in" && scale == 2.0) return "he_uniform";
    if (dist == "uniform" && mode == "fan_avg" && scale == 1.0) return "glorot_uniform";
    return "variance_scaling(" + mode + ", " + dist + ")";
  }
  return cls;
}

std::pair<int, int> parse_pair(const json& config, const char* key, std::pair<int, int> fallback,
                               const std::string& layer) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  const json& v = config[key];
  const bool one = json_int_in(v, 1, kMaxWindowSide);
  CATDOG_CHECK(one || (v.is_array() && v.size() == 2 && json_int_in(v[0], 1, kMaxWindowSide) &&
                       json_int_in(v[1], 1, kMaxWindowSide)),
               "layer ", layer, ": '", key, "' must be an integer from 1 to ", kMaxWindowSide,
               " or two such, got ", json_excerpt(v));
  if (one) return {v.get<int>(), v.get<int>()};
  return {v[0].get<int>(), v[1].get<int>()};
}

void check_common_fields(const json& config, const std::string& cls, const std::string& layer) {
  const std::string format = config.value("data_format", json("channels_last")).is_string()
                                 ? config.value("data_format", std::string("channels_last"))
                                 : std::string("channels_last");
  CATDOG_CHECK(format == "channels_last", cls, " layer ", layer, ": data_format '", format,
               "' is not supported (catdog is channels_last, NHWC)");
  if (config.contains("dilation_rate")) {
    const auto d = parse_pair(config, "dilation_rate", {1, 1}, layer);
    CATDOG_CHECK(d.first == 1 && d.second == 1, cls, " layer ", layer, ": dilation_rate ",
                 json_excerpt(config["dilation_rate"]), " is not supported (only 1)");
  }
  if (config.contains("dtype") && !config["dtype"].is_null()) {
    const json& dt = config["dtype"];
    // Keras 3 writes a DTypePolicy object: {"class_name": "DTypePolicy", "config": {"name": ...}}.
    const std::string name =
        dt.is_string() ? dt.get<std::string>()
                       : dt.value("config", json::object()).value("name", std::string("float32"));
    CATDOG_CHECK(name == "float32", cls, " layer ", layer, ": dtype '", name,
                 "' is not supported (catdog layers compute in float32)");
  }
}

void check_param_size(const std::string& layer, const char* param, const Shape& shape) {
  CATDOG_CHECK(checked_numel(shape, kMaxParamElements) >= 0, "layer ", layer, ": its ", param,
               " of shape ", to_string(shape), " would hold more than ", kMaxParamElements,
               " values (1 GiB); no layer catdog trains needs that");
}

void ensure_param(Param& p, const std::string& name, const Shape& shape,
                  const std::string& initializer, int64_t fan_in, int64_t fan_out, bool trainable) {
  p.name = name;
  p.initializer = initializer;
  p.fan_in = fan_in;
  p.fan_out = fan_out;
  p.trainable = trainable;
  if (p.value.defined() && p.value.shape() == shape) return;
  p.value = Tensor::zeros(shape);
  if (initializer == "ones") p.value.fill(1.0f);
  p.grad = Tensor();
  p.velocity = Tensor();
}

Tensor& grad_of(Param& p) {
  if (!p.grad.defined() || p.grad.shape() != p.value.shape() ||
      p.grad.device() != p.value.device()) {
    p.grad = Tensor(p.value.shape(), DType::f32, p.value.device());
  }
  return p.grad;
}

}  // namespace catdog::layer_support
