// `catdog extract` runs its model as the frozen part of a network: every layer frozen, so that
// --precision tf32|fp16|bf16 reaches the layers (only frozen layers compute in reduced
// precision; a trainable one stays in strict fp32, layers/conv2d.cu). The features themselves
// are checked against PyTorch in reference_extract_test.cpp.
#include <gtest/gtest.h>

#include "apps/commands.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

void expect_all_frozen(const Sequential& model) {
  ASSERT_GT(model.size(), 0u);
  for (size_t i = 0; i < model.size(); ++i) {
    EXPECT_FALSE(model.layer(i).trainable()) << model.layer(i).name();
  }
  EXPECT_EQ(model.trainable_begin(), model.size()) << "the frozen part must be the whole model";
  EXPECT_EQ(model.param_count(true), 0);
}

TEST(ExtractModel, BuiltinBaseIsFrozenWhole) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  ExtractOptions o;
  o.model = "tiny-darknet";
  o.weights = weights;
  expect_all_frozen(load_extract_model(o));
}

// A model_config whose layers say "trainable": true (Keras' default) is frozen all the same.
TEST(ExtractModel, ModelConfigMarkedTrainableIsFrozenWhole) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  CATDOG_REQUIRE_SHARED(config, "weights/tiny_darknet_imagenet.json");
  ExtractOptions o;
  o.model = config;
  o.preprocess = "scale";
  o.weights = weights;
  o.stop_after = "leaky_re_lu_3";
  expect_all_frozen(load_extract_model(o));
}

}  // namespace
}  // namespace catdog
