#include "engine/model_config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "engine/layer_registry.h"

namespace catdog {

using nlohmann::json;

namespace {

constexpr int64_t kMaxImageElements = int64_t{1} << 31;

// (H, W, C) from an InputLayer's batch_input_shape [null, H, W, C] (Keras 2) or batch_shape
// (Keras 3), or a Keras 3 Sequential's build_input_shape. Empty when none is given.
Shape input_shape_of(const json& config, const std::string& name) {
  const json* shape = nullptr;
  for (const char* key : {"batch_input_shape", "batch_shape", "build_input_shape"}) {
    if (config.contains(key)) shape = &config[key];
  }
  if (!shape || shape->is_null()) return {};
  CATDOG_CHECK(shape->is_array() && shape->size() == 4, "input layer ", name,
               ": expected a (batch, height, width, channels) input shape, got ", json_excerpt(*shape));
  Shape hwc;
  for (size_t i = 1; i < 4; ++i) {
    const json& d = (*shape)[i];
    if (d.is_null()) return {};  // any image size
    CATDOG_CHECK(d.is_number_integer() && d.get<int64_t>() > 0, "input layer ", name,
                 ": bad dimension ", json_excerpt(d), " in ", json_excerpt(*shape));
    hwc.push_back(d.get<int64_t>());
  }
  // Every size after it (a layer's output, a batch, Flatten's features) is a product of these.
  CATDOG_CHECK(checked_numel(hwc, kMaxImageElements) >= 0, "input layer ", name, ": input shape ",
               to_string(hwc), " holds more than ", kMaxImageElements,
               " values per image; catdog's largest images (4096x4096x3) hold 50M");
  return hwc;
}

}  // namespace

ParsedModel parse_model_config(const json& config, const std::string& stop_after) {
  CATDOG_CHECK(config.is_object() && config.contains("config"),
               "model_config: expected {\"class_name\": ..., \"config\": {...}}");
  const std::string cls = config.value("class_name", "");
  CATDOG_CHECK(cls == "Sequential" || cls == "Model" || cls == "Functional", "model_config: class '",
               cls, "' is not supported (Sequential, Model or Functional)");
  const json& body = config["config"];
  // Keras 2.2 wrote a Sequential config as a bare list of layers.
  const json& layers = body.is_array() ? body : body.value("layers", json());
  CATDOG_CHECK(layers.is_array() && !layers.empty(), "model_config: no layers");

  ParsedModel parsed;
  parsed.name = body.is_object() ? body.value("name", "model") : "model";
  bool stopped = stop_after.empty();
  std::string previous;
  for (const json& layer : layers) {
    CATDOG_CHECK(layer.is_object() && layer.contains("config") && layer["config"].is_object(),
                 "model_config: a layer entry without a config: ", json_excerpt(layer));
    const json& cfg = layer["config"];
    const std::string name = cfg.value("name", layer.value("name", ""));
    const std::string layer_cls = layer.value("class_name", "");
    // A functional model must be a plain chain: each layer fed by the previous one.
    if (layer.contains("inbound_nodes") && !previous.empty()) {
      const std::string text = layer["inbound_nodes"].dump();
      CATDOG_CHECK(text.find("\"" + previous + "\"") != std::string::npos, "layer ", name,
                   ": the model is not a sequential chain (its input is not ", previous,
                   "); only sequential models are supported");
    }
    previous = name;
    if (layer_cls == "InputLayer") {
      parsed.input_hwc = input_shape_of(cfg, name);
    } else {
      if (parsed.model.size() == 0 && parsed.input_hwc.empty()) {
        parsed.input_hwc = input_shape_of(cfg, name);  // Sequential: shape on the first layer
      }
      std::unique_ptr<Layer> built = make_layer(layer);
      if (cfg.contains("trainable") && cfg["trainable"].is_boolean()) {
        built->set_trainable(cfg["trainable"].get<bool>());
      }
      parsed.model.add(std::move(built));
    }
    if (!stop_after.empty() && name == stop_after) {
      stopped = true;
      break;
    }
  }
  // Keras 3 records a Sequential built without an Input layer by its build_input_shape.
  if (parsed.input_hwc.empty() && body.is_object() && body.contains("build_input_shape"))
    parsed.input_hwc = input_shape_of(body, parsed.name);
  CATDOG_CHECK(stopped, "model_config: no layer named '", stop_after, "' to stop after");
  CATDOG_CHECK(parsed.model.size() > 0, "model_config: the model has no layers besides its input");
  return parsed;
}

ParsedModel parse_model_config_text(const std::string& json_text, const std::string& stop_after) {
  const json config = parse_json_bounded(json_text, "model_config");
  try {
    return parse_model_config(config, stop_after);
  } catch (const json::exception& e) {
    fail("model_config: a field has the wrong type: ", e.what());
  }
}

json to_model_config(const Sequential& model, const std::string& name) {
  CATDOG_CHECK(model.built(), "to_model_config: the model is not built");
  const Shape& hwc = model.input_shape();
  json layers = json::array();
  layers.push_back({{"class_name", "InputLayer"},
                    {"config",
                     {{"batch_input_shape", {nullptr, hwc[0], hwc[1], hwc[2]}},
                      {"dtype", "float32"},
                      {"sparse", false},
                      {"ragged", false},
                      {"name", "input_1"}}}});
  for (size_t i = 0; i < model.size(); ++i) layers.push_back(model.layer(i).keras_config());
  return {{"class_name", "Sequential"}, {"config", {{"name", name}, {"layers", layers}}}};
}

}  // namespace catdog
