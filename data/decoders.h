// The per-format decoders behind data/decode.h (internal to data/). Each one reads the size from
// the header, calls check_pixel_limit, and only then allocates and decodes into `out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "data/decode.h"

namespace catdog::detail {

// Throws DecodeError("image is WxH = 3.6 GP, over the 100 MP limit") when width*height is over
// opts.max_pixels, or when a dimension is not positive.
void check_pixel_limit(int64_t width, int64_t height, const std::string& name,
                       const DecodeOptions& opts);

void decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name,
                 const DecodeOptions& opts, Image& out);
// Decode a baseline JPEG and resize it with `nearest` (data/resize.h) row by row as libjpeg
// hands the rows over, into out (out_h, out_w, 3): the pixels of decode_jpeg + resize_rgb
// without writing the full-size image. False, with `out` undefined, for everything it leaves
// to decode_jpeg: progressive and CMYK files, oversized ones, and any file libjpeg warns about
// or refuses (so the messages are decode_jpeg's).
bool decode_jpeg_nearest(const uint8_t* bytes, size_t size, const DecodeOptions& opts, int out_w,
                         int out_h, uint8_t* out);
void decode_png(const uint8_t* bytes, size_t size, const std::string& name,
                const DecodeOptions& opts, Image& out);
void decode_webp(const uint8_t* bytes, size_t size, const std::string& name,
                 const DecodeOptions& opts, Image& out);

}  // namespace catdog::detail
