// Augmentation: Keras ImageDataGenerator semantics (shift = scipy affine_transform order 1 with
// "nearest" fill, then a horizontal flip), and seeded draws.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "data/augment.h"
#include "core/random.h"

namespace catdog {
namespace {

const int kH = 9, kW = 12;

std::vector<uint8_t> random_pixels(uint64_t seed) {
  std::vector<uint8_t> p(kH * kW * 3);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(splitmix64(seed, 2, i) >> 56);
  return p;
}

std::vector<uint8_t> run(const std::vector<uint8_t>& in, AugmentParams params) {
  std::vector<uint8_t> out(in.size());
  augment_rgb(in.data(), kH, kW, params, out.data());
  return out;
}

int at(const std::vector<uint8_t>& img, int i, int j, int c) { return img[(i * kW + j) * 3 + c]; }

TEST(Augment, NoShiftNoFlipIsIdentity) {
  const std::vector<uint8_t> in = random_pixels(1);
  EXPECT_EQ(run(in, {}), in);
}

TEST(Augment, FlipMirrorsColumns) {
  const std::vector<uint8_t> in = random_pixels(2);
  AugmentParams p;
  p.flip = true;
  const std::vector<uint8_t> out = run(in, p);
  for (int i = 0; i < kH; ++i)
    for (int j = 0; j < kW; ++j)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(at(out, i, j, c), at(in, i, kW - 1 - j, c));
}

TEST(Augment, WholePixelShiftRepeatsTheEdge) {
  const std::vector<uint8_t> in = random_pixels(3);
  AugmentParams p;
  p.shift_cols = 3;   // out[i][j] = in[i][j + 3], the last column repeated past the edge
  p.shift_rows = -2;  // out[i][j] = in[i - 2][j], the first row repeated
  const std::vector<uint8_t> out = run(in, p);
  for (int i = 0; i < kH; ++i)
    for (int j = 0; j < kW; ++j)
      for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(at(out, i, j, c), at(in, std::max(i - 2, 0), std::min(j + 3, kW - 1), c))
            << i << "," << j;
      }
}

TEST(Augment, FractionalShiftThenFlipMatchesScipyOrder1) {
  const std::vector<uint8_t> in = random_pixels(4);
  AugmentParams p;
  p.shift_rows = 1.3;
  p.shift_cols = -0.6;
  p.flip = true;
  const std::vector<uint8_t> out = run(in, p);
  // scipy.ndimage.affine_transform(order=1, mode="nearest"): linear interpolation, indices clamped.
  auto sample = [&](double r, double col, int c) {
    const int r0 = static_cast<int>(std::floor(r)), c0 = static_cast<int>(std::floor(col));
    const double fr = r - r0, fc = col - c0;
    auto v = [&](int i, int j) {
      return static_cast<double>(at(in, std::clamp(i, 0, kH - 1), std::clamp(j, 0, kW - 1), c));
    };
    return (1 - fr) * ((1 - fc) * v(r0, c0) + fc * v(r0, c0 + 1)) +
           fr * ((1 - fc) * v(r0 + 1, c0) + fc * v(r0 + 1, c0 + 1));
  };
  for (int i = 0; i < kH; ++i)
    for (int j = 0; j < kW; ++j)
      for (int c = 0; c < 3; ++c) {
        const double expected = sample(i + 1.3, (kW - 1 - j) - 0.6, c);  // flip applied last
        EXPECT_NEAR(at(out, i, j, c), expected, 0.5 + 1e-3) << i << "," << j;
      }
}

TEST(Augment, DrawsAreSeededAndWithinRange) {
  const AugmentParams a = draw_augment(7, 3, 42, 200, 300);
  const AugmentParams b = draw_augment(7, 3, 42, 200, 300);
  EXPECT_EQ(a.shift_rows, b.shift_rows);
  EXPECT_EQ(a.shift_cols, b.shift_cols);
  EXPECT_EQ(a.flip, b.flip);
  const AugmentParams other_epoch = draw_augment(7, 4, 42, 200, 300);
  EXPECT_NE(a.shift_rows, other_epoch.shift_rows);
  int flips = 0;
  double biggest_rows = 0, biggest_cols = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    const AugmentParams p = draw_augment(1, 0, i, 200, 300);
    ASSERT_LE(std::abs(p.shift_rows), 0.1 * 200);
    ASSERT_LE(std::abs(p.shift_cols), 0.1 * 300);
    biggest_rows = std::max(biggest_rows, std::abs(p.shift_rows));
    biggest_cols = std::max(biggest_cols, std::abs(p.shift_cols));
    flips += p.flip;
  }
  EXPECT_GT(biggest_rows, 0.09 * 200);  // the whole range is used
  EXPECT_GT(biggest_cols, 0.09 * 300);
  EXPECT_GT(flips, 850);
  EXPECT_LT(flips, 1150);
  AugmentRanges none;
  none.horizontal_flip = false;
  none.width_shift = none.height_shift = 0;
  const AugmentParams off = draw_augment(1, 0, 5, 200, 300, none);
  EXPECT_EQ(off.shift_rows, 0);
  EXPECT_EQ(off.shift_cols, 0);
  EXPECT_FALSE(off.flip);
}

}  // namespace
}  // namespace catdog
