// BatchNormalization on the CPU: forward against the formula written here, parameters in Keras
// order, backward against finite differences, shape errors (layers/batch_normalization.h).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/batch_normalization.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;
using test::random_tensor;

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

}  // namespace
}  // namespace catdog
