// Fuzzes the image decoder (data/decode.h): any bytes, sniffed as JPEG, PNG or WebP (or refused),
// decoded at full size and then, when that worked, with DCT scaling towards 224x224.
//
// Asserts: a DecodeError (a catdog::Error) is the only acceptable failure; a decoded image has
// positive dimensions within the pixel limit and exactly width * height * 3 bytes. Crashes, leaks,
// undefined behaviour and any other exception are findings. The pixel limit is 4 MP so that a
// header declaring a huge image must be refused before the pixels are allocated.
#include <cstdint>
#include <cstdlib>

#include "data/decode.h"

namespace {

void check_image(const catdog::Image& image, const catdog::DecodeOptions& opts) {
  const int64_t pixels = int64_t{image.width} * image.height;
  if (image.width <= 0 || image.height <= 0 || pixels > opts.max_pixels ||
      image.rgb.size() != static_cast<size_t>(pixels) * 3) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  catdog::DecodeOptions opts;
  opts.max_pixels = 4'000'000;
  try {
    check_image(catdog::decode_image_memory(data, size, "fuzz input", opts), opts);
    opts.dct_scaling = true;
    opts.target_width = opts.target_height = 224;
    check_image(catdog::decode_image_memory(data, size, "fuzz input", opts), opts);
  } catch (const catdog::Error&) {
    // A refused file: the expected outcome for most inputs.
  }
  return 0;
}
