// make_layer and keras_config: Keras configs (as Keras 2 and 3 write them) build the right layer;
// config -> layer -> keras_config -> layer gives a layer computing the same function; unsupported
// classes and fields are refused with the layer named.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "layers/activations.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/max_pooling2d.h"
#include "engine/layer_registry.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using nlohmann::json;

struct RoundTrip {
  const char* text;  // a Keras layer config
  Shape input;
};

class RegistryRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(RegistryRoundTrip, KerasConfigRebuildsTheSameLayer) {
  const RoundTrip c = GetParam();
  std::unique_ptr<Layer> first = make_layer(json::parse(c.text));
  const json written = first->keras_config();
  std::unique_ptr<Layer> second = make_layer(written);
  EXPECT_EQ(second->class_name(), std::string(first->class_name()));
  EXPECT_EQ(second->name(), first->name());
  EXPECT_EQ(second->keras_config(), written);
  ASSERT_TRUE(written["config"].contains("trainable"));
  EXPECT_EQ(written["config"]["dtype"], "float32");

  first->build(c.input);
  second->build(c.input);
  test::randomize_params(*first, 3, 0.1f, 1.0f);
  ASSERT_EQ(first->params().size(), second->params().size());
  for (size_t i = 0; i < first->params().size(); ++i) {
    second->params()[i]->value = first->params()[i]->value.clone();
  }
  ExecContext ctx;
  const Tensor x = test::random_tensor(c.input, 5);
  EXPECT_EQ(test::forward_poisoned(*first, x, ctx).to_vector(),
            test::forward_poisoned(*second, x, ctx).to_vector());
  EXPECT_EQ(first->output_shape(c.input), second->output_shape(c.input));
}

INSTANTIATE_TEST_SUITE_P(
    Classes, RegistryRoundTrip,
    ::testing::Values(
        RoundTrip{R"({"class_name": "Conv2D", "config": {"name": "c1", "filters": 4,
          "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "relu",
          "use_bias": true, "kernel_initializer": {"class_name": "HeUniform", "config": {"seed": null}}}})",
                  {1, 7, 6, 3}},
        RoundTrip{R"({"class_name": "Conv2D", "config": {"name": "c2", "filters": 2,
          "kernel_size": 1, "use_bias": false}})", {2, 3, 3, 4}},
        RoundTrip{R"({"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [3, 3],
          "strides": null, "padding": "same"}})", {1, 7, 7, 2}},
        RoundTrip{R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3],
          "epsilon": 0.01, "center": false}})", {1, 2, 2, 3}},
        RoundTrip{R"({"class_name": "LeakyReLU", "config": {"name": "lr", "alpha": 0.1}})", {2, 5}},
        RoundTrip{R"({"class_name": "LeakyReLU", "config": {"name": "lr3", "negative_slope": 0.2}})", {2, 5}},
        RoundTrip{R"({"class_name": "ReLU", "config": {"name": "r", "max_value": null}})", {2, 5}},
        RoundTrip{R"({"class_name": "Activation", "config": {"name": "a", "activation": "sigmoid"}})", {2, 5}},
        RoundTrip{R"({"class_name": "Flatten", "config": {"name": "f"}})", {2, 2, 2, 2}},
        RoundTrip{R"({"class_name": "Dense", "config": {"name": "d", "units": 3,
          "activation": "relu", "kernel_initializer": "he_uniform"}})", {4, 6}},
        RoundTrip{R"({"class_name": "Dropout", "config": {"name": "dr", "rate": 0.5}})", {3, 4}},
        RoundTrip{R"({"class_name": "GlobalAveragePooling2D", "config": {"name": "g"}})", {2, 3, 3, 4}}));

