// Dense on the CPU: forward against a triple loop written here, backward against finite
// differences, emit_logits, frozen layers, Keras parameters and shape errors.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "layers/dense.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;
using test::random_tensor;

Dense make_dense(int units, Activation act, bool bias = true, const std::string& name = "dense_t") {
  DenseConfig c;
  c.units = units;
  c.activation = act;
  c.use_bias = bias;
  return Dense(name, c);
}

// y[n, m] = act(b[m] + sum_k x[n, k] W[k, m]) in double.
std::vector<float> naive_dense(const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b, int n, int k, int m, Activation act) {
  std::vector<float> y(static_cast<size_t>(n) * m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      double acc = b.empty() ? 0.0 : b[j];
      for (int t = 0; t < k; ++t) acc += static_cast<double>(x[i * k + t]) * w[t * m + j];
      if (act == Activation::relu) acc = std::max(acc, 0.0);
      if (act == Activation::sigmoid) acc = 1.0 / (1.0 + std::exp(-acc));
      y[i * m + j] = static_cast<float>(acc);
    }
  return y;
}

struct DenseCase {
  int n, k, m;
  bool bias;
  Activation act;
};

class DenseShapes : public ::testing::TestWithParam<DenseCase> {};

TEST_P(DenseShapes, ForwardMatchesLoops) {
  const DenseCase d = GetParam();
  Dense dense = make_dense(d.m, d.act, d.bias);
  dense.build({d.n, d.k});
  test::randomize_params(dense, 4);
  const Tensor x = random_tensor({d.n, d.k}, 6);
  const auto expected = naive_dense(x.to_vector(), dense.params()[0]->value.to_vector(),
                                    d.bias ? dense.params()[1]->value.to_vector() : std::vector<float>(),
                                    d.n, d.k, d.m, d.act);
  EXPECT_LT(test::max_relative_error(forward_poisoned(dense, x).to_vector(), expected), 1e-5);
}

TEST_P(DenseShapes, BackwardMatchesFiniteDifferences) {
  const DenseCase d = GetParam();
  Dense dense = make_dense(d.m, d.act, d.bias);
  dense.build({d.n, d.k});
  test::randomize_params(dense, 4, -0.5f, 0.5f);
  // Every coordinate of x, W and b when there are few (3 for the 1x1 case), 40 of each otherwise.
  EXPECT_GE(test::check_gradients(dense, random_tensor({d.n, d.k}, 6)), 3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, DenseShapes,
                         ::testing::Values(DenseCase{1, 1, 1, true, Activation::linear},
                                           DenseCase{4, 7, 3, true, Activation::relu},
                                           DenseCase{3, 10, 5, false, Activation::linear},
                                           DenseCase{5, 6, 1, true, Activation::sigmoid},
                                           DenseCase{64, 33, 9, true, Activation::relu}));

TEST(DenseLayer, EmitLogitsSkipsOnlyTheSigmoid) {
  Dense dense = make_dense(2, Activation::sigmoid);
  dense.build({3, 4});
  test::randomize_params(dense, 2);
  const Tensor x = random_tensor({3, 4}, 1);
  const std::vector<float> probs = forward_poisoned(dense, x).to_vector();
  dense.set_emit_logits(true);
  const std::vector<float> logits = forward_poisoned(dense, x).to_vector();
  for (size_t i = 0; i < probs.size(); ++i) {
    EXPECT_NEAR(probs[i], 1.0 / (1.0 + std::exp(-static_cast<double>(logits[i]))), 1e-6);
  }
  // Backward then takes dL/dz: the gradients are those of a linear layer.
  EXPECT_GT(test::check_gradients(dense, x), 10);
  // A relu layer ignores the flag.
  Dense relu = make_dense(2, Activation::relu);
  relu.build({3, 4});
  test::randomize_params(relu, 2);
  const auto before = forward_poisoned(relu, x).to_vector();
  relu.set_emit_logits(true);
  EXPECT_EQ(forward_poisoned(relu, x).to_vector(), before);
}

TEST(DenseLayer, FrozenLayerGivesDxButNoParameterGradients) {
  Dense dense = make_dense(3, Activation::linear);
  dense.build({2, 4});
  test::randomize_params(dense, 7);
  dense.set_trainable(false);
  const Tensor x = random_tensor({2, 4}, 2);
  Tensor y = forward_poisoned(dense, x), dx;
  const Tensor dy = random_tensor(y.shape(), 3);
  ExecContext ctx;
  dense.backward(x, y, dy, &dx, ctx);
  EXPECT_FALSE(dense.params()[0]->grad.defined());
  EXPECT_FALSE(dense.params()[1]->grad.defined());
  // dx = dy W^T, written out.
  const auto w = dense.params()[0]->value.to_vector(), g = dy.to_vector();
  std::vector<float> expected(8, 0.0f);
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 4; ++k)
      for (int m = 0; m < 3; ++m) expected[n * 4 + k] += g[n * 3 + m] * w[k * 3 + m];
  EXPECT_LT(test::max_relative_error(dx.to_vector(), expected), 1e-5);
}

TEST(DenseLayer, GradientsAreWrittenNotAccumulated) {
  Dense dense = make_dense(2, Activation::linear);
  dense.build({2, 3});
  test::randomize_params(dense, 1);
  const Tensor x = random_tensor({2, 3}, 2);
  Tensor y = forward_poisoned(dense, x);
  const Tensor dy = random_tensor(y.shape(), 3);
  ExecContext ctx;
  dense.backward(x, y, dy, nullptr, ctx);
  const auto first = dense.params()[0]->grad.to_vector();
  dense.backward(x, y, dy, nullptr, ctx);
  EXPECT_EQ(dense.params()[0]->grad.to_vector(), first);
}

TEST(DenseLayer, BuildsKerasParametersWithFans) {
  DenseConfig c;
  c.units = 128;
  c.activation = Activation::relu;
  c.kernel_initializer = "he_uniform";
  Dense dense("dense", c);
  dense.build({1, 25088});
  const auto params = dense.params();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0]->name, "kernel");
  EXPECT_EQ(params[0]->value.shape(), (Shape{25088, 128}));
  EXPECT_EQ(params[0]->initializer, "he_uniform");
  EXPECT_EQ(params[0]->fan_in, 25088);
  EXPECT_EQ(params[0]->fan_out, 128);
  EXPECT_EQ(params[1]->name, "bias");
  EXPECT_EQ(params[1]->value.to_vector(), std::vector<float>(128, 0.0f));
}

TEST(DenseLayer, ShapeErrorsNameTheLayer) {
  Dense dense = make_dense(4, Activation::linear, true, "dense_k");
  dense.build({2, 10});
  test::expect_error_mentions([&] { (void)dense.output_shape({2, 11}); },
                              {"dense_k", "(2, 11)", "10"});
  test::expect_error_mentions([&] { (void)dense.output_shape({2, 5, 2}); },
                              {"dense_k", "(2, 5, 2)", "Flatten"});
  DenseConfig zero;
  test::expect_error_mentions([&] { Dense bad("dense_zero", zero); }, {"dense_zero", "units"});
}

}  // namespace
}  // namespace catdog
