// Conv2D on the CPU: forward against a direct 7-loop convolution written here, backward against
// finite differences, the im2col chunking and 1x1 paths, Keras parameters, and shape errors.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/parallel.h"
#include "layers/conv2d.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::check_gradients;
using test::expect_error_mentions;
using test::forward_poisoned;
using test::random_tensor;

struct ConvCase {
  int n, h, w, c, f, kh, kw, sh, sw;
  bool same, bias;
  Activation act;
};

std::string describe(const ConvCase& k) {
  return cat("n", k.n, "_", k.h, "x", k.w, "x", k.c, "_f", k.f, "_k", k.kh, "x", k.kw, "_s", k.sh,
             "x", k.sw, k.same ? "_same" : "_valid", k.bias ? "_bias" : "_nobias", "_",
             activation_name(k.act));
}

// The TensorFlow rule, written out independently of kernels/cpu/conv_geometry.h.
void tf_out_and_pad(int in, int k, int s, bool same, int* out, int* pad) {
  if (same) {
    *out = (in + s - 1) / s;
    *pad = std::max((*out - 1) * s + k - in, 0) / 2;
  } else {
    *out = (in - k) / s + 1;
    *pad = 0;
  }
}

// y[n, i, j, f] = act(b[f] + sum over (di, dj, c) of x[n, i*s + di - pad, j*s + dj - pad, c] *
// kernel[di, dj, c, f]), in double.
std::vector<float> naive_conv(const ConvCase& k, const std::vector<float>& x,
                              const std::vector<float>& w, const std::vector<float>& b) {
  int oh, ow, pt, pl;
  tf_out_and_pad(k.h, k.kh, k.sh, k.same, &oh, &pt);
  tf_out_and_pad(k.w, k.kw, k.sw, k.same, &ow, &pl);
  std::vector<float> y(static_cast<size_t>(k.n) * oh * ow * k.f);
  for (int n = 0; n < k.n; ++n)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j)
        for (int f = 0; f < k.f; ++f) {
          double acc = k.bias ? b[f] : 0.0;
          for (int di = 0; di < k.kh; ++di)
            for (int dj = 0; dj < k.kw; ++dj)
              for (int c = 0; c < k.c; ++c) {
                const int ih = i * k.sh + di - pt, iw = j * k.sw + dj - pl;
                if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
                acc += static_cast<double>(x[((n * k.h + ih) * k.w + iw) * k.c + c]) *
                       w[((di * k.kw + dj) * k.c + c) * k.f + f];
              }
          if (k.act == Activation::relu) acc = std::max(acc, 0.0);
          if (k.act == Activation::sigmoid) acc = 1.0 / (1.0 + std::exp(-acc));
          y[((static_cast<size_t>(n) * oh + i) * ow + j) * k.f + f] = static_cast<float>(acc);
        }
  return y;
}

Conv2D make_conv(const ConvCase& k, const std::string& name = "conv_under_test") {
  Conv2DConfig c;
  c.filters = k.f;
  c.kernel_h = k.kh, c.kernel_w = k.kw, c.stride_h = k.sh, c.stride_w = k.sw;
  c.padding = k.same ? Padding::same : Padding::valid;
  c.use_bias = k.bias;
  c.activation = k.act;
  return Conv2D(name, c);
}

class ConvForward : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvForward, MatchesDirectConvolution) {
  const ConvCase k = GetParam();
  Conv2D conv = make_conv(k);
  const Shape in = {k.n, k.h, k.w, k.c};
  conv.build(in);
  test::randomize_params(conv, 5);
  const Tensor x = random_tensor(in, 11);
  const std::vector<float> expected =
      naive_conv(k, x.to_vector(), conv.params()[0]->value.to_vector(),
                 k.bias ? conv.params()[1]->value.to_vector() : std::vector<float>());
  const Tensor y = forward_poisoned(conv, x);
  ASSERT_EQ(static_cast<size_t>(y.numel()), expected.size()) << to_string(y.shape());
  EXPECT_LT(test::max_relative_error(y.to_vector(), expected), 1e-5) << describe(k);
}

