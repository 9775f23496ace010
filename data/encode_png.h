// PNG encoding with libpng's simplified API (png_image_write_to_memory): lossless 8-bit RGB, for
// pictures the program writes (Grad-CAM overlays). The bytes are returned, not written, so that
// the caller writes them atomically (weights/atomic_file.h).
#pragma once

#include <cstdint>
#include <vector>

namespace catdog {

// rgb: (height, width, 3) uint8, row-major. Throws catdog::Error with libpng's message.
std::vector<uint8_t> encode_png(const uint8_t* rgb, int width, int height);

}  // namespace catdog
