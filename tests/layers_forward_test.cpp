// The elementwise and per-channel layers on the CPU (ReLU, LeakyReLU, Activation, BatchNormalization,
// Dropout, Flatten): forward against formulas written here, backward against finite differences.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/activations.h"
#include "layers/batch_normalization.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;
using test::random_tensor;

// Inputs at least 0.05 away from 0, the kink of (leaky) relu.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor(shape, seed, -2.0f, 2.0f);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float& v = t.f32()[i];
    if (std::fabs(v) < 0.05f) v = v < 0 ? -0.05f - v : 0.05f + v;
  }
  return t;
}

TEST(ActivationLayers, ReluLeakyAndSigmoidForward) {
  const Tensor x = random_tensor({2, 3, 4, 5}, 1, -30.0f, 30.0f);
  const std::vector<float> v = x.to_vector();
  ActivationLayer relu("relu", "ReLU", Activation::relu, 0.0f);
  ActivationLayer leaky("leaky", "LeakyReLU", Activation::relu, 0.1f);
  ActivationLayer sigmoid("sig", "Activation", Activation::sigmoid, 0.0f);
  ActivationLayer linear("lin", "Activation", Activation::linear, 0.0f);
  const auto r = forward_poisoned(relu, x).to_vector(), l = forward_poisoned(leaky, x).to_vector();
  const auto s = forward_poisoned(sigmoid, x).to_vector();
  EXPECT_EQ(forward_poisoned(linear, x).to_vector(), v);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(r[i], v[i] > 0 ? v[i] : 0.0f);
    EXPECT_FLOAT_EQ(l[i], v[i] > 0 ? v[i] : 0.1f * v[i]);
    EXPECT_NEAR(s[i], 1.0 / (1.0 + std::exp(-static_cast<double>(v[i]))), 1e-7);
  }
}

TEST(ActivationLayers, SigmoidIsFiniteAtExtremes) {
  ActivationLayer sigmoid("sig", "Activation", Activation::sigmoid, 0.0f);
  const auto y = forward_poisoned(sigmoid, Tensor::from_vector({4}, {-1000, -90, 90, 1000})).to_vector();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_GE(y[1], 0.0f);  // exp(-90) underflows float, but never to NaN
  EXPECT_EQ(y[2], 1.0f);
  EXPECT_EQ(y[3], 1.0f);
}

TEST(ActivationLayers, BackwardMatchesFiniteDifferences) {
  ActivationLayer relu("relu", "ReLU", Activation::relu, 0.0f);
  ActivationLayer leaky("leaky", "LeakyReLU", Activation::relu, 0.2f);
  ActivationLayer sigmoid("sig", "Activation", Activation::sigmoid, 0.0f);
  const Tensor x = away_from_zero({2, 3, 3, 4}, 5);
  EXPECT_GT(test::check_gradients(relu, x), 30);
  EXPECT_GT(test::check_gradients(leaky, x), 30);
  EXPECT_GT(test::check_gradients(sigmoid, x), 30);
}

// Keras BatchNormalization at inference: gamma (x - mean) / sqrt(var + eps) + beta, per channel.
TEST(BatchNormalizationLayer, ForwardMatchesFormula) {
  for (bool center : {true, false}) {
    for (bool scale : {true, false}) {
      BatchNormalization bn("bn", {1e-3f, center, scale});
      bn.build({2, 3, 3, 4});
      test::randomize_params(bn, 9, 0.2f, 2.0f);  // variances must stay positive
      std::vector<std::vector<float>> p;
      for (Param* q : bn.params()) p.push_back(q->value.to_vector());
      ASSERT_EQ(p.size(), 2u + center + scale);
      const std::vector<float> ones(4, 1.0f), zeros(4, 0.0f);
      const auto& gamma = scale ? p[0] : ones;
      const auto& beta = center ? p[scale ? 1 : 0] : zeros;
      const auto& mean = p[p.size() - 2];
      const auto& var = p[p.size() - 1];
      const Tensor x = random_tensor({2, 3, 3, 4}, 3, -3.0f, 3.0f);
      const auto v = x.to_vector();
      std::vector<float> expected(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        const size_t c = i % 4;
        expected[i] = static_cast<float>(gamma[c] * (v[i] - mean[c]) / std::sqrt(var[c] + 1e-3) + beta[c]);
      }
      EXPECT_LT(test::max_relative_error(forward_poisoned(bn, x).to_vector(), expected), 1e-6)
          << "center " << center << " scale " << scale;
    }
  }
}

