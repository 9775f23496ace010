// Decoding: formats found by their bytes, grayscale and CMYK to RGB, the pixel limit checked
// from the header before allocating, DCT scaling, the shared oddities, and bad files made here.
#include <sys/resource.h>

#include <png.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/decode.h"
#include "data/encode_jpeg.h"
#include "core/random.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

// A smooth RGB test picture: (h, w, 3).
std::vector<uint8_t> gradient(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(255 * x / w);
      p[1] = static_cast<uint8_t>(255 * y / h);
      p[2] = 128;
    }
  }
  return rgb;
}

std::vector<uint8_t> small_jpeg(int w = 64, int h = 48) {
  const std::vector<uint8_t> rgb = gradient(w, h);
  return encode_jpeg(rgb.data(), w, h, JpegInput::rgb, 90);
}

std::string write_file(const std::string& dir, const std::string& name,
                       const std::vector<uint8_t>& bytes) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The reason decode_image_memory gives for `bytes`, or "" when it decodes.
std::string decode_failure(const std::vector<uint8_t>& bytes, const DecodeOptions& opts = {}) {
  try {
    decode_image_memory(bytes.data(), bytes.size(), "test.jpg", opts);
  } catch (const DecodeError& e) {
    EXPECT_EQ(std::string(e.what()), "test.jpg: " + e.reason());
    return e.reason();
  }
  return "";
}

// Offset of the first marker `code` (0xFF code) in a JPEG, or npos.
size_t find_marker(const std::vector<uint8_t>& jpeg, uint8_t code) {
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == code) return i;
  }
  return std::string::npos;
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::vector<uint8_t> png_bytes(const std::vector<uint8_t>& pixels, int w, int h, bool alpha) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = w;
  png.height = h;
  png.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&png, nullptr, &size, 0, pixels.data(), 0, nullptr));
  std::vector<uint8_t> bytes(size);
  EXPECT_TRUE(png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels.data(), 0, nullptr));
  bytes.resize(size);
  return bytes;
}

TEST(Decode, SniffsFormatsByBytes) {
  const std::vector<uint8_t> jpeg = small_jpeg();
  EXPECT_EQ(sniff_image_format(jpeg.data(), jpeg.size()), ImageFormat::jpeg);
  const std::vector<uint8_t> png = png_bytes(gradient(4, 4), 4, 4, false);
  EXPECT_EQ(sniff_image_format(png.data(), png.size()), ImageFormat::png);
  const std::string gif("GIF89a\x01\x00\x01\x00", 10);
  EXPECT_EQ(sniff_image_format(reinterpret_cast<const uint8_t*>(gif.data()), gif.size()),
            ImageFormat::gif);
  const std::string webp("RIFF\x10\x00\x00\x00WEBPVP8 ", 16);
  EXPECT_EQ(sniff_image_format(reinterpret_cast<const uint8_t*>(webp.data()), webp.size()),
            ImageFormat::webp);
  EXPECT_EQ(sniff_image_format(jpeg.data(), 2), ImageFormat::unknown);
}

TEST(Decode, JpegRoundTripIsClose) {
  const std::vector<uint8_t> rgb = gradient(64, 48);
  const std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), 64, 48, JpegInput::rgb, 95);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "x");
  ASSERT_EQ(image.width, 64);
  ASSERT_EQ(image.height, 48);
  EXPECT_LE(max_abs_diff(image.rgb, rgb), 12);  // lossy, but a smooth picture survives well
}

TEST(Decode, GrayscaleBecomesRgb) {
  std::vector<uint8_t> gray(32 * 24);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i % 32 * 8);
  const std::vector<uint8_t> jpeg = encode_jpeg(gray.data(), 32, 24, JpegInput::gray, 95);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "gray.jpg");
  ASSERT_EQ(image.rgb.size(), gray.size() * 3);
  int worst = 0;
  for (size_t p = 0; p < gray.size(); ++p) {
    EXPECT_EQ(image.rgb[3 * p], image.rgb[3 * p + 1]);
    EXPECT_EQ(image.rgb[3 * p], image.rgb[3 * p + 2]);
    worst = std::max(worst, std::abs(image.rgb[3 * p] - gray[p]));
  }
  EXPECT_LE(worst, 12);
}

