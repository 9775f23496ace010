// BatchNormalization folded into the convolution before it (engine/batch_norm_fold.h), as
// Sequential runs the frozen prefix: the folded model against the same model run layer by layer
// (set_fold_batch_norms(false)), and against the convolution and BN written out here; which pairs
// fold and which must not; and that saving and the parameters see the unfused model.
#include <cmath>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "engine/batch_norm_fold.h"
#include "engine/sequential.h"
#include "layers/activations.h"
#include "layers/batch_normalization.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/flatten.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

constexpr float kEpsilon = 0.02f;  // not Keras' 1e-3 default: a fold that ignores it must show

std::unique_ptr<Conv2D> conv(const std::string& name, int filters, int kernel, bool bias,
                             Activation activation = Activation::linear) {
  Conv2DConfig c;
  c.filters = filters;
  c.kernel_h = c.kernel_w = kernel;
  c.padding = Padding::same;
  c.use_bias = bias;
  c.activation = activation;
  return std::make_unique<Conv2D>(name, c);
}

std::unique_ptr<BatchNormalization> bn(const std::string& name, bool center = true, bool scale = true) {
  return std::make_unique<BatchNormalization>(name, BatchNormalizationConfig{kEpsilon, center, scale});
}

// Random weights; BN variances small (0.005..0.05) so that epsilon weighs in the result.
void randomize(Sequential& model, uint64_t seed) {
  for (size_t i = 0; i < model.size(); ++i) {
    Layer& layer = model.layer(i);
    test::randomize_params(layer, seed + i, -0.8f, 0.8f);
    if (dynamic_cast<BatchNormalization*>(&layer)) {
      std::vector<Param*> p = layer.params();
      p.back()->value = test::random_tensor(p.back()->value.shape(), seed + 100 + i, 0.005f, 0.05f);
    }
  }
  model.weights_changed();
}

// Tiny Darknet's unit twice (conv without bias -> BN -> LeakyReLU), then a conv with a bias and
// a BN without gamma/beta, all frozen.
Sequential frozen_darknet_like() {
  Sequential m;
  m.add(conv("c1", 6, 3, false));
  m.add(bn("bn1"));
  m.add(std::make_unique<ActivationLayer>("leaky1", "LeakyReLU", Activation::leaky_relu, 0.1f));
  m.add(conv("c2", 5, 1, false));
  m.add(bn("bn2"));
  m.add(std::make_unique<ActivationLayer>("leaky2", "LeakyReLU", Activation::leaky_relu, 0.1f));
  m.add(conv("c3", 4, 3, true));
  m.add(bn("bn3", false, false));
  m.build({7, 6, 3});
  m.freeze_before(m.size());
  randomize(m, 11);
  return m;
}

std::vector<float> run(Sequential& model, const Tensor& x, bool fold, size_t end = Sequential::npos) {
  model.set_fold_batch_norms(fold);
  ExecContext ctx;
  return model.forward(x, ctx, 0, end).to_vector();
}

TEST(BatchNormFold, FoldedPrefixMatchesTheLayerByLayerRun) {
  Sequential m = frozen_darknet_like();
  const Tensor x = test::random_tensor({2, 7, 6, 3}, 5, -2.0f, 2.0f);
  const std::vector<float> unfused = run(m, x, false);
  EXPECT_EQ(m.folded_batch_norms(), 0u);
  const std::vector<float> fused = run(m, x, true);
  EXPECT_EQ(m.folded_batch_norms(), 3u);
  EXPECT_LE(test::max_relative_error(fused, unfused), 1e-5);
}

