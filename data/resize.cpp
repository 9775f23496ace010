#include "data/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace catdog {
namespace {

uint8_t round_to_u8(float v) {
  return static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v + 0.5f)));
}

void resize_nearest(const Image& in, int out_w, int out_h, uint8_t* out) {
  const std::vector<int> sx = nearest_sources(in.width, out_w);
  const std::vector<int> sy = nearest_sources(in.height, out_h);
  for (int y = 0; y < out_h; ++y) {
    nearest_row(in.rgb.data() + static_cast<size_t>(sy[y]) * in.width * 3, in.width, sx.data(),
                out_w, out + static_cast<size_t>(y) * out_w * 3);
  }
}

// One output coordinate of the bilinear filter: the two source samples and the second's weight.
struct Tap2 {
  int lo, hi;
  float w;
};

std::vector<Tap2> bilinear_taps(int in, int out) {
  std::vector<Tap2> taps(out);
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double s = std::min(std::max((i + 0.5) * scale - 0.5, 0.0), in - 1.0);
    const int lo = static_cast<int>(s);
    taps[i] = {lo, std::min(lo + 1, in - 1), static_cast<float>(s - lo)};
  }
  return taps;
}

void resize_bilinear(const Image& in, int out_w, int out_h, uint8_t* out) {
  const std::vector<Tap2> tx = bilinear_taps(in.width, out_w);
  const std::vector<Tap2> ty = bilinear_taps(in.height, out_h);
  const size_t stride = static_cast<size_t>(in.width) * 3;
  for (int y = 0; y < out_h; ++y) {
    const uint8_t* r0 = in.rgb.data() + ty[y].lo * stride;
    const uint8_t* r1 = in.rgb.data() + ty[y].hi * stride;
    const float wy = ty[y].w;
    uint8_t* dst = out + static_cast<size_t>(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const int a = 3 * tx[x].lo, b = 3 * tx[x].hi;
      const float wx = tx[x].w;
      for (int c = 0; c < 3; ++c) {
        const float top = r0[a + c] + wx * (r0[b + c] - r0[a + c]);
        const float bottom = r1[a + c] + wx * (r1[b + c] - r1[a + c]);
        dst[3 * x + c] = round_to_u8(top + wy * (bottom - top));
      }
    }
  }
}

// The box filter of one output coordinate: source pixels [first, first + weights.size()) with
// the fraction of each that the output pixel covers, normalised to sum to 1.
struct BoxTaps {
  int first = 0;
  std::vector<float> weights;
};

std::vector<BoxTaps> box_taps(int in, int out) {
  std::vector<BoxTaps> taps(out);
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double begin = i * scale, end = std::min((i + 1) * scale, static_cast<double>(in));
    const int first = static_cast<int>(begin);
    const int last = std::min(in - 1, static_cast<int>(std::ceil(end)) - 1);
    taps[i].first = first;
    for (int s = first; s <= last; ++s) {
      const double cover = std::min(end, s + 1.0) - std::max(begin, static_cast<double>(s));
      taps[i].weights.push_back(static_cast<float>(cover / (end - begin)));
    }
  }
  return taps;
}

void resize_area(const Image& in, int out_w, int out_h, uint8_t* out) {
  const std::vector<BoxTaps> tx = box_taps(in.width, out_w);
  const std::vector<BoxTaps> ty = box_taps(in.height, out_h);
  // Separable: rows first into float (in.height, out_w, 3), then columns.
  std::vector<float> rows(static_cast<size_t>(in.height) * out_w * 3, 0.0f);
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* src = in.rgb.data() + static_cast<size_t>(y) * in.width * 3;
    float* dst = rows.data() + static_cast<size_t>(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      float acc[3] = {0, 0, 0};
      for (size_t k = 0; k < tx[x].weights.size(); ++k) {
        const uint8_t* p = src + 3 * (tx[x].first + k);
        for (int c = 0; c < 3; ++c) acc[c] += tx[x].weights[k] * p[c];
      }
      for (int c = 0; c < 3; ++c) dst[3 * x + c] = acc[c];
    }
  }
  const size_t row_len = static_cast<size_t>(out_w) * 3;
  std::vector<float> acc(row_len);
  for (int y = 0; y < out_h; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t k = 0; k < ty[y].weights.size(); ++k) {
      const float w = ty[y].weights[k];
      const float* src = rows.data() + (ty[y].first + k) * row_len;
      for (size_t i = 0; i < row_len; ++i) acc[i] += w * src[i];
    }
    uint8_t* dst = out + y * row_len;
    for (size_t i = 0; i < row_len; ++i) dst[i] = round_to_u8(acc[i]);
  }
}

}  // namespace

// PIL's ImagingScaleAffine, to the last bit: the coordinate starts at scale / 2 and grows by
// `scale` per output pixel, in double, truncated. (The closed form int((i + 0.5) * scale) differs
// where the running sum lands just below an integer, e.g. row 45 of 768 -> 224.)
std::vector<int> nearest_sources(int in, int out) {
  std::vector<int> src(out);
  const double scale = static_cast<double>(in) / out;
  double coordinate = scale * 0.5;
  for (int i = 0; i < out; ++i, coordinate += scale) {
    src[i] = std::min(in - 1, static_cast<int>(coordinate));
  }
  return src;
}

// Each output pixel copies 4 bytes, its RGB and one byte too many, which the next pixel's copy
// overwrites: one load and one store a pixel instead of three of each (this loop was a tenth of
// the pipeline's time). The 4-byte copy is used only where the source pixel is not the last of
// its row, so it never reads past the row, and not for the last output pixel, so it never writes
// past it; the others copy 3 bytes.
void nearest_row(const uint8_t* row, int in_w, const int* sx, int out_w, uint8_t* dst) {
  // sx never decreases: pixels [0, wide) have a source pixel after them in the row.
  int wide = out_w - 1;
  while (wide > 0 && sx[wide - 1] >= in_w - 1) --wide;
  for (int x = 0; x < wide; ++x) std::memcpy(dst + 3 * x, row + 3 * sx[x], 4);
  for (int x = wide; x < out_w; ++x) std::memcpy(dst + 3 * x, row + 3 * sx[x], 3);
}

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "nearest") return ResizeMode::nearest;
  if (name == "bilinear") return ResizeMode::bilinear;
  if (name == "area") return ResizeMode::area;
  fail("unknown resize mode '", name, "' (expected nearest, bilinear or area)");
}

const char* resize_mode_name(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::nearest: return "nearest";
    case ResizeMode::bilinear: return "bilinear";
    case ResizeMode::area: return "area";
  }
  return "?";
}

void resize_rgb(const Image& in, int out_w, int out_h, ResizeMode mode, uint8_t* out) {
  CATDOG_CHECK(in.width > 0 && in.height > 0 &&
                   in.rgb.size() == static_cast<size_t>(in.width) * in.height * 3,
               "resize_rgb: bad input image ", in.width, "x", in.height, " with ", in.rgb.size(),
               " bytes");
  CATDOG_CHECK(out_w > 0 && out_h > 0, "resize_rgb: bad output size ", out_w, "x", out_h);
  if (in.width == out_w && in.height == out_h) {
    std::memcpy(out, in.rgb.data(), in.rgb.size());
    return;
  }
  switch (mode) {
    case ResizeMode::nearest: return resize_nearest(in, out_w, out_h, out);
    case ResizeMode::bilinear: return resize_bilinear(in, out_w, out_h, out);
    case ResizeMode::area: return resize_area(in, out_w, out_h, out);
  }
}

}  // namespace catdog
