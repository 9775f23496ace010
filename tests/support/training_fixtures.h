// What the trainer tests share: a small generated dataset, and the weights of a saved model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "training/trainer.h"

namespace catdog::test {

// Writes 2 x `per_class` small JPEGs (40..max_side px a side, from data/synth.h) into `dir`,
// a quarter of each class in test/, and returns `dir`.
std::string write_small_dataset(const std::string& dir, int per_class, int max_side,
                                uint64_t seed = 1);

// A small, quick run on the CPU: vgg1 at 32x32, batch 8, lr 0.01, 4 epochs, 2 workers, seed 5.
TrainOptions small_run(const std::string& data, const std::string& out);

// Every parameter of a saved model.h5 or checkpoint.h5, concatenated in layer order.
std::vector<float> saved_weights(const std::string& model_h5);

}  // namespace catdog::test