// The fold of one pair against the convolution and the BN formula written out here.
TEST(BatchNormFold, TwinComputesConvolutionThenNormalization) {
  auto c = conv("c", 3, 3, true);
  auto b = bn("b");
  c->build({1, 4, 5, 2});
  b->build({1, 4, 5, 3});
  test::randomize_params(*c, 1, -1.0f, 1.0f);
  test::randomize_params(*b, 2, -1.0f, 1.0f);
  std::vector<Param*> bp = b->params();  // gamma, beta, mean, variance
  bp[3]->value = test::random_tensor({3}, 3, 0.005f, 0.05f);
  c->set_trainable(false);
  b->set_trainable(false);
  const std::vector<float> k = c->params()[0]->value.to_vector(), bias = c->params()[1]->value.to_vector();
  const std::vector<float> gamma = bp[0]->value.to_vector(), beta = bp[1]->value.to_vector(),
                           mean = bp[2]->value.to_vector(), var = bp[3]->value.to_vector();
  const Tensor x = test::random_tensor({1, 4, 5, 2}, 4, -2.0f, 2.0f);
  const std::vector<float> xv = x.to_vector();

  std::unique_ptr<Conv2D> twin = fold_batch_norm(*c, *b, {1, 4, 5, 2});
  Tensor y({1, 4, 5, 3});
  ExecContext ctx;
  twin->forward(x, y, ctx);
  const std::vector<float> got = y.to_vector();
  double worst = 0;
  for (int h = 0; h < 4; ++h) {
    for (int w = 0; w < 5; ++w) {
      for (int f = 0; f < 3; ++f) {
        double z = bias[f];
        for (int dh = -1; dh <= 1; ++dh) {
          for (int dw = -1; dw <= 1; ++dw) {
            if (h + dh < 0 || h + dh >= 4 || w + dw < 0 || w + dw >= 5) continue;
            for (int ch = 0; ch < 2; ++ch) {
              z += xv[((h + dh) * 5 + (w + dw)) * 2 + ch] * k[(((dh + 1) * 3 + (dw + 1)) * 2 + ch) * 3 + f];
            }
          }
        }
        const double expected = gamma[f] * (z - mean[f]) / std::sqrt(var[f] + double{kEpsilon}) + beta[f];
        worst = std::max(worst, std::abs(got[(h * 5 + w) * 3 + f] - expected) / (1.0 + std::abs(expected)));
      }
    }
  }
  EXPECT_LE(worst, 1e-5);
}

TEST(BatchNormFold, OnlyFrozenLinearPairsOfTheFrozenPrefixFold) {
  const Tensor x = test::random_tensor({1, 7, 6, 3}, 6, -2.0f, 2.0f);
  {  // a trainable BN (no gamma/beta, so nothing in it trains, but Keras' trainable is set)
    Sequential m = frozen_darknet_like();
    m.layer(7).set_trainable(true);
    const std::vector<float> fused = run(m, x, true);
    EXPECT_EQ(m.folded_batch_norms(), 2u);
    EXPECT_LE(test::max_relative_error(fused, run(m, x, false)), 1e-5);
  }
  {  // a trainable convolution
    Sequential m = frozen_darknet_like();
    m.layer(3).set_trainable(true);
    run(m, x, true);
    EXPECT_EQ(m.folded_batch_norms(), 1u);
  }
  {  // a convolution with its own ReLU: the BN sees relu(z), not z
    Sequential m;
    m.add(conv("c", 4, 3, true, Activation::relu));
    m.add(bn("b"));
    m.build({5, 5, 3});
    m.freeze_before(m.size());
    randomize(m, 3);
    const Tensor small = test::random_tensor({1, 5, 5, 3}, 7, -2.0f, 2.0f);
    const std::vector<float> fused = run(m, small, true);
    EXPECT_EQ(m.folded_batch_norms(), 0u);
    EXPECT_EQ(fused, run(m, small, false));
  }
}

TEST(BatchNormFold, StoppingAtTheConvolutionGivesTheConvolutionsOutput) {
  Sequential m = frozen_darknet_like();
  const Tensor x = test::random_tensor({1, 7, 6, 3}, 8, -2.0f, 2.0f);
  // Ends after c2, before bn2: c1 + bn1 run folded, c2 alone.
  EXPECT_LE(test::max_relative_error(run(m, x, true, 4), run(m, x, false, 4)), 1e-5);
}

TEST(BatchNormFold, NewWeightsAreFoldedAgain) {
  Sequential m = frozen_darknet_like();
  const Tensor x = test::random_tensor({1, 7, 6, 3}, 9, -2.0f, 2.0f);
  run(m, x, true);
  randomize(m, 77);  // ends in weights_changed(), as load_weights does
  ExecContext ctx;
  const std::vector<float> fused = m.forward(x, ctx).to_vector();
  EXPECT_LE(test::max_relative_error(fused, run(m, x, false)), 1e-5);
}

TEST(BatchNormFold, SavedModelAndParametersAreTheUnfusedOnes) {
  Sequential m = frozen_darknet_like();
  std::vector<std::vector<float>> before;
  for (Param* p : m.all_params()) before.push_back(p->value.to_vector());
  const int64_t count = m.param_count(false);
  run(m, test::random_tensor({1, 7, 6, 3}, 10, -2.0f, 2.0f), true);
  ASSERT_EQ(m.folded_batch_norms(), 3u);
  std::vector<std::vector<float>> after;
  for (Param* p : m.all_params()) after.push_back(p->value.to_vector());
  EXPECT_EQ(after, before);
  EXPECT_EQ(m.param_count(false), count);

  std::vector<std::string> names;
  for (const StoredLayer& layer : stored_layers_of(m)) names.push_back(layer.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c1", "bn1", "leaky1", "c2", "bn2", "leaky2", "c3", "bn3"}));
  EXPECT_EQ(stored_layers_of(m)[0].weights.size(), 1u);  // c1's kernel, no bias added
}

}  // namespace
}  // namespace catdog
