#include "data/encode_png.h"

#include <png.h>

#include <cstring>
#include <string>

#include "core/error.h"

namespace catdog {

std::vector<uint8_t> encode_png(const uint8_t* rgb, int width, int height) {
  CATDOG_CHECK(width > 0 && height > 0, "PNG: cannot encode a ", width, "x", height, " image");
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(width);
  png.height = static_cast<png_uint_32>(height);
  png.format = PNG_FORMAT_RGB;
  // The first call measures, the second writes into memory of that size.
  png_alloc_size_t size = 0;
  const bool measured =
      png_image_write_to_memory(&png, nullptr, &size, 0, rgb, 0, nullptr) != 0;
  std::vector<uint8_t> bytes(measured ? size : 0);
  const bool written =
      measured && png_image_write_to_memory(&png, bytes.data(), &size, 0, rgb, 0, nullptr) != 0;
  const std::string why = written ? "" : png.message;
  png_image_free(&png);
  CATDOG_CHECK(written, "PNG: cannot encode a ", width, "x", height, " image: ", why);
  bytes.resize(size);
  return bytes;
}

}  // namespace catdog