TEST(Decode, AdobeCmykBecomesRgbAsPilDoes) {
  // Flat colour blocks survive JPEG almost exactly. Stored values are Adobe's inverted inks:
  // stored = 255 - ink. PIL: R = (255 - K) - round(C * (255 - K) / 255).
  const int w = 32, h = 32;
  const uint8_t inks[4][4] = {{0, 0, 0, 0}, {255, 0, 0, 0}, {0, 128, 255, 0}, {40, 80, 120, 100}};
  std::vector<uint8_t> stored(static_cast<size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint8_t* ink = inks[(y / 16) * 2 + x / 16];
      for (int c = 0; c < 4; ++c) stored[(y * w + x) * 4 + c] = static_cast<uint8_t>(255 - ink[c]);
    }
  }
  const std::vector<uint8_t> jpeg = encode_jpeg(stored.data(), w, h, JpegInput::cmyk, 100);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "cmyk.jpg");
  ASSERT_EQ(image.width, w);
  for (int block = 0; block < 4; ++block) {
    const int x = (block % 2) * 16 + 8, y = (block / 2) * 16 + 8;  // block centres
    const uint8_t* ink = inks[block];
    const double nk = 255 - ink[3];
    for (int c = 0; c < 3; ++c) {
      const double expected = nk - ink[c] * nk / 255.0;
      EXPECT_NEAR(image.rgb[(y * w + x) * 3 + c], expected, 4) << "block " << block << " c " << c;
    }
  }
}

TEST(Decode, PngNamedJpgDecodesAsPng) {
  const std::string dir = test::temp_dir("data_decode_png");
  const std::vector<uint8_t> rgb = gradient(20, 10);
  const Image image = decode_image_file(write_file(dir, "photo.jpg", png_bytes(rgb, 20, 10, false)));
  ASSERT_EQ(image.width, 20);
  ASSERT_EQ(image.height, 10);
  EXPECT_EQ(image.rgb, rgb);  // PNG is lossless

  std::vector<uint8_t> rgba(20 * 10 * 4);
  for (size_t p = 0; p < 200; ++p) {
    std::memcpy(&rgba[4 * p], &rgb[3 * p], 3);
    rgba[4 * p + 3] = static_cast<uint8_t>(p);  // alpha is dropped, as PIL's convert("RGB")
  }
  EXPECT_EQ(decode_image_file(write_file(dir, "alpha.jpg", png_bytes(rgba, 20, 10, true))).rgb, rgb);
}

TEST(Decode, GifNamedJpgIsRefusedAsGif) {
  const std::string gif("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", 22);
  EXPECT_EQ(decode_failure({gif.begin(), gif.end()}), "unsupported format: GIF");
}

TEST(Decode, BadBytesAreRefusedWithAReason) {
  EXPECT_EQ(decode_failure({}), "empty file");
  const std::string text = "hello, this is not an image\n";
  EXPECT_NE(decode_failure({text.begin(), text.end()}).find("unsupported format"), std::string::npos);
  std::vector<uint8_t> noise(4096);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>(splitmix64(3, 0, i));
  noise[0] = 0x00;
  EXPECT_NE(decode_failure(noise).find("unsupported format"), std::string::npos);
  // Random bytes behind a JPEG signature reach libjpeg, which must refuse them too.
  noise[0] = 0xFF, noise[1] = 0xD8, noise[2] = 0xFF;
  EXPECT_NE(decode_failure(noise), "");
  // A good JPEG right after, on the same thread: a failed decode must not poison the decoder.
  EXPECT_EQ(decode_failure(small_jpeg()), "");
}

TEST(Decode, TruncatedJpegIsRefused) {
  std::vector<uint8_t> jpeg = small_jpeg(256, 192);
  jpeg.resize(jpeg.size() / 2);
  EXPECT_NE(decode_failure(jpeg).find("truncated"), std::string::npos) << decode_failure(jpeg);
}

