// JPEG encoding with TurboJPEG (tjCompress2): for the synthetic dataset writer and for tests
// that need JPEGs of a known kind (grayscale, CMYK, a given size).
#pragma once

#include <cstdint>
#include <vector>

namespace catdog {

enum class JpegInput : uint8_t {
  rgb,   // (H, W, 3), 4:2:0 chroma subsampling
  gray,  // (H, W), a 1-component JPEG
  cmyk,  // (H, W, 4) stored as given, a 4-component YCCK JPEG with an Adobe marker
};

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, JpegInput input,
                                 int quality);

}  // namespace catdog
