#include "data/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/encode_jpeg.h"
#include "core/error.h"
#include "core/random.h"

namespace catdog {
namespace {

// Streams 0x5E000000 + label (image parameters) and 0x5E100000 + label (pixel noise).
constexpr uint64_t kShapeStream = 0x5E000000ull, kNoiseStream = 0x5E100000ull;

struct Blob {
  double cx, cy, radius;  // pixels
};

uint8_t clamp_u8(double v) { return static_cast<uint8_t>(std::min(255.0, std::max(0.0, v + 0.5))); }

}  // namespace

Image synthetic_image(int label, int64_t index, const SynthOptions& o, int* quality) {
  CATDOG_CHECK(o.min_width > 0 && o.min_width <= o.max_width && o.min_height > 0 &&
                   o.min_height <= o.max_height && o.min_quality >= 1 &&
                   o.min_quality <= o.max_quality && o.max_quality <= 100,
               "synthetic images: bad size or quality ranges");
  int draw = 0;  // parameters are numbered draws 0, 1, 2, ... of (seed, stream, index * 64 + k)
  auto u = [&] {
    return uniform01(o.seed, kShapeStream + label, static_cast<uint64_t>(index) * 64 + draw++);
  };
  auto in_range = [&](int lo, int hi) { return lo + static_cast<int>(u() * (hi - lo + 1)); };

  Image image;
  image.width = in_range(o.min_width, o.max_width);
  image.height = in_range(o.min_height, o.max_height);
  if (quality) *quality = in_range(o.min_quality, o.max_quality);
  else draw++;
  const int motif = o.learnable ? label : (u() < 0.5 ? 0 : 1);
  if (o.learnable) draw++;

  // Background: a greyish colour (grey level plus a small tint) with a left-to-right gradient.
  double bg[3], slope[3];
  const double grey = 60 + 140 * u();
  for (int c = 0; c < 3; ++c) {
    bg[c] = grey + (u() - 0.5) * 50;
    slope[c] = (u() - 0.5) * 80;
  }
  // Object colour: warm for motif 0 (red high, blue low), cool for motif 1; the ranges overlap
  // a little so colour alone is not a perfect cue.
  double fg[3];
  fg[0] = motif == 0 ? 150 + 105 * u() : 30 + 130 * u();
  fg[1] = 60 + 120 * u();
  fg[2] = motif == 0 ? 30 + 130 * u() : 150 + 105 * u();
  const int blobs = in_range(2, 4);
  const double side = std::min(image.width, image.height);
  std::vector<Blob> shapes(blobs);
  for (Blob& b : shapes) b = {u() * image.width, u() * image.height, side * (0.15 + 0.15 * u())};
  const double period = side * (0.04 + 0.04 * u());  // stripe period in pixels
  const double noise = 10 + 20 * u();

  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  const uint64_t pixel_base = static_cast<uint64_t>(index) << 26;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      bool inside = false;
      for (const Blob& b : shapes) {
        const double dx = x - b.cx, dy = y - b.cy;
        inside = inside || (motif == 0 ? dx * dx + dy * dy <= b.radius * b.radius
                                       : std::abs(dx) <= b.radius && std::abs(dy) <= b.radius);
      }
      // Stripes across the object: horizontal bands for motif 0, vertical for motif 1.
      const double phase = 2 * M_PI * (motif == 0 ? y : x) / period;
      const double stripe = 0.75 + 0.25 * std::sin(phase);
      const uint64_t z = splitmix64(o.seed, kNoiseStream + label,
                                    pixel_base + static_cast<uint64_t>(y) * image.width + x);
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * image.width + x) * 3];
      for (int c = 0; c < 3; ++c) {
        const double base = inside ? fg[c] * stripe : bg[c] + slope[c] * x / image.width;
        const double n = (static_cast<double>((z >> (16 * c)) & 0xFFFF) / 65535.0 - 0.5) * 2 * noise;
        p[c] = clamp_u8(base + n);
      }
    }
  }
  return image;
}

SynthReport write_synthetic_dataset(const std::string& dir, const SynthOptions& o) {
  namespace fs = std::filesystem;
  CATDOG_CHECK(o.images_per_class > 0, "synthetic dataset: images_per_class must be positive");
  CATDOG_CHECK(o.test_fraction >= 0 && o.test_fraction < 1, "synthetic dataset: test fraction ",
               o.test_fraction, " must be in [0, 1)");
  const bool split = o.test_fraction > 0;
  const int64_t n_test = split ? std::llround(o.images_per_class * o.test_fraction) : 0;
  SynthReport report;
  const char* const classes[2] = {"cats", "dogs"};
  for (int label = 0; label < 2; ++label) {
    for (int64_t i = 0; i < o.images_per_class; ++i) {
      // The last n_test images of each class go to test/.
      const bool test = i >= o.images_per_class - n_test;
      const fs::path folder = split ? fs::path(dir) / (test ? "test" : "train") / classes[label]
                                    : fs::path(dir) / classes[label];
      if (i == 0 || (split && i == o.images_per_class - n_test)) fs::create_directories(folder);
      int quality = 90;
      const Image image = synthetic_image(label, i, o, &quality);
      const std::vector<uint8_t> jpeg =
          encode_jpeg(image.rgb.data(), image.width, image.height, JpegInput::rgb, quality);
      const fs::path file = folder / cat(label == 0 ? "cat." : "dog.", i, ".jpg");
      FILE* out = std::fopen(file.string().c_str(), "wb");
      CATDOG_CHECK(out, "synthetic dataset: cannot write '", file.string(), "'");
      const size_t written = std::fwrite(jpeg.data(), 1, jpeg.size(), out);
      const bool closed = std::fclose(out) == 0;
      CATDOG_CHECK(written == jpeg.size() && closed, "synthetic dataset: write error on '",
                   file.string(), "'");
      ++(test ? report.test : report.train);
    }
  }
  return report;
}

}  // namespace catdog