TEST(Decode, HeaderOnlyJpegIsRefused) {
  std::vector<uint8_t> jpeg = small_jpeg();
  const size_t sos = find_marker(jpeg, 0xDA);
  ASSERT_NE(sos, std::string::npos);
  jpeg.resize(sos);  // everything up to the scan: tables and frame header, no data
  EXPECT_NE(decode_failure(jpeg), "");
  jpeg.resize(2);  // SOI alone
  EXPECT_NE(decode_failure(jpeg), "");
}

long max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(Decode, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  std::vector<uint8_t> jpeg = small_jpeg();
  const size_t sof = find_marker(jpeg, 0xC0);
  ASSERT_NE(sof, std::string::npos);
  // SOF0: FF C0, length (2), precision (1), height (2), width (2). 60000 = 0xEA60.
  jpeg[sof + 5] = 0xEA, jpeg[sof + 6] = 0x60, jpeg[sof + 7] = 0xEA, jpeg[sof + 8] = 0x60;
  const long rss_before = max_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(decode_failure(jpeg), "image is 60000x60000 = 3.6 GP, over the 100 MP limit");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Decoding it would need 10.8 GB of pixels; refusing costs nothing.
  EXPECT_LT(seconds, 0.5);
  EXPECT_LT(max_rss_kb() - rss_before, 100 * 1024);
}

TEST(Decode, PixelLimitIsSettable) {
  const std::vector<uint8_t> jpeg = small_jpeg(64, 48);
  DecodeOptions opts;
  opts.max_pixels = 64 * 48 - 1;
  EXPECT_EQ(decode_failure(jpeg, opts), "image is 64x48 = 3072 pixels, over the 3071 pixels limit");
  opts.max_pixels = 64 * 48;
  EXPECT_EQ(decode_failure(jpeg, opts), "");
}

TEST(Decode, DctScalingPicksTheSmallestSizeAtLeastTheTarget) {
  const std::vector<uint8_t> jpeg = small_jpeg(800, 600);
  DecodeOptions opts;
  opts.target_width = opts.target_height = 224;
  EXPECT_EQ(decode_image_memory(jpeg.data(), jpeg.size(), "x", opts).width, 800);  // off: parity
  opts.dct_scaling = true;
  const Image scaled = decode_image_memory(jpeg.data(), jpeg.size(), "x", opts);
  // Scale 3/8 gives 300x225; 1/4 would give 200x150, under 224.
  EXPECT_EQ(scaled.width, 300);
  EXPECT_EQ(scaled.height, 225);
}

TEST(Decode, MissingFileNamesTheFile) {
  try {
    decode_image_file("/nonexistent/cat.1.jpg");
    FAIL() << "no error";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cat.1.jpg"), std::string::npos);
    EXPECT_NE(e.reason().find("cannot open"), std::string::npos);
  }
}

TEST(Decode, SharedOdditiesAllDecode) {
  CATDOG_REQUIRE_SHARED(dir, "data/oddities");
  struct Expected {
    const char* name;
    int width, height;
  };
  const Expected files[] = {{"Cat1035.png", 800, 450},  {"Cat436.jpg", 300, 225},
                            {"Cat205.jpg", 612, 408},   {"Cat181.jpg", 408, 612},
                            {"Cat5209.jpg", 183, 275},  {"Cat1036.jpg", 1599, 1066},
                            {"Cat1044.jpg", 640, 480},  {"Cat1049.jpeg", 3072, 3072}};
  for (const Expected& e : files) {
    const Image image = decode_image_file(dir + "/" + e.name);
    EXPECT_EQ(image.width, e.width) << e.name;
    EXPECT_EQ(image.height, e.height) << e.name;
    EXPECT_EQ(image.rgb.size(), static_cast<size_t>(e.width) * e.height * 3) << e.name;
  }
}

}  // namespace
}  // namespace catdog
