#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/random.h"

namespace catdog {
namespace {

// Streams 0x41000000 + epoch keep augmentation draws apart from weight init and shuffles.
constexpr uint64_t kAugmentStream = 0x41000000ull;

// Linear interpolation taps along one axis for the sample coordinate c, edges clamped.
struct Taps {
  int lo, hi;
  float w;  // weight of hi
};

Taps taps_at(double c, int n) {
  const double f = std::floor(c);
  const int i0 = static_cast<int>(f);
  auto clamp = [n](int i) { return std::min(std::max(i, 0), n - 1); };
  return {clamp(i0), clamp(i0 + 1), static_cast<float>(c - f)};
}

}  // namespace

AugmentParams draw_augment(uint64_t seed, int epoch, int64_t index, int height, int width,
                           const AugmentRanges& ranges) {
  const uint64_t stream = kAugmentStream + static_cast<uint64_t>(epoch);
  const uint64_t base = static_cast<uint64_t>(index) * 3;
  auto symmetric = [&](int k, double range) {
    return (2.0 * uniform01(seed, stream, base + k) - 1.0) * range;
  };
  AugmentParams p;
  p.shift_rows = symmetric(0, ranges.height_shift) * height;
  p.shift_cols = symmetric(1, ranges.width_shift) * width;
  p.flip = ranges.horizontal_flip && uniform01(seed, stream, base + 2) < 0.5;
  return p;
}

void augment_rgb(const uint8_t* in, int height, int width, const AugmentParams& params,
                 uint8_t* out) {
  std::vector<Taps> cols(width);
  for (int j = 0; j < width; ++j) cols[j] = taps_at(j + params.shift_cols, width);
  const size_t stride = static_cast<size_t>(width) * 3;
  for (int i = 0; i < height; ++i) {
    const Taps r = taps_at(i + params.shift_rows, height);
    const uint8_t* r0 = in + r.lo * stride;
    const uint8_t* r1 = in + r.hi * stride;
    uint8_t* dst = out + i * stride;
    for (int j = 0; j < width; ++j) {
      const Taps& c = cols[j];
      const int jo = params.flip ? width - 1 - j : j;
      for (int ch = 0; ch < 3; ++ch) {
        const float top = r0[3 * c.lo + ch] * (1 - c.w) + r0[3 * c.hi + ch] * c.w;
        const float bottom = r1[3 * c.lo + ch] * (1 - c.w) + r1[3 * c.hi + ch] * c.w;
        const float v = top * (1 - r.w) + bottom * r.w;
        dst[3 * jo + ch] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v + 0.5f)));
      }
    }
  }
}

}  // namespace catdog
