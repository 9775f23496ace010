// Keras HDF5 files in and out: pretrained weights files, and full models (model.h5).
//
// Three layouts are read (docs/FORMATS.md has the details):
//   Keras legacy weights (vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5): root attribute
//     layer_names; one group per layer with attribute weight_names; datasets directly in the
//     group ("block1_conv1_W_1:0").
//   Keras 2 save_weights: the same, with weight names "conv2d_1/kernel:0" stored nested at
//     conv2d_1/conv2d_1/kernel:0.
//   Full model (model.save("x.h5")): root attributes model_config, training_config, ...; the
//     weights in the layout above inside a "model_weights" group; optional "optimizer_weights".
//   Keras 3 save_weights (x.weights.h5): groups layers/<path>/vars holding datasets 0, 1, ...,
//     where <path> is the layer's class in snake case, numbered per class in model order
//     ("conv2d", "conv2d_1", "batch_normalization"); vars has the layer's name as attribute.
//   Keras 3 model.save (x.keras): a zip of config.json (the model_config), metadata.json
//     (keras_version) and model.weights.h5 in the Keras 3 layout (weights/zip_archive.h).
// Strings may be fixed-length or variable-length, scalar or arrays; a layer without weights has
// an empty weight_names (Keras writes an empty float64 array). float64 weights become float32.
//
// Keras 2 weights are assigned by ORDER, as Keras' legacy loader does (names are not matched), so
// a file from any Keras version with any layer names loads into the same architecture. Keras 3
// weights are assigned by PATH, as Keras 3's loader does: the model's layers, in order, give the
// paths (layers/conv2d, layers/conv2d_1, ...), which again do not depend on the layer names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/model_config.h"
#include "engine/sequential.h"
#include "core/tensor.h"

namespace catdog {

struct StoredWeight {
  std::string name;           // as in weight_names: "block1_conv1_W_1:0", "conv2d_1/kernel:0"
  Shape shape;
  std::vector<float> values;  // C order
};

struct StoredLayer {
  std::string name;        // Keras 2: the layer's name; Keras 3: its path, "layers/conv2d_1"
  std::vector<StoredWeight> weights;  // empty for layers without weights (pooling, activations)
  std::string keras_name;  // Keras 3: the layer's name as its vars group records it, or ""
};

struct KerasH5 {
  std::vector<StoredLayer> layers;              // in layer_names order (Keras 3: path order)
  bool keras3_layout = false;                   // Keras 3 .weights.h5 / .keras: match by path
  std::string model_config;                     // JSON text, empty for a weights-only file
  std::string training_config;                  // JSON text or empty
  std::string keras_version, backend;           // empty when absent
  std::vector<StoredWeight> optimizer_weights;  // from the optimizer_weights group when present
  std::string catdog_state;                     // our own "catdog_state" (JSON): a root dataset,
                                                // or in older files a root attribute
};

// Read every layer's weights and the model metadata. Throws catdog::Error naming the file and
// what is wrong (not HDF5, truncated, a missing layer or dataset, a non-float or absurd dataset).
// `weight_limit`, when given, is called with the metadata (model_config, catdog_state; no weights
// yet) and returns the most values one weight may hold: a dataset declaring more is refused by its
// shape before it is read or decompressed (a gzip-compressed 1 GiB of zeros is 1 MB in the file).
// A .keras zip is recognised by its first bytes, whatever its name; its model_config is its
// config.json, its keras_version metadata.json's.
using WeightLimit = std::function<uint64_t(const KerasH5& metadata)>;
KerasH5 read_keras_h5(const std::string& path, const WeightLimit& weight_limit = {});
// The .keras part of it: config.json and metadata.json read (bounded), model.weights.h5 copied
// to a temporary file that read_keras_h5 reads (in its check child) and that is then removed.
KerasH5 read_keras_archive(const std::string& path, const WeightLimit& weight_limit = {});

// Assign weights by order, as Keras' legacy loader: the layers of `model` in [0, layer_end) that
// have parameters (BatchNormalization's moving statistics included) take, in order, the file's
// layers that have weights. The model must be built (parameters exist).
//
// The file may have MORE weighted layers than the model only when the model is a cut-short
// version of the file's model (tiny-darknet cut after leaky_re_lu_15, or VGG16 "notop" from a
// file with the classifier): then the model's weighted layers have the same names as the file's
// first ones, and the file's extra trailing layers are ignored. Fewer is an error ("FILE has N
// layers with weights, the model needs M"). Every weight's shape must equal its parameter's; the
// error names the layer, the weight, the expected and the actual shape. Everything is checked
// before anything is assigned, so a failed load leaves the model as it was. Calls
// layer.weights_changed() on each layer that was assigned.
//
// A Keras 3 file (keras3_layout) is matched by path instead: each model layer with parameters
// takes the file's layers/<path>/vars, 0, 1, ... in the order of its params() (Conv2D and Dense:
// kernel, bias; BatchNormalization: gamma, beta, moving_mean, moving_variance, less the ones
// center/scale false leave out), and a missing group is an error naming the layer. File layers
// with weights that no model layer takes are allowed only when every loaded layer has the name
// the file records for its path (the model is a cut-short version of the file's).
void load_weights(Sequential& model, const KerasH5& file, const std::string& path_for_messages,
                  size_t layer_end = Sequential::npos);

struct SaveExtras {
  std::string training_config;                  // JSON text, or empty (not written)
  std::vector<StoredWeight> optimizer_weights;  // written to the optimizer_weights group
  std::string catdog_state;                     // JSON text, or empty (not written)
};

// Save as Keras' legacy full-model HDF5 (what tf.keras model.save("x.h5") writes), so Keras can
// load it: root attributes model_config (to_model_config), training_config, keras_version
// ("2.15.0"), backend ("tensorflow"); root dataset catdog_state; group model_weights with attributes
// layer_names, backend, keras_version and one group per layer (attribute weight_names
// "dense/kernel:0", ..., datasets at model_weights/dense/dense/kernel:0); optional group
// optimizer_weights. The write is atomic (weights/atomic_file.h): a failure throws a clear error
// and leaves any existing file untouched.
void save_keras_model(const std::string& path, const Sequential& model,
                      const std::string& model_name, const SaveExtras& extras = {});

// The lower level of save_keras_model: write `contents` as it is, atomically. With a
// model_config, the full-model layout (weights under model_weights); without one, the Keras 2
// save_weights layout (layer_names at the root). Datasets go to <layer group>/<weight name>.
void write_keras_h5(const std::string& path, const KerasH5& contents);

// The weights of a model as a file would hold them: one StoredLayer per layer, weight names
// "<layer>/<param>:0" (Keras 2 style).
std::vector<StoredLayer> stored_layers_of(const Sequential& model);

// Keras' naming.to_snake_case of a class name: "Conv2D" -> "conv2d", "LeakyReLU" -> "leaky_re_lu",
// "MaxPooling2D" -> "max_pooling2d". Keras 3 names a layer's weights group after it.
std::string keras_snake_case(const std::string& class_name);

// Read a full-model file: parse its model_config and load its weights. Throws a clear error for
// a weights-only file ("has no model_config; it is a weights file: use --weights").
struct LoadedModel {
  ParsedModel parsed;
  KerasH5 file;
};
LoadedModel load_keras_model(const std::string& path);

}  // namespace catdog
