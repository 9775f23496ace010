// Building the model a command runs: a built-in model trained from scratch, a pretrained base
// frozen under the transfer-learning head, or a trained model.h5 loaded back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/sequential.h"
#include "kernels/preprocess.h"
#include "weights/keras_h5.h"

namespace catdog {

struct ModelSetup {
  Sequential model;
  std::string name;          // "tiny-darknet_transfer", "vgg3", ...
  std::string base;          // the built-in name it came from ("vgg16", "vgg3", ...) or ""
  Preprocess preprocess = Preprocess::scale;
  int image_size = 224;      // square input side
};

// --model NAME [--weights FILE.h5] [--image-size N]. For vgg16 / tiny-darknet with weights: the
// base is loaded and frozen, and the head (Flatten, Dense 128 relu, Dense 1 sigmoid) is added and
// initialised from `seed`. For vgg1/2/3(-dropout): every layer is trainable and initialised from
// `seed`. image_size 0 means the model's own (224 for pretrained bases, 200 for the baselines).
ModelSetup build_training_model(const std::string& model, const std::string& weights,
                                int image_size, uint64_t seed);

// A model.h5 written by `catdog train` (or by Keras, when its input size is fixed): architecture
// and weights, plus our preprocessing recorded in the file's catdog_state. `file`, when given,
// receives the rest of the file (optimizer weights and training state, for --resume).
ModelSetup load_trained_model(const std::string& path, KerasH5* file = nullptr);

// Just a built-in model or a config/model file for `summary` (no weights needed).
ModelSetup describe_model(const std::string& name_or_file);

// The whole of a text file (a model_config .json); throws naming the path when it cannot be read.
std::string read_text_file(const std::string& path);

// The names of labels 0 and 1 for printing: "cats", "dogs" for the transfer models our trainer
// makes (sorted class folders, as Keras labels them), "0", "1" otherwise.
std::vector<std::string> output_class_names(const ModelSetup& setup);

// The JSON kept in model.h5's catdog_state: base, preprocess, image size.
std::string model_state_json(const ModelSetup& setup);

}  // namespace catdog
