// `catdog profile`'s napkin math and table. layer_cost against counts worked out by hand here
// (a multiply-add is 2 FLOPs; bytes are each tensor read or written once, 4 bytes an element);
// the printed table of a real run on the CPU: one row per layer in order, the FLOP column equal
// to the hand counts, shares summing to 100%, and the total line equal to the sum of the rows.
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apps/commands.h"
#include "core/error.h"
#include "engine/layer_cost.h"
#include "layers/activations.h"
#include "layers/batch_normalization.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/flatten.h"
#include "layers/max_pooling2d.h"
#include "training/model_setup.h"

namespace catdog {
namespace {

Conv2DConfig conv(int filters, int k, int stride, Padding padding) {
  Conv2DConfig c;
  c.filters = filters;
  c.kernel_h = c.kernel_w = k;
  c.stride_h = c.stride_w = stride;
  c.padding = padding;
  return c;
}

TEST(LayerCost, ConvSamePaddingStride1) {
  Conv2D layer("c", conv(4, 3, 1, Padding::same));
  const Shape x = {2, 8, 8, 3};  // -> (2, 8, 8, 4)
  layer.build(x);
  const int64_t macs = 2 * 8 * 8 * 4 * (3 * 3 * 3);  // 13824
  const int64_t params = 3 * 3 * 3 * 4 + 4;         // 112
  const int64_t in = 2 * 8 * 8 * 3, out = 2 * 8 * 8 * 4;
  const LayerCost c = layer_cost(layer, x);
  EXPECT_EQ(c.forward_flops, 2 * macs);
  EXPECT_EQ(c.forward_bytes, 4 * (in + params + out));
  EXPECT_EQ(c.backward_flops, 4 * macs);  // dW and dx
  EXPECT_EQ(c.backward_bytes, 4 * (out + in + params + params + in));
  const LayerCost first = layer_cost(layer, x, 4, /*input_gradient=*/false);
  EXPECT_EQ(first.backward_flops, 2 * macs);  // dW only
  EXPECT_EQ(first.backward_bytes, 4 * (out + in + params));
  const LayerCost half = layer_cost(layer, x, 2);
  EXPECT_EQ(half.forward_bytes, 2 * (in + params + out));
}

TEST(LayerCost, ConvValidPaddingStride2) {
  Conv2D layer("c", conv(5, 3, 2, Padding::valid));
  const Shape x = {1, 9, 9, 2};  // OH = (9 - 3) / 2 + 1 = 4
  layer.build(x);
  EXPECT_EQ(layer_cost(layer, x).forward_flops, 2 * (1 * 4 * 4 * 5) * (3 * 3 * 2));
}

TEST(LayerCost, ConvSamePaddingStride2RoundsUp) {
  Conv2D layer("c", conv(2, 3, 2, Padding::same));
  const Shape x = {1, 7, 7, 1};  // OH = ceil(7 / 2) = 4
  layer.build(x);
  EXPECT_EQ(layer_cost(layer, x).forward_flops, 2 * (4 * 4 * 2) * 9);
}

TEST(LayerCost, Dense) {
  DenseConfig config;
  config.units = 7;
  Dense layer("d", config);
  const Shape x = {3, 10};
  layer.build(x);
  const int64_t macs = 3 * 10 * 7, params = 10 * 7 + 7;
  const LayerCost c = layer_cost(layer, x);
  EXPECT_EQ(c.forward_flops, 2 * macs);
  EXPECT_EQ(c.forward_bytes, 4 * (30 + params + 21));
  EXPECT_EQ(c.backward_flops, 4 * macs);
}

TEST(LayerCost, MaxPoolCountsOneComparisonPerWindowElement) {
  MaxPooling2D layer("p", MaxPooling2DConfig{});  // 2x2, stride 2
  const Shape x = {1, 4, 6, 2};                     // -> (1, 2, 3, 2)
  const LayerCost c = layer_cost(layer, x);
  EXPECT_EQ(c.forward_flops, 12 * 4);
  EXPECT_EQ(c.forward_bytes, 4 * (48 + 12));
  EXPECT_EQ(c.backward_flops, 12 * 4);
  EXPECT_EQ(layer_cost(layer, x, 4, false).backward_flops, 0);  // no dx: nothing to do
}

TEST(LayerCost, FlattenIsAView) {
  Flatten layer("f");
  const LayerCost c = layer_cost(layer, {2, 3, 3, 4});
  EXPECT_EQ(c.forward_flops + c.forward_bytes + c.backward_flops + c.backward_bytes, 0);
}

TEST(LayerCost, ActivationAndBatchNormPerElement) {
  ActivationLayer relu("r", "ReLU", Activation::relu, 0.0f);
  const Shape x = {2, 5, 5, 3};  // 150 elements
  const LayerCost r = layer_cost(relu, x);
  EXPECT_EQ(r.forward_flops, 150);
  EXPECT_EQ(r.forward_bytes, 4 * 300);
  EXPECT_EQ(r.backward_flops, 150);
  EXPECT_EQ(r.backward_bytes, 4 * 450);  // dy, x, dx

  BatchNormalization bn("bn", BatchNormalizationConfig{});
  bn.build(x);
  const LayerCost b = layer_cost(bn, x);
  EXPECT_EQ(b.forward_flops, 2 * 150);
  EXPECT_EQ(b.forward_bytes, 4 * (150 + 150 + 4 * 3));  // gamma, beta, mean, variance
  EXPECT_EQ(b.backward_flops, 4 * 150);
}

TEST(LayerCost, NamesTheLayerOnAShapeThatDoesNotFit) {
  Conv2D layer("too_big", conv(2, 5, 1, Padding::valid));
  try {
    layer_cost(layer, {1, 3, 3, 1});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too_big"), std::string::npos) << e.what();
  }
}

// One printed row of the table.
struct Row {
  std::string name, cls, shape, bound;
  double fwd_ms = 0, bwd_ms = -1, mflop = 0, gflops = 0, mb = 0, gbs = 0, peak = 0, share = 0;
};

struct Table {
  std::vector<Row> rows;
  std::string total;
};

Table parse_table(const std::string& text) {
  Table table;
  std::istringstream in(text);
  bool in_rows = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("layer ", 0) == 0) {
      in_rows = true;
      continue;
    }
    if (line.rfind("total ", 0) == 0) {
      table.total = line;
      in_rows = false;
      continue;
    }
    if (!in_rows) continue;
    Row r;
    const size_t open = line.find('('), close = line.find(')');
    EXPECT_TRUE(open != std::string::npos && close != std::string::npos) << line;
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream head(line.substr(0, open));
    head >> r.name >> r.cls;
    r.shape = line.substr(open, close - open + 1);
    std::istringstream rest(line.substr(close + 1));
    std::string bwd, peak, share;
    rest >> r.fwd_ms >> bwd >> r.mflop >> r.gflops >> r.mb >> r.gbs >> r.bound >> peak >> share;
    EXPECT_FALSE(rest.fail()) << line;
    if (bwd != "-") r.bwd_ms = std::stod(bwd);
    r.peak = std::stod(peak);
    EXPECT_EQ(share.back(), '%') << line;
    r.share = std::stod(share);
    table.rows.push_back(r);
  }
  return table;
}

