// engine/step_memory.h against counts written here by hand from the layers' shapes: the small
// fine-tuning model of tests/support/fine_tune_model.h, and VGG16 fine-tuned from block5_conv1
// at batch 64 from the feature cache (the figure docs/RESULTS.md compares with a 6 GB card).
#include <cstdio>

#include <gtest/gtest.h>

#include "engine/step_memory.h"
#include "training/fine_tune.h"
#include "training/model_setup.h"
#include "tests/support/fine_tune_model.h"

namespace catdog {
namespace {

TEST(StepMemory, SmallFineTuneModelFromTheCache) {
  const Sequential model = test::small_fine_tune_model(1);
  const StepMemory m = step_memory(model, 3, test::kSmallModelCut);
  // conv_frozen 3x3x2x3 + 3, conv_b 3x3x3x4 + 4, bn_b 4 x 4, conv_c 3x3x4x3 + 3, dense_1 48 + 1.
  EXPECT_EQ(m.weights, 4 * (57 + 112 + 16 + 111 + 49));
  EXPECT_EQ(m.gradients, 4 * (112 + 8 + 111 + 49));  // BN: gamma and beta only
  EXPECT_EQ(m.velocities, m.gradients);
  EXPECT_EQ(m.input, 4 * 3 * 8 * 8 * 3);  // conv_frozen's output, from the cache
  // conv_b, bn_b 3x8x8x4; pool_b 3x4x4x4; conv_c 3x4x4x3; flatten none; dense_1 3.
  EXPECT_EQ(m.activations, 4 * (768 + 768 + 192 + 144 + 3));
  EXPECT_EQ(m.input_gradients, 2 * 4 * 768);  // bn_b's and pool_b's dx; conv_b computes none
  EXPECT_EQ(m.frozen_buffers, 0);
  // From the images, conv_frozen runs in two buffers of its output.
  const StepMemory from_images = step_memory(model, 3, 0);
  EXPECT_EQ(from_images.input, 4 * 3 * 8 * 8 * 2);
  EXPECT_EQ(from_images.frozen_buffers, 2 * 4 * 3 * 8 * 8 * 3);
  EXPECT_EQ(from_images.activations, m.activations);
}

TEST(StepMemory, Vgg16FromBlock5Conv1AtBatch64) {
  ModelSetup setup = describe_model("vgg16");
  Sequential& model = setup.model;
  const size_t cut = trainable_from_index(model, "block5_conv1");
  train_from(model, cut);
  const StepMemory m = step_memory(model, 64, cut);
  const int64_t conv5 = 3 * 3 * 512 * 512 + 512, head = 25088 * 128 + 128 + 128 + 1;
  EXPECT_EQ(m.weights, 4 * (14714688 + head));
  EXPECT_EQ(m.gradients, 4 * (3 * conv5 + head));
  EXPECT_EQ(m.input, 4 * 64 * 14 * 14 * 512);  // block4_pool's output
  // block5_conv1..3 64x14x14x512 each, block5_pool 64x7x7x512, dense 64x128, dense_1 64.
  EXPECT_EQ(m.activations, 4 * (3 * 64 * 14 * 14 * 512 + 64 * 7 * 7 * 512 + 64 * 128 + 64));
  EXPECT_EQ(m.input_gradients, 2 * 4 * 64 * 14 * 14 * 512);
  std::printf("VGG16 from block5_conv1, batch 64, by accounting: weights %.1f MiB, gradients "
              "%.1f MiB, velocities %.1f MiB, input %.1f MiB, activations %.1f MiB, input "
              "gradients %.1f MiB; total %.1f MiB\n",
              m.weights / 1048576.0, m.gradients / 1048576.0, m.velocities / 1048576.0,
              m.input / 1048576.0, m.activations / 1048576.0, m.input_gradients / 1048576.0,
              m.total() / 1048576.0);
  const StepMemory uncached = step_memory(model, 64, 0);
  std::printf("the same from the images (no cache): frozen buffers %.1f MiB; total %.1f MiB\n",
              uncached.frozen_buffers / 1048576.0, uncached.total() / 1048576.0);
  EXPECT_EQ(uncached.frozen_buffers, 2 * 4 * 64 * 224 * 224 * 64);
}

}  // namespace
}  // namespace catdog