TEST(Registry, ReadsKerasFieldsIntoTheLayer) {
  auto conv = make_layer(json::parse(R"({"class_name": "Conv2D", "config": {"name": "block1_conv1",
      "trainable": false, "dtype": "float32", "filters": 64, "kernel_size": [3, 5], "strides": [1, 2],
      "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu",
      "use_bias": true, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 2.0,
      "mode": "fan_in", "distribution": "uniform", "seed": null}}}})"));
  const auto& c = dynamic_cast<Conv2D&>(*conv).config();
  EXPECT_EQ(conv->name(), "block1_conv1");
  EXPECT_EQ(c.filters, 64);
  EXPECT_EQ(c.kernel_h, 3);
  EXPECT_EQ(c.kernel_w, 5);
  EXPECT_EQ(c.stride_w, 2);
  EXPECT_EQ(c.padding, Padding::same);
  EXPECT_EQ(c.activation, Activation::relu);
  EXPECT_EQ(c.kernel_initializer, "he_uniform");

  auto dense = make_layer(json::parse(R"({"class_name": "Dense", "config": {"name": "d",
      "units": 1, "activation": "sigmoid", "kernel_initializer": {"class_name": "GlorotUniform",
      "config": {"seed": null}}, "kernel_regularizer": null}})"));
  EXPECT_EQ(dynamic_cast<Dense&>(*dense).config().kernel_initializer, "glorot_uniform");
  EXPECT_EQ(dynamic_cast<Dense&>(*dense).config().activation, Activation::sigmoid);

  auto pool = make_layer(json::parse(R"({"class_name": "MaxPooling2D", "config": {"name": "p",
      "pool_size": [3, 3], "strides": null}})"));
  EXPECT_EQ(dynamic_cast<MaxPooling2D&>(*pool).config().stride_h, 3);

  // Keras 3: a DTypePolicy object and negative_slope.
  auto leaky = make_layer(json::parse(R"({"class_name": "LeakyReLU", "config": {"name": "l",
      "negative_slope": 0.1, "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}}})"));
  EXPECT_FLOAT_EQ(dynamic_cast<ActivationLayer&>(*leaky).alpha(), 0.1f);
}

TEST(Registry, WritesWhatKerasNeeds) {
  auto conv = make_layer(json::parse(R"({"class_name": "Conv2D", "config": {"name": "c",
      "filters": 8, "kernel_size": 3, "kernel_initializer": "he_uniform"}})"));
  const json cfg = conv->keras_config()["config"];
  EXPECT_EQ(cfg["kernel_size"], json::array({3, 3}));
  EXPECT_EQ(cfg["strides"], json::array({1, 1}));
  EXPECT_EQ(cfg["padding"], "valid");
  EXPECT_EQ(cfg["data_format"], "channels_last");
  EXPECT_EQ(cfg["dilation_rate"], json::array({1, 1}));
  EXPECT_EQ(cfg["activation"], "linear");
  EXPECT_EQ(cfg["kernel_initializer"]["class_name"], "HeUniform");
  EXPECT_EQ(cfg["bias_initializer"]["class_name"], "Zeros");
  EXPECT_TRUE(cfg["use_bias"].get<bool>());
}

TEST(Registry, RefusesWhatItCannotComputeNamingTheLayer) {
  auto refuses = [](const char* text, std::vector<std::string> parts) {
    test::expect_error_mentions([&] { (void)make_layer(json::parse(text)); }, parts);
  };
  refuses(R"({"class_name": "Conv3D", "config": {"name": "c3"}})", {"c3", "Conv3D"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "dil", "filters": 2, "kernel_size": 3,
      "dilation_rate": [2, 2]}})", {"dil", "dilation_rate"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "cf", "filters": 2, "kernel_size": 3,
      "data_format": "channels_first"}})", {"cf", "channels_first"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "grp", "filters": 2, "kernel_size": 3,
      "groups": 2}})", {"grp", "groups"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "nof", "kernel_size": 3}})", {"nof", "filters"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "pad", "filters": 2, "kernel_size": 3,
      "padding": "causal"}})", {"pad", "causal"});
  refuses(R"({"class_name": "Conv2D", "config": {"name": "f16", "filters": 2, "kernel_size": 3,
      "dtype": "float16"}})", {"f16", "float16"});
  refuses(R"({"class_name": "Dense", "config": {"name": "sm", "units": 2, "activation": "softmax"}})",
          {"sm", "softmax"});
  refuses(R"({"class_name": "ReLU", "config": {"name": "r6", "max_value": 6.0}})", {"r6", "max_value"});
  refuses(R"({"class_name": "BatchNormalization", "config": {"name": "bn1", "axis": 1}})",
          {"bn1", "axis"});
  refuses(R"({"class_name": "Dropout", "config": {"name": "dn", "rate": 0.5, "noise_shape": [1, 2]}})",
          {"dn", "noise_shape"});
  refuses(R"({"class_name": "Dense", "config": {"name": "dt", "units": "many"}})", {"dt", "units"});
  refuses(R"({"class_name": "MaxPooling2D", "config": {"name": "mp", "pool_size": [2, 2, 2]}})",
          {"mp", "pool_size"});
}

}  // namespace
}  // namespace catdog