// The number after `label` in the total line ("total 12.3 ms/batch (fwd 10.0 + bwd 2.3) | ...").
double total_field(const std::string& total, const std::string& before) {
  const size_t at = total.find(before);
  EXPECT_NE(at, std::string::npos) << before << " in " << total;
  return at == std::string::npos ? NAN : std::stod(total.substr(at + before.size()));
}

// `model` on the CPU, batch 2, at `image_size`.
ProfileOptions small_profile(const std::string& model, int image_size, int repeat) {
  ProfileOptions o;
  o.model = model;
  o.device = "cpu";
  o.batch = 2;
  o.image_size = image_size;
  o.repeat = repeat;
  return o;
}

Table profile(const ProfileOptions& o, std::string* text = nullptr) {
  std::ostringstream out;
  EXPECT_EQ(run_profile(o, out), 0);
  if (text) *text = out.str();
  return parse_table(out.str());
}

TEST(Profile, TableOfVgg1MatchesHandCountsAndAddsUp) {
  std::string text;
  const Table t = profile(small_profile("vgg1", 32, 2), &text);
  ASSERT_EQ(t.rows.size(), 5u) << text;
  const std::vector<std::string> names = {"conv2d_1", "max_pooling2d_1", "flatten", "dense",
                                          "dense_1"};
  const std::vector<std::string> classes = {"Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"};
  const std::vector<std::string> shapes = {"(2, 32, 32, 32)", "(2, 16, 16, 32)", "(2, 8192)",
                                           "(2, 128)", "(2, 1)"};
  // Forward + backward FLOPs by hand. vgg1 trains from scratch, so every layer runs backward;
  // the first computes no input gradient.
  const double conv_macs = 2.0 * 32 * 32 * 32 * (3 * 3 * 3);
  const double dense_macs = 2.0 * 8192 * 128, out_macs = 2.0 * 128 * 1;
  const std::vector<double> mflop = {(2 + 2) * conv_macs / 1e6, 2 * (2.0 * 16 * 16 * 32 * 4) / 1e6,
                                     0, (2 + 4) * dense_macs / 1e6, (2 + 4) * out_macs / 1e6};
  double sum_ms = 0, sum_fwd = 0, sum_share = 0;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const Row& r = t.rows[i];
    EXPECT_EQ(r.name, names[i]);
    EXPECT_EQ(r.cls, classes[i]);
    EXPECT_EQ(r.shape, shapes[i]);
    EXPECT_NEAR(r.mflop, mflop[i], 0.0006) << r.name;
    EXPECT_GE(r.fwd_ms, 0) << r.name;
    EXPECT_GE(r.bwd_ms, 0) << r.name << ": a trainable layer shows its backward time";
    EXPECT_TRUE(r.bound == "compute" || r.bound == "memory" || r.bound == "-") << r.bound;
    sum_ms += r.fwd_ms + r.bwd_ms;
    sum_fwd += r.fwd_ms;
    sum_share += r.share;
  }
  EXPECT_EQ(t.rows[2].bound, "-") << "Flatten does no work";
  EXPECT_EQ(t.rows[0].bound, "compute") << "a 3x3 convolution is compute-bound";
  EXPECT_NEAR(sum_share, 100.0, 0.05 * t.rows.size() + 0.01) << text;
  ASSERT_FALSE(t.total.empty()) << text;
  const double total = total_field(t.total, "total ");
  EXPECT_NEAR(total, sum_ms, 0.0005 * 2 * t.rows.size() + 0.0005) << t.total;
  EXPECT_NEAR(total_field(t.total, "(fwd "), sum_fwd, 0.0005 * t.rows.size() + 0.0005) << t.total;
  EXPECT_NEAR(total_field(t.total, "| "), 2 * 1000.0 / total, 0.05 + 0.01 * 2000 / total)
      << "img/s is the batch over the total time: " << t.total;
  EXPECT_NE(t.total.find("% of peak"), std::string::npos) << t.total;
  EXPECT_NE(text.find("peak (measured now): "), std::string::npos) << text;
}