const ConvCase kForwardCases[] = {
    {1, 5, 5, 1, 1, 3, 3, 1, 1, true, false, Activation::linear},
    {2, 7, 6, 3, 4, 3, 3, 1, 1, true, true, Activation::relu},
    {2, 7, 6, 3, 4, 3, 3, 1, 1, false, true, Activation::relu},
    {1, 9, 9, 2, 5, 3, 3, 2, 2, true, true, Activation::linear},
    {3, 8, 8, 4, 2, 3, 3, 2, 2, true, false, Activation::relu},
    {1, 10, 9, 3, 3, 3, 3, 2, 2, false, true, Activation::linear},
    {2, 6, 7, 5, 6, 1, 1, 1, 1, true, true, Activation::relu},     // pointwise fast path
    {2, 6, 7, 5, 6, 1, 1, 1, 1, false, false, Activation::linear}, // pointwise, valid
    {1, 7, 7, 3, 4, 1, 1, 2, 2, true, true, Activation::linear},   // 1x1 stride 2: im2col
    {1, 11, 8, 2, 3, 5, 5, 1, 1, true, true, Activation::sigmoid},
    {2, 11, 8, 2, 3, 5, 3, 3, 2, true, true, Activation::relu},
    {1, 4, 4, 3, 2, 4, 4, 1, 1, true, true, Activation::linear},   // even kernel, pad 1 + 2
    {1, 5, 6, 2, 2, 2, 3, 1, 2, false, false, Activation::linear},
    {1, 3, 3, 2, 2, 3, 3, 1, 1, false, true, Activation::relu},    // output 1x1
    {4, 13, 13, 16, 8, 3, 3, 1, 1, true, true, Activation::relu},
};
INSTANTIATE_TEST_SUITE_P(Shapes, ConvForward, ::testing::ValuesIn(kForwardCases),
                         [](const auto& info) { return describe(info.param); });

class ConvBackward : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvBackward, MatchesFiniteDifferences) {
  const ConvCase k = GetParam();
  Conv2D conv = make_conv(k);
  const Shape in = {k.n, k.h, k.w, k.c};
  conv.build(in);
  test::randomize_params(conv, 3, -0.5f, 0.5f);
  const int compared = check_gradients(conv, random_tensor(in, 17));
  EXPECT_GT(compared, 40) << describe(k);
}

const ConvCase kBackwardCases[] = {
    {2, 5, 6, 3, 4, 3, 3, 1, 1, true, true, Activation::linear},
    {1, 7, 7, 2, 3, 3, 3, 2, 2, true, true, Activation::relu},
    {2, 6, 5, 2, 3, 3, 3, 1, 1, false, false, Activation::relu},
    {1, 5, 5, 3, 2, 1, 1, 1, 1, true, true, Activation::sigmoid},
    {1, 8, 7, 2, 2, 4, 2, 3, 2, true, true, Activation::linear},
};
INSTANTIATE_TEST_SUITE_P(Shapes, ConvBackward, ::testing::ValuesIn(kBackwardCases),
                         [](const auto& info) { return describe(info.param); });

// The im2col buffer is cut into chunks of whole rows; tiny budgets (one row, 7 rows) and 1 or 2
// threads must all give the direct convolution's result.
TEST(Conv2DKernel, ChunkingAndThreadsDoNotChangeTheResult) {
  const ConvCase k = {3, 9, 10, 4, 5, 3, 3, 1, 1, true, true, Activation::relu};
  Conv2D conv = make_conv(k);
  conv.build({k.n, k.h, k.w, k.c});
  test::randomize_params(conv, 8);
  const Tensor x = random_tensor({k.n, k.h, k.w, k.c}, 4);
  const auto expected = naive_conv(k, x.to_vector(), conv.params()[0]->value.to_vector(),
                                   conv.params()[1]->value.to_vector());
  for (int64_t budget : {int64_t{1}, int64_t{7 * 36}, int64_t{0}}) {
    for (int threads : {1, 2}) {
      cpu::set_cpu_threads(threads);
      ExecContext ctx;
      ctx.im2col_floats = budget;
      EXPECT_LT(test::max_relative_error(forward_poisoned(conv, x, ctx).to_vector(), expected),
                1e-5)
          << "budget " << budget << " floats, " << threads << " threads";
    }
  }
  cpu::set_cpu_threads(0);
}

TEST(Conv2DKernel, BackwardChunkedEqualsUnchunked) {
  const WindowGeometry g = make_window_geometry(2, 6, 7, 3, 3, 3, 2, 1, true, 4);
  const Tensor x = random_tensor({2, 6, 7, 3}, 1), w = random_tensor({3, 3, 3, 4}, 2);
  const Tensor dz = random_tensor({2, g.oh, g.ow, 4}, 3);
  auto run = [&](int64_t budget) {
    std::vector<float> dx(2 * 6 * 7 * 3), dw(3 * 3 * 3 * 4), db(4);
    cpu::conv2d_backward_nhwc(g, x.f32(), w.f32(), dz.f32(), dx.data(), dw.data(), db.data(),
                              budget);
    dx.insert(dx.end(), dw.begin(), dw.end());
    dx.insert(dx.end(), db.begin(), db.end());
    return dx;
  };
  EXPECT_LT(test::max_relative_error(run(27), run(0)), 1e-5);
}

