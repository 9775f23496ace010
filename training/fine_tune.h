// Fine-tuning: the second half of transfer learning. Feature extraction trains a new head on a
// frozen base; fine-tuning then unfreezes the top of the base (from one layer, "the cut", on) and
// trains it on together with the head, with a learning rate far smaller than the head's, so that
// the pretrained filters are adjusted rather than overwritten by the head's still large gradients.
//
// What stays as in Keras' guide (keras.io transfer learning, base called with training=False):
// BatchNormalization layers above the cut stay in inference mode. They normalise with their
// moving mean and variance, which are never updated (they are not trainable parameters), while
// gamma and beta get gradients and train like any weight. Batch statistics of a small batch would
// wreck what the base learnt on ImageNet.
//
// The frozen part below the cut still keeps nothing and gets no gradients (engine/sequential.h),
// so the feature cache can hold its output instead of the whole base's (training/trainer.cpp).
#pragma once

#include <cstddef>
#include <string>

#include "engine/sequential.h"

namespace catdog {

// The keras.io guide's fine-tuning learning rate.
constexpr float kDefaultFineTuneLr = 1e-5f;

// Where a built-in pretrained base is cut by default: VGG16's block5_conv1 (its last block, as in
// Chollet's cats-vs-dogs chapter); Tiny Darknet's conv2d_14 (its last 3x3 convolution, followed by
// the 1x1 conv2d_15). "" for any other model.
std::string default_trainable_from(const std::string& base);

// The index of the layer named `name`. Throws one error line naming it and, to choose from, the
// model's Conv2D layers.
size_t trainable_from_index(Sequential& model, const std::string& name);

// Layers [0, cut) frozen, layers [cut, end) trainable (Keras' layer.trainable).
void train_from(Sequential& model, size_t cut);

}  // namespace catdog