TEST(Profile, FrozenBaseRunsForwardOnlyAndTheHeadBothWays) {
  std::string text;
  const Table t = profile(small_profile("tiny-darknet", 64, 1), &text);
  const ModelSetup setup = describe_model("tiny-darknet");
  ASSERT_EQ(t.rows.size(), setup.model.size()) << text;
  const size_t head = setup.model.trainable_begin();
  ASSERT_GT(head, 0u);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    EXPECT_EQ(t.rows[i].name, setup.model.layer(i).name());
    if (i < head) {
      EXPECT_EQ(t.rows[i].bwd_ms, -1) << t.rows[i].name << " is frozen: no backward";
    } else {
      EXPECT_GE(t.rows[i].bwd_ms, 0) << t.rows[i].name;
    }
  }
  // The head: Flatten (no weights, so still frozen), Dense(128), Dense(1).
  const Row& dense = t.rows[head];
  ASSERT_EQ(dense.cls, "Dense") << text;
  // Tiny Darknet's base ends in 128 channels after 4 poolings of 2: (2, 4, 4, 128) for 64x64
  // inputs, flattened to K = 2048.
  EXPECT_EQ(t.rows[head - 1].shape, "(2, 2048)") << text;
  // The first trainable layer (Dense 128) computes no input gradient: 2 + 2 FLOPs a MAC.
  EXPECT_NEAR(dense.mflop, 4 * (2.0 * 2048 * 128) / 1e6, 0.0006) << text;
}

TEST(Profile, RefusesABadBatchWithOneLine) {
  ProfileOptions o = small_profile("vgg1", 32, 1);
  o.batch = 0;
  std::ostringstream out;
  try {
    run_profile(o, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--batch"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace catdog
