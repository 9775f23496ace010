// Image decoding: bytes -> 8-bit RGB (data/image.h). JPEG through libjpeg-turbo's TurboJPEG API,
// PNG through libpng, WebP through libwebp (when built with it). The format is found from the
// first bytes, never from the file name: a WebP named .png or a PNG named .jpg decodes as what
// it is, and a GIF named .jpg is refused as a GIF.
//
// Parity: with the default options a JPEG decodes exactly as libjpeg-turbo's default decode
// (accurate integer IDCT, fancy upsampling), which is what PIL and so Keras produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "core/error.h"

namespace catdog {

struct DecodeOptions {
  // Refuse images with more pixels than this, judged from the header before any pixel memory is
  // allocated: a 60000x60000 header must not cost 10 GB.
  int64_t max_pixels = 100'000'000;
  // JPEG only: let libjpeg-turbo decode at a reduced size (scale 1/2, 1/4, 1/8, ... in the DCT
  // domain), the smallest that is still >= target_width x target_height. Much faster for big
  // photos, but the pixels differ from a full decode + resize, so it is off in parity mode.
  bool dct_scaling = false;
  int target_width = 0, target_height = 0;
};

// A file that cannot be decoded. what() is "<file>: <reason>"; reason() is the reason alone
// ("unsupported format: GIF", "truncated", "image is 60000x60000 = 3.6 GP, over the 100 MP limit").
class DecodeError : public Error {
 public:
  DecodeError(const std::string& file, const std::string& reason)
      : Error(file + ": " + reason), file_(file), reason_(reason) {}
  const std::string& file() const { return file_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_, reason_;
};

// What the first bytes say a file is.
enum class ImageFormat : uint8_t { unknown, jpeg, png, webp, gif, bmp, tiff };
ImageFormat sniff_image_format(const uint8_t* bytes, size_t size);
const char* image_format_name(ImageFormat format);  // "JPEG", "PNG", "WebP", ...

Image decode_image_file(const std::string& path, const DecodeOptions& opts = {});
// `name` only labels error messages.
Image decode_image_memory(const uint8_t* bytes, size_t size, const std::string& name,
                          const DecodeOptions& opts = {});

// The same, reusing `out.rgb`'s memory (the pipeline's workers decode thousands of images into
// one buffer each).
void decode_image_memory_into(const uint8_t* bytes, size_t size, const std::string& name,
                              const DecodeOptions& opts, Image& out);
// Decode and resize with `nearest` (data/resize.h) to out_w x out_h into `out`
// (out_h, out_w, 3), caller-owned: exactly decode_image_memory_into + resize_rgb(nearest), the
// same pixels and the same errors. A baseline JPEG is resized row by row as it is decoded, so
// its full-size image is never written (a quarter of a megabyte less to write and read back an
// image), and a 4:2:0 or 4:2:2 one, on a CPU with AVX-512 VBMI, has its chroma upsampled and
// its colours converted only at the pixels kept (data/ycc_nearest.h); the other files go
// through `scratch`.
void decode_nearest_into(const uint8_t* bytes, size_t size, const std::string& name,
                         const DecodeOptions& opts, int out_w, int out_h, Image& scratch,
                         uint8_t* out);

// The most bytes one image file may take: a compressed 100-megapixel photo is well under it.
constexpr int64_t kMaxImageFileBytes = int64_t{256} << 20;

// Read a whole file into `bytes` (reusing its memory). Throws DecodeError naming the file when it
// cannot be read, is not a regular file (a FIFO would block forever, a directory has no bytes), or
// is larger than `max_bytes`; nothing is allocated for it then.
void read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes,
                     int64_t max_bytes = kMaxImageFileBytes);

}  // namespace catdog