TEST(Conv2DLayer, BuildsKerasParametersWithFans) {
  Conv2DConfig c;
  c.filters = 8;
  c.kernel_initializer = "he_uniform";
  Conv2D conv("block1_conv1", c);
  conv.build({1, 10, 10, 3});
  const auto params = conv.params();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0]->name, "kernel");
  EXPECT_EQ(params[0]->value.shape(), (Shape{3, 3, 3, 8}));
  EXPECT_EQ(params[0]->initializer, "he_uniform");
  EXPECT_EQ(params[0]->fan_in, 27);
  EXPECT_EQ(params[0]->fan_out, 72);
  EXPECT_EQ(params[1]->name, "bias");
  EXPECT_EQ(params[1]->value.shape(), (Shape{8}));
  EXPECT_EQ(params[1]->initializer, "zeros");
  EXPECT_EQ(conv.param_count(), 3 * 3 * 3 * 8 + 8);

  c.use_bias = false;
  Conv2D no_bias("conv_nb", c);
  no_bias.build({1, 10, 10, 3});
  EXPECT_EQ(no_bias.params().size(), 1u);
}

TEST(Conv2DLayer, RebuildKeepsLoadedWeights) {
  Conv2D conv = make_conv({1, 5, 5, 2, 3, 3, 3, 1, 1, true, true, Activation::linear});
  conv.build({1, 5, 5, 2});
  conv.params()[0]->value.fill(0.25f);
  conv.build({4, 5, 5, 2});  // another batch size: same parameter shapes
  EXPECT_EQ(conv.params()[0]->value.to_vector()[7], 0.25f);
}

TEST(Conv2DLayer, FrozenLayerGivesDxButNoParameterGradients) {
  const ConvCase k = {1, 5, 5, 2, 3, 3, 3, 1, 1, true, true, Activation::linear};
  Conv2D conv = make_conv(k);
  conv.build({1, 5, 5, 2});
  test::randomize_params(conv, 2);
  conv.set_trainable(false);
  ExecContext ctx;
  const Tensor x = random_tensor({1, 5, 5, 2}, 9);
  Tensor y = forward_poisoned(conv, x);
  Tensor dy = random_tensor(y.shape(), 10), dx;
  conv.backward(x, y, dy, &dx, ctx);
  EXPECT_FALSE(conv.params()[0]->grad.defined());
  ASSERT_EQ(dx.shape(), x.shape());
  // With a linear activation, the frozen layer's dx is the trainable one's.
  Conv2D twin = make_conv(k, "twin");
  twin.build({1, 5, 5, 2});
  test::randomize_params(twin, 2);
  Tensor dx_twin;
  twin.backward(x, y, dy, &dx_twin, ctx);
  EXPECT_EQ(dx.to_vector(), dx_twin.to_vector());
}

TEST(Conv2DLayer, ShapeErrorsNameTheLayer) {
  Conv2D conv = make_conv({1, 5, 5, 2, 3, 7, 7, 1, 1, false, true, Activation::linear}, "conv_big");
  expect_error_mentions([&] { (void)conv.output_shape({1, 5, 5, 2}); }, {"conv_big", "(1, 5, 5, 2)"});
  expect_error_mentions([&] { (void)conv.output_shape({5, 5, 2}); }, {"conv_big", "(5, 5, 2)"});
  Conv2D small = make_conv({1, 5, 5, 2, 3, 3, 3, 1, 1, true, true, Activation::linear}, "conv_c");
  small.build({1, 5, 5, 2});
  expect_error_mentions([&] { (void)small.output_shape({1, 5, 5, 4}); }, {"conv_c", "4 channels"});
  Conv2DConfig zero;
  expect_error_mentions([&] { Conv2D bad("conv_zero", zero); }, {"conv_zero", "filters"});
}

TEST(Conv2DLayer, SamePaddingOutputShapesFollowTensorFlow) {
  Conv2D conv = make_conv({1, 1, 1, 1, 2, 3, 3, 2, 2, true, true, Activation::linear});
  EXPECT_EQ(conv.output_shape({2, 7, 8, 3}), (Shape{2, 4, 4, 2}));
  EXPECT_EQ(conv.output_shape({1, 1, 1, 3}), (Shape{1, 1, 1, 2}));
  Conv2D valid = make_conv({1, 1, 1, 1, 2, 3, 3, 2, 2, false, true, Activation::linear});
  EXPECT_EQ(valid.output_shape({2, 7, 8, 3}), (Shape{2, 3, 3, 2}));
}

}  // namespace
}  // namespace catdog
