// Format sniffing, file reading and the dispatch to the per-format decoders (data/decoders.h).
#include "data/decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "data/decoders.h"
#include "data/resize.h"

namespace catdog {
namespace {

bool starts_with(const uint8_t* bytes, size_t size, const char* magic, size_t offset = 0) {
  const size_t n = std::strlen(magic);
  return size >= offset + n && std::memcmp(bytes + offset, magic, n) == 0;
}

// 3'600'000'000 -> "3.6 GP", 100'000'000 -> "100 MP": one decimal, dropped when it is zero;
// under a megapixel, "256 pixels".
std::string human_pixels(int64_t pixels) {
  if (pixels < 1'000'000) return cat(pixels, " pixels");
  const bool giga = pixels >= 1'000'000'000;
  const double value = static_cast<double>(pixels) / (giga ? 1e9 : 1e6);
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  std::string s = text;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + (giga ? " GP" : " MP");
}

// A short, printable view of the first bytes, for "unknown format" messages.
std::string first_bytes(const uint8_t* bytes, size_t size) {
  std::string shown;
  for (size_t i = 0; i < size && i < 8; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02x", bytes[i]);
    shown += (i ? " " : "") + std::string(hex);
  }
  return shown;
}

}  // namespace

ImageFormat sniff_image_format(const uint8_t* bytes, size_t size) {
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return ImageFormat::jpeg;
  }
  if (starts_with(bytes, size, "\x89PNG\r\n\x1a\n")) return ImageFormat::png;
  if (starts_with(bytes, size, "RIFF") && starts_with(bytes, size, "WEBP", 8)) {
    return ImageFormat::webp;
  }
  if (starts_with(bytes, size, "GIF87a") || starts_with(bytes, size, "GIF89a")) {
    return ImageFormat::gif;
  }
  if (starts_with(bytes, size, "BM")) return ImageFormat::bmp;
  if (starts_with(bytes, size, "II*") || starts_with(bytes, size, "MM")) {
    if (size >= 4 && (bytes[2] == 42 || bytes[3] == 42)) return ImageFormat::tiff;
  }
  return ImageFormat::unknown;
}

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::png: return "PNG";
    case ImageFormat::webp: return "WebP";
    case ImageFormat::gif: return "GIF";
    case ImageFormat::bmp: return "BMP";
    case ImageFormat::tiff: return "TIFF";
    case ImageFormat::unknown: break;
  }
  return "unknown";
}

namespace detail {

void check_pixel_limit(int64_t width, int64_t height, const std::string& name,
                       const DecodeOptions& opts) {
  if (width <= 0 || height <= 0) {
    throw DecodeError(name, cat("bad image size ", width, "x", height, " in the header"));
  }
  const int64_t pixels = width * height;
  if (pixels > opts.max_pixels) {
    throw DecodeError(name, cat("image is ", width, "x", height, " = ", human_pixels(pixels),
                                ", over the ", human_pixels(opts.max_pixels), " limit"));
  }
}

}  // namespace detail

void decode_image_memory_into(const uint8_t* bytes, size_t size, const std::string& name,
                              const DecodeOptions& opts, Image& out) {
  if (size == 0) throw DecodeError(name, "empty file");
  const ImageFormat format = sniff_image_format(bytes, size);
  switch (format) {
    case ImageFormat::jpeg: return detail::decode_jpeg(bytes, size, name, opts, out);
    case ImageFormat::png: return detail::decode_png(bytes, size, name, opts, out);
    case ImageFormat::webp: return detail::decode_webp(bytes, size, name, opts, out);
    case ImageFormat::unknown:
      throw DecodeError(name, "unsupported format: not JPEG, PNG or WebP (first bytes " +
                                  first_bytes(bytes, size) + ")");
    default:
      throw DecodeError(name, std::string("unsupported format: ") + image_format_name(format));
  }
}

void decode_nearest_into(const uint8_t* bytes, size_t size, const std::string& name,
                         const DecodeOptions& opts, int out_w, int out_h, Image& scratch,
                         uint8_t* out) {
  CATDOG_CHECK(out_w > 0 && out_h > 0, "decode_nearest_into: bad output size ", out_w, "x", out_h);
  if (sniff_image_format(bytes, size) == ImageFormat::jpeg &&
      detail::decode_jpeg_nearest(bytes, size, opts, out_w, out_h, out)) {
    return;
  }
  decode_image_memory_into(bytes, size, name, opts, scratch);
  resize_rgb(scratch, out_w, out_h, ResizeMode::nearest, out);
}

Image decode_image_memory(const uint8_t* bytes, size_t size, const std::string& name,
                          const DecodeOptions& opts) {
  Image image;
  decode_image_memory_into(bytes, size, name, opts, image);
  return image;
}

void read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes, int64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw DecodeError(path, std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw DecodeError(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    throw DecodeError(path, S_ISDIR(st.st_mode)    ? "is a directory, not an image file"
                            : S_ISFIFO(st.st_mode) ? "is a FIFO, not a regular file"
                                                   : "is not a regular file");
  }
  if (st.st_size > max_bytes) {
    throw DecodeError(path, "is " + std::to_string(st.st_size) + " bytes, more than the " +
                                std::to_string(max_bytes) + " an image file may take");
  }
  bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DecodeError(path, std::string("read error: ") + std::strerror(errno));
    if (n == 0) break;  // shrank while we read: decode what is there
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
}

Image decode_image_file(const std::string& path, const DecodeOptions& opts) {
  std::vector<uint8_t> bytes;
  read_file_bytes(path, bytes);
  return decode_image_memory(bytes.data(), bytes.size(), path, opts);
}

}  // namespace catdog
