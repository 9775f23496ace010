// Models and files meet here: load_weights (by order, as Keras' legacy loader), save_keras_model
// and load_keras_model.
#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

std::string describe(const std::vector<Param*>& params) {
  std::string out = "[";
  for (const Param* p : params)
    out += (out.size() > 1 ? ", " : "") + p->name + " " + to_string(p->value.shape());
  return out + "]";
}

std::string describe(const std::vector<StoredWeight>& weights) {
  std::string out = "[";
  for (const StoredWeight& w : weights)
    out += (out.size() > 1 ? ", " : "") + w.name + " " + to_string(w.shape);
  return out + "]";
}

// NaN or Inf in a weight would make every prediction NaN; a variance must also be >= 0.
void check_values(const StoredWeight& weight, const Param& param, const std::string& layer,
                  const std::string& path) {
  const bool variance = param.name == "moving_variance";
  for (size_t i = 0; i < weight.values.size(); ++i) {
    const float v = weight.values[i];
    CATDOG_CHECK(std::isfinite(v) && !(variance && v < 0), path, ": layer '", layer, "' weight '",
                 weight.name, "' (", param.name, ") holds ", v, " at index ", i,
                 variance ? " (a variance must be finite and >= 0)" : " (weights must be finite)");
  }
}

}  // namespace

void load_weights(Sequential& model, const KerasH5& file, const std::string& path,
                  size_t layer_end) {
  size_t end = std::min(layer_end, model.size());
  std::vector<size_t> model_layers;  // indices of the model's layers that have parameters
  for (size_t i = 0; i < end; ++i)
    if (!model.layer(i).params().empty()) model_layers.push_back(i);
  CATDOG_CHECK(model.built() || model_layers.size() > 0, path,
               ": cannot load weights into a model that is not built (no parameters yet)");
  std::vector<const StoredLayer*> file_layers;  // the file's layers that have weights
  for (const StoredLayer& layer : file.layers)
    if (!layer.weights.empty()) file_layers.push_back(&layer);

  CATDOG_CHECK(file_layers.size() >= model_layers.size(), path, " has ", file_layers.size(),
               " layers with weights, the model needs ", model_layers.size());

  // Check everything first, so that a failure leaves the model as it was.
  for (size_t k = 0; k < model_layers.size(); ++k) {
    Layer& layer = model.layer(model_layers[k]);
    const StoredLayer& stored = *file_layers[k];
    std::vector<Param*> params = layer.params();
    CATDOG_CHECK(params.size() == stored.weights.size(), path, ": layer '", layer.name(),
                 "' needs ", params.size(), " weights ", describe(params), ", the file's layer '",
                 stored.name, "' has ", stored.weights.size(), " ", describe(stored.weights));
    for (size_t j = 0; j < params.size(); ++j) {
      const StoredWeight& weight = stored.weights[j];
      CATDOG_CHECK(weight.shape == params[j]->value.shape(), path, ": layer '", layer.name(),
                   "' weight '", weight.name, "' (", params[j]->name, "): the model expects ",
                   to_string(params[j]->value.shape()), ", the file has ", to_string(weight.shape));
      check_values(weight, *params[j], layer.name(), path);
    }
  }
  if (file_layers.size() > model_layers.size()) {
    // Extra file layers are the part the model was cut before; by name, the rest must match.
    for (size_t k = 0; k < model_layers.size(); ++k) {
      const std::string& ours = model.layer(model_layers[k]).name();
      CATDOG_CHECK(ours == file_layers[k]->name, path, " has ", file_layers.size(),
                   " layers with weights, the model needs ", model_layers.size(),
                   " (extra file layers are ignored only when the model is a cut-short version of "
                   "the file's, with the same layer names; model layer '", ours,
                   "' faces file layer '", file_layers[k]->name, "')");
    }
  }

  for (size_t k = 0; k < model_layers.size(); ++k) {
    Layer& layer = model.layer(model_layers[k]);
    std::vector<Param*> params = layer.params();
    for (size_t j = 0; j < params.size(); ++j) {
      const StoredWeight& weight = file_layers[k]->weights[j];
      params[j]->value.copy_from(Tensor::from_vector(weight.shape, weight.values));
    }
    layer.weights_changed();
  }
}

std::vector<StoredLayer> stored_layers_of(const Sequential& model) {
  std::vector<StoredLayer> layers;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    StoredLayer stored{layer.name(), {}};
    for (const Param* p : layer.params())
      stored.weights.push_back({layer.name() + "/" + p->name + ":0", p->value.shape(),
                                p->value.to_vector()});
    layers.push_back(std::move(stored));
  }
  return layers;
}

void save_keras_model(const std::string& path, const Sequential& model,
                      const std::string& model_name, const SaveExtras& extras) {
  KerasH5 contents;
  contents.layers = stored_layers_of(model);
  contents.model_config = to_model_config(model, model_name).dump();
  contents.training_config = extras.training_config;
  contents.keras_version = "2.15.0";  // the Keras whose legacy .h5 layout this is
  contents.backend = "tensorflow";
  contents.optimizer_weights = extras.optimizer_weights;
  contents.catdog_state = extras.catdog_state;
  write_keras_h5(path, contents);
}

LoadedModel load_keras_model(const std::string& path) {
  // The model is built from model_config before any weight is read, so that no weight larger than
  // the model's largest parameter is ever read (or decompressed).
  ParsedModel parsed;
  KerasH5 file = read_keras_h5(path, [&](const KerasH5& metadata) {
    CATDOG_CHECK(!metadata.model_config.empty(), path,
                 " has no model_config; it is a weights file: use --weights");
    try {
      parsed = parse_model_config_text(metadata.model_config);
    } catch (const Error& e) {
      fail(path, ": its model_config: ", e.what());
    }
    if (!parsed.model.built()) {
      CATDOG_CHECK(!parsed.input_hwc.empty(), path,
                   ": its model_config gives no input shape (batch_input_shape), so the model "
                   "cannot be built");
      parsed.model.build(parsed.input_hwc);
    }
    uint64_t largest = 0;
    for (Param* p : parsed.model.all_params())
      largest = std::max(largest, static_cast<uint64_t>(p->value.numel()));
    return largest;
  });
  load_weights(parsed.model, file, path);
  return LoadedModel{std::move(parsed), std::move(file)};
}

}  // namespace catdog
