// The loss and the optimizer, against formulas written out here and finite differences.
#include <cmath>

#include "core/error.h"
#include "engine/loss.h"
#include "engine/sgd.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

// The textbook form, in long double: fine for moderate logits, where it is the definition.
long double naive_bce(long double z, long double t) {
  const long double p = 1.0L / (1.0L + std::exp(-z));
  return -(t * std::log(p) + (1 - t) * std::log(1 - p));
}

TEST(SigmoidBce, MatchesTheDefinitionForModerateLogits) {
  for (double z : {-8.0, -2.5, -0.3, 0.0, 0.7, 3.0, 9.0}) {
    for (double t : {0.0, 1.0}) {
      EXPECT_NEAR(sigmoid_bce_scalar(z, t), static_cast<double>(naive_bce(z, t)), 1e-12)
          << "z=" << z << " t=" << t;
    }
  }
}

TEST(SigmoidBce, StaysFiniteAndExactForHugeLogits) {
  // For z = +-100 the naive float32 form gives log(0) = -inf; the exact losses are known.
  EXPECT_NEAR(sigmoid_bce_scalar(100.0, 0.0), 100.0, 1e-9);  // -log(1 - p) ~ z
  EXPECT_NEAR(sigmoid_bce_scalar(-100.0, 1.0), 100.0, 1e-9);
  EXPECT_NEAR(sigmoid_bce_scalar(100.0, 1.0), std::exp(-100.0), 1e-40);
  EXPECT_TRUE(std::isfinite(sigmoid_bce_scalar(1e30, 0.0)));
  EXPECT_EQ(sigmoid(-1000.0f), 0.0f);
  EXPECT_EQ(sigmoid(1000.0f), 1.0f);
}

TEST(SigmoidBce, BatchMeanGradientAndAccuracy) {
  const std::vector<float> z = {-3.0f, -0.5f, 0.25f, 2.0f, 40.0f, -40.0f};
  const std::vector<float> t = {0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 1.0f};
  Tensor logits = Tensor::from_vector({6, 1}, z), labels = Tensor::from_vector({6}, t);
  Tensor grad({6, 1});
  int64_t correct = -1;
  ExecContext ctx;
  const double loss = sigmoid_bce_from_logits(logits, labels, &grad, &correct, ctx);
  double want = 0;
  for (size_t i = 0; i < z.size(); ++i) want += sigmoid_bce_scalar(z[i], t[i]);
  EXPECT_NEAR(loss, want / 6, 1e-9);
  // Predictions: 0,0,1,1,1,0 against 0,1,1,0,1,1 -> 3 right.
  EXPECT_EQ(correct, 3);
  // Central differences of the mean loss in double.
  for (size_t i = 0; i < z.size(); ++i) {
    const double h = 1e-4;
    const double up = sigmoid_bce_scalar(z[i] + h, t[i]) / 6;
    const double down = sigmoid_bce_scalar(z[i] - h, t[i]) / 6;
    EXPECT_NEAR(grad.f32()[i], (up - down) / (2 * h), 1e-6) << "logit " << i;
  }
}

TEST(SigmoidBce, RejectsMismatchedShapes) {
  ExecContext ctx;
  Tensor logits({4, 2}), labels({4});
  EXPECT_THROW(sigmoid_bce_from_logits(logits, labels, nullptr, nullptr, ctx), Error);
  Tensor logits2({3, 1});
  EXPECT_THROW(sigmoid_bce_from_logits(logits2, labels, nullptr, nullptr, ctx), Error);
}

TEST(Sgd, KerasMomentumSemanticsOverSeveralSteps) {
  // Written out by hand: v1 = -lr g1; w1 = w0 + v1; v2 = m v1 - lr g2; w2 = w1 + v2.
  Param p;
  p.value = Tensor::from_vector({2}, {1.0f, -2.0f});
  ExecContext ctx;
  SGD sgd(0.1f, 0.9f);
  p.grad = Tensor::from_vector({2}, {0.5f, 1.0f});
  sgd.step({&p}, ctx);
  EXPECT_FLOAT_EQ(p.value.f32()[0], 1.0f - 0.05f);
  EXPECT_FLOAT_EQ(p.value.f32()[1], -2.0f - 0.1f);
  p.grad = Tensor::from_vector({2}, {-1.0f, 0.0f});
  sgd.step({&p}, ctx);
  // v = 0.9 * (-0.05) - 0.1 * (-1) = 0.055; w = 0.95 + 0.055
  EXPECT_FLOAT_EQ(p.value.f32()[0], 0.95f + 0.055f);
  // v = 0.9 * (-0.1) - 0 = -0.09; w = -2.1 - 0.09
  EXPECT_FLOAT_EQ(p.value.f32()[1], -2.1f - 0.09f);
}

TEST(Sgd, EqualsPyTorchFormForConstantLearningRate) {
  // PyTorch: b = m b + g; w = w - lr b. Same trajectory as Keras' form for a fixed lr.
  const float lr = 0.01f, m = 0.9f;
  Param p;
  p.value = Tensor::from_vector({1}, {0.3f});
  ExecContext ctx;
  SGD sgd(lr, m);
  double w = 0.3, b = 0;
  for (int step = 0; step < 20; ++step) {
    const double g = std::sin(step * 0.7);
    p.grad = Tensor::from_vector({1}, {static_cast<float>(g)});
    sgd.step({&p}, ctx);
    b = m * b + g;
    w -= lr * b;
  }
  EXPECT_NEAR(p.value.f32()[0], w, 1e-5);
}

TEST(Sgd, RequiresAGradientOfTheParameterShape) {
  Param p;
  p.name = "kernel";
  p.value = Tensor::from_vector({2}, {1, 2});
  p.grad = Tensor::from_vector({3}, {1, 2, 3});
  ExecContext ctx;
  SGD sgd(0.1f, 0.9f);
  EXPECT_THROW(sgd.step({&p}, ctx), Error);
}

}  // namespace
}  // namespace catdog
