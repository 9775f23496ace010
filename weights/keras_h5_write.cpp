// write_keras_h5: the Keras 2 layouts of docs/FORMATS.md, written atomically.
#include <string>

#include "core/error.h"
#include "weights/atomic_file.h"
#include "weights/hdf5_util.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

void write_weights_group(hid_t group, const std::vector<StoredWeight>& weights,
                         const std::string& context) {
  std::vector<std::string> names;
  for (const StoredWeight& w : weights) names.push_back(w.name);
  h5::write_string_list_attribute(group, "weight_names", names, context);
  for (const StoredWeight& w : weights)
    h5::write_float_dataset(group, w.name, w.shape, w.values, context);
}

void write_contents(const std::string& temp, const std::string& path, const KerasH5& contents) {
  h5::Handle file = h5::create_file(temp, path);
  hid_t root = file.get();
  auto write_if_set = [&](hid_t object, const char* name, const std::string& value) {
    if (!value.empty()) h5::write_string_attribute(object, name, value, path);
  };
  write_if_set(root, "keras_version", contents.keras_version);
  write_if_set(root, "backend", contents.backend);
  write_if_set(root, "model_config", contents.model_config);
  write_if_set(root, "training_config", contents.training_config);
  // A dataset, not an attribute: a long run's history outgrows an attribute's 64 KiB.
  if (!contents.catdog_state.empty())
    h5::write_string_dataset(root, "catdog_state", contents.catdog_state, path);

  h5::Handle model_weights;
  hid_t weights_root = root;
  if (!contents.model_config.empty()) {
    model_weights = h5::create_group(root, "model_weights", path);
    weights_root = model_weights.get();
    write_if_set(weights_root, "keras_version", contents.keras_version);
    write_if_set(weights_root, "backend", contents.backend);
  }
  std::vector<std::string> layer_names;
  for (const StoredLayer& layer : contents.layers) {
    CATDOG_CHECK(!layer.name.empty() && layer.name.find('/') == std::string::npos, path,
                 ": layer name '", layer.name, "' cannot be an HDF5 group name");
    layer_names.push_back(layer.name);
  }
  h5::write_string_list_attribute(weights_root, "layer_names", layer_names, path);
  for (const StoredLayer& layer : contents.layers) {
    h5::Handle group = h5::create_group(weights_root, layer.name, path);
    write_weights_group(group.get(), layer.weights, path + ": layer '" + layer.name + "'");
  }
  model_weights.reset();

  if (!contents.optimizer_weights.empty()) {
    h5::Handle group = h5::create_group(root, "optimizer_weights", path);
    write_weights_group(group.get(), contents.optimizer_weights, path + ": optimizer_weights");
  }
  // H5Fclose is where buffered data reaches the file: its failure (disk full) must be seen.
  if (file.close() < 0) fail("cannot finish writing ", path, " (disk full?)");
}

}  // namespace

void write_keras_h5(const std::string& path, const KerasH5& contents) {
  h5::Session session;
  atomic_write_with(path, [&](const std::string& temp) { write_contents(temp, path, contents); });
}

}  // namespace catdog
