// Sequential::initialize and trainable_begin on models built for one question each: are the Keras
// initialisers' limits right (measured on the drawn values, not on the generator's formula), and
// where does the frozen prefix end when a Dropout comes before the first trainable layer.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using nlohmann::json;

json dense(const std::string& name, int units, const std::string& initializer) {
  return {{"class_name", "Dense"},
          {"config", {{"name", name}, {"units", units}, {"activation", "relu"},
                      {"kernel_initializer", initializer}}}};
}

// Flatten (a model takes (H, W, C) images) then `layers`, on a (1, 1, features) input.
ParsedModel build(const json& layers, int64_t features, uint64_t seed) {
  json all = json::array({{{"class_name", "Flatten"}, {"config", {{"name", "flat"}}}}});
  for (const json& l : layers) all.push_back(l);
  ParsedModel parsed = parse_model_config(
      {{"class_name", "Sequential"}, {"config", {{"name", "m"}, {"layers", all}}}});
  parsed.model.build({1, 1, features});
  parsed.model.initialize(seed);
  return parsed;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t.to_vector()) m = std::max(m, std::fabs(static_cast<double>(v)));
  return m;
}

// A uniform draw of 32,768 values from U(-L, L) comes within 0.1% of L (the chance that none
// does is (1 - 0.001)^32768, about 6e-15), and never passes it.
TEST(SequentialInitialize, GlorotAndHeLimitsAreKeras) {
  // (256) -> Dense 128 glorot -> Dense 256 he: fans (256, 128) and (128, 256).
  ParsedModel parsed = build(json::array({dense("g", 128, "glorot_uniform"),
                                          dense("h", 256, "he_uniform")}),
                             256, 5);
  const double glorot = std::sqrt(6.0 / (256 + 128));
  const double he = std::sqrt(6.0 / 128);
  const double g = max_abs(parsed.model.layer(1).params()[0]->value);
  const double h = max_abs(parsed.model.layer(2).params()[0]->value);
  EXPECT_LE(g, glorot);
  EXPECT_GT(g, 0.999 * glorot);
  EXPECT_LE(h, he);
  EXPECT_GT(h, 0.999 * he);
}

TEST(SequentialInitialize, FrozenPrefixEndsAtADropout) {
  // A frozen Dense, then Dropout, then a trainable Dense: the Dropout's output changes every
  // step, so it cannot be part of the cached frozen prefix.
  json frozen = dense("f", 8, "glorot_uniform");
  frozen["config"]["trainable"] = false;
  json drop = {{"class_name", "Dropout"}, {"config", {{"name", "d"}, {"rate", 0.5}}}};
  ParsedModel parsed = build(json::array({frozen, drop, dense("t", 1, "glorot_uniform")}), 4, 1);
  EXPECT_EQ(parsed.model.trainable_begin(), 2u);  // flat, f | d, t
}

}  // namespace
}  // namespace catdog
