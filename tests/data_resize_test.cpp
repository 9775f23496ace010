// Resizing against naive references written here: nearest (PIL's formula; the exact PIL parity on
// real photos is in reference_decode_test), bilinear at half-pixel centres, area (box filter).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "data/resize.h"
#include "core/error.h"
#include "core/random.h"

namespace catdog {
namespace {

Image random_image(int w, int h, uint64_t seed) {
  Image image;
  image.width = w;
  image.height = h;
  image.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < image.rgb.size(); ++i) {
    image.rgb[i] = static_cast<uint8_t>(splitmix64(seed, 1, i) >> 56);
  }
  return image;
}

double px(const Image& im, int x, int y, int c) {
  return im.rgb[(static_cast<size_t>(y) * im.width + x) * 3 + c];
}

std::vector<uint8_t> run(const Image& in, int w, int h, ResizeMode mode) {
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * 3);
  resize_rgb(in, w, h, mode, out.data());
  return out;
}

// Largest |ours - reference| and how many values differ at all.
struct Diff {
  int worst = 0;
  size_t count = 0;
};
template <class Reference>
Diff compare(const std::vector<uint8_t>& ours, int w, int h, Reference reference) {
  Diff d;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int expected = static_cast<int>(std::floor(reference(x, y, c) + 0.5));
        const int got = ours[(static_cast<size_t>(y) * w + x) * 3 + c];
        d.worst = std::max(d.worst, std::abs(got - expected));
        d.count += got != expected;
      }
    }
  }
  return d;
}

const int kSizes[][4] = {{500, 375, 224, 224}, {195, 33, 224, 224}, {59, 106, 224, 224},
                         {73, 50, 30, 20},     {7, 5, 13, 11},      {224, 100, 224, 224}};

TEST(Resize, EqualSizeIsABitExactCopy) {
  const Image in = random_image(37, 23, 1);
  for (ResizeMode mode : {ResizeMode::nearest, ResizeMode::bilinear, ResizeMode::area}) {
    EXPECT_EQ(run(in, 37, 23, mode), in.rgb) << resize_mode_name(mode);
  }
}

TEST(Resize, NearestPicksPilsSourcePixel) {
  for (const auto& s : kSizes) {
    const Image in = random_image(s[0], s[1], 2);
    // PIL: source = int(scale * (i + 0.5)) for a scale of in / out. (PIL sums the coordinate up
    // step by step, which can land one pixel lower for some sizes, e.g. 768 -> 224 at row 45;
    // none of these sizes hits that. reference_decode_test compares with PIL itself.)
    auto source = [](int i, int n_in, int n_out) {
      return std::min(n_in - 1, static_cast<int>(static_cast<double>(n_in) / n_out * (i + 0.5)));
    };
    const Diff d = compare(run(in, s[2], s[3], ResizeMode::nearest), s[2], s[3],
                           [&](int x, int y, int c) {
                             return px(in, source(x, s[0], s[2]), source(y, s[1], s[3]), c);
                           });
    EXPECT_EQ(d.count, 0u) << s[0] << "x" << s[1] << " -> " << s[2] << "x" << s[3];
  }
}

TEST(Resize, BilinearInterpolatesAtHalfPixelCentres) {
  for (const auto& s : kSizes) {
    const Image in = random_image(s[0], s[1], 3);
    auto coord = [](int i, int n_in, int n_out) {
      const double c = (i + 0.5) * n_in / n_out - 0.5;
      return std::min(std::max(c, 0.0), n_in - 1.0);
    };
    const Diff d = compare(
        run(in, s[2], s[3], ResizeMode::bilinear), s[2], s[3], [&](int x, int y, int c) {
          const double sx = coord(x, s[0], s[2]), sy = coord(y, s[1], s[3]);
          const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
          const int x1 = std::min(x0 + 1, s[0] - 1), y1 = std::min(y0 + 1, s[1] - 1);
          const double fx = sx - x0, fy = sy - y0;
          return (1 - fy) * ((1 - fx) * px(in, x0, y0, c) + fx * px(in, x1, y0, c)) +
                 fy * ((1 - fx) * px(in, x0, y1, c) + fx * px(in, x1, y1, c));
        });
    // float32 arithmetic may round a value near .5 the other way: off by one, rarely.
    EXPECT_LE(d.worst, 1) << s[0] << "x" << s[1];
    EXPECT_LT(d.count, static_cast<size_t>(s[2]) * s[3] * 3 / 100 + 2) << s[0] << "x" << s[1];
  }
}

TEST(Resize, AreaAveragesTheCoveredSourceArea) {
  for (const auto& s : kSizes) {
    const Image in = random_image(s[0], s[1], 4);
    const Diff d = compare(
        run(in, s[2], s[3], ResizeMode::area), s[2], s[3], [&](int x, int y, int c) {
          // Output pixel (x, y) covers [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy) of the source.
          const double sx = static_cast<double>(s[0]) / s[2], sy = static_cast<double>(s[1]) / s[3];
          double sum = 0;
          for (int v = 0; v < s[1]; ++v) {
            const double cy = std::min(v + 1.0, (y + 1) * sy) - std::max<double>(v, y * sy);
            if (cy <= 0) continue;
            for (int u = 0; u < s[0]; ++u) {
              const double cx = std::min(u + 1.0, (x + 1) * sx) - std::max<double>(u, x * sx);
              if (cx > 0) sum += cx * cy * px(in, u, v, c);
            }
          }
          return sum / (sx * sy);
        });
    EXPECT_LE(d.worst, 1) << s[0] << "x" << s[1];
    EXPECT_LT(d.count, static_cast<size_t>(s[2]) * s[3] * 3 / 1000 + 2) << s[0] << "x" << s[1];
  }
}

TEST(Resize, AreaOfAFlatImageIsFlat) {
  Image in = random_image(97, 61, 5);
  std::fill(in.rgb.begin(), in.rgb.end(), 77);
  for (uint8_t v : run(in, 13, 7, ResizeMode::area)) ASSERT_EQ(v, 77);
}

TEST(Resize, ParsesModesAndRefusesBadInput) {
  EXPECT_EQ(parse_resize_mode("nearest"), ResizeMode::nearest);
  EXPECT_EQ(parse_resize_mode("bilinear"), ResizeMode::bilinear);
  EXPECT_EQ(parse_resize_mode("area"), ResizeMode::area);
  EXPECT_THROW(parse_resize_mode("cubic"), Error);
  Image empty;
  uint8_t out[3];
  EXPECT_THROW(resize_rgb(empty, 1, 1, ResizeMode::nearest, out), Error);
}

}  // namespace
}  // namespace catdog
