// Fuzzes the Keras HDF5 loaders through a file, as a user's .h5 reaches them: the input bytes are
// written to a temporary file, then
//   read_keras_h5       every layout (legacy weights, save_weights, full model), then
//   load_weights        for a weights file: by order into a small fixed model (the seeds fit it),
//   load_trained_model  for a full model (training/model_setup.h): its model_config, weights and
//                       catdog_state, as `catdog evaluate --model model.h5` reads them.
//
// Asserts: a catdog::Error is the only acceptable failure; every weight read holds exactly as
// many values as its shape says. Crashes, leaks, undefined behaviour and any other exception are
// findings. HDF5 itself is not instrumented: a crash inside libhdf5 shows up with its frames
// (docs/RELIABILITY.md lists what was found there).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "training/model_setup.h"
#include "core/error.h"
#include "fuzz/hdf5_check_child.h"
#include "engine/model_config.h"
#include "weights/keras_h5.h"

namespace {

// The model the seed files hold weights for: 8x8x3 -> conv(4) -> BN -> pool -> dense(2).
const char kModelConfig[] = R"({"class_name": "Sequential", "config": {"name": "fuzz", "layers": [
  {"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape": [null, 8, 8, 3]}},
  {"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 4, "kernel_size": [3, 3],
                                      "padding": "same", "activation": "relu"}},
  {"class_name": "BatchNormalization", "config": {"name": "batch_normalization_1"}},
  {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1"}},
  {"class_name": "Flatten", "config": {"name": "flatten_1"}},
  {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}})";

catdog::Sequential& fixed_model() {
  static catdog::Sequential model = [] {
    catdog::ParsedModel parsed = catdog::parse_model_config_text(kModelConfig);
    parsed.model.build(parsed.input_hwc);
    return std::move(parsed.model);
  }();
  return model;
}

std::string temp_file() {
  return (std::filesystem::temp_directory_path() / ("catdog-fuzz-" + std::to_string(getpid()) + ".h5"))
      .string();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  contain_hdf5_check_children();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = temp_file();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    const catdog::KerasH5 file = catdog::read_keras_h5(path);
    for (const catdog::StoredLayer& layer : file.layers)
      for (const catdog::StoredWeight& weight : layer.weights)
        if (static_cast<int64_t>(weight.values.size()) != catdog::numel(weight.shape)) std::abort();
    if (file.model_config.empty()) {
      catdog::load_weights(fixed_model(), file, path);
    } else {
      catdog::load_trained_model(path);
    }
  } catch (const catdog::Error&) {
    // A refused file, or weights that do not fit the fixed model: expected for most inputs.
  }
  return 0;
}