TEST(BatchNormalizationLayer, ParametersInKerasOrder) {
  BatchNormalization bn("bn", {});
  bn.build({1, 2, 2, 3});
  const auto params = bn.params();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0]->name, "gamma");
  EXPECT_EQ(params[1]->name, "beta");
  EXPECT_EQ(params[2]->name, "moving_mean");
  EXPECT_EQ(params[3]->name, "moving_variance");
  EXPECT_TRUE(params[0]->trainable);
  EXPECT_FALSE(params[2]->trainable);
  EXPECT_FALSE(params[3]->trainable);
  EXPECT_EQ(params[0]->value.to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(params[3]->value.to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(params[2]->value.to_vector(), std::vector<float>(3, 0.0f));
}

TEST(BatchNormalizationLayer, BackwardMatchesFiniteDifferences) {
  BatchNormalization bn("bn", {1e-3f, true, true});
  bn.build({2, 3, 2, 5});
  test::randomize_params(bn, 4, 0.3f, 1.5f);
  EXPECT_GT(test::check_gradients(bn, random_tensor({2, 3, 2, 5}, 8)), 40);
}

TEST(BatchNormalizationLayer, ChannelMismatchNamesTheLayer) {
  BatchNormalization bn("bn_7", {});
  bn.build({1, 4, 4, 16});
  test::expect_error_mentions([&] { (void)bn.output_shape({1, 4, 4, 8}); }, {"bn_7", "(1, 4, 4, 8)"});
}

// The keep rule of kernels/cpu/dropout_mask.h, written out from its documentation.
bool documented_keep(uint64_t seed, uint64_t layer, uint64_t step, uint64_t i, float rate) {
  return uniform01(seed, 0xD0000000ull | layer, (step << 32) | i) >= static_cast<double>(rate);
}

TEST(DropoutLayer, TrainingFollowsTheDocumentedMask) {
  Dropout drop("dropout", 0.25f);
  drop.on_added(3);
  ExecContext ctx;
  ctx.training = true;
  ctx.seed = 42;
  ctx.step = 7;
  const Tensor x = random_tensor({4, 5, 5, 8}, 2, 0.5f, 1.5f);
  const auto y = forward_poisoned(drop, x, ctx).to_vector();
  const auto v = x.to_vector();
  int kept = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const bool keep = documented_keep(42, 3, 7, i, 0.25f);
    kept += keep;
    ASSERT_EQ(y[i], keep ? v[i] * (1.0f / 0.75f) : 0.0f) << i;
  }
  EXPECT_NEAR(kept / static_cast<double>(v.size()), 0.75, 0.05);
  // Backward applies the same mask and scale to dy.
  const Tensor dy = random_tensor(x.shape(), 6);
  Tensor dx;
  drop.backward(x, Tensor(), dy, &dx, ctx);
  const auto g = dy.to_vector(), d = dx.to_vector();
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_EQ(d[i], y[i] == 0.0f ? 0.0f : g[i] * (1.0f / 0.75f)) << i;
  }
}

TEST(DropoutLayer, MasksDifferAcrossStepsAndLayers) {
  const Tensor x = random_tensor({1000}, 2, 0.5f, 1.5f);
  auto mask = [&](uint64_t layer, uint64_t step) {
    Dropout drop("d", 0.5f);
    drop.on_added(layer);
    ExecContext ctx;
    ctx.training = true;
    ctx.step = step;
    auto y = forward_poisoned(drop, x, ctx).to_vector();
    std::vector<bool> m;
    for (float f : y) m.push_back(f != 0.0f);
    return m;
  };
  EXPECT_EQ(mask(1, 1), mask(1, 1));
  EXPECT_NE(mask(1, 1), mask(1, 2));
  EXPECT_NE(mask(1, 1), mask(2, 1));
}

TEST(DropoutLayer, InferenceIsTheIdentity) {
  Dropout drop("dropout", 0.5f);
  const Tensor x = random_tensor({3, 7}, 1);
  EXPECT_EQ(forward_poisoned(drop, x).to_vector(), x.to_vector());
  EXPECT_TRUE(drop.stochastic());
  test::expect_error_mentions([] { Dropout bad("drop_bad", 1.0f); }, {"drop_bad", "rate"});
}

TEST(FlattenLayer, IsAViewInKerasOrder) {
  Flatten flatten("flatten");
  const Tensor x = random_tensor({2, 3, 4, 5}, 1);
  ExecContext ctx;
  Tensor y;
  flatten.forward(x, y, ctx);
  EXPECT_EQ(y.shape(), (Shape{2, 60}));
  EXPECT_EQ(y.raw(), x.raw());  // no copy
  EXPECT_EQ(y.to_vector(), x.to_vector());
  Tensor dx;
  const Tensor dy = random_tensor({2, 60}, 2);
  flatten.backward(x, y, dy, &dx, ctx);
  EXPECT_EQ(dx.shape(), x.shape());
  EXPECT_EQ(dx.raw(), dy.raw());
  test::expect_error_mentions([&] { (void)flatten.output_shape({5}); }, {"flatten", "(5,)"});
}

}  // namespace
}  // namespace catdog
