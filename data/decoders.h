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
void decode_png(const uint8_t* bytes, size_t size, const std::string& name,
                const DecodeOptions& opts, Image& out);
void decode_webp(const uint8_t* bytes, size_t size, const std::string& name,
                 const DecodeOptions& opts, Image& out);

}  // namespace catdog::detail
