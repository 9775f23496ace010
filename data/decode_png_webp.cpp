// PNG (libpng's simplified API) and WebP (libwebp) decoding. Both read the size from the header
// and check the pixel limit before allocating.
#include <png.h>

#include <cstring>

#include "data/decoders.h"

#if CATDOG_WITH_WEBP
#include <webp/decode.h>
#endif

namespace catdog::detail {

void decode_png(const uint8_t* bytes, size_t size, const std::string& name,
                const DecodeOptions& opts, Image& out) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes, size)) {
    const std::string why = png.message;
    png_image_free(&png);
    throw DecodeError(name, "not a readable PNG: " + why);
  }
  try {
    check_pixel_limit(png.width, png.height, name, opts);
  } catch (...) {
    png_image_free(&png);
    throw;
  }
  // Read as RGBA and drop alpha, as PIL's convert("RGB") does (it does not blend onto a
  // background). Grey, palette and 16-bit files are converted to 8-bit RGBA by libpng.
  png.format = PNG_FORMAT_RGBA;
  const int64_t pixels = static_cast<int64_t>(png.width) * png.height;
  std::vector<uint8_t> rgba(static_cast<size_t>(pixels) * 4);
  if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr)) {
    const std::string why = png.message;
    png_image_free(&png);
    throw DecodeError(name, "PNG decode failed: " + why);
  }
  out.width = static_cast<int>(png.width);
  out.height = static_cast<int>(png.height);
  out.rgb.resize(static_cast<size_t>(pixels) * 3);
  for (int64_t p = 0; p < pixels; ++p) {
    std::memcpy(&out.rgb[3 * p], &rgba[4 * p], 3);
  }
}

void decode_webp(const uint8_t* bytes, size_t size, const std::string& name,
                 const DecodeOptions& opts, Image& out) {
#if CATDOG_WITH_WEBP
  int width = 0, height = 0;
  if (!WebPGetInfo(bytes, size, &width, &height)) {
    throw DecodeError(name, "not a readable WebP (bad or truncated header)");
  }
  check_pixel_limit(width, height, name, opts);
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<size_t>(width) * height * 3);
  if (!WebPDecodeRGBInto(bytes, size, out.rgb.data(), out.rgb.size(), width * 3)) {
    throw DecodeError(name, "WebP decode failed (corrupt or truncated data)");
  }
#else
  (void)bytes, (void)size, (void)opts, (void)out;
  throw DecodeError(name, "unsupported format: WebP (catdog was built without libwebp)");
#endif
}

}  // namespace catdog::detail
