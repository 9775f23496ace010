// Dropout on the CPU: the training mask against its documented rule (kernels/cpu/dropout_mask.h),
// masks across steps and layers, the identity at inference (layers/dropout.h).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/dropout.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;
using test::random_tensor;

// The keep rule of kernels/cpu/dropout_mask.h, written out from its documentation.
bool documented_keep(uint64_t seed, uint64_t layer, uint64_t step, uint64_t i, float rate) {
  return uniform01(seed, 0xD0000000ull | layer, (step << 32) | i) >= static_cast<double>(rate);
}

ExecContext training_at_step(uint64_t step, uint64_t seed) {
  ExecContext ctx;
  ctx.training = true;
  ctx.seed = seed;
  ctx.step = step;
  return ctx;
}

TEST(DropoutLayer, TrainingFollowsTheDocumentedMask) {
  Dropout drop("dropout", 0.25f);
  drop.on_added(3);
  ExecContext ctx = training_at_step(7, 42);
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

// A data-parallel rank's rows [2, 4) of a batch of 4 (ExecContext::first_row = 2) get the
// masks one process draws for those rows of the whole batch, forward and backward.
TEST(DropoutLayer, ARowShareDrawsTheWholeBatchsMasks) {
  Dropout drop("d", 0.4f);
  drop.on_added(2);
  ExecContext ctx = training_at_step(3, 1);
  const Tensor x = random_tensor({4, 3, 3, 5}, 4, 0.5f, 1.5f);
  const std::vector<float> whole = forward_poisoned(drop, x, ctx).to_vector();
  const Tensor rows = x.slice_rows(2, 4).clone();
  ctx.first_row = 2;
  const std::vector<float> share = forward_poisoned(drop, rows, ctx).to_vector();
  EXPECT_EQ(share, std::vector<float>(whole.begin() + 2 * 45, whole.end()));
  Tensor dx;
  drop.backward(rows, Tensor(), rows, &dx, ctx);
  EXPECT_EQ(dx.to_vector(), share) << "backward: the same mask";
  ctx.first_row = 0;
  EXPECT_NE(forward_poisoned(drop, rows, ctx).to_vector(), share);
}

TEST(DropoutLayer, InferenceIsTheIdentity) {
  Dropout drop("dropout", 0.5f);
  const Tensor x = random_tensor({3, 7}, 1);
  EXPECT_EQ(forward_poisoned(drop, x).to_vector(), x.to_vector());
  EXPECT_TRUE(drop.stochastic());
  test::expect_error_mentions([] { Dropout bad("drop_bad", 1.0f); }, {"drop_bad", "rate"});
}

}  // namespace
}  // namespace catdog
