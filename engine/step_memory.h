// What one training step of a Sequential holds in memory, counted from the shapes alone (nothing
// is allocated): the napkin math for "does fine-tuning VGG16 at batch 64 fit a 6 GB card?",
// following what Sequential::forward and ::backward keep.
//
// A step that starts at layer `begin` (the first trainable layer when it reads the feature cache,
// 0 when it reads images) holds: every parameter; a gradient and an SGD velocity per trainable
// parameter; the batch it is fed; the output of every layer from the first trainable one on (kept
// for backward; a view such as Flatten keeps none); the two ping-pong buffers of the input
// gradients, each the size of the largest dx; and, when the frozen part runs too, its two
// ping-pong buffers, each the size of its largest output. Not counted: workspaces (the CPU's
// im2col matrix, cuDNN's workspace), the loss's few floats per image, and the feature cache,
// which lives apart (engine/feature_cache.h) and may be in host memory.
#pragma once

#include <cstdint>

#include "engine/sequential.h"

namespace catdog {

struct StepMemory {  // bytes, float32 throughout
  int64_t weights = 0, gradients = 0, velocities = 0;
  int64_t input = 0, activations = 0, input_gradients = 0, frozen_buffers = 0;
  int64_t total() const {
    return weights + gradients + velocities + input + activations + input_gradients +
           frozen_buffers;
  }
};

StepMemory step_memory(const Sequential& model, int64_t batch, size_t begin);

}  // namespace catdog
