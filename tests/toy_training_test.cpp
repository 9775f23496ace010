// End to end on the engine alone: a tiny convolutional model learns a separable toy problem.
// Class 1 images have a bright square in the top-left corner, class 0 in the bottom-right, both
// on noise; a model that trains at all must get well above 95%.
#include <nlohmann/json.hpp>

#include "engine/loss.h"
#include "engine/model_config.h"
#include "core/random.h"
#include "engine/train_step.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using nlohmann::json;

void make_toy_batch(int64_t n, uint64_t seed, Tensor& x, Tensor& y) {
  x = Tensor({n, 12, 12, 1});
  y = Tensor({n});
  for (int64_t i = 0; i < n; ++i) {
    const bool positive = uniform01(seed, 1, static_cast<uint64_t>(i)) >= 0.5;
    y.f32()[i] = positive ? 1.0f : 0.0f;
    for (int r = 0; r < 12; ++r) {
      for (int c = 0; c < 12; ++c) {
        const uint64_t k = static_cast<uint64_t>((i * 12 + r) * 12 + c);
        float v = 0.3f * static_cast<float>(uniform01(seed, 2, k));
        const bool in_square = positive ? (r < 5 && c < 5) : (r >= 7 && c >= 7);
        if (in_square) v += 0.7f;
        x.f32()[(i * 12 + r) * 12 + c] = v;
      }
    }
  }
}

TEST(ToyTraining, SmallConvNetLearnsASeparableProblem) {
  const json config = json::parse(R"({"class_name": "Sequential", "config": {"name": "toy", "layers": [
    {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3],
      "padding": "same", "activation": "relu", "kernel_initializer": "he_uniform"}},
    {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2], "strides": [2, 2]}},
    {"class_name": "Flatten", "config": {"name": "flatten"}},
    {"class_name": "Dense", "config": {"name": "hidden", "units": 8, "activation": "relu",
      "kernel_initializer": "he_uniform"}},
    {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}}]}})");
  ParsedModel parsed = parse_model_config(config);
  Sequential& model = parsed.model;
  model.build({12, 12, 1});
  model.initialize(7);
  end_in_logits(model);
  ExecContext ctx;
  SGD sgd(0.05f, 0.9f);
  Tensor x, y, dz;
  for (int step = 0; step < 150; ++step) {
    make_toy_batch(32, 100 + static_cast<uint64_t>(step), x, y);
    train_step(model, x, y, sgd, ctx, dz);
  }
  ctx.training = false;
  make_toy_batch(400, 9999, x, y);  // held-out images
  int64_t correct = 0;
  const double loss = sigmoid_bce_from_logits(model.forward(x, ctx), y, nullptr, &correct, ctx);
  EXPECT_GT(static_cast<double>(correct) / 400.0, 0.95) << "held-out loss " << loss;
}

}  // namespace
}  // namespace catdog
