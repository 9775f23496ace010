// Models and files meet here: load_weights (by order, as Keras' legacy loader), save_keras_model
// and load_keras_model.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <set>
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

// One model layer with parameters and the file layer whose weights it takes.
struct Assignment {
  size_t model_layer;
  const StoredLayer* stored;
};

// Keras 2: by order (docs in keras_h5.h).
std::vector<Assignment> assign_by_order(const Sequential& model, const KerasH5& file,
                                        const std::string& path, size_t end) {
  std::vector<size_t> model_layers;  // indices of the model's layers that have parameters
  for (size_t i = 0; i < end; ++i)
    if (!model.layer(i).params().empty()) model_layers.push_back(i);
  std::vector<const StoredLayer*> file_layers;  // the file's layers that have weights
  for (const StoredLayer& layer : file.layers)
    if (!layer.weights.empty()) file_layers.push_back(&layer);

  CATDOG_CHECK(file_layers.size() >= model_layers.size(), path, " has ", file_layers.size(),
               " layers with weights, the model needs ", model_layers.size());
  std::vector<Assignment> out;
  for (size_t k = 0; k < model_layers.size(); ++k) out.push_back({model_layers[k], file_layers[k]});
  return out;
}

// Keras 3: by path, as Keras 3's _load_container_state names the layers of a model.
std::vector<Assignment> assign_by_path(const Sequential& model, const KerasH5& file,
                                       const std::string& path, size_t end) {
  std::map<std::string, const StoredLayer*> by_path;
  for (const StoredLayer& layer : file.layers) by_path[layer.name] = &layer;
  std::map<std::string, int> used;  // per snake-case class: how many layers took that path
  std::vector<Assignment> out;
  for (size_t i = 0; i < end; ++i) {
    const Layer& layer = model.layer(i);
    const std::string base = keras_snake_case(layer.class_name());
    const int seen = used[base]++;
    const std::string layer_path = "layers/" + (seen == 0 ? base : base + "_" + std::to_string(seen));
    if (layer.params().empty()) continue;
    const auto found = by_path.find(layer_path);
    CATDOG_CHECK(found != by_path.end() && !found->second->weights.empty(), path,
                 ": no weights for layer '", layer.name(), "' (", layer.class_name(),
                 "): the Keras 3 file has no ", layer_path, "/vars/0 (for the model's ",
                 layer.class_name(), " layer number ", seen + 1,
                 "); are they the weights of another model?");
    out.push_back({i, found->second});
  }
  return out;
}

// The file may have more weighted layers than the model takes only when the model is a cut-short
// version of the file's model: the layers taken have the model's names (docs in keras_h5.h).
void check_extra_file_layers(const Sequential& model, const KerasH5& file, const std::string& path,
                             const std::vector<Assignment>& assignments) {
  std::set<const StoredLayer*> taken;
  for (const Assignment& a : assignments) taken.insert(a.stored);
  size_t weighted = 0;
  const StoredLayer* extra = nullptr;
  for (const StoredLayer& stored : file.layers) {
    if (stored.weights.empty()) continue;
    ++weighted;
    if (!extra && !taken.count(&stored)) extra = &stored;
  }
  if (!extra) return;
  for (const Assignment& a : assignments) {
    const std::string& ours = model.layer(a.model_layer).name();
    const std::string& theirs = file.keras3_layout ? a.stored->keras_name : a.stored->name;
    if (ours == theirs) continue;
    if (file.keras3_layout)
      fail(path, ": has weights for ", extra->name, " ('", extra->keras_name,
           "'), which no layer of the model takes (extra file layers are ignored only when the "
           "model is a cut-short version of the file's, with the same layer names; model layer '",
           ours, "' takes ", a.stored->name, " ('", theirs, "'))");
    fail(path, " has ", weighted, " layers with weights, the model needs ", assignments.size(),
         " (extra file layers are ignored only when the model is a cut-short version of the "
         "file's, with the same layer names; model layer '", ours, "' faces file layer '", theirs,
         "')");
  }
}

}  // namespace

void load_weights(Sequential& model, const KerasH5& file, const std::string& path,
                  size_t layer_end) {
  const size_t end = std::min(layer_end, model.size());
  CATDOG_CHECK(model.built() || !model.all_params().empty(), path,
               ": cannot load weights into a model that is not built (no parameters yet)");
  const std::vector<Assignment> assignments = file.keras3_layout
                                                  ? assign_by_path(model, file, path, end)
                                                  : assign_by_order(model, file, path, end);

  // Check everything first, so that a failure leaves the model as it was.
  for (const Assignment& a : assignments) {
    Layer& layer = model.layer(a.model_layer);
    const StoredLayer& stored = *a.stored;
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
  check_extra_file_layers(model, file, path, assignments);

  for (const Assignment& a : assignments) {
    Layer& layer = model.layer(a.model_layer);
    std::vector<Param*> params = layer.params();
    for (size_t j = 0; j < params.size(); ++j) {
      const StoredWeight& weight = a.stored->weights[j];
      params[j]->value.copy_from(Tensor::from_vector(weight.shape, weight.values));
    }
    layer.weights_changed();
  }
  model.weights_changed();
}

std::string keras_snake_case(const std::string& class_name) {
  // The three substitutions of keras/src/utils/naming.py, in order.
  std::string s = std::regex_replace(class_name, std::regex("\\W+"), "");
  s = std::regex_replace(s, std::regex("(.)([A-Z][a-z]+)"), "$1_$2");
  s = std::regex_replace(s, std::regex("([a-z])([A-Z])"), "$1_$2");
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<StoredLayer> stored_layers_of(const Sequential& model) {
  std::vector<StoredLayer> layers;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    StoredLayer stored{layer.name(), {}, ""};
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
