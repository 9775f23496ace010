// Fuzzes the image decoder (data/decode.h): any bytes, sniffed as JPEG, PNG or WebP (or refused),
// decoded at full size and then, when that worked, with DCT scaling towards 224x224, and through
// the pipeline's one-pass decode + nearest resize into a 224x224 buffer (decode_nearest_into),
// which must refuse exactly what the full decode refuses.
//
// Asserts: a DecodeError (a catdog::Error) is the only acceptable failure; a decoded image has
// positive dimensions within the pixel limit and exactly width * height * 3 bytes. Crashes, leaks,
// undefined behaviour and any other exception are findings. The pixel limit is 4 MP so that a
// header declaring a huge image must be refused before the pixels are allocated.
#include <cstdint>
#include <cstdlib>
#include <vector>

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
  std::vector<uint8_t> out(224 * 224 * 3);
  catdog::Image scratch;
  bool one_pass_refused = false, full_refused = false;
  try {
    catdog::decode_nearest_into(data, size, "fuzz input", opts, 224, 224, scratch, out.data());
  } catch (const catdog::Error&) {
    one_pass_refused = true;
  }
  try {
    check_image(catdog::decode_image_memory(data, size, "fuzz input", opts), opts);
    opts.dct_scaling = true;
    opts.target_width = opts.target_height = 224;
    check_image(catdog::decode_image_memory(data, size, "fuzz input", opts), opts);
  } catch (const catdog::Error&) {
    // A refused file: the expected outcome for most inputs.
    full_refused = !opts.dct_scaling;  // the full-size decode, not the DCT-scaled one, refused
  }
  // The one-pass path must refuse exactly the files the full decode refuses.
  if (one_pass_refused != full_refused) std::abort();
  return 0;
}
