// Fuzzes `--resume`'s reading of checkpoint.h5 (training/checkpoint.h: restore_checkpoint, which
// loads the model through load_trained_model and then the trainer state and the velocities), with
// the input bytes taken two ways:
//   an HDF5 file (the input starts with HDF5's signature): written to a temporary checkpoint.h5
//     as it is;
//   anything else: catdog_state JSON, put into a real checkpoint of a small fixed model (written
//     once by save_checkpoint at start-up) in place of its own catdog_state.
//
// Asserts: a catdog::Error is the only acceptable failure; a restored checkpoint holds a model
// whose input side is the image size restored, and as many history rows as epochs done. Crashes,
// leaks, undefined behaviour and any other exception (a raw nlohmann::json error) are findings.
//
// CATDOG_FUZZ_WRITE_SEEDS=DIR writes the seed corpus (the real checkpoint and its catdog_state)
// into DIR and exits; CATDOG_FUZZ_VERBOSE=1 prints why each input was refused.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz/hdf5_check_child.h"
#include "engine/model_config.h"
#include "training/checkpoint.h"
#include "weights/keras_h5.h"

namespace {

// 16x16x3 -> conv(4) -> BN -> pool -> dense(1, sigmoid): the smallest input catdog accepts.
const char kModelConfig[] = R"({"class_name": "Sequential", "config": {"name": "fuzz", "layers": [
  {"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape": [null, 16, 16, 3]}},
  {"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 4, "kernel_size": [3, 3],
                                      "padding": "same", "activation": "relu"}},
  {"class_name": "BatchNormalization", "config": {"name": "batch_normalization_1"}},
  {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1"}},
  {"class_name": "Flatten", "config": {"name": "flatten_1"}},
  {"class_name": "Dense", "config": {"name": "dense_1", "units": 1, "activation": "sigmoid"}}]}})";

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          ("catdog-fuzz-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// A checkpoint as `catdog train` writes one: velocities for every trainable parameter, two
// epochs of history, a batch into the third epoch.
void write_real_checkpoint(const std::string& path) {
  catdog::ModelSetup setup;
  catdog::ParsedModel parsed = catdog::parse_model_config_text(kModelConfig);
  setup.name = parsed.name;
  setup.model = std::move(parsed.model);
  setup.model.build(parsed.input_hwc);
  setup.model.initialize(7);
  setup.image_size = 16;
  for (size_t i = 0; i < setup.model.size(); ++i)
    for (catdog::Param* p : setup.model.layer(i).params())
      if (p->trainable)
        p->velocity = catdog::Tensor::from_vector(
            p->value.shape(), std::vector<float>(p->value.numel(), 0.25f));
  catdog::TrainOptions o;
  o.batch = 4;
  o.lr = 0.01f;
  catdog::Progress progress;
  progress.epochs_done = 2;
  progress.batches_done = 1;
  progress.seen = 4;
  progress.correct = 3;
  progress.loss_sum = 2.5;
  progress.step = 7;
  for (int e = 1; e <= 2; ++e)
    progress.history.push_back({e, 0.7 / e, 0.5 + 0.1 * e, 0.6, 0.55, 1.5, 40, 0.1});
  catdog::save_checkpoint(path, setup.model, setup, o, progress);
}

const catdog::KerasH5& real_checkpoint() {
  static const catdog::KerasH5 contents = [] {
    const std::string path = temp_path("real.h5");
    write_real_checkpoint(path);
    catdog::KerasH5 c = catdog::read_keras_h5(path);
    std::remove(path.c_str());
    return c;
  }();
  return contents;
}

void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  contain_hdf5_check_children();
  if (const char* dir = std::getenv("CATDOG_FUZZ_WRITE_SEEDS")) {
    write_real_checkpoint(std::string(dir) + "/checkpoint.h5");
    std::ofstream(std::string(dir) + "/catdog_state.json") << real_checkpoint().catdog_state;
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = temp_path("checkpoint.h5");
  static const bool verbose = std::getenv("CATDOG_FUZZ_VERBOSE") != nullptr;
  const bool is_hdf5 = size >= 8 && std::memcmp(data, "\x89HDF\r\n\x1a\n", 8) == 0;
  try {
    if (is_hdf5) {
      write_bytes(path, data, size);
    } else {
      catdog::KerasH5 contents = real_checkpoint();
      contents.catdog_state.assign(reinterpret_cast<const char*>(data), size);
      catdog::write_keras_h5(path, contents);
    }
    catdog::ModelSetup setup;
    catdog::TrainOptions o;
    o.model.clear();
    const catdog::Progress p = catdog::restore_checkpoint(path, setup, o);
    if (setup.model.input_shape().empty() || setup.model.input_shape()[0] != setup.image_size ||
        p.history.size() != static_cast<size_t>(p.epochs_done))
      std::abort();
    if (verbose) std::fprintf(stderr, "restored: %d epochs done\n", p.epochs_done);
  } catch (const catdog::Error& e) {
    // A refused file: the expected outcome for most inputs.
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
  }
  return 0;
}
