// The transfer-learning head, trained by our SGD, against PyTorch (float64) in
// shared/reference/head_sgd_seed1.json: Flatten-Dense(128, relu)-Dense(1, sigmoid), SGD lr 0.001
// momentum 0.9 (Keras semantics), mean binary cross-entropy, 2 epochs x 2 batches of 64, inputs
// from the generator spec of shared/reference/README.md.
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "engine/builtin_models.h"
#include "engine/model_config.h"
#include "core/random.h"
#include "engine/train_step.h"
#include "layers/dense.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

constexpr int64_t kN = 128, kD = 25088, kH = 128;

// Fill a parameter as the reference's generator does: element i of tensor t.
void fill_reference(Param& p, uint64_t seed, uint64_t t, double limit) {
  std::vector<float> v(static_cast<size_t>(p.value.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = uniform_symmetric(seed, t, i, limit);
  p.value = Tensor::from_vector(p.value.shape(), v);
}

TEST(ReferenceHeadSgd, MatchesPyTorchLossesAndParameters) {
  CATDOG_REQUIRE_SHARED(path, "reference/head_sgd_seed1.json");
  std::ifstream in(path);
  const nlohmann::json ref = nlohmann::json::parse(in);
  const uint64_t seed = ref["seed"];

  // X = 2u from (seed, 100): (128, 25088), fed as a (128, 7, 7, 512) feature map so that the
  // Flatten layer is exercised in Keras' channels-last order.
  Tensor x({kN, 7, 7, 512});
  for (int64_t i = 0; i < x.numel(); ++i) {
    x.f32()[i] = static_cast<float>(2.0 * uniform01(seed, 100, static_cast<uint64_t>(i)));
  }
  std::vector<float> y(kN);
  for (int64_t i = 0; i < kN; ++i) y[i] = uniform01(seed, 101, i) >= 0.5 ? 1.0f : 0.0f;

  nlohmann::json config = {{"class_name", "Sequential"},
                           {"config", {{"name", "head"}, {"layers", transfer_head_layers()}}}};
  ParsedModel parsed = parse_model_config(config);
  Sequential& model = parsed.model;
  model.build({7, 7, 512});
  auto params = model.trainable_params();
  ASSERT_EQ(params.size(), 4u);
  ASSERT_EQ(params[0]->value.shape(), (Shape{kD, kH}));
  fill_reference(*params[0], seed, 102, std::sqrt(6.0 / kD));
  params[1]->value.fill(0.0f);
  fill_reference(*params[2], seed, 103, std::sqrt(6.0 / (kH + 1)));
  params[3]->value.fill(0.0f);
  end_in_logits(model);

  ExecContext ctx;
  SGD sgd(0.001f, 0.9f);
  Tensor dlogits;
  std::vector<double> losses;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int b = 0; b < 2; ++b) {
      const Tensor xb = x.slice_rows(64 * b, 64 * b + 64);
      const Tensor yb = Tensor::from_vector({64}, {y.begin() + 64 * b, y.begin() + 64 * b + 64});
      losses.push_back(train_step(model, xb, yb, sgd, ctx, dlogits).loss);
    }
  }
  const auto& ref_losses = ref["losses_before_each_step"];
  for (size_t i = 0; i < 4; ++i) {
    const double want = ref_losses[i];
    EXPECT_NEAR(losses[i], want, 1e-4 * std::fabs(want)) << "loss before step " << i;
    std::cout << "loss before step " << i << ": " << losses[i] << " (PyTorch " << want
              << ", relative difference " << std::fabs(losses[i] - want) / std::fabs(want) << ")\n";
  }

  const auto compare = [](const std::vector<float>& ours, const std::vector<double>& theirs,
                          const char* what, double tolerance) {
    ASSERT_EQ(ours.size(), theirs.size()) << what;
    double worst = 0, scale = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      worst = std::max(worst, std::fabs(ours[i] - theirs[i]));
      scale = std::max(scale, std::fabs(theirs[i]));
    }
    EXPECT_LE(worst, tolerance * std::max(scale, 1e-3)) << what << ": max |ours - ref| = " << worst
                                                         << " (max |ref| = " << scale << ")";
    std::cout << what << ": max |ours - ref| = " << worst << " (max |ref| = " << scale << ")\n";
  };
  compare(params[1]->value.to_vector(), ref["b1"].get<std::vector<double>>(), "b1", 1e-3);
  compare(params[2]->value.to_vector(), ref["W2"].get<std::vector<double>>(), "W2", 1e-4);
  compare(params[3]->value.to_vector(), ref["b2"].get<std::vector<double>>(), "b2", 1e-3);
  const std::vector<float> w1 = params[0]->value.to_vector();
  std::vector<float> column_sums(kH, 0.0f), top_left;
  std::vector<double> sums(kH, 0.0);
  for (int64_t r = 0; r < kD; ++r) {
    for (int64_t c = 0; c < kH; ++c) sums[c] += w1[r * kH + c];
  }
  for (int64_t c = 0; c < kH; ++c) column_sums[c] = static_cast<float>(sums[c]);
  compare(column_sums, ref["W1_column_sums"].get<std::vector<double>>(), "W1 column sums", 1e-4);
  std::vector<double> ref_top_left;
  for (const auto& row : ref["W1_top_left_4x4"]) {
    for (double v : row) ref_top_left.push_back(v);
  }
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) top_left.push_back(w1[r * kH + c]);
  }
  compare(top_left, ref_top_left, "W1 top-left 4x4", 1e-4);

  ctx.training = false;
  dynamic_cast<Dense&>(model.layer(2)).set_emit_logits(false);
  compare(model.forward(x, ctx).to_vector(), ref["final_probabilities"].get<std::vector<double>>(),
          "final probabilities", 1e-4);
}

}  // namespace
}  // namespace catdog
