// Resizing decoded RGB images to the network's input size.
//
//   nearest   PIL's Image.resize(NEAREST), which Keras' flow_from_directory uses by default:
//             source x = int((x + 0.5) * in_w / out_w), the same for y, with the sum done
//             as PIL does it (see resize.cpp) so the pixels are PIL's exactly. The parity mode.
//   bilinear  2x2 interpolation at half-pixel centres (source x = (x + 0.5) * in/out - 0.5,
//             clamped at the edges), as OpenCV INTER_LINEAR and tf.image.resize do; no
//             antialiasing, so it aliases when shrinking a lot.
//   area      each output pixel is the average of the source area it covers, fractional pixels
//             weighted by the part covered (a box filter): the best looking when shrinking.
//
// Equal sizes are a bit-exact copy whatever the mode. Results are rounded to nearest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace catdog {

enum class ResizeMode : uint8_t { nearest, bilinear, area };

ResizeMode parse_resize_mode(const std::string& name);  // "nearest", "bilinear", "area"
const char* resize_mode_name(ResizeMode mode);

// in: (in.height, in.width, 3) -> out: (out_h, out_w, 3), caller-owned.
void resize_rgb(const Image& in, int out_w, int out_h, ResizeMode mode, uint8_t* out);

// The nearest filter in pieces, for a decoder that resizes rows as they come
// (data/decode_jpeg.cpp): the source coordinate of each of `out` output coordinates when `in`
// source ones are shrunk or stretched to `out` (never decreasing), and one output row made from
// one source row of `in_w` pixels, dst pixel x = row pixel sx[x].
std::vector<int> nearest_sources(int in, int out);
void nearest_row(const uint8_t* row, int in_w, const int* sx, int out_w, uint8_t* dst);

}  // namespace catdog
