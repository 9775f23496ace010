// The activation layers on the CPU (ReLU, LeakyReLU, Activation): forward against formulas
// written here, backward against finite differences (layers/activations.h).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/activations.h"
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

}  // namespace
}  // namespace catdog
