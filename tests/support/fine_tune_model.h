// What the fine-tuning tests share: a small model whose trainable part, above a frozen
// convolution, holds every kind of layer fine-tuning unfreezes (Conv2D, BatchNormalization in
// inference mode, MaxPooling2D), and a random stand-in for the Tiny Darknet weights file.
#pragma once

#include <cstdint>
#include <string>

#include "engine/sequential.h"

namespace catdog::test {

// 8x8x2 input -> conv_frozen (3x3, 3 filters) | conv_b (3x3, 4) -> bn_b -> pool_b (2x2) ->
// conv_c (3x3, 3) -> flatten -> dense_1 (1, sigmoid, emitting logits). All convolutions linear
// (no kinks), weights and BN statistics random from `seed`; layers from conv_b (index 1) train.
Sequential small_fine_tune_model(uint64_t seed);
constexpr size_t kSmallModelCut = 1;

// A Keras weights file for --model tiny-darknet with random weights and BN statistics from
// `seed` (the real ones are not needed to test the mechanics), written to `path`.
std::string write_random_tiny_darknet_weights(const std::string& path, uint64_t seed);

}  // namespace catdog::test
