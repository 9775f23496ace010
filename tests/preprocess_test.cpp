// Preprocessing modes against values computed by hand.
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/preprocess.h"

namespace catdog {
namespace {

// Two pixels: (R, G, B) = (10, 20, 30) and (255, 0, 128).
const uint8_t kPixels[6] = {10, 20, 30, 255, 0, 128};

std::vector<float> run(Preprocess mode) {
  std::vector<float> out(6);
  cpu::preprocess(kPixels, 2, mode, out.data(), DType::f32, nullptr);
  return out;
}

TEST(Preprocess, CaffeIsBgrMinusTheImagenetMean) {
  const std::vector<float> out = run(Preprocess::caffe);
  const std::vector<float> expected = {30 - 103.939f, 20 - 116.779f, 10 - 123.68f,
                                       128 - 103.939f, 0 - 116.779f, 255 - 123.68f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << i;
}

TEST(Preprocess, TutorialKeepsRgbOrder) {
  const std::vector<float> out = run(Preprocess::tutorial);
  const std::vector<float> expected = {10 - 123.68f, 20 - 116.779f, 30 - 103.939f,
                                       255 - 123.68f, 0 - 116.779f, 128 - 103.939f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << i;
}

TEST(Preprocess, ScaleDividesBy255AndNoneKeepsValues) {
  const std::vector<float> scaled = run(Preprocess::scale);
  const std::vector<float> plain = run(Preprocess::none);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(scaled[i], static_cast<float>(kPixels[i]) / 255.0f) << i;
    EXPECT_EQ(plain[i], static_cast<float>(kPixels[i])) << i;
  }
  EXPECT_EQ(scaled[3], 1.0f);
}

TEST(Preprocess, ParsesNames) {
  EXPECT_EQ(parse_preprocess("caffe"), Preprocess::caffe);
  EXPECT_EQ(parse_preprocess("tutorial"), Preprocess::tutorial);
  EXPECT_EQ(parse_preprocess("scale"), Preprocess::scale);
  EXPECT_EQ(parse_preprocess("none"), Preprocess::none);
  EXPECT_THROW(parse_preprocess("torch"), Error);
}

}  // namespace
}  // namespace catdog
